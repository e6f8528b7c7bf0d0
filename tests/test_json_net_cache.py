"""Reading a pandapower JSON file keeps the parsed net by the file's content
(``feederopt.io.pandapower.net_from_json_file``): the same bytes again cost a deep copy, not
pandapower's parse (0.4-1.3 s, most of it ``create_empty_network``), and a file rewritten in
place is parsed anew.

Truth: pandapower's own ``from_json`` of each file and ``nets_equal``; a spy on
``pandapower.from_json`` counts the parses. Before the cache, every read parsed (the first
test fails on that code: two parses for two reads)."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

pp = pytest.importorskip("pandapower")

from pandapower.toolbox import nets_equal  # noqa: E402

import feederopt.io.pandapower as ppio  # noqa: E402


def _net(load_mw: float) -> Any:
    """Two buses, one line, one load of ``load_mw``."""
    net = pp.create_empty_network()
    a, b = pp.create_bus(net, 20.0), pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, a)
    pp.create_line(net, a, b, 1.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
    pp.create_load(net, b, p_mw=load_mw, q_mvar=0.1)
    return net


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """An empty cache, and a counter of pandapower's parses."""
    monkeypatch.setattr(ppio, "_JSON_NETS", OrderedDict(), raising=False)
    count = [0]
    real = pp.from_json

    def spy(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(pp, "from_json", spy)
    return count


def test_the_same_file_is_parsed_once_and_each_read_is_a_copy(parses: list[int],
                                                              tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    pp.to_json(_net(0.5), str(path))
    first = ppio.net_from_json_file(path)
    second = ppio.net_from_json_file(path)
    assert parses[0] == 1
    truth = pp.from_json(str(path))
    assert nets_equal(first, truth) and nets_equal(second, truth)
    assert first is not second
    first.load.loc[0, "p_mw"] = 9.0  # a caller's change stays its own
    assert ppio.net_from_json_file(path).load.at[0, "p_mw"] == pytest.approx(0.5)
    # the same bytes under another name: no parse either
    other = tmp_path / "copy.json"
    other.write_bytes(path.read_bytes())
    assert nets_equal(ppio.net_from_json_file(other), truth)
    assert parses[0] == 2  # the one parse above and the truth's own


def test_a_file_rewritten_in_place_is_parsed_anew(parses: list[int], tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    pp.to_json(_net(0.5), str(path))
    assert ppio.net_from_json_file(path).load.at[0, "p_mw"] == pytest.approx(0.5)
    pp.to_json(_net(0.7), str(path))
    assert ppio.net_from_json_file(path).load.at[0, "p_mw"] == pytest.approx(0.7)
    assert parses[0] == 2


def test_the_read_network_is_the_files(parses: list[int], tmp_path: Path) -> None:
    """read_pandapower_json twice gives the same Network, from one parse."""
    path = tmp_path / "net.json"
    pp.to_json(_net(0.5), str(path))
    a, b = ppio.read_pandapower_json(path), ppio.read_pandapower_json(path)
    assert parses[0] == 1
    for key, table in a.tables().items():
        assert b.tables()[key].equals(table), key
    assert a.loads["p_mw"].to_list() == pytest.approx([0.5])


def test_at_most_a_few_nets_are_kept(parses: list[int], tmp_path: Path) -> None:
    paths = []
    for k in range(ppio.JSON_NETS_KEPT + 1):
        paths.append(tmp_path / f"n{k}.json")
        pp.to_json(_net(0.1 * (k + 1)), str(paths[-1]))
        ppio.net_from_json_file(paths[-1])
    assert len(ppio._JSON_NETS) == ppio.JSON_NETS_KEPT
    ppio.net_from_json_file(paths[0])  # the least recently used was dropped: parsed again
    assert parses[0] == ppio.JSON_NETS_KEPT + 2

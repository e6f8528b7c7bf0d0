"""A switch name that two switches share (user test ut38_realg #3).

CIGRE MV with switch 0 (on line 12) renamed ``S1``, the name of switch 4 (on line 14):
``feederopt solve net.json --hold-closed S1`` was refused as "branch ids that the network does
not have (given: S1)". Now the refusal says which switches the name names and what to give
instead, for ``--hold-closed``, ``--hold-open`` and the Python API's holds; ``restore
--broken``'s hint says the same, and a line name two lines share is no alias of the first.
The truth is the net's own switch table.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.network.id_hints import name_aliases

runner = CliRunner()


def _net() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = pn.create_cigre_network_mv(with_der="pv_wind")
    net.switch.loc[0, "name"] = "S1"
    return net


def test_the_net_has_two_switches_named_s1_on_two_lines() -> None:
    sw = _net().switch
    s1 = sw[sw["name"] == "S1"]
    assert list(zip(s1.index, s1["et"], s1["element"], strict=True)) == [(0, "l", 12),
                                                                          (4, "l", 14)]


@pytest.mark.parametrize("flag", ["--hold-closed", "--hold-open"])
def test_the_cli_names_both_switches(tmp_path: Path, flag: str) -> None:
    path = tmp_path / "net.json"
    pp.to_json(_net(), str(path))
    result = runner.invoke(app, ["solve", str(path), flag, "S1"])
    out = " ".join(result.output.split())
    assert result.exit_code == 2, out
    assert "Traceback" not in out and "does not have" not in out
    assert "S1 names 2 switches (switch 0 on line:12, switch 4 on line:14)" in out, out
    assert ("give switch:K (switch:0 or switch:4) or the branch id (line:12 or line:14) "
            "instead") in out


@pytest.mark.parametrize("option", ["hold_closed", "hold_open"])
def test_the_api_names_both_switches(option: str) -> None:
    network = feederopt.load(_net())
    with pytest.raises(InputError) as err:
        feederopt.solve(network, **{option: ["S1"]})
    (problem,) = err.value.problems
    assert problem.field == option and problem.ids == ("S1",)
    assert "switch 0 on line:12, switch 4 on line:14" in problem.message


def test_switch_k_still_holds_its_line() -> None:
    from feederopt.problems.holds import resolve_holds

    net = _net()
    held, problems = resolve_holds(feederopt.load(net), ["switch:4"], ["switch 0"])
    assert not problems
    # switch 0 held open holds line 12 open at switch 0; switch 4 held closed keeps switch 4
    # closed, and line 14, which has a switch at its other end too (net.switch), stays
    # switchable there (ut48_core #2)
    others = sorted(int(k) for k in net.switch.index[(net.switch["et"] == "l")
                                                      & (net.switch["element"] == 14)] if k != 4)
    assert others
    assert (held.closed, held.open) == ((), ("line:12",))
    assert dict(held.opening) == {"line:12": (0,), "line:14": tuple(others)}


def test_restore_broken_hints_both_switches() -> None:
    with pytest.raises(InputError) as err:
        feederopt.restore(feederopt.load(_net()), ["S1"])
    text = str(err.value)
    assert "S1 names 2 switches (switch 0 on line:12, switch 4 on line:14)" in text, text


def test_a_line_name_of_two_lines_is_no_alias_of_the_first() -> None:
    net = _net()
    net.line.loc[[3, 7], "name"] = "Twin"
    aliases, _ = name_aliases(feederopt.load(net), {f"line:{i}" for i in net.line.index},
                              set())
    assert "Twin" not in aliases and aliases["Line 1-2"] == "line:0"

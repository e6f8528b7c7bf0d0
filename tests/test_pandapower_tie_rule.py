"""The pandapower reader's tie rule, exposed and explained (user test ut37_realg #2).

``pandapower.networks.case33bw()`` stores Baran & Wu's five ties as out-of-service lines. One
closed line switch added at its feeder head turned the reader's automatic rule to "only
branches with a switch are switchable": solve said "optimal" at the base case's 202.68 kW with
every branch fixed, without a word. The truth is Baran & Wu's published optimum, 139.55 kW
(Baran & Wu, IEEE Trans. Power Delivery 4(2):1401-1407, 1989).
"""

from __future__ import annotations

import warnings

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app

PUBLISHED_OPTIMUM_KW = 139.55
TIES = ("line:32", "line:33", "line:34", "line:35", "line:36")


def _one_switch() -> pp.pandapowerNet:
    net = pn.case33bw()
    pp.create_switch(net, bus=net.line.from_bus.at[0], element=0, et="l", closed=True,
                     name="CB feeder head")
    return net


def _tie_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if "out-of-service line(s)" in n]


def test_out_of_service_ties_of_a_switched_net_are_named() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = feederopt.load(_one_switch())
    (note,) = _tie_notes(net.meta["warnings"])
    assert all(t in note for t in TIES)
    assert "ties='out_of_service'" in note and "create_switch" in note
    # a net without switches reads them as ties, with no such note
    assert not _tie_notes(feederopt.load(pn.case33bw(), check=False).meta["warnings"])


def test_the_tie_rule_can_be_chosen_and_finds_the_published_optimum() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = feederopt.load(_one_switch(), ties="out_of_service")
        result = feederopt.solve(net, time_limit=60)
    assert result.status.value == "optimal"
    assert result.losses_kw == pytest.approx(PUBLISHED_OPTIMUM_KW, abs=0.01)


def test_a_tie_rule_for_another_format_or_an_unknown_one_is_a_typed_problem() -> None:
    with pytest.raises(feederopt.InputError, match="pandapower nets only"):
        feederopt.load("case33bw", ties="switches")
    with pytest.raises(feederopt.InputError, match="not a tie rule"):
        feederopt.load(_one_switch(), ties="every")  # type: ignore[arg-type]


def test_the_console_prints_the_note(tmp_path) -> None:
    path = tmp_path / "case33bw_one_switch.json"
    pp.to_json(_one_switch(), str(path))
    out = CliRunner().invoke(app, ["info", str(path)])
    assert out.exit_code == 0, out.output
    flat = " ".join(out.output.split())
    assert "line:32" in flat and "ties='out_of_service'" in flat

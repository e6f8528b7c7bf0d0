"""The scenario console line names every term of the expected objective (user test ut34_combo
#3): "expected objective 120.429 kW (losses plus 1e+05 kW per p.u. of slack)" left out the
10 kW of switching cost that --switch-cost had put in the number.

Reference: hand count. The tie feeder's only normally-open branch is the tie 3-6 (line 6);
an answer that opens another line closes the tie as well: two switching actions at the
--switch-cost each, so the expected objective is the expected losses plus that cost (the
slack is nil: both scenarios are within the limits)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.results.uncertain import expected_objective_terms
from netbuild import TIE7_LINES, tie7_pandapower

runner = CliRunner(env={"COLUMNS": "400"})  # no wrapped table rows, whatever the worker
SWITCH_COST_KW = 0.5


def _run(tmp_path: Path, *extra: str) -> str:
    net = tie7_pandapower()
    path = tmp_path / "tie7.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.to_json(net, str(path))
    rows = [{"scenario": name, "element": f"load:{i}", "p_mw": f * float(ld.p_mw),
             "q_mvar": f * float(ld.q_mvar), "weight": 0.5}
            for name, f in (("lo", 0.8), ("hi", 1.2)) for i, ld in net.load.iterrows()]
    scen = tmp_path / "sc.csv"
    pl.DataFrame(rows).write_csv(scen)
    res = runner.invoke(app, ["solve", str(path), "--scenarios", str(scen), "--time-limit",
                              "30", "--json", str(tmp_path / "r.json"), *extra],
                        terminal_width=400)
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())


def test_the_expected_objective_lists_the_switching_cost(tmp_path: Path) -> None:
    text = _run(tmp_path, "--switch-cost", str(SWITCH_COST_KW))
    m = re.search(r"expected losses ([\d.]+) kW .*?expected objective ([\d.]+) kW \((.*?)\);",
                  text)
    assert m is not None, text
    losses, objective, terms = float(m[1]), float(m[2]), m[3]
    opened = re.search(r"open branches\s*│?\s*line:(\d+)", text)
    assert opened is not None
    tie = TIE7_LINES.index((3, 6))
    actions = 0 if int(opened[1]) == tie else 2  # another line opened, the tie closed
    assert actions == 2  # the loads move the open point away from the tie
    assert objective == pytest.approx(losses + SWITCH_COST_KW * actions, abs=2e-3)
    # before: "losses plus 1e+05 kW per p.u. of slack", the 1 kW of switching unnamed
    assert terms == ("losses plus 1.000 kW for 2 switching actions plus 1e+05 kW per p.u. "
                     "of slack")


def test_without_a_switching_cost_the_terms_are_losses_and_slack(tmp_path: Path) -> None:
    text = _run(tmp_path)
    assert "(losses plus 1e+05 kW per p.u. of slack);" in text


def test_a_remainder_is_the_generators_energy_cost() -> None:
    # 130 = 110 kW of losses + 10 kW of switching + 1e5 x 5e-5 p.u. of slack + 5 kW-eq
    assert expected_objective_terms(130.0, 110.0, 5e-5, 1e5, {"cost_kw": 10.0, "actions": 2}) \
        == ("losses plus 10.000 kW for 2 switching actions plus 5.000 kW-eq of the "
            "generators' energy cost plus 1e+05 kW per p.u. of slack")


@pytest.mark.parametrize("cost", [None, SWITCH_COST_KW])
def test_the_robust_objective_label_names_the_switching_cost(tmp_path: Path,
                                                             cost: float | None) -> None:
    """The robust headline's label said "worst-case losses" for a number that holds the
    switching cost too (user test ut34_combo: 150.606 = 140.606 kW + 10 kW of switching)."""
    net = tie7_pandapower()
    path = tmp_path / "tie7.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.to_json(net, str(path))
    extra = [] if cost is None else ["--switch-cost", str(cost)]
    res = runner.invoke(app, ["solve", str(path), "--robust", "0.2", "--time-limit", "30",
                              "--no-ac-check", *extra], terminal_width=400)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    with_cost = "objective (worst-case losses plus switching cost)" in text
    assert with_cost is (cost is not None), text
    assert "objective (worst-case losses)" in text or with_cost

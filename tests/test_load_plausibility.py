"""Loads entered in kW instead of MW: a warning (the network is still used) when a bus's demand
exceeds the short-circuit power there, which no power flow can supply; never on the built-in
cases or SimBench grids."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import ProblemKind
from feederopt.io import to_pandapower, write_folder
from feederopt.network import Network

runner = CliRunner()


def feeder(scale: float) -> Network:
    """5 buses at 12.66 kV; loads 500/600/400 kW, given as ``scale`` x their MW value."""
    buses = pl.DataFrame({"id": ["1", "2", "3", "4", "5"], "vn_kv": [12.66] * 5,
                          "is_source": [True, False, False, False, False]})
    branches = pl.DataFrame({
        "id": ["a", "b", "c", "d", "e"], "from_bus": ["1", "2", "3", "2", "5"],
        "to_bus": ["2", "3", "4", "5", "4"], "r_ohm": [0.5, 0.6, 0.7, 0.8, 0.9],
        "x_ohm": [0.4, 0.5, 0.5, 0.6, 0.7], "switchable": [False, True, True, True, True],
        "normally_open": [False, False, False, False, True]})
    loads = pl.DataFrame({"id": ["L3", "L4", "L5"], "bus": ["3", "4", "5"],
                          "p_mw": [0.5 * scale, 0.6 * scale, 0.4 * scale],
                          "q_mvar": [0.2 * scale, 0.25 * scale, 0.15 * scale]})
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="kw")


def _bad_load(net: Network) -> list:
    return [p for p in net.validate() if p.kind is ProblemKind.BAD_LOAD]


def _runpp_converges(net: Network) -> bool:
    ppn = to_pandapower(net)
    try:
        pp.runpp(ppn)
    except pp.LoadflowNotConverged:
        return False
    return bool(ppn.converged)


def test_loads_in_kw_get_a_warning_and_have_no_power_flow() -> None:
    wrong = feeder(1000.0)
    assert not _runpp_converges(wrong)  # pandapower finds no operating point
    found = _bad_load(wrong)
    assert len(found) == 1 and not found[0].is_error
    assert set(found[0].ids) == {"L3", "L4", "L5"}
    right = feeder(1.0)
    assert _runpp_converges(right) and _bad_load(right) == []


def test_info_warns_and_exits_0(tmp_path: Path) -> None:
    write_folder(feeder(1000.0), tmp_path / "kw")
    out = runner.invoke(app, ["info", str(tmp_path / "kw")])
    assert out.exit_code == 0, out.output
    assert "bad_load" in out.output and "short-circuit power" in out.output
    # the summary line does not say "none" flatly above the warning
    assert "problems: none that stop a solve; 1 warning(s) below" in out.output


@pytest.mark.parametrize("name", ["case33bw", "case69bw", "case136ma", "cigre_mv",
                                  "mv_oberrhein", "example_multivoltage", "zhang13"])
def test_no_warning_on_builtin_cases(name: str) -> None:
    assert _bad_load(load(name)) == []


@pytest.mark.parametrize("code", ["1-LV-rural1--2-sw", "1-MV-rural--0-sw", "1-HV-mixed--0-sw",
                                  "1-EHV-mixed--0-sw"])
def test_no_warning_on_simbench_grids(code: str) -> None:
    pytest.importorskip("simbench")
    assert _bad_load(load(f"simbench:{code}")) == []

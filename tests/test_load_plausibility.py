"""Loads entered in kW instead of MW: a warning (the network is still used) when a bus's demand
exceeds the short-circuit power there, which no power flow can supply, also for one load next
to a small generator that holds its voltage; never on the built-in cases, MATPOWER's
distribution cases or SimBench grids. The truth is pandapower's own power flow: it finds no
operating point where the warning fires, and one where it does not."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cases.registry import MATPOWER_DISTRIBUTION_CASES
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


@pytest.mark.parametrize("name", ["case33bw", "case69bw", "case84tpc", "case136ma", "cigre_mv",
                                  "mv_oberrhein", "example_multivoltage", "zhang13"])
def test_no_warning_on_builtin_cases(name: str) -> None:
    assert _bad_load(load(name)) == []


@pytest.mark.parametrize("code", ["1-LV-rural1--2-sw", "1-MV-rural--0-sw", "1-HV-mixed--0-sw",
                                  "1-EHV-mixed--0-sw"])
def test_no_warning_on_simbench_grids(code: str) -> None:
    pytest.importorskip("simbench")
    assert _bad_load(load(f"simbench:{code}")) == []


def _pp_feeder(scale: float) -> object:
    """A 20 kV pandapower net (110/20 kV 25 MVA trafo, feeders 1-2-3-4 and 1-5-6 of 2 km
    cables, loads 1.0-2.0 MW) with a 1.5 MW CHP unit holding 1.01 p.u. at bus 7, 0.2 km from
    bus 3; the load at bus 3 is given as ``scale`` x its MW value (one load typed in kW)."""
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0)
    mv = [pp.create_bus(net, 20.0) for _ in range(7)]
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer(net, hv, mv[0], std_type="25 MVA 110/20 kV")
    cable = "NA2XS2Y 1x185 RM/25 12/20 kV"
    for a, b in [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5)]:
        pp.create_line(net, mv[a], mv[b], 2.0, cable)
    pp.create_line(net, mv[2], mv[6], 0.2, cable)
    pp.create_gen(net, mv[6], p_mw=1.5, vm_pu=1.01)
    for i, p in zip((1, 2, 3, 4, 5), (1.0, 1.4, 2.0, 1.2, 1.6), strict=True):
        pp.create_load(net, mv[i], p_mw=p * (scale if i == 2 else 1.0), q_mvar=0.3 * p)
    return net


def _pp_converges(net: object) -> bool:
    try:
        pp.runpp(net)
    except pp.LoadflowNotConverged:
        return False
    return bool(net.converged)  # type: ignore[attr-defined]


def test_one_load_in_kw_next_to_a_generator_is_named() -> None:
    """The DSO tester's case: one load 1000x (1.4 GW at a 20 kV bus whose S_sc from the
    ext_grid is ~0.2 GVA) 0.2 km from a 1.5 MW PV unit. The old rule took the unit as a stiff
    source (10 GVA through 0.2 km) and stayed silent; pandapower's own power flow finds no
    operating point. The warning names that load alone and suggests the unit slip."""
    from feederopt.io import from_pandapower

    wrong = _pp_feeder(1000.0)
    assert not _pp_converges(wrong)
    found = _bad_load(from_pandapower(wrong))
    assert len(found) == 1 and not found[0].is_error
    assert found[0].ids == ("load:1",)
    assert "load:1 (1400 MW) at bus 3" in found[0].message
    assert "in kW, write 1.4" in found[0].hint
    right = _pp_feeder(1.0)
    assert _pp_converges(right) and _bad_load(from_pandapower(right)) == []


def test_solve_prints_the_warning_before_the_infeasibility(tmp_path: Path) -> None:
    """solve goes on (a warning: the bound is a heuristic, not a proof), but the user reads
    the unit hint before the run's verdict."""
    path = tmp_path / "kw.json"
    pp.to_json(_pp_feeder(1000.0), str(path))
    out = runner.invoke(app, ["solve", str(path), "--time-limit", "20"])
    text = " ".join(out.output.split())
    assert out.exit_code in (3, 4), out.output  # no topology meets the limits
    assert "bad_load" in text and "load:1" in text and "in kW, write 1.4" in text
    assert text.index("bad_load") < text.index("No radial configuration"), out.output


@pytest.mark.parametrize("name", sorted(MATPOWER_DISTRIBUTION_CASES))
def test_no_warning_on_matpower_distribution_cases(name: str) -> None:
    assert _bad_load(load(name)) == []

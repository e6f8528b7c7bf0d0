"""``fixed_generation`` (``--fixed-generation``) holds every generator at its data set-point,
as MATPOWER's ``runpf`` injects it (``PG``; ``PG + j QG`` at a PQ bus), in every method and the
AC check; without it a solve dispatches the generators within their ranges (MATPOWER's
PMIN..PMAX, QMIN..QMAX) and says so (user test ut45_mpsb #1: ``solve my13r.m`` re-dispatched
generator 3 from 0.5 to 1.56 MW and reported 19.055 kW, while the optimum with the file's
injections is 65.607 kW).

Truth: MATPOWER's runpf written out in numpy (tests/matpower_runpf.py) over all 801 radial
topologies of the case (the tester's brute force with pandapower's runpp gave the same
65.607 kW, branches 5, 8, 10, 11 and 12 open)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from matpower_runpf import brute_force_optimum, runpf_losses

warnings.filterwarnings("ignore", message=".*numba.*")

#: The tester's my13r.m: two REF substations (buses 1 and 12), a 33/12.66 kV transformer with
#: TAP 1.025 and SHIFT 3 degrees, a PV generator (row 3, bus 8: PG 0.5, PMIN..PMAX 0..2), a
#: generator at PQ bus 4 (row 5: PG 0.3, QG 0.05, PMAX 1, QMIN..QMAX 0..0.1), one out of
#: service (row 4), a type-4 bus with a load and a branch to it, GS/BS shunts.
MY13R = """function mpc = my13r
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
	1	3	0	0	0	0	1	1	0	33	1	1.1	0.9;
	2	1	0.0	0.0	0	0	1	1	0	12.66	1	1.1	0.9;
	3	1	0.6	0.3	0	0	1	1	0	12.66	1	1.1	0.9;
	4	1	0.5	0.25	0	0	1	1	0	12.66	1	1.1	0.9;
	5	1	0.8	0.4	0	0.3	1	1	0	12.66	1	1.1	0.9;
	6	1	0.4	0.2	0	0	1	1	0	12.66	1	1.1	0.9;
	7	1	0.7	0.35	0	0	1	1	0	12.66	1	1.1	0.9;
	8	2	0.3	0.1	0	0	1	1	0	12.66	1	1.1	0.9;
	9	1	0.6	0.3	0	0	1	1	0	12.66	1	1.1	0.9;
	10	1	0.5	0.2	0.05	0	1	1	0	12.66	1	1.1	0.9;
	11	1	0.4	0.2	0	0	1	1	0	12.66	1	1.1	0.9;
	12	3	0	0	0	0	1	1	0	12.66	1	1.1	0.9;
	13	4	0.9	0.4	0	0	1	1	0	12.66	1	1.1	0.9;
];
mpc.gen = [
	1	0	0	10	-10	1.02	100	1	10	0;
	12	0	0	10	-10	1.0	100	1	10	0;
	8	0.5	0	1	-1	1.01	100	1	2	0;
	9	0.7	0.1	1	-1	1.0	100	0	2	0;
	4	0.3	0.05	0.1	0	1.0	100	1	1	0;
];
mpc.branch = [
	1	2	0.02	0.4	0	10	10	10	1.025	3	1	-360	360;
	2	3	0.30	0.20	0	0	0	0	0	0	1	-360	360;
	3	4	0.35	0.25	0	0	0	0	0	0	1	-360	360;
	4	5	0.40	0.30	0	0	0	0	0	0	1	-360	360;
	5	6	0.30	0.25	0	0	0	0	0	0	0	-360	360;
	2	7	0.25	0.20	0	0	0	0	0	0	1	-360	360;
	7	8	0.45	0.35	0	0	0	0	0	0	1	-360	360;
	8	9	0.30	0.20	0	0	0	0	0	0	1	-360	360;
	9	10	0.35	0.30	0	0	0	0	0	0	1	-360	360;
	3	7	0.50	0.40	0	0	0	0	0	0	0	-360	360;
	5	9	0.60	0.45	0	0	0	0	0	0	0	-360	360;
	6	10	0.55	0.40	0	0	0	0	0	0	0	-360	360;
	12	11	0.20	0.15	0	0	0	0	0	0	1	-360	360;
	11	6	0.40	0.30	0	0	0	0	0	0	1	-360	360;
	11	10	0.45	0.35	0	0	0	0	0	0	0	-360	360;
	4	13	0.30	0.20	0	0	0	0	0	0	1	-360	360;
];
mpc.gencost = [
	2	0	0	3	0	20	0;
	2	0	0	3	0	20	0;
	2	0	0	3	0	20	0;
	2	0	0	3	0	20	0;
	2	0	0	3	0	20	0;
];
"""

#: The file's set-points of the generators feederopt reads (not the REF ones): id -> PG, QG;
#: generator 3 holds its PV bus at VG, its Q free.
SET_POINTS = {"3": (0.5, None), "5": (0.3, 0.05)}


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mpgen") / "my13r.m"
    path.write_text(MY13R)
    return path


@pytest.fixture(scope="module")
def truth() -> tuple[float, frozenset[int]]:
    best, opened, count = brute_force_optimum(MY13R)
    assert count == 801  # the tester's count of radial topologies
    return best, opened


def _opened(result: feederopt.Result) -> frozenset[int]:
    return frozenset(int(b["id"]) for b in result.open_branches)


def _at_set_points(result: feederopt.Result) -> None:
    rows = {str(g["id"]): g for g in result.generators.iter_rows(named=True)}
    assert set(rows) == set(SET_POINTS)
    for gid, (p, q) in SET_POINTS.items():
        assert rows[gid]["p_mw"] == pytest.approx(p, abs=1e-6)
        if q is not None:
            assert rows[gid]["q_mvar"] == pytest.approx(q, abs=1e-6)


def test_benders_finds_the_runpf_optimum(case: Path, truth: tuple[float, frozenset[int]]
                                         ) -> None:
    best, opened = truth
    assert best == pytest.approx(65.607, abs=1e-3)  # the tester's figure
    result = feederopt.solve(feederopt.load(case), fixed_generation=True, time_limit=60)
    assert result.status is feederopt.Status.OPTIMAL
    assert _opened(result) == opened
    assert result.objective == pytest.approx(best, rel=1e-4)
    assert result.ac_check is not None
    assert result.ac_check.losses_kw == pytest.approx(best, rel=1e-6)
    _at_set_points(result)
    assert result.extra["settings"]["fixed_generation"] is True
    from feederopt.report.html import settings_rows

    assert dict(settings_rows(result.extra["settings"]))["generators"] == (
        "held at their set-points (--fixed-generation)")
    assert not any("dispatched by the optimiser" in n for n in result.notes)


@pytest.mark.parametrize("how", ["misocp", "lindistflow", "scenarios", "robust"])
def test_every_method_holds_the_set_points(how: str, case: Path,
                                           truth: tuple[float, frozenset[int]]) -> None:
    """The robust solve takes a budget of 1 (one load off nominal at a time: 22 extreme
    points and their AC checks instead of the full box's 2^11): holding the generators is the
    same code path whatever the uncertainty set, and the full box tripled this file's time."""
    net = feederopt.load(case)
    if how == "scenarios":
        sc = feederopt.generate_scenarios(net, count=2, pv_share=0.0, seed=1)
        result = feederopt.solve(net, scenarios=sc, fixed_generation=True, time_limit=60,
                                 gap=0.05, workers=1)
    elif how == "robust":
        result = feederopt.solve(net, robust=0.05, budget=1, fixed_generation=True,
                                 time_limit=60, gap=0.05, workers=1)
    else:
        result = feederopt.solve(net, how, fixed_generation=True, time_limit=60)
    assert result.has_topology
    _at_set_points(result)
    # the AC check is runpf with the file's injections at the answer's topology
    assert result.ac_check is not None
    assert result.ac_check.losses_kw == pytest.approx(
        runpf_losses(MY13R, _opened(result))[0], rel=1e-6)
    if how == "misocp":
        assert _opened(result) == truth[1]


def test_the_default_dispatch_is_said(case: Path, truth: tuple[float, frozenset[int]]) -> None:
    result = feederopt.solve(feederopt.load(case), time_limit=60)
    # the default stays: generator 3 dispatched within PMIN..PMAX below the runpf optimum
    assert result.objective < truth[0] - 10
    rows = {str(g["id"]): g for g in result.generators.iter_rows(named=True)}
    assert rows["3"]["p_mw"] > 1.0
    settings = result.extra["settings"]
    assert settings["fixed_generation"] is False
    assert settings["dispatched_generators"] == ["3", "5"]
    assert "PMIN..PMAX" in settings["dispatch_ranges"]
    # the report's settings rows say it too
    from feederopt.report.html import settings_rows

    shown = dict(settings_rows(settings))["generators"]
    assert shown.startswith("3, 5 dispatched within PMIN..PMAX") and "--fixed-generation" in shown
    (note,) = [n for n in result.notes if "dispatched by the optimiser" in n]
    assert "mpc.gen row(s) 3 (bus 8), 5 (bus 4)" in note
    assert "PMIN..PMAX" in note and "--fixed-generation" in note


def test_the_console_and_info_name_the_dispatch(case: Path, tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["solve", str(case), "--time-limit", "60",
                                   "--json", str(tmp_path / "r.json")],
                           env={"COLUMNS": "240"})
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "dispatched by the optimiser within their ranges" in text
    assert "--fixed-generation" in text
    # generator 5's Q moves within QMIN..QMAX too, and the row says it
    assert "5 (bus 4): P 0.3000 -> 1.0000 MW, Q 0.0500 -> 0.1000 MVAr" in text
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["settings"]["dispatched_generators"] == ["3", "5"]
    assert any("dispatched by the optimiser" in n for n in doc["notes"])
    info = CliRunner().invoke(app, ["info", str(case)], env={"COLUMNS": "240"})
    assert info.exit_code == 0, info.output
    text = " ".join(info.output.split())
    assert "dispatchable generators" in text and "2 (3, 5)" in text
    held = CliRunner().invoke(app, ["solve", str(case), "--time-limit", "60",
                                    "--fixed-generation"], env={"COLUMNS": "240"})
    assert held.exit_code == 0, held.output
    text = " ".join(held.output.split())
    assert "65.607 kW" in text and "re-dispatched" not in text


def _my13pm() -> str:
    """The tester's my13pm.m: my13r.m with PMAX 0 below PG 0.5 (row 3) and PMAX 0, QMIN..QMAX
    0..0 around PG 0.3, QG 0.05 at PQ bus 4 (row 5), as DG-augmented research files have."""
    text = MY13R
    for old, new in (("8\t0.5\t0\t1\t-1\t1.01\t100\t1\t2\t0;",
                      "8\t0.5\t0\t1\t-1\t1.01\t100\t1\t0\t0;"),
                     ("4\t0.3\t0.05\t0.1\t0\t1.0\t100\t1\t1\t0;",
                      "4\t0.3\t0.05\t0\t0\t1.0\t100\t1\t0\t0;")):
        assert old in text
        text = text.replace(old, new)
    return text


def test_a_set_point_outside_its_range_runs_as_runpf_runs_it(
        tmp_path: Path, truth: tuple[float, frozenset[int]]) -> None:
    path = tmp_path / "my13pm.m"
    path.write_text(_my13pm())
    net = feederopt.load(path)  # refused before, even by `info`
    base = feederopt.ac_power_flow(net)
    # runpf ignores PMIN..PMAX (and QMIN..QMAX at a PQ bus): the status-0 rows open
    assert base.losses_kw == pytest.approx(runpf_losses(_my13pm(), frozenset({5, 10, 11, 12,
                                                                                15}))[0], rel=1e-6)
    assert base.losses_kw == pytest.approx(98.344, abs=1e-3)  # the tester's MATPOWER figure
    # the ranges do not matter to runpf: the same optimum as my13r.m's
    best, opened, _ = brute_force_optimum(_my13pm())
    assert (best, opened) == (pytest.approx(truth[0], rel=1e-9), truth[1])
    held = feederopt.solve(net, fixed_generation=True, time_limit=60)
    assert _opened(held) == opened and held.objective == pytest.approx(best, rel=1e-4)
    _at_set_points(held)
    # a dispatch within PMIN..PMAX = 0..0 is judged, and refused by mpc.gen row and column
    with pytest.raises(feederopt.InputError) as err:
        feederopt.solve(net, time_limit=60)
    by_field = {p.field: p for p in err.value.problems}
    assert set(by_field) == {"PG", "QG"}
    pg, qg = by_field["PG"], by_field["QG"]
    assert pg.component == qg.component == "mpc.gen"
    assert pg.ids == ("row 3", "row 5") and qg.ids == ("row 5",)
    assert "row 3 (bus 8): PG 0.5 outside PMIN..PMAX = 0..0" in pg.message
    assert "fixed_generation=True" in pg.hint and "columns 2, 10 and 9" in pg.hint
    assert "empty cells" not in pg.hint


def test_the_cli_refuses_the_dispatch_with_exit_2_and_info_runs(tmp_path: Path) -> None:
    path = tmp_path / "my13pm.m"
    path.write_text(_my13pm())
    info = CliRunner().invoke(app, ["info", str(path)], env={"COLUMNS": "240"})
    assert info.exit_code == 0, info.output
    assert "98.34 kW" in info.output
    info_text = " ".join(info.output.split())
    # what a dispatch solve would refuse, as a warning, by mpc.gen row and column
    assert "warning: invalid_value: mpc.gen [row 3, row 5].PG" in info_text
    assert "--fixed-generation" in info_text
    out = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "60"],
                             env={"COLUMNS": "240"})
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    assert out.exception is None or isinstance(out.exception, SystemExit)
    text = " ".join(out.output.split())
    assert "mpc.gen [row 3, row 5].PG" in text and "--fixed-generation" in text

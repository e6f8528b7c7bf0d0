"""A generator row without limits is a fixed injection at its set-point (user test ut37
gendef #1).

A ``generators.csv`` of ``id,bus,p_mw,q_mvar`` (PV4 1.5 MW at B4, PV7 1.0 MW at B7): ``info``
ran the base case with the PV injecting (65.98 kW of losses), while ``solve`` took the limits'
defaults p_min_mw = p_max_mw = 0, "re-dispatched" both units to 0 and said "optimal" at
277.678 kW, exit 0. Truth: pandapower's Newton-Raphson of the feeder with both units as static
generators at their p_mw; the tester's pandapower brute force over every radial topology
(/tmp/ut37_fresh/brute2.py) found the base topology (T1, T2, T3 open) best, at 65.977 kW.
A p_mw outside limits that the row does give is a typed problem naming the generator.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind

# ut37_fresh's grid3 (L3 rated 0.11 kA), shared with the base-case verdict tests
sys.path.insert(0, str(Path(__file__).parent))
from test_ut37_base_limits import BRANCHES as _BRANCHES
from test_ut37_base_limits import BUSES, LOADS

BRANCHES = _BRANCHES.format(l3=0.11)
#: p_mw and q_mvar only: no limit columns at all.
GENERATORS = "id,bus,p_mw,q_mvar\nPV4,B4,1.5,0.0\nPV7,B7,1.0,0.0\n"
#: The tester's pandapower brute force: the base topology, with the PV injecting.
BRUTE_FORCE_KW = 65.977


def folder(tmp_path: Path, generators: str = GENERATORS, name: str = "gridg") -> Path:
    out = tmp_path / name
    out.mkdir()
    for table, text in (("buses", BUSES), ("branches", BRANCHES), ("loads", LOADS),
                        ("generators", generators)):
        (out / f"{table}.csv").write_text(text, encoding="utf-8")
    return out


def pandapower_losses_kw(open_ids: set[str], gens: dict[str, tuple[str, float, float]]) -> float:
    """pandapower's AC losses [kW] of the feeder with the branches ``open_ids`` open and the
    generators ``gens`` (id -> bus, p, q) as static generators; the transformer TR's r and x
    (Ohm at 66 kV) as pandapower's vkr and vk at its rating sqrt(3) x 66 kV x i_max."""
    pp = pytest.importorskip("pandapower")
    import io

    buses = pl.read_csv(io.StringIO(BUSES))
    net = pp.create_empty_network(sn_mva=1.0)
    idx = {b: pp.create_bus(net, vn_kv=v) for b, v in zip(buses["id"], buses["vn_kv"],
                                                            strict=True)}
    pp.create_ext_grid(net, idx["HV"], vm_pu=1.02)
    for r in pl.read_csv(io.StringIO(BRANCHES)).iter_rows(named=True):
        if r["id"] in open_ids:
            continue
        if r["kind"] == "transformer":
            sn = math.sqrt(3) * 66 * r["i_max_ka"]
            zb = 66**2 / sn
            pp.create_transformer_from_parameters(
                net, idx[r["from_bus"]], idx[r["to_bus"]], sn, 66, 12.66,
                r["r_ohm"] / zb * 100, math.hypot(r["r_ohm"], r["x_ohm"]) / zb * 100, 0, 0)
        else:
            pp.create_line_from_parameters(net, idx[r["from_bus"]], idx[r["to_bus"]], 1.0,
                                           r["r_ohm"], r["x_ohm"], 0.0, r["i_max_ka"])
    for r in pl.read_csv(io.StringIO(LOADS)).iter_rows(named=True):
        pp.create_load(net, idx[r["bus"]], p_mw=r["p_mw"], q_mvar=r["q_mvar"])
    for bus, p, q in gens.values():
        pp.create_sgen(net, idx[bus], p_mw=p, q_mvar=q)
    pp.runpp(net, numba=False)
    return 1e3 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())


PV = {"PV4": ("B4", 1.5, 0.0), "PV7": ("B7", 1.0, 0.0)}


def test_a_generator_without_limits_injects_its_p_mw_in_solve(tmp_path: Path) -> None:
    """solve reads the PV as info's base case does: at p_mw, not clamped to 0."""
    net = feederopt.load(folder(tmp_path))
    result = feederopt.solve(net, time_limit=60)
    opened = {str(b["id"]) for b in result.open_branches}
    truth = pandapower_losses_kw(opened, PV)
    assert opened == {"T1", "T2", "T3"}  # the brute force's optimum
    assert truth == pytest.approx(BRUTE_FORCE_KW, abs=1e-3)
    assert result.losses_kw == pytest.approx(truth, rel=1e-4)
    assert result.generators is not None
    p = dict(zip(result.generators["id"].to_list(), result.generators["p_mw"].to_list(),
                 strict=True))
    assert p == pytest.approx({"PV4": 1.5, "PV7": 1.0})


@pytest.mark.parametrize("fmt", ["csv", "parquet", "memory"])
@pytest.mark.parametrize("generators", [
    GENERATORS,
    # the limit columns given with empty cells: the same reading
    "id,bus,p_mw,q_mvar,p_min_mw,p_max_mw,q_min_mvar,q_max_mvar\n"
    "PV4,B4,1.5,0.0,,,,\nPV7,B7,1.0,0.0,,,,\n",
], ids=["no_limit_columns", "empty_limit_cells"])
def test_every_reader_holds_a_limitless_row_at_its_set_point(tmp_path: Path, fmt: str,
                                                             generators: str) -> None:
    src = folder(tmp_path, generators)
    if fmt == "parquet":
        for f in src.glob("*.csv"):
            pl.read_csv(f).write_parquet(f.with_suffix(".parquet"))
            f.unlink()
        net = feederopt.load(src)
    elif fmt == "memory":
        tables = {f.stem: pl.read_csv(f) for f in src.glob("*.csv")}
        net = feederopt.Network.from_tables(**tables).check()
    else:
        net = feederopt.load(src)
    g = net.generators.sort("id")
    assert g["p_min_mw"].to_list() == g["p_max_mw"].to_list() == [1.5, 1.0]
    assert g["q_min_mvar"].to_list() == g["q_max_mvar"].to_list() == [0.0, 0.0]
    notes = [w for w in net.meta.get("warnings", []) if "fixed injection" in w]
    assert len(notes) == 1 and "PV4, PV7" in notes[0] and "p_min_mw" in notes[0]


def test_q_mvar_without_q_limits_is_held_too(tmp_path: Path) -> None:
    """q_mvar 0.2 with no q limits: q_min_mvar = q_max_mvar = 0.2 (was 0..0); a limit given
    alone keeps the other's default 0 (a range 0..p_max_mw, as before)."""
    net = feederopt.load(folder(tmp_path, "id,bus,p_mw,q_mvar,p_max_mw\n"
                                          "PV4,B4,1.5,0.2,2.0\nPV7,B7,1.0,0.1,\n"))
    g = {r["id"]: r for r in net.generators.iter_rows(named=True)}
    assert (g["PV4"]["p_min_mw"], g["PV4"]["p_max_mw"]) == (0.0, 2.0)
    assert (g["PV7"]["p_min_mw"], g["PV7"]["p_max_mw"]) == (1.0, 1.0)
    assert (g["PV4"]["q_min_mvar"], g["PV4"]["q_max_mvar"]) == (0.2, 0.2)
    assert (g["PV7"]["q_min_mvar"], g["PV7"]["q_max_mvar"]) == (0.1, 0.1)


def test_p_mw_outside_given_limits_is_a_typed_problem(tmp_path: Path) -> None:
    src = folder(tmp_path, "id,bus,p_mw,q_mvar,p_min_mw,p_max_mw\n"
                           "PV4,B4,1.5,0.0,0,1.0\nPV7,B7,1.0,0.0,,\n")
    with pytest.raises(InputError) as err:
        feederopt.load(src)
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.INVALID_VALUE and problem.ids == ("PV4",)
    assert problem.field == "p_mw"
    assert "1.5" in problem.message and "p_max_mw" in problem.message and problem.hint
    run = subprocess.run([sys.executable, "-m", "feederopt", "solve", str(src)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "PV4" in run.stdout + run.stderr

"""``mpc.gencost`` is read whole where feederopt's generator costs have a place: a MODEL 2
polynomial's c2, c1 and c0 (before, only c1: user test ut45_mpsb #3), and a piecewise-linear
row (MODEL 1), which they have not, is named by row in a note and in the refusal of a
``--loss-price`` that finds no cost, which names mpc.gencost (before: pandapower's poly_cost).

Truth: pandapower's own MATPOWER converter (``from_mpc``), whose ``poly_cost`` rows hold the
file's c2, c1, c0 (``cp2_eur_per_mw2``, ``cp1_eur_per_mw``, ``cp0_eur``), and the file's text."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from test_matpower_fixed_generation import MY13R

warnings.filterwarnings("ignore", message=".*numba.*")

_R_COST = "mpc.gencost = [\n" + "\t2\t0\t0\t3\t0\t20\t0;\n" * 5 + "];"


def _with_gencost(rows: str) -> str:
    assert _R_COST in MY13R
    return MY13R.replace(_R_COST, "mpc.gencost = [\n" + rows + "];")


#: The tester's my13q.m: c2 = 5, c1 = 20, c0 = 7 for every generator.
MY13Q = _with_gencost("\t2\t0\t0\t3\t5\t20\t7;\n" * 5)
#: The tester's my13g.m: piecewise-linear costs (MODEL 1, three points) for the five rows.
MY13G = _with_gencost("\t1\t0\t0\t3\t0\t0\t5\t20\t10\t200;\n" * 5)


def test_the_quadratic_and_constant_terms_are_read(tmp_path: Path) -> None:
    from pandapower.converter.matpower import from_mpc

    path = tmp_path / "my13q.m"
    path.write_text(MY13Q)
    net = feederopt.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp_net = from_mpc(str(path), f_hz=50)
    # pandapower's cost of each generator, by its bus (bus number = pandapower index + 1)
    pc = pp_net.poly_cost
    truth = {}
    for et in ("gen", "sgen"):
        table = getattr(pp_net, et)
        for _, row in pc[pc.et == et].iterrows():
            bus = int(table.at[int(row.element), "bus"]) + 1
            truth[str(bus)] = (row.cp2_eur_per_mw2, row.cp1_eur_per_mw, row.cp0_eur)
    read = {g["bus"]: (g["cost_per_mw2_per_h"], g["cost_per_mwh"], g["fixed_cost_per_h"])
            for g in net.generators.iter_rows(named=True)}
    assert read == truth == {"8": (5.0, 20.0, 7.0), "9": (5.0, 20.0, 7.0),
                             "4": (5.0, 20.0, 7.0)}


def test_piecewise_linear_costs_are_named_and_refused_by_mpc_gencost(tmp_path: Path) -> None:
    path = tmp_path / "my13g.m"
    path.write_text(MY13G)
    net = feederopt.load(path)
    # rows 3, 4 and 5 are the generators read (rows 1 and 2 are the REF buses' sources)
    (note,) = [w for w in net.meta["warnings"] if "mpc.gencost" in w]
    assert "row(s) 3, 4, 5" in note and "piecewise-linear" in note
    assert net.generators["cost_per_mwh"].to_list() == [0.0, 0.0, 0.0]
    with pytest.raises(feederopt.InputError) as err:
        feederopt.solve(net, loss_price_per_mwh=10, time_limit=30)
    (problem,) = err.value.problems
    assert problem.field == "loss_price_per_mwh"
    assert "mpc.gencost row(s) 3, 4, 5 are piecewise-linear" in problem.message
    assert "mpc.gencost" in problem.hint and "poly_cost" not in problem.message + problem.hint
    out = CliRunner().invoke(app, ["solve", str(path), "--loss-price", "10"],
                             env={"COLUMNS": "240"})
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    assert "--loss-price has no effect" in " ".join(out.output.split())

"""Absurd generator and shunt magnitudes (session 38; the loads' and branches' bounds are in
test_extreme_magnitudes.py): refused by validation as one typed problem naming the component
and the column, exit 2, where they crashed (1e300: OverflowError; an infinite active limit:
"Problem data contains NaN or Inf", both exit 1) or gave a wrong answer.

The wrong answer: on the tiny feeder (0.85 MW of load) a generator with a 10 per MWh cost and
an active limit of 1, 1e4 or 1e6 MW gives one optimum (the limit never binds: the generator
serves less than the load), but a limit of 1e8 MW gave a smaller "optimal" objective at another
dispatch. A bound that cannot bind must not change the optimum, so the 1e8 answer was wrong.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cases import load
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.network import InputError, ProblemKind
from feederopt.network.validate import LOAD_PU_MAX

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import tiny, tiny_pandapower_net

runner = CliRunner(env={"COLUMNS": "400"})


def _generator(p_mw: float = 0.1, p_max_mw: float = 1.0, q_max_mvar: float = 0.1,
               q_min_mvar: float = -0.1) -> pl.DataFrame:
    return pl.DataFrame({"id": ["G1"], "bus": ["c"], "p_mw": [p_mw], "q_mvar": [0.0],
                         "p_min_mw": [0.0], "p_max_mw": [p_max_mw],
                         "q_min_mvar": [q_min_mvar], "q_max_mvar": [q_max_mvar],
                         "cost_per_mwh": [10.0]})


def _errors(source: object) -> list:
    with pytest.raises(InputError) as exc:
        load(source)
    return [p for p in exc.value.problems if p.is_error]


@pytest.mark.parametrize("kwargs,field", [({"p_mw": 1e300, "p_max_mw": 1e300}, "p_mw"),
                                          ({"p_max_mw": 1e300}, "p_max_mw"),
                                          ({"q_max_mvar": 1e300}, "q_max_mvar"),
                                          ({"p_max_mw": math.inf}, "p_max_mw"),
                                          ({"p_max_mw": 1e8}, "p_max_mw")])
def test_absurd_generator_is_one_problem_and_exit_2(tmp_path: Path, kwargs: dict,
                                                    field: str) -> None:
    path = tmp_path / "net"
    write_folder(tiny(generators=_generator(**kwargs)), path, fmt="csv")
    out = runner.invoke(app, ["solve", str(path), "--time-limit", "20"])
    assert out.exit_code == 2, out.output
    assert f"generators [G1].{field}" in out.output, out.output
    assert "Traceback" not in out.output and "Overflow" not in out.output
    (problem,) = _errors(path)  # a fixed injection's equal limits are not said again
    assert (problem.kind, problem.component, problem.ids, problem.field) == (
        ProblemKind.INVALID_VALUE, "generators", ("G1",), field)


def test_an_unbounded_reactive_limit_stays_accepted() -> None:
    tiny(generators=_generator(q_max_mvar=math.inf, q_min_mvar=-math.inf)).check()


def test_absurd_shunt_is_refused(tmp_path: Path) -> None:
    shunts = pl.DataFrame({"id": ["C1"], "bus": ["c"], "q_mvar_per_step": [1e300],
                           "step": [1], "max_steps": [2]})
    path = tmp_path / "net"
    write_folder(tiny(shunts=shunts), path, fmt="csv")
    out = runner.invoke(app, ["solve", str(path), "--time-limit", "20"])
    assert out.exit_code == 2, out.output
    assert "shunts [C1].q_mvar_per_step" in out.output
    # a sound bank whose steps alone multiply past the bound is refused too
    many = shunts.with_columns(pl.lit(0.5).alias("q_mvar_per_step"),
                               pl.lit(10**7).alias("max_steps"))
    (problem,) = _errors(tiny(shunts=many))
    assert (problem.component, problem.ids, problem.field) == ("shunts", ("C1",),
                                                               "q_mvar_per_step")


@pytest.mark.parametrize("element", ["sgen", "gen", "shunt"])
def test_pandapower_absurd_injection_is_one_problem(element: str) -> None:
    net = pn.case33bw()
    if element == "sgen":
        pp.create_sgen(net, 17, p_mw=1e300)
    elif element == "gen":
        pp.create_gen(net, 17, p_mw=1e300, vm_pu=1.0)
    else:
        pp.create_shunt(net, 17, q_mvar=-1e300)
    (problem,) = _errors(net)
    assert problem.ids == (f"{element}:0",)


def test_pandapower_infinite_sgen_limit_is_one_problem() -> None:
    net = pn.case33bw()
    pp.create_sgen(net, 17, p_mw=0.1, controllable=True, min_p_mw=0.0, max_p_mw=math.inf,
                   min_q_mvar=-0.1, max_q_mvar=0.1)
    (problem,) = _errors(net)
    assert problem.ids == ("sgen:0",)


def test_a_limit_at_the_bound_is_accepted_and_matches_pandapower() -> None:
    # the largest accepted limit gives the answer of a limit that binds nowhere (1 MW > the
    # generator's dispatch), and the AC check of that dispatch is pandapower's own power flow
    assert LOAD_PU_MAX >= 1e6
    big = feederopt.solve(tiny(generators=_generator(p_max_mw=1e6)), time_limit=30)
    small = feederopt.solve(tiny(generators=_generator(p_max_mw=1.0)), time_limit=30)
    assert big.status.value == small.status.value == "optimal"
    assert big.objective == pytest.approx(small.objective, rel=1e-6)
    p_g = float(big.generators["p_mw"][0])
    assert 0.0 < p_g < 1.0
    opened = {b["id"] for b in big.open_branches}
    net = tiny_pandapower_net(opened, sgen=("c", p_g, float(big.generators["q_mvar"][0])))
    pp.runpp(net)
    assert big.ac_check is not None
    assert big.ac_check.losses_kw == pytest.approx(net.res_line.pl_mw.sum() * 1e3, rel=1e-4)

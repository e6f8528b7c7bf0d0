"""A shunt bank with a negative ``p_mw_per_step`` (user test ut38_mixed #2: a controllable bank of
-0.01 MW per step was accepted and *generated* 10 kW per step, lowering the reported losses):
refused where the optimiser chooses the step, a warning naming it where the step is fixed (the
user's own power flow runs such a shunt, and the model reproduces it).

``P = step * p_mw_per_step * |V|^2`` is the bank's consumption (a lossy bank). Truth for the
sign convention of a pandapower shunt's ``p_mw``: pandapower's own AC power flow, in which a
negative ``p_mw`` makes the shunt produce (``res_shunt.p_mw < 0``, the grid imports less).
"""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import ProblemKind
from feederopt.network import InputError, Network

runner = CliRunner()


def _tables(p_mw_per_step: float, controllable: bool = True) -> dict[str, pl.DataFrame]:
    buses = pl.DataFrame({"id": ["1", "2"], "vn_kv": [10.0, 10.0], "is_source": [True, False]})
    branches = pl.DataFrame({"id": ["b12"], "from_bus": ["1"], "to_bus": ["2"],
                             "r_ohm": [0.4], "x_ohm": [0.35]})
    loads = pl.DataFrame({"id": ["D2"], "bus": ["2"], "p_mw": [0.1], "q_mvar": [0.05]})
    shunts = pl.DataFrame({"id": ["c2"], "bus": ["2"], "q_mvar_per_step": [0.3],
                           "p_mw_per_step": [p_mw_per_step], "max_steps": [2], "step": [1],
                           "controllable": [controllable]})
    return {"buses": buses, "branches": branches, "loads": loads, "shunts": shunts}


def test_a_bank_that_produces_active_power_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        Network.from_tables(**_tables(-0.01), name="neg").check()
    (problem,) = err.value.problems
    assert (problem.kind, problem.component, problem.ids, problem.field) == (
        ProblemKind.INVALID_VALUE, "shunts", ("c2",), "p_mw_per_step")
    assert problem.hint and ">= 0" in problem.hint
    # the command line: exit 2 with the typed problem, no traceback
    folder = tmp_path / "neg"
    folder.mkdir()
    for name, df in _tables(-0.01).items():
        df.write_csv(folder / f"{name}.csv")
    res = runner.invoke(app, ["info", str(folder)], env={"COLUMNS": "240"})
    assert res.exit_code == 2
    assert "p_mw_per_step" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("p", [0.0, 0.002])
def test_a_lossless_or_lossy_bank_is_accepted(p: float) -> None:
    Network.from_tables(**_tables(p), name="ok").check()


def test_a_fixed_bank_that_produces_is_a_warning() -> None:
    net = Network.from_tables(**_tables(-0.01, controllable=False), name="fixed")
    (problem,) = net.validate()
    assert (problem.is_error, problem.ids, problem.field) == (False, ("c2",), "p_mw_per_step")


def test_a_pandapower_shunt_with_negative_p_mw_is_named_and_modelled() -> None:
    net = pp.create_empty_network()
    b0, b1 = pp.create_bus(net, 20.0), pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, b0)
    pp.create_line_from_parameters(net, b0, b1, 1.0, 0.1, 0.1, 0.0, 1.0)
    pp.create_load(net, b1, p_mw=0.1)
    pp.create_shunt(net, b1, q_mvar=-0.1, p_mw=-0.01)
    pp.runpp(net)
    # pandapower's own power flow: the shunt produces about 10 kW (its p_mw is consumption)
    assert float(net.res_shunt.p_mw.iloc[0]) == pytest.approx(-0.01, rel=1e-3)
    model = feederopt.load(net)
    (problem,) = [p for p in model.validate() if p.field == "p_mw_per_step"]
    assert (problem.is_error, problem.ids) == (False, ("shunt:0",))
    # the model reproduces pandapower's power flow with the producing shunt
    ac = feederopt.solve(model, time_limit=20).ac_check
    assert ac is not None and ac.losses_kw == pytest.approx(
        float(net.res_line.pl_mw.sum()) * 1e3, rel=1e-3)

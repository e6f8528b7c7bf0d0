"""An element of a pandapower net on a bus that does not exist is one problem, the root cause
(user test ut33_dopf #4).

A shunt on bus 99 gave ``unknown_bus`` and a spurious ``invalid_value: shunts
[shunt:0].q_mvar_per_step is NaN`` (its powers were scaled to the missing bus's vn_kv); a
trafo to bus 99 gave five more (its impedances and ratio on the missing bus's voltage, NaN) and
an island of the buses it was to feed. Truth: the net's own bus table, which has no bus 99.
"""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.network import InputError

runner = CliRunner()
ENV = {"COLUMNS": "240"}


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110)
    lv = pp.create_bus(net, 20)
    far = pp.create_bus(net, 20)
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    pp.create_transformer(net, hv, lv, "25 MVA 110/20 kV")
    pp.create_line(net, lv, far, 2.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
    pp.create_load(net, far, p_mw=2.0, q_mvar=0.5)
    pp.create_shunt(net, far, q_mvar=-0.4, p_mw=0.0, step=1, max_step=3)
    return net


@pytest.mark.parametrize(("table", "column", "component", "element_id", "field"), [
    ("shunt", "bus", "shunts", "shunt:0", "bus"),
    ("trafo", "lv_bus", "branches", "trafo:0", "to_bus"),
])
def test_an_element_on_a_missing_bus_is_one_problem(
        tmp_path: Path, table: str, column: str, component: str, element_id: str,
        field: str) -> None:
    net = _net()
    net[table].loc[0, column] = 99
    assert 99 not in net.bus.index  # the premise
    with pytest.raises(InputError) as err:
        feederopt.load(net)
    (problem,) = err.value.problems
    assert (problem.kind.value, problem.component, problem.ids, problem.field) == (
        "unknown_bus", component, (element_id,), field)
    assert "99" in problem.message
    path = tmp_path / "bad.json"
    pp.to_json(net, str(path))
    res = runner.invoke(app, ["solve", str(path)], env=ENV)
    assert res.exit_code == 2
    assert "1 problem in the input" in res.output
    assert "NaN" not in res.output and "Traceback" not in res.output

"""The AC check's advice "try --ac-polish" is given only where the polish would search.

On an infeasible grid the polish is skipped ("the model proves that no radial topology keeps
the limits"), yet every infeasible answer used to end with the advice to try it (CIGRE MV,
whose first transformer carries 101.4 % in its only radial configuration, and every Kerber
"extrem" net). Here a transformer carries the whole load in every radial topology, so no
topology keeps its rating (pandapower's runpp of each says so); the hint must not appear.
"""

from __future__ import annotations

import copy
import itertools
import warnings

import pandapower as pp

import feederopt
from feederopt.api import POLISH_HINT


def overloaded_grid():
    """One 0.25 MVA transformer feeding 0.3 MW over two feeders joined by a switched tie."""
    net = pp.create_empty_network(sn_mva=1.0)
    mv = pp.create_bus(net, 20)
    b = [pp.create_bus(net, 0.4) for _ in range(5)]
    pp.create_ext_grid(net, mv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net, mv, b[0], sn_mva=0.25, vn_hv_kv=20, vn_lv_kv=0.4, vkr_percent=1.0,
        vk_percent=4.0, pfe_kw=0.0, i0_percent=0.0)
    line = pp.create_line_from_parameters
    lines = [line(net, b[0], b[1], 0.05, 0.1, 0.08, 200, 1.0),
             line(net, b[1], b[2], 0.05, 0.1, 0.08, 200, 1.0),
             line(net, b[0], b[3], 0.05, 0.1, 0.08, 200, 1.0),
             line(net, b[3], b[4], 0.05, 0.1, 0.08, 200, 1.0),
             line(net, b[2], b[4], 0.05, 0.1, 0.08, 200, 1.0)]
    for k in lines:
        pp.create_switch(net, net.line.at[k, "from_bus"], k, "l", closed=k != lines[-1])
    for bus in b[1:]:
        pp.create_load(net, bus, p_mw=0.075, q_mvar=0.01)
    return net


def test_no_radial_topology_keeps_the_rating_in_runpp():
    """The independent truth: each radial configuration (one of the ring's five lines open)
    overloads the transformer in pandapower's power flow."""
    net = overloaded_grid()
    for opened in itertools.combinations(net.line.index, 1):
        n = copy.deepcopy(net)
        n.switch["closed"] = ~n.switch["element"].isin(opened)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(n)
        assert n.res_trafo.loading_percent.at[0] > 100.0


def test_infeasible_answer_does_not_advise_ac_polish():
    result = feederopt.solve(overloaded_grid(), time_limit=30)
    assert result.status.value == "infeasible"
    assert result.ac_check is not None and result.ac_check.within_limits is False
    assert POLISH_HINT not in result.ac_check.warnings
    # What the advice would have led to: the polish skips an infeasible answer.
    polished = feederopt.solve(overloaded_grid(), time_limit=30, ac_polish=True)
    assert "no radial topology" in polished.extra["polish"]["skipped"]


def test_console_does_not_call_the_slack_point_a_model_error(tmp_path):
    """The least-violating point's voltages follow its slack (load not served in the model),
    so the console does not label their difference to the AC power flow "model error"."""
    from typer.testing import CliRunner

    from feederopt.cli import app

    path = tmp_path / "overloaded.json"
    pp.to_json(overloaded_grid(), str(path))
    out = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "30"],
                             env={"COLUMNS": "200"})
    assert out.exit_code == 3, out.output
    assert "(model error)" not in out.output
    assert "try --ac-polish" not in out.output
    assert "the least-violating point's slack, not a model error" in out.output

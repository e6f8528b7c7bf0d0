"""ut43_optima #1: the base case's limits note beside a run with no answer. LinDistFlow's
``infeasible`` is a heuristic's (proves nothing), and on the mesh10pv grid below
(10 buses, 2 loops, PV 2.5 MW at bus 9, 1.5 at 8, 2.0 at 4, band 0.95-1.04 p.u.) the note
said "no topology holds the limits either (status infeasible), so the reduction compares two
operating points outside them": false (a topology within the limits exists) and about a
reduction that a run without a topology does not have. A solve stopped before any topology
(case118zh with misocp at 60 s) said "which the answer holds" of an answer it did not have.

Truth: pandapower's own power flow of the grid with lines 4 and 10 open (one of its radial
topologies): every voltage within 0.95-1.04 p.u. and every line below its rating."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app

LOADS = {1: (0.3, 0.15), 2: (0.5, 0.3), 3: (0.4, 0.2), 4: (0.6, 0.35), 5: (0.2, 0.1),
         6: (0.45, 0.25), 7: (0.7, 0.4), 8: (0.3, 0.2), 9: (0.55, 0.3)}
LINES = [(0, 1, 0.6, 0.8), (1, 2, 1.2, 0.9), (2, 3, 1.5, 1.0), (3, 4, 1.8, 1.2),
         (1, 5, 1.0, 0.7), (5, 6, 1.3, 1.0), (6, 7, 1.6, 1.1), (7, 8, 1.1, 0.8),
         (8, 9, 1.4, 1.0), (4, 9, 1.0, 0.9), (3, 7, 0.9, 0.7)]


def _mesh10pv() -> pp.pandapowerNet:
    """The tester's mesh10pv.json: lines 9 (4-9) and 10 (3-7) normally open."""
    net = pp.create_empty_network(name="mesh10pv")
    b = [pp.create_bus(net, vn_kv=12.66, name=f"B{i}", min_vm_pu=0.95, max_vm_pu=1.03)
         for i in range(10)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for k, (p, q) in LOADS.items():
        pp.create_load(net, b[k], p_mw=p, q_mvar=q, name=f"L{k}")
    for i, (f, t, r, x) in enumerate(LINES):
        line = pp.create_line_from_parameters(net, b[f], b[t], length_km=1.0, r_ohm_per_km=r,
                                              x_ohm_per_km=x, c_nf_per_km=0, max_i_ka=0.4,
                                              name=f"L{f}-{t}")
        pp.create_switch(net, b[f], line, et="l", closed=(i < 9), name=f"S{f}-{t}")
    for bus, p in ((9, 2.5), (8, 1.5), (4, 2.0)):
        pp.create_sgen(net, b[bus], p_mw=p, q_mvar=0.0, name=f"PV{bus}")
    return net


def test_lindistflow_infeasible_note_claims_no_proof(tmp_path: Path) -> None:
    net = _mesh10pv()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.to_json(net, str(tmp_path / "mesh10pv.json"))
        # the truth: lines 4 and 10 open hold the limits in pandapower's AC power flow
        net.switch["closed"] = ~net.switch.element.isin([4, 10])
        pp.runpp(net, numba=False)
    assert net.res_bus.vm_pu.min() >= 0.95 and net.res_bus.vm_pu.max() <= 1.04
    assert net.res_line.loading_percent.max() < 100
    res = CliRunner().invoke(app, ["solve", str(tmp_path / "mesh10pv.json"), "--v-max", "1.04",
                                   "--method", "lindistflow", "--time-limit", "60"],
                             env={"COLUMNS": "300"})
    assert res.exit_code == 4, res.output
    assert "proves nothing about the grid" in res.output
    assert "above v_max: 9 at" in res.output  # the base case breaks the band (note shown)
    assert "no topology holds the limits either" not in res.output
    assert "the reduction compares" not in res.output
    assert "there is no answer to compare it with" in res.output


# case118zh's base case as its result.json gives it (pandapower: bus 77 at 0.8688 p.u.)
BASE_BELOW = {"within_limits": False, "losses_kw": 1298.09,
              "voltage_limits": {"within": False, "v_min_pu": 0.9, "v_max_pu": 1.1,
                                 "below_v_min": [{"id": "77", "value": 0.8688,
                                                  "rating": 0.9}]}}


def test_note_of_a_run_without_a_topology() -> None:
    """case118zh by misocp at 60 s: ``time_limit`` and no topology; no answer holds or
    compares."""
    assert feederopt.base_limits_text(BASE_BELOW) is not None
    note = feederopt.base_limits_note(BASE_BELOW, None, "time_limit", method="misocp",
                                      has_topology=False, within_limits=False)
    assert note is not None
    assert "which the answer holds" not in note and "reduction" not in note
    assert note.endswith("the run found no topology (status time_limit), so there is no "
                         "answer to compare it with")
    # a proof of infeasibility by an exact method still says so
    proven = feederopt.base_limits_note(BASE_BELOW, 5.0, "infeasible", method="benders")
    assert proven is not None and "no topology holds the limits either" in proven
    # a heuristic's infeasible does not
    guess = feederopt.base_limits_note(BASE_BELOW, None, "infeasible", method="lindistflow",
                                       has_topology=False, within_limits=False)
    assert guess is not None and "no topology holds the limits either" not in guess

"""Two-unit single-phase step-down banks (EPRI ckt24's ``Transformer.step_05410_*``, 19.92/7.62
kV on nodes .1 and .2) in LinDist3Flow, against OpenDSS (run through OpenDSSDirect.py).

EPRI ckt24 feeds one 7.62 kV network from two such banks at different points of its 34.5 kV
feeder, and the network's phase b joins the two: a loop through the primary feeder and both
banks. (16d) fixes only the magnitude part of Kirchhoff's voltage law around a loop, so the
circulating flow was free and the LP returned an arbitrary vertex (2.35 p.u. at ``n274450_lo.b``
where OpenDSS gives 1.017). The feeders below copy the banks' definitions from ckt24.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from feederopt.algorithms.threephase import lindist3flow_power_flow
from feederopt.cases import load_three_phase
from feederopt.formulations.lindist3flow import lindist3flow, loop_links
from feederopt.network.threephase_perunit import to_per_unit_3ph
from feederopt.solvers.highs_backend import HighsModel
from feederopt.validation.opendss import solve_opendss

# Bank definitions as in ckt24's stepxfmrs_ckt24.dss (only the bus names differ).
UNIT = ("New Transformer.{name} phases=1 wdg=1 bus={pri} kv=19.92 kva=500 wdg=2 bus={sec} "
        "kv=7.62 kva=500 xhl=3.72 %rs=(0.405,0.405) %noloadloss=0.084 sub=no\n")

HEAD = """Clear
New Circuit.banks bus1=src basekV=34.5 pu=1.03 phases=3 MVAsc3=2000 MVAsc1=2100
""" + ("New Linecode.p3 nphases=3 units=kft rmatrix=(0.06|0.02 0.06|0.02 0.02 0.06) "
       "xmatrix=(0.15|0.06 0.15|0.05 0.06 0.15)\n") + """\
New Linecode.s1 nphases=1 units=kft rmatrix=(0.12) xmatrix=(0.18)
New Line.main Phases=3 Bus1=src Bus2=p1 LineCode=p3 Length=5 units=kft
New Line.main2 Phases=3 Bus1=p1 Bus2=p2 LineCode=p3 Length=5 units=kft
New Load.prim Bus1=p2 Phases=3 kV=34.5 kW=15000 kvar=5000 model=1
""" + UNIT.format(name="step_1", pri="p1.1", sec="lo1.1") + \
    UNIT.format(name="step_2", pri="p1.2", sec="lo1.2") + """\
New Line.sa Phases=1 Bus1=lo1.1 Bus2=x1.1 LineCode=s1 Length=1 units=kft
New Line.sb Phases=1 Bus1=lo1.2 Bus2=x1.2 LineCode=s1 Length=1 units=kft
New Load.la Bus1=x1.1 Phases=1 kV=7.62 kW=250 kvar=80 model=1
New Load.lb Bus1=x1.2 Phases=1 kV=7.62 kW=150 kvar=50 model=1
"""

# A second bank further down the feeder, and a phase-b tie between the two secondaries.
LOOP = UNIT.format(name="step_3", pri="p2.1", sec="lo2.1") + \
    UNIT.format(name="step_4", pri="p2.2", sec="lo2.2") + """\
New Line.tb Phases=1 Bus1=lo2.2 Bus2=x2.2 LineCode=s1 Length=1 units=kft
New Load.l2b Bus1=x2.2 Phases=1 kV=7.62 kW=200 kvar=60 model=1
New Line.tie Phases=1 Bus1=x1.2 Bus2=x2.2 LineCode=s1 Length=3 units=kft
"""

TAIL = """Set voltagebases=[34.5, 13.2]
Calcvoltagebases
Solve
"""

SECONDARY = ("lo1.", "x1.", "lo2.", "x2.")


def _feeder(tmp_path: Path, loop: bool) -> Path:
    path = tmp_path / ("loop.dss" if loop else "radial.dss")
    path.write_text(HEAD + (LOOP if loop else "") + TAIL)
    return path


def _errors_behind_banks(path: Path) -> dict[str, float]:
    """``|V_LinDist3Flow - V_OpenDSS|`` [p.u.] at every node behind the banks."""
    net = load_three_phase(path)
    flow = lindist3flow_power_flow(net)
    sol = solve_opendss(net)
    assert sol.converged
    behind = {k: abs(v - sol.voltages_pu[k]) for k, v in flow.voltages_pu.items()
              if k.startswith(SECONDARY)}
    assert behind
    return behind


def test_one_two_unit_bank_matches_opendss(tmp_path: Path) -> None:
    """One bank, a load behind each phase: the ideal part (w_sec = w_pri in per unit) and the
    leakage edge on a two-phase secondary agree with OpenDSS."""
    err = _errors_behind_banks(_feeder(tmp_path, loop=False))
    assert set(err) == {"lo1.a", "lo1.b", "x1.a", "x1.b"}
    assert max(err.values()) < 0.03, err


def test_two_banks_into_one_looped_secondary_match_opendss(tmp_path: Path) -> None:
    """ckt24's pattern: two banks on one feeder joined on phase b behind them. Without the angle
    rows this gave 0.097 p.u. (lo2.b 0.914 where OpenDSS gives 1.011)."""
    err = _errors_behind_banks(_feeder(tmp_path, loop=True))
    assert {"lo1.b", "lo2.b", "x1.b", "x2.b"} <= set(err)
    assert max(err.values()) < 0.03, err


def test_the_loop_flow_is_determined(tmp_path: Path) -> None:
    """The flow on the tie is the same whether the LP maximises or minimises it: the angle rows
    leave no circulating flow free (without them it ran to the flow bound). The loop is found
    on the tie, the phase-b lines, both banks and the primary between them; the line from the
    source is a bridge."""
    pu = to_per_unit_3ph(load_three_phase(_feeder(tmp_path, loop=True)))
    on_edge, on_bank = loop_links(pu)
    ids = {e.id for e, on in zip(pu.edges, on_edge, strict=True) if on}
    assert {"tie", "sb", "tb", "main2", "step_1+step_2", "step_3+step_4"} <= ids
    assert "main" not in ids
    assert on_bank.all()
    block = lindist3flow(pu, voltage_limits=False)
    tie = next(k for k, e in enumerate(pu.edges) if e.id == "tie")
    col = sum(len(e.phases) for e in pu.edges[:tie])
    flows = []
    for sign in (1.0, -1.0):
        cost = np.zeros(block.groups["p"].size)
        cost[col] = sign
        model = HighsModel(block, objective={"p": cost})
        assert model.solve().has_solution
        flows.append(float(model.values()["p"][col]))
    assert abs(flows[0] - flows[1]) < 1e-6, flows


def test_a_radial_feeder_gets_no_angle_rows(tmp_path: Path) -> None:
    """On a radial feeder the angles only follow the flows: the block is the one of (16d)."""
    pu = to_per_unit_3ph(load_three_phase(_feeder(tmp_path, loop=False)))
    on_edge, on_bank = loop_links(pu)
    assert not on_edge.any() and not on_bank.any()
    assert "theta" not in lindist3flow(pu).groups

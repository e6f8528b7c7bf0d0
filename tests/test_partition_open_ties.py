"""The partition's AC check (IV-E, ``validation.partition.ac_sample_share``) writes the plan's
switch states as the topology check does: a tie that the file opens at a terminal (``Open
Line.tie 1``, the usual OpenDSS idiom) and the plan closes is closed in OpenDSS, not merely
enabled (user test ut_3ph, finding 1: the old check left it open, the block behind it dead,
and reported a working plan 0 % AC-feasible).

The feeder: a lost substation behind ``swsub``; block ``a-b`` with a grid-forming generator at
``a`` and a load; block ``c-d`` with a load and no DER, joined to ``b`` only by the normally
open ``tie``. The plan closes ``tie``. References: the same feeder with the tie written
``enabled=n`` (which the old check handled), and OpenDSS's own solution of the islanded
circuit written by hand with ``close Line.tie 1``."""

from __future__ import annotations

import math

import pytest

from opendss_plain import plain_solution

FEEDER = """Clear
New Circuit.tiemg basekv=12.47 pu=1.0 phases=3 bus1=sourcebus MVAsc3=200000 MVAsc1=210000
New Line.swsub phases=3 bus1=sourcebus bus2=a switch=y r1=0.001 x1=0.001 r0=0.001 x0=0.001 c1=0 c0=0
New Line.l1 phases=3 bus1=a bus2=b r1=0.3 x1=0.6 r0=0.6 x0=1.2 c1=0 c0=0 length=1 units=km
New Load.a phases=3 bus1=a kv=12.47 kw=300 kvar=100 model=1
New Generator.g1 phases=3 bus1=a kv=12.47 kw=800 kva=1000 kvar=0
New Line.tie phases=3 bus1=b bus2=c switch=y r1=0.001 x1=0.001 r0=0.001 x0=0.001 c1=0 c0=0
{tie}
New Line.l2 phases=3 bus1=c bus2=d r1=0.3 x1=0.6 r0=0.6 x0=1.2 c1=0 c0=0 length=1 units=km
New Load.d phases=3 bus1=d kv=12.47 kw=300 kvar=100 model=1
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
OPEN_1 = "Open Line.tie 1"
DISABLED = "Edit Line.tie enabled=n"
#: The islanded circuit with the plan's switches, by hand: the lost substation's switch open,
#: the grid-forming generator a 1.0 p.u. voltage source at its bus, the tie closed.
ISLAND = """edit Line.swsub enabled=n
edit Generator.g1 enabled=n
new Vsource.gf0 bus1=a phases=3 basekv=12.47 pu=1.0 angle=0 MVAsc3=1e6 MVAsc1=1e6
close Line.tie 1
Set ControlMode=OFF
"""
BASE_V = 12470 / math.sqrt(3)


def _plan(folder, tie: str):
    from feederopt.algorithms.partition import solve_robust
    from feederopt.formulations.partition import PartitionSettings
    from feederopt.io.opendss import read_opendss
    from feederopt.problems.partition import build_partition_data

    path = folder / "feeder.dss"
    path.write_text(FEEDER.format(tie=tie))
    net = read_opendss(path)
    # the feeder's default DER cost (4 $/kWh since ut34): with constant-power loads every
    # grid-forming set-point within the limits is optimal, and the operating point's rule
    # takes the one nearest 1.0 p.u., the reference ISLAND's (its second stage was infeasible
    # and fell back to the first LP's vertex, 0.902 p.u., where OpenDSS draws the loads below
    # their Vminpu as constant impedance; the test pinned c1 = 10 $/kWh, where the vertex
    # was 1.0)
    data = build_partition_data(net, PartitionSettings(grid_forming=("Generator.g1",)))
    plan = solve_robust(data).plan
    assert plan is not None
    closed = {data.switch_ids[s] for s, c in enumerate(plan.closed) if c}
    assert closed == {"tie"} and plan.energised.sum() == 2  # both blocks of the island live
    return net, data, plan


@pytest.fixture(scope="module", params=[OPEN_1, DISABLED])
def case(request, tmp_path_factory):
    return _plan(tmp_path_factory.mktemp("tie"), request.param)


def test_a_tie_opened_at_a_terminal_is_closed_as_the_plan_says(tmp_path_factory):
    """The AC-feasible share of the feeder whose tie is ``Open Line.tie 1`` equals the one of
    the same feeder with the tie ``enabled=n`` (100 %; the old check: 0 % against 100 %)."""
    from feederopt.validation.partition import ac_sample_share

    shares = []
    for tie in (OPEN_1, DISABLED):
        net, data, plan = _plan(tmp_path_factory.mktemp("tie"), tie)
        got = ac_sample_share(net, data, plan, uncertainty=0.2, samples=4)
        shares.append((got.share_pct, got.converged, round(got.worst_low_voltage_pu, 9)))
    assert shares[0] == shares[1]
    assert shares[0][0] == 100.0


def test_the_sample_is_opendss_solution_with_the_tie_closed(case, tmp_path):
    """At the nominal loads the sample's lowest and highest voltage over the energised blocks
    are those of OpenDSS's own solve of the island with ``close Line.tie 1`` (by hand), which
    supplies every bus (above 0.95 p.u.)."""
    from feederopt.validation.partition import ac_sample_share

    net, data, plan = case
    _, volts, loads = plain_solution(FEEDER.format(tie=OPEN_1) + ISLAND, tmp_path)
    mags = {k: abs(v) / BASE_V for k, v in volts.items()
            if k.split(".")[0] in ("a", "b", "c", "d") and k.split(".")[1] in ("1", "2", "3")}
    assert len(mags) == 12 and min(mags.values()) > 0.95
    assert loads["d"] == pytest.approx(300.0, rel=1e-4)  # model=1: constant power
    got = ac_sample_share(net, data, plan, uncertainty=0.0, samples=1)
    assert got.feasible == 1 and got.converged == 1
    assert got.worst_low_voltage_pu == pytest.approx(min(mags.values()), abs=1e-6)
    assert got.worst_high_voltage_pu == pytest.approx(max(mags.values()), abs=1e-6)


@pytest.mark.parametrize("c1", [None, 1.0, 10.0])
def test_the_tied_set_point_is_the_one_nearest_one_pu(tmp_path, c1):
    """With constant-power loads (``model=1``) LinDist3Flow's demand and flows do not depend on
    the voltage level, so every grid-forming set-point that keeps the island within 0.9-1.1
    p.u. is optimal at any DER cost; the plan's is the one nearest 1.0 p.u., which is 1.0
    itself here: OpenDSS's own island at 1.0 p.u. (ISLAND, by hand) holds every node above
    0.95 p.u. (test above). Before, the rule's LP was infeasible (its value row allowed 1e-9 $
    above the first LP's optimum, less than covering the set-points' 1e-9 p.u. residue costs)
    and the first LP's vertex stood: 0.902 p.u. at the default cost, 1.0 at 10 $/kWh."""
    from feederopt.algorithms.partition import solve_robust
    from feederopt.formulations.partition import PartitionSettings
    from feederopt.io.opendss import read_opendss
    from feederopt.problems.partition import build_partition_data

    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(tie=OPEN_1))
    net = read_opendss(path)
    data = build_partition_data(net, PartitionSettings(grid_forming=("Generator.g1",),
                                                       default_c1=c1))
    (mg,) = solve_robust(data).microgrids
    assert mg.grid_forming == ["Generator.g1"]
    assert mg.v_set_pu == pytest.approx(1.0, abs=1e-9)
    assert mg.v_min_pu > 0.95 and mg.v_max_pu == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("short_w", [0.001, 0.1, 100.0])
def test_the_set_point_rule_holds_when_the_set_points_fall_short(tmp_path, short_w):
    """The same island with the plan written by hand: both blocks on, the tie closed, g1's
    per-phase set-points ``short_w`` watts below its loads' 200 kW + j66.7 kvar per phase (a
    solver's set-points meet the demand only within its tolerance: the MILP gave 199.99999934
    kW). The re-dispatch covers the shortfall at a negligible cost, every voltage level is
    still optimal, and the rule's set-point is 1.0 p.u. (the hand reference above). Before, the
    rule's LP, with the value row ``V <= V* (1 + 1e-9) + 1e-9``, was infeasible at the
    smaller shortfalls (the first LP takes the residue within its feasibility tolerance at
    ``V* = 0``, the second must pay for it) and the vertex stood: 0.902 p.u."""
    import numpy as np

    from feederopt.algorithms.partition import operating_point
    from feederopt.formulations.partition import PartitionSettings
    from feederopt.io.opendss import read_opendss
    from feederopt.problems.partition import PartitionPlan, build_partition_data

    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(tie=OPEN_1))
    data = build_partition_data(read_opendss(path),
                                PartitionSettings(grid_forming=("Generator.g1",)))
    lost = [b for b in range(data.n_blocks) if data.lost[b]]
    plan = PartitionPlan(energised=~np.isin(np.arange(data.n_blocks), lost),
                         closed=np.array([s == "tie" for s in data.switch_ids]),
                         grid_forming=np.ones(1, bool),
                         p_set=np.full(3, 0.2 - short_w * 1e-6), q_set=np.full(3, 0.2 / 3))
    w = operating_point(data, plan)["w"]
    assert np.sqrt(w[data.ph_node]) == pytest.approx(np.ones(3), abs=1e-9)

"""The partition's OpenDSS check dispatches each grid-following DER at the plan's per-phase
set-points (user test ut_part2: a plan with G2 at 72 / 21 / 182 kW on phases a / b / c was
checked with G2's 275 kW split equally, an operating point that is not the plan's).

The independent truth: OpenDSS's own solution of the islanded feeder written here by hand, the
grid-forming generator a voltage source at its bus and the grid-following unit three
single-phase negative loads (constant power) at the plan's per-phase powers.

The feeder: a lost substation behind switch ``swsub``; one block with a grid-forming
generator ``g1`` at ``a``, a line to ``c`` with unbalanced single-phase loads and the
grid-following generator ``g2``."""

from __future__ import annotations

import math

import numpy as np
import opendssdirect as dss
import pytest

from opendss_plain import plain_solution

FEEDER = """Clear
New Circuit.pp basekv=12.47 pu=1.0 phases=3 bus1=sourcebus MVAsc3=200000 MVAsc1=210000
New Line.swsub phases=3 bus1=sourcebus bus2=a switch=y r1=0.001 x1=0.001 r0=0.001 x0=0.001 c1=0 c0=0
New Line.l1 phases=3 bus1=a bus2=c r1=0.5 x1=1.0 r0=1.0 x0=2.0 c1=0 c0=0 length=3 units=km
New Load.ca phases=1 bus1=c.1 kv=7.2 kw=100 kvar=30 model=1 vminpu=0.7
New Load.cb phases=1 bus1=c.2 kv=7.2 kw=30 kvar=10 model=1 vminpu=0.7
New Load.cc phases=1 bus1=c.3 kv=7.2 kw=250 kvar=80 model=1 vminpu=0.7
New Generator.g1 phases=3 bus1=a kv=12.47 kw=600 kva=700 kvar=0
New Generator.g2 phases=3 bus1=c kv=12.47 kw=600 kva=700 kvar=0
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
#: the plan's per-phase set-points [kW] of the grid-following G2 (the user test's)
G2_KW = {"a": 72.0, "b": 21.0, "c": 182.0}
G1_KW = 30.0  # per phase (only the band check uses it)
BASE_V = 12470 / math.sqrt(3)


def _case(tmp_path, ramp: float):
    from feederopt.formulations.partition import PartitionSettings
    from feederopt.io.opendss import read_opendss
    from feederopt.problems.partition import build_partition_data

    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER)
    net = read_opendss(path)
    data = build_partition_data(net, PartitionSettings(grid_forming=("Generator.g1",),
                                                       ramp=ramp))
    return net, data, _plan(data, ("Generator.g1",))


#: G2 at its per-phase set-points, written by hand: three single-phase constant-power
#: injections (negative loads) at bus c.
G2_INJECTIONS = "".join(
    f"new Load.g2{ph} phases=1 bus1=c.{node} kv=7.2 kw={-kw} kvar=0 model=1 vminpu=0.1 "
    "vmaxpu=10\n" for node, (ph, kw) in enumerate(G2_KW.items(), start=1))


def _plan(data, forming: tuple[str, ...]):
    """The plan that energises Generator.g1's block with ``forming`` grid-forming, G2 at its
    per-phase set-points ``G2_KW`` and every other DER phase at ``G1_KW``."""
    from feederopt.problems.partition import PartitionPlan

    live = int(data.der_block[data.der_ids.index("Generator.g1")])
    p_set = np.zeros(len(data.ph_der))
    for k, d in enumerate(data.ph_der):
        phase = "abc"[int(data.pu.node_phase[data.ph_node[k]])]
        p_set[k] = (G2_KW[phase] if data.der_ids[d] == "Generator.g2" else G1_KW) / 1000
    return PartitionPlan(energised=np.arange(data.n_blocks) == live,
                         closed=np.zeros(data.n_switches, bool),
                         grid_forming=np.array([i in forming for i in data.der_ids]),
                         p_set=p_set, q_set=np.zeros(len(data.ph_der)))


def test_the_ac_check_is_opendss_at_the_plans_per_phase_set_points(tmp_path):
    from feederopt.validation.partition import AcIsland

    net, data, plan = _case(tmp_path, ramp=0.0)  # no re-dispatch: G2 stays at its set-points
    res = AcIsland(net, data, plan, v_set_pu=1.0).solve(np.ones(len(data.load_ids)))
    assert res.converged
    # OpenDSS's own island: G2 as three single-phase constant-power injections
    island = ("edit Line.swsub enabled=n\nedit Generator.g1 enabled=n\n"
              "edit Generator.g2 enabled=n\n"
              "new Vsource.gf bus1=a phases=3 basekv=12.47 pu=1.0 angle=0 MVAsc3=1e6 "
              "MVAsc1=1e6\n")
    island += G2_INJECTIONS
    _, volts, _ = plain_solution(FEEDER + island, tmp_path)
    dss.Circuit.SetActiveElement("Vsource.gf")
    source_kw = -np.asarray(dss.CktElement.Powers(), float)[0:6:2]
    truth = {f"{bus}.{'abc'[int(n) - 1]}": abs(v) / BASE_V for key, v in volts.items()
             for bus, n in [key.split(".")] if bus in ("a", "c") and n in ("1", "2", "3")}
    assert set(res.voltages_pu) == set(truth)
    for node, v in truth.items():
        assert res.voltages_pu[node] == pytest.approx(v, abs=1e-6), node
    # G2's total split equally (what the check did before) is another operating point
    balanced = island.replace("edit Generator.g2 enabled=n\n", "edit Generator.g2 "
                              f"kW={sum(G2_KW.values())} kvar=0 model=1\n")
    balanced = "\n".join(line for line in balanced.splitlines() if "Load.g2" not in line)
    _, other, _ = plain_solution(FEEDER + balanced + "\n", tmp_path)
    assert max(abs(abs(other[f"c.{n}"]) / BASE_V - truth[f"c.{'abc'[n - 1]}"])
               for n in (1, 2, 3)) > 2e-3
    for ph, kw in G2_KW.items():
        assert res.der_phase_kw[f"Generator.g2.{ph}"] == pytest.approx(kw, abs=1e-9)
    for i, ph in enumerate("abc"):  # the source supplies what the truth's source does
        assert res.der_phase_kw[f"Generator.g1.{ph}"] == pytest.approx(source_kw[i], abs=1e-3)
    assert res.der_kw is not None
    assert res.der_kw[data.der_ids.index("Generator.g2")] == pytest.approx(sum(G2_KW.values()))


def test_the_re_dispatch_shares_each_phases_imbalance_on_that_phase(tmp_path):
    """With a ramp band each phase's imbalance at the source is shared on that phase, in
    proportion to the DER phases' ramp limits (the model's recourse balances each phase and
    bounds each DER phase's re-dispatch by ``ramp * s_max`` of that phase), and the settled
    flow is OpenDSS's at the follower's reported per-phase outputs (active and, since the
    followers share the reactive imbalance too, reactive)."""
    from feederopt.validation.partition import AcIsland

    net, data, plan = _case(tmp_path, ramp=0.3)
    res = AcIsland(net, data, plan, v_set_pu=1.0).solve(np.ones(len(data.load_ids)))
    assert res.converged and res.within_bands
    for ph in "ab":  # equal ramps (equal ratings): equal shares
        gf = res.der_phase_kw[f"Generator.g1.{ph}"] - G1_KW
        fol = res.der_phase_kw[f"Generator.g2.{ph}"] - G2_KW[ph]
        assert fol == pytest.approx(gf, abs=1e-3)
    # phase c: G2's phase is capped at its per-phase p_max (600 kW / 3), the source takes
    # the rest on that phase
    assert res.der_phase_kw["Generator.g2.c"] == pytest.approx(200.0, abs=1e-6)
    assert res.der_phase_kw["Generator.g1.c"] - G1_KW > 200.0 - G2_KW["c"]
    island = ("edit Line.swsub enabled=n\nedit Generator.g1 enabled=n\n"
              "edit Generator.g2 enabled=n\n"
              "new Vsource.gf bus1=a phases=3 basekv=12.47 pu=1.0 angle=0 MVAsc3=1e6 "
              "MVAsc1=1e6\n")
    for node, ph in enumerate("abc", start=1):
        kw = res.der_phase_kw[f"Generator.g2.{ph}"]
        kvar = res.der_phase_kvar[f"Generator.g2.{ph}"]
        island += (f"new Load.g2{ph} phases=1 bus1=c.{node} kv=7.2 kw={-kw} kvar={-kvar} "
                   "model=1 vminpu=0.1 vmaxpu=10\n")
    _, volts, _ = plain_solution(FEEDER + island, tmp_path)
    for node, v in res.voltages_pu.items():
        bus, ph = node.split(".")
        assert v == pytest.approx(abs(volts[f"{bus}.{'abc'.index(ph) + 1}"]) / BASE_V,
                                  abs=1e-6), node


@pytest.mark.parametrize("with_follower", [True, False])
def test_the_microgrid_map_draws_grid_following_ders(tmp_path, with_follower):
    """microgrids.png drew only the grid-forming DERs; the grid-following ones of energised
    blocks are triangles at their bus (g2 at ``c`` in the file above), with a legend entry
    only when there is one."""
    from feederopt.io.opendss import read_opendss
    from feederopt.report.partition import BUS_GID, microgrid_figure

    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER)
    net = read_opendss(path)
    points = {"Generator.g1": 90.0, **({"Generator.g2": 275.0} if with_follower else {})}
    doc = {"case": "pp", "closed_switches": [], "energised_blocks": 1,
           "blocks": [{"index": 0, "buses": ["sourcebus"], "energised": False,
                       "component": -1, "grid_forming": [], "der_set_points_kw": {}},
                      {"index": 1, "buses": ["a", "c"], "energised": True, "component": 0,
                       "grid_forming": ["Generator.g1"], "der_set_points_kw": points}]}
    ax = microgrid_figure(net, doc).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "grid-forming DER" in labels
    assert ("grid-following DER" in labels) is with_follower
    (buses,) = [c for c in ax.collections if c.get_gid() == BUS_GID]
    ids = [str(b) for b in net.buses["id"].to_list()]
    pos = dict(zip(ids, np.asarray(buses.get_offsets(), float).tolist(), strict=True))
    drawn = [c for c in ax.collections if c.get_label() == "grid-following DER"]
    if with_follower:
        (tri,) = drawn
        assert np.asarray(tri.get_offsets(), float).tolist() == [pos["c"]]
    else:
        assert not drawn


def test_a_component_with_two_grid_forming_ders_keeps_both_as_sources_only(tmp_path):
    """With ``k_der = 2`` a microgrid has two grid-forming DERs: each is its voltage source
    and nothing else (each used to be dispatched as a grid-following unit of the other's
    source too, its own element at its set-point beside its source); the followers' per-phase
    set-points as above. Truth: OpenDSS's own island with two sources and G2's phases as
    negative constant-power loads."""
    from feederopt.formulations.partition import PartitionSettings
    from feederopt.io.opendss import read_opendss
    from feederopt.problems.partition import build_partition_data
    from feederopt.validation.partition import AcIsland

    feeder = FEEDER.replace("Set VoltageBases", "New Line.l2 phases=3 bus1=c bus2=e r1=0.5 "
                            "x1=1.0 r0=1.0 x0=2.0 c1=0 c0=0 length=2 units=km\n"
                            "New Load.e phases=3 bus1=e kv=12.47 kw=150 kvar=50 model=1 "
                            "vminpu=0.7\n"
                            "New Generator.g3 phases=3 bus1=e kv=12.47 kw=300 kva=360 kvar=0\n"
                            "Set VoltageBases")
    path = tmp_path / "feeder.dss"
    path.write_text(feeder)
    net = read_opendss(path)
    data = build_partition_data(net, PartitionSettings(
        grid_forming=("Generator.g1", "Generator.g3"), k_der=2, ramp=0.0))
    plan = _plan(data, ("Generator.g1", "Generator.g3"))
    res = AcIsland(net, data, plan, v_set_pu=1.0).solve(np.ones(len(data.load_ids)))
    assert res.converged
    island = ("edit Line.swsub enabled=n\nedit Generator.g1 enabled=n\n"
              "edit Generator.g2 enabled=n\nedit Generator.g3 enabled=n\n"
              "new Vsource.s1 bus1=a phases=3 basekv=12.47 pu=1.0 angle=0 MVAsc3=1e6 "
              "MVAsc1=1e6\n"
              "new Vsource.s3 bus1=e phases=3 basekv=12.47 pu=1.0 angle=0 MVAsc3=1e6 "
              "MVAsc1=1e6\n")
    island += G2_INJECTIONS
    _, volts, _ = plain_solution(feeder + island, tmp_path)
    for src, der in (("s1", "g1"), ("s3", "g3")):
        dss.Circuit.SetActiveElement(f"Vsource.{src}")
        kw = -np.asarray(dss.CktElement.Powers(), float)[0:6:2]
        for i, ph in enumerate("abc"):
            assert res.der_phase_kw[f"Generator.{der}.{ph}"] == pytest.approx(kw[i], abs=1e-3)
    for node, v in res.voltages_pu.items():
        bus, ph = node.split(".")
        assert v == pytest.approx(abs(volts[f"{bus}.{'abc'.index(ph) + 1}"]) / BASE_V,
                                  abs=1e-6), node

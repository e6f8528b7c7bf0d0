"""A block with no load weighs 0 (user test ut32_part #1): the seed's ``alpha_l = 10 + 0.01
|D_l|`` (1000 $ each) charged a block with nothing on it 10,000 $ of "load shed" when it was
not energised, so adding a spare bus behind a switch raised the load-shed cost of the same plan
from 10,010 to 20,010 $.

The independent truth is a hand value: the feeder below (the user's ``own.dss``) loses its
substation; blocks A (b1-b3, GA grid-forming), B (b4-b5, GB following), C (b6-b7, GC
grid-forming), D (b8-b9, no DER; its only path is S3 from C or the open S4 to A).
Per phase the DERs give at most GA 80, GB 30, GC 60 kW (p_max / 3). The loads per phase
(a, b, c) are A 90/50/50, B 0/25/20, C 75/30/30, D 30/0/0 kW. With ``k_der = 1`` one
microgrid holds one grid-forming DER, so A and C are never in one microgrid; A+B+C+D needs
phase a 195 > 170 kW, and every plan serving D as well as A, B, C would need two grid-formers
in one component. So the best plan serves A, B, C (S1, S2 closed, D shed: 1000 x (10 + 0.01)
= 10,010 $), dispatched at least cost per phase: phase a 165 kW = GA 80 + GB 30 + GC 55,
phase b 105 = GA 80 + GB 25, phase c 100 = GA 80 + GB 20, so GA 240 kW x 10 + GB 75 x 12 +
GC 55 x 14 = 4,070 $; total 14,080 $. The spare bus ``bxx`` behind ``S5`` holds nothing: its
weight is 0, the objective the same, and S5 stays open (D, its only neighbour, is shed).
"""

from __future__ import annotations

import json

import pytest

OWN = """Clear
New Circuit.own basekv=4.16 pu=1.0 phases=3 bus1=sourcebus MVAsc3=20000 MVAsc1=21000
New Linecode.lc3 nphases=3 units=ft
~ rmatrix=[0.0000656 | 0.0000295 0.0000639 | 0.0000299 0.0000291 0.0000647]
~ xmatrix=[0.000193 | 0.0000950 0.000198 | 0.0000802 0.0000729 0.000196]
New Line.SW0 phases=3 bus1=sourcebus bus2=b1 switch=y
New Line.LA1 phases=3 bus1=b1 bus2=b2 linecode=lc3 length=500 units=ft
New Line.LA2 phases=3 bus1=b2 bus2=b3 linecode=lc3 length=500 units=ft
New Line.S1 phases=3 bus1=b3 bus2=b4 switch=y
New Line.LB1 phases=3 bus1=b4 bus2=b5 linecode=lc3 length=400 units=ft
New Line.S2 phases=3 bus1=b5 bus2=b6 switch=y
New Line.LC1 phases=3 bus1=b6 bus2=b7 linecode=lc3 length=400 units=ft
New Line.S3 phases=3 bus1=b7 bus2=b8 switch=y
New Line.LD1 phases=3 bus1=b8 bus2=b9 linecode=lc3 length=300 units=ft
New Line.S4 phases=3 bus1=b9 bus2=b1 switch=y
Edit Line.S4 enabled=n
{extra}New Load.LA1 bus1=b2 phases=3 conn=wye model=1 kV=4.16 kW=150 kvar=45
New Load.LA2 bus1=b3.1 phases=1 conn=wye model=1 kV=2.4018 kW=40 kvar=10
New Load.LB1 bus1=b5.2 phases=1 conn=wye model=1 kV=2.4018 kW=25 kvar=5
New Load.LB2 bus1=b4.3 phases=1 conn=wye model=1 kV=2.4018 kW=20 kvar=5
New Load.LC1 bus1=b7 phases=3 conn=wye model=1 kV=4.16 kW=90 kvar=30
New Load.LC2 bus1=b6.1 phases=1 conn=wye model=1 kV=2.4018 kW=45 kvar=10
New Load.LD1 bus1=b9.1 phases=1 conn=wye model=1 kV=2.4018 kW=30 kvar=5
New Generator.GA bus1=b2 phases=3 kV=4.16 kW=240 kVA=300 pf=1 model=1
New Generator.GB bus1=b4 phases=3 kV=4.16 kW=90 kVA=120 pf=1 model=1
New Generator.GC bus1=b7 phases=3 kV=4.16 kW=180 kVA=225 pf=1 model=1
Set VoltageBases=[4.16]
CalcVoltageBases
Solve
"""
SPARE = "New Line.S5 phases=3 bus1=b9 bus2=bxx switch=y\n"
SETTINGS = {"dss": {"Generator.GA": {"inverter": "GRID_FORMING", "cost": [10, 0]},
                    "Generator.GB": {"inverter": "GRID_FOLLOWING", "cost": [12, 0]},
                    "Generator.GC": {"inverter": "GRID_FORMING", "cost": [14, 0]}},
            "partition": {"k_der": 1}}
#: the hand values of the module docstring
SHED = 1000 * (10 + 0.01 * 1)
GEN = 240 * 10 + 75 * 12 + 55 * 14


def _run(tmp_path, name: str, extra: str):
    from feederopt.api_partition import partition

    dss = tmp_path / f"{name}.dss"
    dss.write_text(OWN.format(extra=extra))
    st = tmp_path / "settings.json"
    st.write_text(json.dumps(SETTINGS))
    return partition(str(dss), settings=st, voltage_feedback=False, time_limit_s=120)


def test_empty_block_costs_nothing_and_stays_open(tmp_path):
    own = _run(tmp_path, "own", "")
    spare = _run(tmp_path, "unkbus", SPARE)
    for r in (own, spare):
        assert r.load_shed_cost == pytest.approx(SHED, abs=1e-6)
        assert r.objective == pytest.approx(SHED + GEN, abs=0.01)
        assert sorted(s.lower() for s in r.closed_switches) == ["s1", "s2"]
    assert spare.objective == pytest.approx(own.objective, abs=0.01)
    spare_block = [b for b in spare.blocks if b.buses == ["bxx"]]
    assert len(spare_block) == 1 and not spare_block[0].energised
    assert "s5" not in {s.lower() for s in spare.closed_switches}
    # the other blocks in the same states
    assert ([b.energised for b in spare.blocks if b.buses != ["bxx"]]
            == [b.energised for b in own.blocks])


def test_empty_leaf_block_is_left_off_ieee13mod():
    """On ``ieee13mod`` at 0 % the block 800aux/800 holds no load and no DER and is reached
    from 801 (its own grid-forming battery) by switch 800801 only: energised or not, the
    objective is the same (the tie: a plan that must close 800801, solved on its own, costs
    as much), and the tie-break leaves it off with 800801 open (it was closed before; the
    cutting plane and the extensive form returned different plans)."""
    from dataclasses import replace

    from feederopt.algorithms.partition import solve_extensive, solve_robust
    from feederopt.api_partition import _network_and_settings
    from feederopt.problems.partition import build_partition_data

    net, st, _, _ = _network_and_settings("ieee13mod", None, None, None, None, [])
    data = build_partition_data(net, st)
    free = solve_robust(data)
    forced = solve_robust(build_partition_data(net, replace(st, fixed_closed=("800801",))))
    assert "800801" in forced.closed_switches
    assert free.objective == pytest.approx(forced.objective, rel=1e-7)
    assert "800801" not in free.closed_switches
    ext = solve_extensive(data)
    assert ext.closed_switches == free.closed_switches
    block = [b for b in free.blocks if "800" in b.buses]
    assert len(block) == 1 and not block[0].energised and block[0].load_kw == 0.0

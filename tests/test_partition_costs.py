"""``feederopt partition`` and the DERs' cost (user test ut34, finding 3): with the former
default ``c1 = 10`` $/kWh a block above about 1 MW cost more to serve than its weight
(``1000 x (10 + 0.01 |D_l|)`` $) and was shed, status optimal, with no word why.

The feeder below: a lost substation ``src``; block A (``a1``, ``a2``: 1,500 kW, grid-forming
GA 2,000 kW) and block B (``b1``, ``b2``: 900 kW, grid-forming GB 500 kW), switch ``sab``
between them; balanced constant-power loads on short lines. The independent truth is an
enumeration of its plans with a lossless capacity test (``brute_force``): A alone is
feasible (1,500 <= 2,000 kW), B alone is not (900 > 500), A and B joined by ``sab`` are
(2,400 <= 2,500 kW, one grid-former and one follower: k_der = 1). So the most load served is
A and B, 2,400 kW; an OpenDSS power flow of that microgrid (GA a source at the plan's
set-point, GB at its set-point) confirms it within the voltage limits. With every DER at
10 $/kWh serving A alone costs 1,500 x 10 = 15,000 $ (lossless, nominal load: the
generation is the load) against its weight 10,010 $, and A and B 24,000 $ against 20,020 $:
the optimum sheds both, and the note must say that A could run alone and why it is dark.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

LOADS = {"la": ("a2", 1500.0), "lb": ("b2", 900.0)}
DERS = {"ga": ("a1", 2000.0, 2400.0), "gb": ("b1", 500.0, 700.0)}  # bus, kW, kVA
FEEDER = """Clear
New Circuit.costs basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200 MVAsc1=180
New Linecode.lc nphases=3 r1=0.1 x1=0.2 r0=0.3 x0=0.6 units=mi normamps=600
New Line.feed bus1=src bus2=a0 linecode=lc length=0.1 units=mi
New Line.swsub bus1=a0 bus2=a1 switch=y
New Line.la bus1=a1 bus2=a2 linecode=lc length=0.1 units=mi
New Line.sab bus1=a2 bus2=b1 switch=y
New Line.lb bus1=b1 bus2=b2 linecode=lc length=0.1 units=mi
New Load.la bus1=a2 phases=3 conn=wye kv=12.47 kw=1500 pf=0.95 model=1 vminpu=0.7
New Load.lb bus1=b2 phases=3 conn=wye kv=12.47 kw=900 pf=0.95 model=1 vminpu=0.7
New Generator.ga bus1=a1 phases=3 kv=12.47 kw=2000 kva=2400 pf=1 model=1
New Generator.gb bus1=b1 phases=3 kv=12.47 kw=500 kva=700 pf=1 model=1
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
BLOCK = {"a1": "A", "a2": "A", "b1": "B", "b2": "B"}
GRID_FORMING = {"dss": {"Generator.ga": {"inverter": "grid_forming"},
                        "Generator.gb": {"inverter": "grid_forming"}}}
PRICED = {"dss": {f"Generator.{g}": {"inverter": "grid_forming", "cost": [10, 0]}
                  for g in DERS}}
WEIGHT = 1000 * (10 + 0.01 * 1)  # one load per block


def brute_force() -> tuple[set[str], float]:
    """The most load any plan serves: every block state and state of ``sab``; an energised
    component needs a grid-forming DER (both are) and DER capacity for its load (lossless,
    constant power). Returns the served blocks and kW."""
    load = {"A": 1500.0, "B": 900.0}
    cap = {"A": 2000.0, "B": 500.0}
    best: tuple[set[str], float] = (set(), 0.0)
    for on_a, on_b, closed in itertools.product((0, 1), repeat=3):
        on = {b for b, x in (("A", on_a), ("B", on_b)) if x}
        comps = [on] if closed and on == {"A", "B"} else [{b} for b in on]
        if closed and on != {"A", "B"}:
            continue  # a closed switch joins blocks of the same state
        if all(sum(cap[b] for b in c) >= sum(load[b] for b in c) for c in comps):
            kw = sum(load[b] for b in on)
            if kw > best[1]:
                best = (on, kw)
    return best


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("costs")
    (d / "costs.dss").write_text(FEEDER)
    (d / "gf.json").write_text(json.dumps(GRID_FORMING))
    (d / "priced.json").write_text(json.dumps(PRICED))
    return d


def _run(folder, settings: str):
    from feederopt.api_partition import partition

    return partition(str(folder / "costs.dss"), settings=str(folder / settings),
                     time_limit_s=60)


def _served_blocks(res) -> set[str]:
    return {BLOCK[b] for blk in res.blocks if blk.energised for b in blk.buses if b in BLOCK}


def _opendss_microgrid(folder, res) -> tuple[float, float]:
    """OpenDSS's power flow of ``res``'s plan: switches as planned, the grid-forming DER a
    voltage source at its set-point, the other at its set-points. The lowest and highest
    node voltage of the energised buses [p.u.]."""
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{folder / "costs.dss"}"')
    for sw in ("swsub", "sab"):
        dss.Text.Command(f"{'close' if sw in res.closed_switches else 'open'} Line.{sw} 1")
    dss.Text.Command("edit Vsource.source enabled=n")
    v_set = {g: mg.v_set_pu for mg in res.microgrids for g in mg.grid_forming}
    for der in (f"Generator.{g}" for g in DERS):
        name = der.split(".")[1]
        if der in v_set:
            dss.Text.Command(f"edit Generator.{name} enabled=n")
            dss.Text.Command(f"new Vsource.gf_{name} bus1={DERS[name][0]} phases=3 "
                             f"basekv=12.47 pu={v_set[der]} MVAsc3=1e6 MVAsc1=1e6")
        else:
            kw = sum(r["p_kw"] for r in res.der_phases if r["der"] == der)
            kvar = sum(r["q_kvar"] for r in res.der_phases if r["der"] == der)
            dss.Text.Command(f"edit Generator.{name} kW={kw} kvar={kvar}")
    dss.Text.Command("Set ControlMode=OFF")
    dss.Solution.Solve()
    assert dss.Solution.Converged()
    live = {b for b, k in BLOCK.items() if k in _served_blocks(res)}
    mags = [m for n, m in zip(dss.Circuit.AllNodeNames(), dss.Circuit.AllBusMagPu(),
                              strict=True) if n.split(".")[0] in live]
    return min(mags), max(mags)


def test_default_costs_serve_the_most_load(folder):
    """No cost in the settings: the plan serves what the enumeration serves (A and B, 2,400
    kW; before: nothing, 'optimal'), and OpenDSS finds that microgrid within 0.9-1.1 p.u."""
    blocks, kw = brute_force()
    assert blocks == {"A", "B"} and kw == 2400.0
    res = _run(folder, "gf.json")
    assert res.status == "optimal" and res.violations == []
    assert _served_blocks(res) == blocks
    assert res.served_load_kw == pytest.approx(kw)
    assert res.load_shed_cost == pytest.approx(0.0, abs=1e-6)
    lo, hi = _opendss_microgrid(folder, res)
    assert 0.9 <= lo <= hi <= 1.1
    # every DER costs the feeder's default, and the whole fleet at full output with its
    # largest re-dispatch costs less than one block: K = 2000 + 500 + 1.001 x 0.3 x (2400 +
    # 700) = 3,430.93 kW, c1 = 0.5 x 10,010 / K = 1.459 rounded down to one digit: 1 $/kWh,
    # and c1 K < 10,010 $ (the bound of default_der_cost, by hand)
    assert {r["der"] for r in res.der_phases} == {"Generator.ga", "Generator.gb"}
    k_kw = 2000 + 500 + 1.001 * 0.3 * (2400 + 700)
    gen_kw = sum(r["p_kw"] for r in res.der_phases)
    c1_used = res.generation_cost / gen_kw
    assert c1_used == pytest.approx(1.0)
    assert 0 < c1_used * k_kw < WEIGHT / 2
    assert not any("left dark" in n for n in res.notes)


def test_costs_that_shed_a_block_it_could_carry_say_so(folder):
    """Every DER at 10 $/kWh (the former default, now given in the settings): the optimum
    sheds both blocks (A alone 15,000 $ > 10,010 $; A and B 24,000 $ > 20,020 $, by hand),
    and a note names block A, which GA carries alone, with its cost and weight, the costs
    in use and the setting that changes them; none names B (it cannot run alone)."""
    res = _run(folder, "priced.json")
    assert res.status == "optimal" and _served_blocks(res) == set()
    assert res.load_shed_cost == pytest.approx(2 * WEIGHT)
    a = next(blk.index for blk in res.blocks if "a1" in blk.buses)
    b = next(blk.index for blk in res.blocks if "b1" in blk.buses)
    dark = [n for n in res.notes if "left dark" in n]
    assert len(dark) == 1, res.notes
    note = dark[0]
    assert note.startswith(f"block {a} (1,500.0 kW)") and f"block {b} " not in note
    assert "15,000.00 $" in note and "10,010.00 $" in note
    assert "Generator.ga c1 10 $/kWh" in note and "dss cost [c1, c0]" in note


def test_cli_prints_the_note_and_documents_the_default(folder):
    res = CliRunner().invoke(app, ["partition", str(folder / "costs.dss"), "--settings",
                                   str(folder / "priced.json"), "--no-voltage-feedback"])
    assert res.exit_code == 0, res.output
    assert "left dark although it can run as a microgrid of its own" in " ".join(
        res.output.split())
    help_text = " ".join(CliRunner().invoke(app, ["partition", "--help"]).output.split())
    assert "the feeder's own DER cost: c1 = half the lightest block's weight" in help_text


def test_default_cost_bound_holds_for_random_fleets():
    """default_der_cost against its bound by hand: for random fleets and weights the whole
    fleet's generation and re-dispatch at that cost stays within half the lightest weight,
    and the cost is not below a tenth of that limit (one significant digit kept)."""
    from feederopt.formulations.partition import REDISPATCH_PREMIUM, default_der_cost

    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 8))
        p = rng.uniform(0, 5000, n)
        s = p * rng.uniform(1.0, 1.3, n)
        w = 1000 * (10 + 0.01 * rng.integers(0, 30, 5))
        ramp = float(rng.uniform(0, 1))
        c1 = default_der_cost(w, p, s, ramp)
        k = float(np.sum(p + REDISPATCH_PREMIUM * np.minimum(ramp * s, p)))
        limit = 0.5 * float(w[w > 0].min()) / k
        assert 0.1 * limit < c1 <= limit

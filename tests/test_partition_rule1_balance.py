"""Tie-break rule 1 on the tester's three-microgrid feeder (user test ut38_tph finding 3,
``tests/data/partition_tph``): the deterministic plan's set-points balance the nominal load
of the served blocks, in P and in Q (``docs/partition-tiebreak.md``).

The feeder loses its substation (``subsw`` open); Generator.ga (b1), Generator.ge (b5) and
Storage.sd (b4, phase c) may form a grid, PVSystem.pv3 (b3) only follows. The plan (the
CLI's, ``feederopt partition tph.dss --settings settings.json``) closes s15 and serves
blocks b1 + b5 (microgrid of ga and ge) and b4 (Storage.sd alone). Independent truth by hand,
the loads' nominal values (constant-power loads, ``model=1``; LinDist3Flow is lossless):

* microgrid {b1, b5}: l1 + l5 = 200 + 250 = 450 kW and 60 + 80 = 140 kvar;
* microgrid {b4}: l4 = 120 kW and 40 kvar.

and OpenDSS: each island on its own, the grid-forming DER a stiff source at its reported
voltage set-point and the followers constant-power injections at their set-points, gives a
source output equal to the grid-forming DER's set-point plus the island's losses.

Before the fix Clarabel stopped the rule-1 QP at ``AlmostSolved`` (rows met within 5.2e-9,
duality gap 9.5e-7 against a tolerance of 1e-7), the point was thrown away, and the fallback
published q = 0 for every DER (180 kvar of load) and 119.93 kW on Storage.sd for its
120 kW load. The de-energised PVSystem.pv3 was also written as ``-0.0``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from feederopt import partition
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.least_squares import StageOutcome

DATA = Path(__file__).parent / "data" / "partition_tph"
KW = 1e-3  # [kW] the QP's accuracy (1e-7 p.u. per row on a 1 MVA base is 1e-4 kW)
#: the served loads by hand (see the module docstring), by grid-forming DER
HAND = {"Generator.ga": (450.0, 140.0), "Storage.sd": (120.0, 40.0)}


def _run(**kw: object):  # type: ignore[no-untyped-def]
    return partition(str(DATA / "tph.dss"), settings=DATA / "settings.json",
                     voltage_feedback=False, time_limit_s=60, **kw)


def _island_sums(res) -> dict[str, tuple[float, float]]:  # type: ignore[no-untyped-def]
    """The set-points' sum (kW, kvar) of each microgrid, by its grid-forming DER."""
    out = {}
    for mg in res.microgrids:
        ders = {d for b in res.blocks if b.index in mg.blocks for d in b.der_set_points_kw}
        rows = [r for r in res.der_phases if r["der"] in ders]
        out[mg.grid_forming[0]] = (sum(r["p_kw"] for r in rows), sum(r["q_kvar"] for r in rows))
    return out


@pytest.mark.parametrize("method", ["cutting_plane", "extensive"])
def test_set_points_balance_the_served_load(method: str) -> None:
    res = _run(method=method)
    assert res.status == "optimal"
    assert res.closed_switches == ["s15"]
    assert res.served_load_kw == pytest.approx(570.0)
    sums = _island_sums(res)
    assert set(sums) == set(HAND)
    for gf, (p, q) in HAND.items():
        assert sums[gf][0] == pytest.approx(p, abs=KW), gf  # Storage.sd was 119.93
        assert sums[gf][1] == pytest.approx(q, abs=KW), gf  # was 0 and 0
    assert res.redispatch_cost < 1e-3
    assert not any("rule 1" in n or "balance" in n for n in res.notes), res.notes


def test_set_points_balance_in_an_opendss_power_flow_of_each_island(tmp_path: Path) -> None:
    import opendssdirect as dss

    res = _run()
    text = (DATA / "tph.dss").read_text()
    lines = {ln.split()[1].split(".", 1)[1].lower(): ln for ln in text.splitlines()
             if ln.startswith("New ")}
    islands = {"Generator.ga": ("b1", ["s15"], ["l1", "l5"]),
               "Storage.sd": ("b4", [], ["l4"])}
    for mg in res.microgrids:
        (gf,) = mg.grid_forming
        bus, branches, loads = islands[gf]
        ders = {d for b in res.blocks if b.index in mg.blocks for d in b.der_set_points_kw}
        rows = [r for r in res.der_phases if r["der"] in ders]
        script = [f"New Circuit.isl basekv=12.47 pu={mg.v_set_pu!r} phases=3 bus1={bus} "
                  "MVAsc3=1e7 MVAsc1=1e7", lines["lc3"]]
        script += [lines[b].replace(" switch=yes", "") for b in branches]
        script += [lines[ld] for ld in loads]
        for i, r in enumerate(x for x in rows if x["der"] != gf):  # followers: injections
            script.append(f"New Load.fol{i} phases=1 bus1={r['bus']}.{'abc'.index(r['phase']) + 1}"
                          f" kv=7.2 kw={-r['p_kw']!r} kvar={-r['q_kvar']!r} model=1 "
                          "vminpu=0.5 vmaxpu=1.5")
        script += ["Set voltagebases=[12.47]", "Calcv", "Solve"]
        path = tmp_path / f"{bus}.dss"
        path.write_text("Clear\n" + "\n".join(script) + "\n")
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{path}"')
        assert dss.Solution.Converged()
        dss.Circuit.SetActiveElement("Vsource.source")
        src = -np.asarray(dss.CktElement.Powers(), float)
        p_src, q_src = float(src[0:6:2].sum()), float(src[1:6:2].sum())
        loss_p, loss_q = (float(v) / 1000 for v in dss.Circuit.Losses())
        own = [r for r in rows if r["der"] == gf]
        p_gf, q_gf = sum(r["p_kw"] for r in own), sum(r["q_kvar"] for r in own)
        assert p_src - loss_p == pytest.approx(p_gf, abs=0.01), gf
        assert q_src - loss_q == pytest.approx(q_gf, abs=0.01), gf


def test_de_energised_set_points_are_written_as_plus_zero(tmp_path: Path) -> None:
    res = _run()
    pv = [r for r in res.der_phases if r["der"] == "PVSystem.pv3"]
    assert len(pv) == 3
    for r in pv:
        assert r["p_kw"] == 0.0 and math.copysign(1.0, r["p_kw"]) == 1.0
        assert r["q_kvar"] == 0.0 and math.copysign(1.0, r["q_kvar"]) == 1.0
    assert "-0.0" not in json.dumps(res.to_dict()["der_phases"])


def test_unbalanced_set_points_are_said(monkeypatch: pytest.MonkeyPatch) -> None:
    """When rule 1 cannot be applied the fallback's set-points need not balance the load
    (here: the least-norm point without it puts q = 0 on every DER); the result says by how
    much, per microgrid, against the hand sums."""
    real = HighsModel.least_squares_stage

    def failing(self, fixed, objective_max, groups, **kw):  # type: ignore[no-untyped-def]
        if any(g.startswith("e0.op_") for g in fixed):
            return StageOutcome(None, "NumericalError", "Clarabel status NumericalError")
        return real(self, fixed, objective_max, groups, **kw)

    monkeypatch.setattr(HighsModel, "least_squares_stage", failing)
    res = _run()
    sums = _island_sums(res)
    said = [n for n in res.notes if "do not balance" in n]
    assert len(said) == 1, res.notes
    for gf, (_, q) in HAND.items():
        short = q - sums[gf][1]
        assert short > 1.0  # the fallback leaves the reactive load to re-dispatch
        assert f"{short:.2f} kvar" in said[0], (gf, said[0])

"""The per-scenario OpenDSS check of a load that the reader re-rated (user test ut45 dssday #1).

A 1-phase load with its kV written line to line (``kV=12.47`` on a 7.2 kV node) is re-rated
at its bus's voltage by OpenDSS's law (:mod:`feederopt.io.opendss_rated_kv`), and its daily
scenario rows hold that re-rated draw. The scenario check wrote the row into OpenDSS as the
load's ``kW``, and OpenDSS, whose load still has ``kV=12.47``, applied its law a second time:
on ``MINI1`` 27.19 kW of losses and V min 0.9497 at 02:00 where OpenDSS's daily mode gives
29.06 kW and 0.9599 (a ``--v-min 0.955`` day called infeasible), and on ``MINI2`` the
topology with 70 % more losses kept (4.16 kW reported for OpenDSS's 22.82 kW). A ZIP load
whose weights do not sum to 1 has a share too (``Zp + Ip + Pp``), and had the same flaw.

Truth: OpenDSS's own daily mode (opendssdirect, no feederopt code) at each switch state, each
solution hour's losses and lowest node voltage; the answer on ``MINI2`` must be its state of
least losses, found by enumerating both radial states.
"""

from __future__ import annotations

from pathlib import Path

import opendssdirect as dss
import pytest

from feederopt.api_threephase import daily_scenarios, solve_three_phase

#: one radial state (sw1 and tie open); a 2-point shape, 0.5 then 1.0
MINI1 = """Clear
New circuit.mini1 basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200000 MVAsc1=210000
New LoadShape.day npts=2 interval=1 mult=(0.5 1.0)
New Line.l1 bus1=src bus2=a phases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 units=km length=3
New Line.l2 bus1=a bus2=b phases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 units=km length=3
New Line.l3 bus1=src bus2=c phases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 units=km length=4
New Line.sw1 bus1=a bus2=c phases=3 switch=yes
New Line.tie bus1=b bus2=c phases=3 switch=yes
Open Line.tie term=1
New Load.ll bus1=b.1 phases=1 kV=12.47 kW=900 kvar=300 model=1 daily=day
New Load.ok bus1=b.2 phases=1 kV=7.2 kW=600 kvar=200 model=1 daily=day
New Load.ok3 bus1=c phases=3 kV=12.47 kW=900 kvar=300 model=1 daily=day
Set voltagebases=[12.47]
calcv
Solve
"""
#: ``MINI1`` with a ZIP load whose weights sum to 0.8 in place of Load.ll: OpenDSS draws 0.8
#: of its kW at 1 p.u. (it does not normalise ZIPV), which the reader's share holds as well
MINI1_ZIP = MINI1.replace(
    "New Load.ll bus1=b.1 phases=1 kV=12.47 kW=900 kvar=300 model=1 daily=day",
    "New Load.ll bus1=b.1 phases=1 kV=7.2 kW=900 kvar=300 model=8 "
    "ZIPV=[0.3 0.3 0.2 0.3 0.3 0.2 0] daily=day")
#: two radial states (s1 or s2 open; s1 in the file); a flat shape
MINI2 = """Clear
New circuit.mini2 basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200000 MVAsc1=210000
New LoadShape.flat npts=2 interval=1 mult=(1.0 1.0)
New Line.s1 bus1=src bus2=b phases=3 switch=yes
New Line.s2 bus1=src bus2=d phases=3 switch=yes
New Line.lb bus1=b bus2=b2 phases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 units=km length=1
New Line.ld bus1=d bus2=d2 phases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 units=km length=1
New Line.long bus1=b2 bus2=d2 phases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 units=km length=10
Open Line.s1 term=1
New Load.ll bus1=b2.1 phases=1 kV=12.47 kW=1500 kvar=300 model=1 daily=flat
New Load.p2 bus1=d2.1 phases=1 kV=7.2 kW=300 kvar=60 model=1 daily=flat
Set voltagebases=[12.47]
calcv
Solve
"""


def _daily(path: Path, switches: list[str], open_: set[str]) -> list[tuple[float, float]]:
    """OpenDSS's daily mode at the switch state ``open_``, controls off: per solution hour
    (01:00, 02:00) the losses [kW] and the lowest energised node voltage [p.u.]."""
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{path}"')
    for s in switches:
        dss.Text.Command(f"{'Open' if s in open_ else 'Close'} Line.{s} term=1")
    dss.Text.Command("set ControlMode=OFF")
    dss.Text.Command("set tolerance=1e-9")
    dss.Text.Command("set mode=daily stepsize=1h number=1 hour=0 sec=0")
    out = []
    for _ in range(2):
        dss.Solution.Solve()
        assert dss.Solution.Converged()
        out.append((dss.Circuit.Losses()[0] / 1000.0,
                    min(v for v in dss.Circuit.AllBusMagPu() if v > 0.1)))
    return out


def _per_scenario(result: dict) -> list[tuple[float, float]]:
    rows = sorted(result["scenarios"]["per_scenario"], key=lambda r: r["scenario"])
    assert [r["scenario"] for r in rows] == ["01:00", "02:00"]
    return [(r["opendss_losses_kw"], r["opendss_min_voltage_pu"]) for r in rows]


@pytest.mark.parametrize("script", [MINI1, MINI1_ZIP], ids=["rated_kv", "zip_sum"])
def test_scenario_check_draws_what_the_daily_mode_draws(tmp_path: Path, script: str) -> None:
    path = tmp_path / "mini1.dss"
    path.write_text(script)
    table, _ = daily_scenarios(path)
    result = solve_three_phase(path, scenarios=table, time_limit_s=60).to_dict()
    assert set(result["open_switches"]) == {"sw1", "tie"}  # the only radial state
    truth = _daily(path, ["sw1", "tie"], {"sw1", "tie"})
    for (loss, vmin), (loss_t, vmin_t) in zip(_per_scenario(result), truth, strict=True):
        assert loss == pytest.approx(loss_t, rel=1e-3)
        assert vmin == pytest.approx(vmin_t, abs=2e-4)
    if script is not MINI1:
        return
    # 02:00 is the snapshot, at 0.9599 p.u. in OpenDSS: a v_min of 0.955 holds all day
    assert truth[1][1] > 0.955 + 1e-3
    held = solve_three_phase(path, scenarios=table, time_limit_s=60, v_min_pu=0.955)
    assert held.to_dict()["status"] != "infeasible"


def test_scenario_solve_keeps_opendss_least_loss_state(tmp_path: Path) -> None:
    path = tmp_path / "mini2.dss"
    path.write_text(MINI2)
    switches = ["s1", "s2"]
    truth = {s: _daily(path, switches, {s}) for s in switches}
    best = min(switches, key=lambda s: sum(loss for loss, _ in truth[s]))
    assert best == "s2"  # 13.42 kW against 22.82 kW with s1 open
    table, _ = daily_scenarios(path)
    result = solve_three_phase(path, scenarios=table, time_limit_s=60).to_dict()
    assert result["open_switches"] == [best]
    for (loss, vmin), (loss_t, vmin_t) in zip(_per_scenario(result), truth[best],
                                              strict=True):
        assert loss == pytest.approx(loss_t, rel=1e-3)
        assert vmin == pytest.approx(vmin_t, abs=2e-4)


#: the partition's sample check (validation.partition.AcIsland): a grid-forming generator at
#: b1 after the substation's switch, and the re-rated Load.ll among the uncertain loads
PARTITION = """Clear
New Circuit.pf basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=300 MVAsc1=250
New Line.subsw phases=3 bus1=src bus2=b1 switch=yes
New Linecode.lc3 nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 c1=0 c0=0 units=km normamps=400
New Line.l12 phases=3 bus1=b1 bus2=b2 linecode=lc3 length=2
New Load.l2 phases=3 bus1=b2 kv=12.47 kw=300 kvar=100 model=1
New Load.ll phases=1 bus1=b2.1 kv=12.47 kw=450 kvar=150 model=1
New Generator.g1 phases=3 bus1=b1 kv=12.47 kw=2000 kva=2500
Set voltagebases=[12.47]
Calcv
Solve
"""


def _interpolated_share(v: float, vmin: float = 0.95, vlow: float = 0.5) -> float:
    """OpenDSS's constant-power load between ``Vlowpu`` and ``Vminpu`` of its kV (DSS C-API
    ``Load.pas``, ``DoConstantPQLoad``): the current linear in ``v`` from ``Vlowpu`` at
    ``Vlowpu`` to ``1/Vminpu`` at ``Vminpu``, so ``P/kW = v (Vlowpu + (1/Vminpu - Vlowpu)
    (v - Vlowpu) / (Vminpu - Vlowpu))``."""
    return v * (vlow + (1.0 / vmin - vlow) * (v - vlow) / (vmin - vlow))


def test_partition_sample_scales_the_nameplate_of_a_rerated_load(tmp_path: Path) -> None:
    import json

    import numpy as np

    from feederopt.api_partition import partition
    from feederopt.io.opendss import read_opendss
    from feederopt.problems.partition import build_partition_data, settings_from_file
    from feederopt.validation.partition import AcIsland

    feeder, settings = tmp_path / "pf.dss", tmp_path / "pf.json"
    feeder.write_text(PARTITION)
    settings.write_text(json.dumps({"dss": {"Generator.g1": {"inverter": "gfm",
                                                             "cost": [1, 0]}},
                                    "partition": {"uncertainty": 0.2}}))
    res = partition(feeder, settings=settings, voltage_feedback=False)
    assert res.plan is not None
    net = read_opendss(feeder)
    data = build_partition_data(net, settings_from_file(settings, net))
    assert set(data.load_ids) == {"l2", "ll"} and all(data.uncertain)
    scale = 1.2
    sample = AcIsland(net, data, res.plan).solve(np.full(len(data.load_ids), scale))
    assert sample.converged
    # the realisation scales the file's load: 1.2 x 450 kW, 1.2 x 150 kvar (not 1.2 x the
    # model's re-rated 155 kW, which OpenDSS then drew at its law once more, about a third)
    dss.Loads.Name("ll")
    assert (dss.Loads.kW(), dss.Loads.kvar()) == pytest.approx((450 * scale, 150 * scale))
    dss.Circuit.SetActiveElement("Load.ll")
    v = dss.CktElement.VoltagesMagAng()[0] / 12470.0  # p.u. of the load's kV (1 phase)
    assert 0.5 < v < 0.95  # in the interpolated piece of OpenDSS's law
    drawn = sum(dss.CktElement.Powers()[0::2])  # to OpenDSS's tolerance, 1e-4
    assert drawn == pytest.approx(450 * scale * _interpolated_share(v), rel=1e-3)

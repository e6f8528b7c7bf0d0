"""Daily-shape scenario rows of loads that OpenDSS does not draw at their setting (fix dss).

1. A load rated far from its bus's voltage is re-rated by the reader at the bus's voltage with
   OpenDSS's law there (``feederopt.io.opendss_rated_kv``: ``Load.la kV=12.47`` on a 7.2 kV
   node draws 34 % of its kW), but its rows from a daily shape held the setting itself: 1165
   kW at 03:00 where OpenDSS's daily mode drew 400.
2. ``model=6`` holds Q at the nameplate kvar and ``model=7`` at the nameplate's fixed
   reactance whatever the shape (DSS C-API ``Load.pas``, ``DoFixedQ``/``DoFixedQZ``); their
   rows scaled Q by the shape (66 kvar at 03:00 where OpenDSS drew 80).

Truth: OpenDSS's own daily mode at each step (opendssdirect, no feederopt code), each load's
P, Q and voltage, against the model's law ``row p (|V|/vn_kv)^p_exponent`` of the scenario's
network.
"""

from __future__ import annotations

from pathlib import Path

import opendssdirect as dss
import polars as pl
import pytest

from feederopt.api_threephase import daily_scenarios, scenario_networks, scenario_rows
from feederopt.cases import load_three_phase
from test_opendss_shapes import _mult

FEEDER = """Clear
New Circuit.kvtest basekv=12.47 pu=1.0 phases=3 bus1=src R1=0.1 X1=0.5 R0=0.1 X0=0.5
New Linecode.lc nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.2 units=mi normamps=600
New Line.l1 bus1=src bus2=b1 linecode=lc length=2 units=mi
New Line.l2 bus1=b1 bus2=b2 linecode=lc length=2 units=mi
New LoadShape.p npts=24 interval=1 mult={p}
New LoadShape.act npts=24 interval=1 useactual=yes mult={act}
New Load.la bus1=b2.1 phases=1 conn=wye kV=12.47 kW=1500 kvar=500 model=1 daily=p
New Load.l5 bus1=b2.2 phases=1 conn=wye kV=3.0 kW=300 kvar=100 model=5 daily=p
New Load.l6 bus1=b2.3 phases=1 conn=wye kV=7.2 kW=200 kvar=80 model=6 daily=p
New Load.l7 bus1=b1.3 phases=1 conn=wye kV=7.2 kW=200 kvar=80 model=7 daily=p
New Load.lact bus1=b1.1 phases=1 conn=wye kV=12.47 kW=100 kvar=40 model=1 pf=0.9 daily=act
Set voltagebases=[12.47]
Calcv
Solve
"""
HOURS = (3, 12, 19)


def _opendss_daily(path: Path) -> dict[int, dict[str, tuple[float, float, float]]]:
    """OpenDSS's daily mode: per solution hour, each load's kW, kvar and voltage [kV]."""
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{path}"')
    dss.Text.Command("set mode=daily stepsize=1h number=1")
    out: dict[int, dict[str, tuple[float, float, float]]] = {}
    for h in HOURS:
        dss.Text.Command(f"set hour={h - 1} sec=0")  # the solve steps the clock to h first
        dss.Solution.Solve()
        assert dss.Solution.Converged()
        out[h] = {}
        for name in dss.Loads.AllNames():
            dss.Loads.Name(name)
            pw = dss.CktElement.Powers()
            out[h][name] = (pw[0], pw[1], dss.CktElement.VoltagesMagAng()[0] / 1000.0)
    return out


def test_each_row_is_what_opendss_draws_at_its_hour(tmp_path: Path) -> None:
    path = tmp_path / "rerated.dss"
    path.write_text(FEEDER.format(p=_mult(24, 0, 0.3, 1.0), act=_mult(24, 3, 200, 600)))
    truth = _opendss_daily(path)
    table, _ = daily_scenarios(path)
    net = load_three_phase(path)
    rows = scenario_rows(net, table)
    nets = dict(zip(rows.names, scenario_networks(net, rows), strict=True))
    checked = 0
    for h in HOURS:
        loads = nets[f"{h:02d}:00"].loads
        for name, (p_kw, q_kvar, v_kv) in truth[h].items():
            row = loads.filter(pl.col("id") == name).row(0, named=True)
            law = v_kv / row["vn_kv"]
            got_p = 1000 * row["p_mw"] * law ** row["p_exponent"]
            got_q = 1000 * row["q_mvar"] * law ** row["q_exponent"]
            assert got_p == pytest.approx(p_kw, rel=2e-3), (h, name)
            assert got_q == pytest.approx(q_kvar, rel=2e-3, abs=1e-3), (h, name)
            checked += 1
    assert checked == 5 * len(HOURS)

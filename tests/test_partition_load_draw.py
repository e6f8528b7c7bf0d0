"""What OpenDSS's loads draw in the partition's AC check, and which of them are below their
``Vminpu`` or above their ``Vmaxpu`` (:func:`feederopt.validation.partition.load_draw`).

OpenDSS draws a load below its ``Vminpu`` as a constant impedance whatever its model (OpenDSS
Reference Guide, Load object), so a constant-power load there draws less than its kW: the
model's "served load at the plan's voltages" and OpenDSS's differ for that reason (ut_part:
a plan at 0.90-0.92 p.u.). The truth here is OpenDSS itself on a hand-written feeder: a stiff
source at ``pu`` behind a line of negligible impedance, so that every load sees ``pu`` on its
own base (wye three-phase: line to neutral of 12.47 kV; delta three-phase and one-phase delta:
line to line; one-phase wye: its 7.2 kV), and a constant-power load draws exactly its kW
unless it is below its ``Vminpu``.
"""

from __future__ import annotations

import json

import opendssdirect as dss
import pytest

from feederopt.validation.partition import load_draw

FEEDER = """Clear
New Circuit.c basekv=12.47 pu={pu} phases=3 bus1=src MVAsc3=1e6 MVAsc1=1e6
New Line.l phases=3 bus1=src bus2=b r1=1e-6 x1=1e-6 r0=1e-6 x0=1e-6 c1=0 c0=0 length=0.001
New Load.wye3 bus1=b phases=3 conn=wye kV=12.47 kW=300 kvar=100 model=1 vminpu={v3}
New Load.delta3 bus1=b phases=3 conn=delta kV=12.47 kW=200 kvar=50 model=1 vminpu={vd}
New Load.wye1 bus1=b.2 phases=1 conn=wye kV=7.2 kW=50 kvar=10 model=1 vminpu={v1}
New Load.delta1 bus1=b.1.3 phases=1 conn=delta kV=12.47 kW=40 kvar=10 model=1 vminpu={vd1}
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
KW = {"wye3": 300.0, "delta3": 200.0, "wye1": 50.0, "delta1": 40.0}


def _solve(pu: float, **vmin: float) -> None:
    dss.Text.Command("clear")
    given = {"v3": 0.5, "vd": 0.5, "v1": 0.5, "vd1": 0.5, **vmin}
    for line in FEEDER.format(pu=pu, **given).splitlines():
        dss.Text.Command(line)
    assert dss.Solution.Converged()


@pytest.mark.parametrize("key", ["v3", "vd", "v1", "vd1"])
def test_each_connection_is_judged_on_its_own_base(key: str) -> None:
    """At 0.97 p.u., a Vminpu of 0.98 puts the load below it and 0.96 does not, for every
    connection: a base off by sqrt(3) would read 0.56 or 1.68 p.u. and get one side wrong.
    The flagged load is the one OpenDSS draws below its kW, at (0.97 / 0.98)^2 of it (a
    constant impedance matched at Vminpu); the others draw their kW."""
    name = {"v3": "wye3", "vd": "delta3", "v1": "wye1", "vd1": "delta1"}[key]
    _solve(0.97, **{key: 0.96})
    total, below, _ = load_draw(list(KW))
    assert below == [] and total == pytest.approx(sum(KW.values()), abs=1e-6)
    _solve(0.97, **{key: 0.98})
    total, below, _ = load_draw(list(KW))
    assert below == [name]
    for other, kw in KW.items():
        drawn, _, _ = load_draw([other])
        if other == name:
            assert drawn == pytest.approx(kw * (0.97 / 0.98) ** 2, rel=2e-3)
        else:
            assert drawn == pytest.approx(kw, abs=1e-6)


@pytest.mark.parametrize("name", list(KW))
def test_each_connection_above_its_vmaxpu(name: str) -> None:
    """At 1.03 p.u. no load is above its default Vmaxpu of 1.05; with a Vmaxpu of 1.02 the
    load is above it, and OpenDSS draws it as a constant impedance matched at Vmaxpu,
    ``kW (1.03 / 1.02)^2``, more than its kW (ut39_recheck_a: a plan at 1.098 p.u. drew
    961 kW for 880), and ``load_draw`` names it; 1.04 leaves it inside."""
    _solve(1.03)
    total, below, above = load_draw(list(KW))
    assert below == above == [] and total == pytest.approx(sum(KW.values()), abs=1e-6)
    for vmax, flagged in ((1.04, []), (1.02, [name])):
        dss.Text.Command(f"Edit Load.{name} vmaxpu={vmax}")
        dss.Text.Command("Solve")
        _, below, above = load_draw(list(KW))
        assert below == [] and above == flagged
    for other, kw in KW.items():
        drawn, _, _ = load_draw([other])
        want = kw * (1.03 / 1.02) ** 2 if other == name else kw
        assert drawn == pytest.approx(want, rel=2e-3 if other == name else 1e-9)


@pytest.mark.parametrize("vmin", [0.95, 1.2])
def test_a_partition_reports_what_opendss_serves(tmp_path, vmin: float) -> None:
    """test_ut_part_partition's feeder: its substation lost, a grid-forming generator, a PV
    system and a battery; the plan serves both loads (100 + 80 kW, constant power). With
    their default Vminpu the microgrid's voltages (about 1 p.u.) are above it and OpenDSS
    draws their 180 kW; with Vminpu 1.2 both are below it and OpenDSS draws them as constant
    impedances, less than 180 kW. The console and the report say so."""
    from typer.testing import CliRunner

    import feederopt
    from feederopt.cli import app
    from test_ut_part_partition import DSS, GOOD, SETTINGS

    feeder = tmp_path / "f.dss"
    text = DSS.format(**GOOD)
    for load in ("kW=100 kvar=50", "kW=80 kvar=40"):
        assert load in text
        text = text.replace(load, f"{load} vminpu={vmin}")
    feeder.write_text(text)
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps(SETTINGS))
    res = feederopt.partition(str(feeder), settings=str(settings), time_limit_s=60)
    assert res.served_load_kw == pytest.approx(180.0)
    if vmin < 1:
        assert res.loads_below_vminpu == []
        assert res.served_load_opendss_kw == pytest.approx(180.0, abs=1e-3)
    else:
        assert sorted(res.loads_below_vminpu) == ["d1", "d2"]
        assert res.served_load_opendss_kw < 180.0 * (1.05 / 1.2) ** 2
    out = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["partition", str(feeder), "--settings", str(settings), "--time-limit", "60",
              "--out", str(tmp_path / "o")])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "served load in OpenDSS (nominal load)" in text
    assert ("2 load(s) below their Vminpu" in text) == (vmin > 1)
    html = (tmp_path / "o" / "report.html").read_text()
    assert "served load in OpenDSS, nominal load [kW]" in html

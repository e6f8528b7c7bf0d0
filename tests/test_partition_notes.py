"""``feederopt partition FILE.dss`` without a settings file: no DER is grid-forming, so no
microgrid can form and no load is served. The answer is right (a microgrid needs a
grid-forming DER), but it said "optimal" with 0 kW served and no word why; now a note says
that no grid-forming DER is defined and points to ``--settings``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt import partition
from feederopt.cli import app

runner = CliRunner()

FEEDER = """Clear
New Circuit.pnote basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200 MVAsc1=180
New Linecode.lc nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.2 c1=0 c0=0 units=mi normamps=600
New Line.head bus1=src bus2=m linecode=lc length=0.5 units=mi
New Line.ma bus1=m bus2=a linecode=lc length=1 units=mi
New Line.s1 bus1=a bus2=b switch=yes
New Line.bc bus1=b bus2=c linecode=lc length=1 units=mi
New Load.la bus1=a phases=3 kv=12.47 kw=300 kvar=100 model=1
New Load.lc bus1=c phases=3 kv=12.47 kw=200 kvar=60 model=1
New Storage.st1 phases=3 bus1=c kv=12.47 kWrated=600 kWhrated=2400 kWhstored=1200
Set VoltageBases=[12.47]
CalcVoltageBases
"""

NOTE = "no grid-forming DER is defined"


def test_no_grid_forming_der_is_said(tmp_path: Path) -> None:
    path = tmp_path / "pnote.dss"
    path.write_text(FEEDER)
    res = partition(str(path), time_limit_s=60)
    assert res.served_load_kw == 0.0
    assert any(NOTE in n and "--settings" in n for n in res.notes), res.notes
    assert any(NOTE in n for n in res.to_dict()["notes"])
    cli = runner.invoke(app, ["partition", str(path), "--time-limit", "60"])
    assert cli.exit_code == 0, cli.output
    assert NOTE in cli.output


def test_a_grid_forming_der_gives_no_note(tmp_path: Path) -> None:
    path = tmp_path / "pnote.dss"
    path.write_text(FEEDER)
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"dss": {"Storage.st1": {"inverter": "grid_forming"}}}))
    res = partition(str(path), settings=settings, time_limit_s=60)
    assert res.served_load_kw > 0.0 and not any(NOTE in n for n in res.notes)

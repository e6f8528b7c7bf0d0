"""Bad input the readers must refuse or note by name (user test ut_bad, defects 3, 4, 5, 7, 8
and lower ones): each file is written here, the CLI gives a typed problem naming the element
and field, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()


def _info_problems(path: Path) -> list[dict[str, object]]:
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return list(json.loads(result.stdout)["problems"])


# ---- OpenDSS: a negative or NaN load kW (defects 3 and 7) ----------------------------------

DSS = """Clear
New Circuit.c basekv=12.47 phases=3 bus1=src
New Line.l1 phases=3 bus1=src bus2=b1 r1=0.1 x1=0.2 r0=0.3 x0=0.6 length=1 units=km
New Line.l2 phases=3 bus1=b1 bus2=b2 r1=0.1 x1=0.2 r0=0.3 x0=0.6 length=1 units=km
New Load.good bus1=b1 phases=3 kV=12.47 kW=100 kvar=50
New Load.bad bus1=b2 phases=3 kV=12.47 kW={kw} kvar={kvar}
New Generator.g1 bus1=b1 phases=3 kV=12.47 kW=50 kvar=10
New PVSystem.pv1 bus1=b2 phases=3 kV=12.47 kVA=60 Pmpp=50 irradiance=1
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""


@pytest.mark.parametrize(("kw", "kvar", "field", "says"), [
    ("-170", "80", "kW", "negative"),
    ("nan", "80", "kW", "not a finite number"),
    ("170", "nan", "kvar", "not a finite number"),
], ids=["negative_kw", "nan_kw", "nan_kvar"])
def test_opendss_bad_load_value_names_only_the_load(tmp_path: Path, kw: str, kvar: str,
                                                     field: str, says: str) -> None:
    """A negative kW was read silently (solve then claimed proven infeasibility); a NaN kW
    spoilt OpenDSS's solution, and the generators' NaN output was blamed too. One problem,
    on the load and its field, and nothing on the healthy generators."""
    path = tmp_path / "feeder.dss"
    path.write_text(DSS.format(kw=kw, kvar=kvar))
    (problem,) = _info_problems(path)
    assert problem["kind"] == "bad_load"
    assert problem["ids"] == ["bad"] and problem["field"] == field
    assert "Load.bad" in str(problem["message"]) and says in str(problem["message"])


def test_opendss_healthy_loads_read(tmp_path: Path) -> None:
    """The same file with a positive kW reads (the test above fails for the value alone)."""
    path = tmp_path / "feeder.dss"
    path.write_text(DSS.format(kw="170", kvar="80"))
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 0, result.output


# ---- a table folder: an unknown table file (defect 4) --------------------------------------

BUSES = "id,vn_kv,is_source\n1,12.66,true\n2,12.66,false\n"
BRANCHES = "id,from_bus,to_bus,r_ohm,x_ohm\n1,1,2,0.1,0.05\n"


def test_folder_unknown_table_file_is_named(tmp_path: Path) -> None:
    """``lines.csv`` beside the tables was dropped without a word; now a typed problem names
    it and the tables read, like the schedule's devices folder."""
    (tmp_path / "buses.csv").write_text(BUSES)
    (tmp_path / "branches.csv").write_text(BRANCHES)
    (tmp_path / "loads.csv").write_text("id,bus,p_mw,q_mvar\n1,2,0.1,0.05\n")
    result = runner.invoke(app, ["info", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output  # the folder alone reads
    (tmp_path / "lines.csv").write_text(BRANCHES)
    (problem,) = _info_problems(tmp_path)
    assert problem["kind"] == "unknown_file_type" and problem["ids"] == ["lines.csv"]
    assert "branches.csv" in str(problem["hint"]) and "loads.csv" in str(problem["hint"])

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
    """``lines.csv`` beside the tables was dropped without a word; now a note names it and the
    tables read (a file kept beside the network, such as a scenario table, is not an error)."""
    (tmp_path / "buses.csv").write_text(BUSES)
    (tmp_path / "branches.csv").write_text(BRANCHES)
    (tmp_path / "loads.csv").write_text("id,bus,p_mw,q_mvar\n1,2,0.1,0.05\n")
    result = runner.invoke(app, ["info", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output  # the folder alone reads
    assert not any("lines.csv" in w for w in json.loads(result.stdout)["warnings"])
    (tmp_path / "lines.csv").write_text(BRANCHES)
    result = runner.invoke(app, ["info", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    (note,) = [w for w in json.loads(result.stdout)["warnings"] if "lines.csv" in w]
    assert "not read" in note and "branches.csv" in note and "loads.csv" in note


# ---- MATPOWER: REF bus without a generator, no generator, baseMVA 0, RATE_A, VG (5, 8, 15) --

def _case(base_mva: str = "10", bus2_type: str = "1", gen: str = "1 0 0 10 -10 1.0 10 1 10 0",
          rate_a: str = "0", bus3: str = "3 1", branch2: str = "2 3", shift2: str = "0",
          status2: str = "1") -> str:
    return f"""function mpc = tiny
mpc.version = '2';
mpc.baseMVA = {base_mva};
mpc.bus = [
1 3 0 0 0 0 1 1 0 12.66 1 1.1 0.9;
2 {bus2_type} 0.1 0.05 0 0 1 1 0 12.66 1 1.1 0.9;
{bus3} 0.1 0.05 0 0 1 1 0 12.66 1 1.1 0.9;
];
mpc.gen = [
{gen}
];
mpc.branch = [
1 2 0.01 0.01 0 {rate_a} 0 0 0 0 1 -360 360;
{branch2} 0.01 0.01 0 0 0 0 0 {shift2} {status2} -360 360;
];
"""


def test_matpower_tiny_case_reads(tmp_path: Path) -> None:
    """The case the tests below spoil reads (each test fails for its change alone)."""
    path = tmp_path / "tiny.m"
    path.write_text(_case())
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("change", "kind", "component", "ids", "field"), [
    # MATPOWER's bustypes.m makes a REF bus without an in-service gen a PQ bus; it was read as
    # a second infinite source (the losses changed)
    ({"bus2_type": "3"}, "no_source", "mpc.bus", ["2"], "BUS_TYPE"),
    # the only generator out of service (GEN_STATUS 0)
    ({"gen": "1 0 0 10 -10 1.0 10 0 10 0"}, "no_source", "mpc.bus", ["1"], "BUS_TYPE"),
    # no generator row at all: was ValueError "max() arg is an empty sequence"
    ({"gen": ""}, "no_source", "mpc.gen", [], "GEN_BUS"),
    # baseMVA 0: numpy warnings and every branch's r_ohm/x_ohm were blamed
    ({"base_mva": "0"}, "invalid_value", "mpc", [], "baseMVA"),
    ({"rate_a": "-5"}, "invalid_value", "mpc.branch", ["row 1"], "RATE_A"),
    ({"gen": "1 0 0 10 -10 NaN 10 1 10 0"}, "invalid_value", "mpc.gen", ["row 1"], "VG"),
    # bus numbers and types that are no whole numbers: a NaN BUS_TYPE was cast to an integer
    # and read as a load bus, "problems: none"; a NaN BUS_I failed in matpowercaseframes'
    # index as "not a MATPOWER case (IntCastingNaNError ...)" without naming the row
    ({"bus2_type": "NaN"}, "invalid_value", "mpc.bus", ["row 2"], "BUS_TYPE"),
    ({"bus2_type": "7"}, "invalid_value", "mpc.bus", ["row 2"], "BUS_TYPE"),
    ({"bus3": "NaN 1"}, "invalid_value", "mpc.bus", ["row 3"], "BUS_I"),
    ({"bus3": "0 1"}, "invalid_value", "mpc.bus", ["row 3"], "BUS_I"),
    ({"branch2": "2.5 3"}, "invalid_value", "mpc.branch", ["row 2"], "F_BUS"),
    ({"branch2": "2 Inf"}, "invalid_value", "mpc.branch", ["row 2"], "T_BUS"),
    ({"gen": "NaN 0 0 10 -10 1.0 10 1 10 0"}, "invalid_value", "mpc.gen", ["row 1"],
     "GEN_BUS"),
    # MATPOWER's makeYbus multiplies a branch's admittance by BR_STATUS: 2 doubled it, NaN
    # spoiled the matrix; both were read as in service
    ({"status2": "2"}, "invalid_value", "mpc.branch", ["row 2"], "BR_STATUS"),
    ({"status2": "NaN"}, "invalid_value", "mpc.branch", ["row 2"], "BR_STATUS"),
    # a NaN phase shift: "problems: none" and a base-case AC power flow that failed
    ({"shift2": "NaN"}, "invalid_value", "mpc.branch", ["row 2"], "SHIFT"),
], ids=["ref_without_gen", "gen_out_of_service", "no_gen_row", "basemva_zero",
        "rate_a_negative", "vg_nan", "bus_type_nan", "bus_type_7", "bus_i_nan", "bus_i_zero",
        "f_bus_fraction", "t_bus_inf", "gen_bus_nan", "br_status_2", "br_status_nan",
        "shift_nan"])
def test_matpower_bad_case_names_the_field(tmp_path: Path, change: dict[str, str], kind: str,
                                           component: str, ids: list[str], field: str) -> None:
    path = tmp_path / "tiny.m"
    path.write_text(_case(**change))
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "RuntimeWarning" not in result.output
    (problem,) = json.loads(result.stdout)["problems"]
    assert (problem["kind"], problem["component"], problem["field"]) == (kind, component, field)
    assert problem["ids"] == ids


def test_matpower_upper_case_extension_reads(tmp_path: Path) -> None:
    """``TINY.M`` (a Windows name) was "not a MATPOWER case (FileNotFoundError: Can't find
    data ...)" although the file exists; it reads as the same case named ``tiny.m`` does."""
    lower, upper = tmp_path / "tiny.m", tmp_path / "up" / "TINY.M"
    upper.parent.mkdir()
    lower.write_text(_case())
    upper.write_text(_case())
    out = [runner.invoke(app, ["info", str(p), "--json"]) for p in (lower, upper)]
    assert [r.exit_code for r in out] == [0, 0], out[1].output
    a, b = (json.loads(r.stdout) for r in out)
    assert a["problems"] == b["problems"] == []
    assert (a["buses"], a["branches"], a["base_losses_kw"]) == (
        b["buses"], b["branches"], b["base_losses_kw"])
    assert a["buses"] == 3


@pytest.mark.parametrize(("branches", "encoding", "says", "hint"), [
    (BRANCHES.replace(",", ";"), "utf-8", "one column holding ';'", "comma-separated"),
], ids=["semicolon"])
def test_folder_spreadsheet_exports_get_a_hint(tmp_path: Path, branches: str, encoding: str,
                                               says: str, hint: str) -> None:
    """A semicolon-separated branches.csv gave 5 missing_column errors ("add a 'id' column");
    a Latin-1 file "check that the file is complete"."""
    (tmp_path / "buses.csv").write_text(BUSES)
    (tmp_path / "branches.csv").write_bytes(branches.encode(encoding))
    (problem,) = _info_problems(tmp_path)
    assert problem["kind"] == "unreadable_file" and "branches.csv" in str(problem["message"])
    assert says in str(problem["message"]) and hint in str(problem["hint"])


def test_folder_latin1_export_is_read_with_a_note(tmp_path: Path) -> None:
    """A Latin-1 (Windows-1252) file, Excel's CSV on Windows, was refused ("save the file as
    UTF-8"); it is read, with a note naming the file (user test ut44_gis #18), as the
    MATPOWER reader reads Latin-1."""
    from feederopt.io import read_folder

    (tmp_path / "buses.csv").write_text(BUSES)
    (tmp_path / "branches.csv").write_bytes(
        BRANCHES.replace("\n1,", "\nLast_é,", 1).encode("latin-1"))
    net = read_folder(tmp_path)
    assert net.branches["id"].to_list() == ["Last_é"]
    assert any("branches.csv is not UTF-8" in w for w in net.meta["warnings"])

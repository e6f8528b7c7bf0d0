"""One test per class of bad input, through the API and through the CLI.

The CLI must exit with code 2, name the component, and print no traceback.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.network import InputError, ProblemKind
from netbuild import set_value, tiny, tiny_tables

runner = CliRunner()


def _island():
    t = tiny_tables()
    buses = pl.concat(
        [t["buses"], pl.DataFrame({"id": ["x", "y"], "vn_kv": [12.66, 12.66]})],
        how="diagonal_relaxed",
    )
    branches = pl.concat(
        [
            t["branches"],
            pl.DataFrame(
                {"id": ["lx"], "from_bus": ["x"], "to_bus": ["y"], "r_ohm": [0.1], "x_ohm": [0.1]}
            ),
        ],
        how="diagonal_relaxed",
    )
    return tiny(buses=buses, branches=branches)


def _duplicate():
    t = tiny_tables()
    return tiny(buses=set_value(t["buses"], "d", "id", "c"))


def _zero_line():
    t = tiny_tables()
    b = set_value(t["branches"], "l2", "r_ohm", 0.0)
    return tiny(branches=set_value(b, "l2", "x_ohm", 0.0))


CASES = {
    # name: (network factory, expected kind, component, an id the message must name)
    "island_without_source": (_island, ProblemKind.ISLAND_WITHOUT_SOURCE, "buses", "x"),
    "no_source": (
        lambda: tiny(buses=set_value(tiny_tables()["buses"], "s", "is_source", False)),
        ProblemKind.NO_SOURCE,
        "buses",
        None,
    ),
    "duplicate_id": (_duplicate, ProblemKind.DUPLICATE_ID, "buses", "c"),
    "unknown_bus": (
        lambda: tiny(loads=set_value(tiny_tables()["loads"], "Lb", "bus", "nowhere")),
        ProblemKind.UNKNOWN_BUS,
        "loads",
        "Lb",
    ),
    "negative_impedance": (
        lambda: tiny(branches=set_value(tiny_tables()["branches"], "l3", "r_ohm", -0.1)),
        ProblemKind.BAD_IMPEDANCE,
        "branches",
        "l3",
    ),
    "nan_impedance": (
        lambda: tiny(branches=set_value(tiny_tables()["branches"], "l1", "x_ohm", math.nan)),
        ProblemKind.BAD_IMPEDANCE,
        "branches",
        "l1",
    ),
    "zero_impedance_on_a_line": (_zero_line, ProblemKind.BAD_IMPEDANCE, "branches", "l2"),
    "nan_load": (
        lambda: tiny(loads=set_value(tiny_tables()["loads"], "Lc", "p_mw", math.nan)),
        ProblemKind.BAD_LOAD,
        "loads",
        "Lc",
    ),
    "infinite_load": (
        lambda: tiny(loads=set_value(tiny_tables()["loads"], "Ld", "q_mvar", math.inf)),
        ProblemKind.BAD_LOAD,
        "loads",
        "Ld",
    ),
    "inverted_voltage_limits": (
        lambda: tiny(
            buses=set_value(tiny_tables()["buses"].with_columns(v_min_pu=0.9), "b", "v_min_pu", 1.2)
        ),
        ProblemKind.INVERTED_LIMITS,
        "buses",
        "b",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_api(name):
    make, kind, component, some_id = CASES[name]
    with pytest.raises(InputError) as err:
        load(make())
    problems = [p for p in err.value.problems if p.kind is kind]
    assert problems, err.value
    assert problems[0].component == component
    assert problems[0].hint
    if some_id is not None:
        assert some_id in problems[0].ids


@pytest.mark.parametrize("name", list(CASES))
def test_cli(tmp_path, name):
    make, kind, component, some_id = CASES[name]
    folder = write_folder(make(), tmp_path / name, fmt="csv")
    result = runner.invoke(app, ["info", str(folder)])
    assert result.exit_code == 2, result.output
    assert kind.value in result.stderr
    assert f"{kind.value}: {component}" in result.stderr
    assert "Traceback" not in result.output
    if some_id is not None:
        assert some_id in result.stderr
    # The same as JSON on stdout.
    result = runner.invoke(app, ["info", str(folder), "--json"])
    assert result.exit_code == 2
    assert f'"kind": "{kind.value}"' in result.stdout
    assert f'"component": "{component}"' in result.stdout


def test_zero_impedance_is_fine_on_a_switch():
    net = load(tiny())  # sw1 is a switch with r = x = 0
    assert net.branches.filter(pl.col("id") == "sw1")["r_ohm"].to_list() == [0.0]


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, ProblemKind]]:
    unknown = tmp_path / "grid.xyz"
    unknown.write_text("hello")
    dss = tmp_path / "feeder.dss"
    dss.write_text("clear")
    bad_m = tmp_path / "broken.m"
    bad_m.write_text("function mpc = broken\nmpc.bus = [ 1 2 x y ];\n")
    bad_json = tmp_path / "broken.json"
    bad_json.write_text("{ not json")
    bad_folder = tmp_path / "broken_folder"
    bad_folder.mkdir()
    (bad_folder / "buses.parquet").write_bytes(b"not parquet")
    (bad_folder / "branches.csv").write_text("id,from_bus\n")
    return {
        "unknown_type": (unknown, ProblemKind.UNKNOWN_FILE_TYPE),
        "dss": (dss, ProblemKind.UNKNOWN_FILE_TYPE),
        "missing_file": (tmp_path / "missing.m", ProblemKind.UNREADABLE_FILE),
        "bad_m": (bad_m, ProblemKind.UNREADABLE_FILE),
        "bad_json": (bad_json, ProblemKind.UNREADABLE_FILE),
        "bad_folder": (bad_folder, ProblemKind.UNREADABLE_FILE),
    }


FILE_CASES = ["unknown_type", "dss", "missing_file", "bad_m", "bad_json", "bad_folder"]


@pytest.mark.parametrize("name", FILE_CASES)
def test_bad_files(tmp_path, name):
    path, kind = _bad_files(tmp_path)[name]
    with pytest.raises(InputError) as err:
        load(path)
    (problem,) = err.value.problems
    assert problem.kind is kind
    assert problem.component == "file"
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 2
    # `info` reads a .dss file as a three-phase feeder: OpenDSS finds no circuit in it
    cli_kind = ProblemKind.UNREADABLE_FILE if name == "dss" else kind
    assert cli_kind.value in result.stderr and path.name in result.stderr
    assert "Traceback" not in result.output


def test_unknown_case():
    with pytest.raises(InputError) as err:
        load("case_that_does_not_exist")
    assert err.value.problems[0].kind is ProblemKind.UNKNOWN_CASE
    result = runner.invoke(app, ["info", "case_that_does_not_exist"])
    assert result.exit_code == 2
    assert "unknown_case: case" in result.stderr

"""Tables given in memory are typed as a table folder's are (user test ut36_api).

1. ``Network.replace(loads=...)`` with a user's own typed Polars table (only the required
   columns) failed in the per-unit model (``ColumnNotFoundError: in_service``; ``kind`` for
   branches, ``v_min_pu`` for buses): a typed table skipped the completion of its optional
   columns that ``from_tables`` does.
2. A null cell in a Boolean column (``switchable``, ``normally_open``) read as false: tie T1
   silently fixed closed, "optimal" at 132.45 kW where the brute force gives 100.67 kW. It is
   refused, in memory and in a CSV folder, as a null in a required column is.
3. Whole-number float ids (pandas makes an integer column float after a merge with NaN): a
   folder reads 7.0 as "7" with a note; ``Network.from_tables`` refused them as unknown bus
   "7.0". They read the same way in memory, with the same note.

The truth is a brute force with pandapower (Newton-Raphson) over every radial topology of the
tester's 9-bus feeder, built by hand here, not by feederopt.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.network import Network
from netbuild import pandapower_radial_line_sets

VN = 12.66
BUSES = pl.DataFrame({"id": ["SUB", "A", "B", "C", "D", "E", "F", "G", "H"],
                      "vn_kv": [VN] * 9, "is_source": [True] + [False] * 8})
_BR = [("L1", "SUB", "A", 0.5, 0.4, False), ("L2", "A", "B", 0.9, 0.5, True),
       ("L3", "B", "C", 1.2, 0.8, False), ("L4", "SUB", "D", 0.6, 0.5, False),
       ("L5", "D", "E", 1.0, 0.7, False), ("L6", "E", "F", 1.5, 1.0, True),
       ("L7", "A", "G", 0.8, 0.6, False), ("L8", "G", "H", 1.1, 0.9, True),
       ("T1", "C", "F", 0.7, 0.5, False), ("T2", "H", "E", 0.9, 0.6, False),
       ("T3", "B", "G", 0.6, 0.4, False)]
BRANCHES = pl.DataFrame({
    "id": [b[0] for b in _BR], "from_bus": [b[1] for b in _BR], "to_bus": [b[2] for b in _BR],
    "r_ohm": [b[3] for b in _BR], "x_ohm": [b[4] for b in _BR],
    "switchable": [True] * len(_BR), "normally_open": [b[5] for b in _BR]})
LOADS = pl.DataFrame({
    "id": ["ld_A", "ld_B", "ld_C", "ld_D", "ld_E", "ld_F", "ld_G", "ld_H"],
    "bus": ["A", "B", "C", "D", "E", "F", "G", "H"],
    "p_mw": [0.3, 0.5, 0.8, 0.2, 0.6, 0.9, 0.4, 0.7],
    "q_mvar": [0.1, 0.2, 0.4, 0.1, 0.3, 0.4, 0.2, 0.3]})
#: Integer bus numbers for the same feeder (test 3).
NUMBERS = {"SUB": 100, "A": 7, "B": 35, "C": 2, "D": 999, "E": 41, "F": 13, "G": 58, "H": 1000}


@functools.cache
def brute_force_kw(load_scale: float = 1.0) -> tuple[float, frozenset[str]]:
    """The least AC losses [kW] over every radial topology (pandapower's Newton-Raphson, every
    branch switchable) and the branches it opens; the loads scaled by ``load_scale``."""
    import pandapower as pp

    net = pp.create_empty_network(sn_mva=1.0)
    idx = {b: pp.create_bus(net, vn_kv=VN, name=b) for b in BUSES["id"].to_list()}
    pp.create_ext_grid(net, idx["SUB"], vm_pu=1.0)
    for name, f, t, r, x, _ in _BR:
        pp.create_line_from_parameters(net, idx[f], idx[t], 1.0, r, x, 0.0, 10.0, name=name)
    for row in LOADS.iter_rows(named=True):
        pp.create_load(net, idx[row["bus"]], p_mw=row["p_mw"] * load_scale,
                       q_mvar=row["q_mvar"] * load_scale)
    best = (np.inf, frozenset[str]())
    for opened in pandapower_radial_line_sets(net):
        net.line["in_service"] = ~net.line.index.isin(opened)
        pp.runpp(net, tolerance_mva=1e-10, numba=False)
        kw = float(net.res_line.pl_mw.sum() * 1000.0)
        if kw < best[0]:
            best = (kw, frozenset(str(net.line.at[k, "name"]) for k in opened))
    return best


def _opened(result: feederopt.Result) -> frozenset[str]:
    return frozenset(str(o["id"]) for o in result.open_branches)


def _net(**tables: object) -> Network:
    given: dict[str, object] = {"buses": BUSES, "branches": BRANCHES, "loads": LOADS}
    given.update(tables)
    return Network.from_tables(**given)  # type: ignore[arg-type]


# ---- 1. replace types a typed table as from_tables does ---------------------------------
def test_replace_with_a_typed_table_of_required_columns_solves_to_the_brute_force() -> None:
    scaled = LOADS.with_columns(pl.col("p_mw") * 1.5, pl.col("q_mvar") * 1.5)
    edited = _net().replace(loads=scaled)
    result = feederopt.solve(edited)
    kw, opened = brute_force_kw(1.5)
    assert result.status == "optimal"
    assert _opened(result) == opened
    assert result.losses_kw == pytest.approx(kw, rel=1e-4)


@pytest.mark.parametrize("key, table", [
    ("loads", LOADS.with_columns(pl.col("p_mw") * 1.5)),
    ("branches", BRANCHES.with_columns(pl.col("r_ohm") * 2)),
    ("buses", BUSES),
])
def test_replace_types_a_table_as_from_tables_does(key: str, table: pl.DataFrame) -> None:
    """README: ``net.replace(loads=...)`` types a table as ``from_tables`` does."""
    got = getattr(_net().replace(**{key: table}), key)
    want = getattr(_net(**{key: table}), key)
    assert got.columns == want.columns
    assert got.equals(want)


def test_replace_unchanged_table_keeps_the_object() -> None:
    net = _net()
    assert net.replace(loads=net.loads).loads is net.loads


# ---- 2. a null Boolean cell is refused, never read as false -----------------------------
def _null(df: pl.DataFrame, column: str, row_id: str) -> pl.DataFrame:
    return df.with_columns(pl.when(pl.col("id") == row_id).then(None)
                           .otherwise(pl.col(column)).alias(column))


def _null_bool_problems(e: pytest.ExceptionInfo[InputError]) -> set[tuple[str, str, tuple]]:
    return {(p.component, str(p.field), p.ids) for p in e.value.problems
            if p.kind.value == "invalid_value" and p.is_error}


def test_null_switchable_and_normally_open_in_memory_are_refused() -> None:
    branches = _null(_null(BRANCHES, "normally_open", "L2"), "switchable", "T1")
    with pytest.raises(InputError) as e:
        feederopt.solve(_net(branches=branches))
    assert _null_bool_problems(e) == {("branches", "normally_open", ("L2",)),
                                      ("branches", "switchable", ("T1",))}
    assert "true or false" in str(e.value)
    # the feeder as given otherwise has the brute force's optimum (T1 may open)
    kw, opened = brute_force_kw()
    assert "T1" in opened
    assert feederopt.solve(_net()).losses_kw == pytest.approx(kw, rel=1e-4)


@pytest.mark.parametrize("key, column, row_id", [
    ("buses", "is_source", "C"),
    ("branches", "in_service", "L3"),
    ("branches", "tap_controllable", "L3"),
    ("loads", "in_service", "ld_C"),
    ("loads", "sheddable", "ld_C"),
])
def test_a_null_in_any_boolean_column_is_refused(key: str, column: str, row_id: str) -> None:
    table = {"buses": BUSES, "branches": BRANCHES, "loads": LOADS}[key]
    if column not in table.columns:
        default = Network.from_tables(buses=BUSES, branches=BRANCHES,
                                      loads=LOADS).tables()[key][column][0]
        table = table.with_columns(pl.lit(default).alias(column))
    with pytest.raises(InputError) as e:
        _net(**{key: _null(table, column, row_id)}).check()
    assert _null_bool_problems(e) == {(key, column, (row_id,))}


def test_null_switchable_in_a_csv_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "feeder"
    folder.mkdir()
    BUSES.write_csv(folder / "buses.csv")
    LOADS.write_csv(folder / "loads.csv")
    _null(BRANCHES, "switchable", "T1").write_csv(folder / "branches.csv")
    assert "T1,C,F,0.7,0.5,,false" in (folder / "branches.csv").read_text()
    with pytest.raises(InputError) as e:
        feederopt.load(folder)
    assert _null_bool_problems(e) == {("branches", "switchable", ("T1",))}
    out = CliRunner().invoke(app, ["solve", str(folder)])
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output and "branches [T1].switchable" in out.output


# ---- 3. whole-number float ids, in memory as in a folder --------------------------------
def _numbered(float_buses: bool = False) -> dict[str, pd.DataFrame]:
    """The feeder with integer bus numbers as pandas frames; the loads' bus column float64
    (as after a merge with a missing value), with ``float_buses`` the buses' ids too."""
    buses = BUSES.to_pandas()
    buses["id"] = buses["id"].map(NUMBERS)
    if float_buses:
        buses["id"] = buses["id"].astype(float)
    branches = BRANCHES.to_pandas()
    branches["from_bus"] = branches["from_bus"].map(NUMBERS)
    branches["to_bus"] = branches["to_bus"].map(NUMBERS)
    loads = LOADS.to_pandas()
    loads["bus"] = loads["bus"].map(NUMBERS).astype(float)
    return {"buses": buses, "branches": branches, "loads": loads}


@pytest.mark.parametrize("float_buses", [False, True])
def test_whole_float_ids_in_memory_read_as_whole_numbers_with_a_note(float_buses: bool
                                                                    ) -> None:
    tables = _numbered(float_buses)
    assert tables["loads"]["bus"].dtype == np.float64  # the premise
    net = Network.from_tables(**tables)
    assert net.loads["bus"].to_list() == [str(NUMBERS[b]) for b in LOADS["bus"].to_list()]
    notes = [w for w in net.meta["warnings"] if w.startswith("loads.bus:")]
    assert len(notes) == 1 and "read as whole numbers (7, 35, 2 ...)" in notes[0]
    result = feederopt.solve(net)
    kw, opened = brute_force_kw()
    assert result.losses_kw == pytest.approx(kw, rel=1e-4)
    assert {o["id"] for o in result.open_branches} == set(opened)
    assert notes[0] in result.extra["notes"]


def test_float_ids_note_is_the_folders(tmp_path: Path) -> None:
    """One rule for both paths: the note of the in-memory tables is the note the folder
    reader gives for the same tables stored in Parquet."""
    tables = _numbered()
    folder = tmp_path / "feeder"
    folder.mkdir()
    for name, df in tables.items():
        df.to_parquet(folder / f"{name}.parquet")
    from_folder = feederopt.load(folder)
    in_memory = Network.from_tables(**tables)
    note = [w for w in from_folder.meta["warnings"] if w.startswith("loads.bus:")]
    assert note and note == [w for w in in_memory.meta["warnings"]
                             if w.startswith("loads.bus:")]
    assert in_memory.loads.equals(from_folder.loads)


def test_replace_reads_whole_float_ids_too() -> None:
    tables = _numbered()
    net = Network.from_tables(buses=tables["buses"], branches=tables["branches"],
                              loads=tables["loads"].assign(bus=tables["loads"]["bus"]
                                                           .astype(int)))
    edited = net.replace(loads=tables["loads"])
    assert edited.loads["bus"].equals(net.loads["bus"])
    assert any(w.startswith("loads.bus:") for w in edited.meta["warnings"])


def test_float_id_that_is_no_whole_number_is_refused_in_memory() -> None:
    tables = _numbered()
    tables["loads"].loc[2, "bus"] = 2.5
    with pytest.raises(InputError) as e:
        Network.from_tables(**tables)
    (p,) = e.value.problems
    assert (p.kind.value, p.component, p.field, p.ids) == ("invalid_value", "loads", "bus",
                                                          ("ld_C",))
    assert "2.5" in p.message and "astype(str)" in (p.hint or "")


def test_info_json_of_a_numbered_folder_unchanged(tmp_path: Path) -> None:
    """The folder reader still gives its note (the rule moved, not changed)."""
    folder = tmp_path / "feeder"
    folder.mkdir()
    for name, df in _numbered().items():
        df.to_csv(folder / f"{name}.csv", index=False)
    out = CliRunner().invoke(app, ["info", str(folder), "--json"])
    assert out.exit_code == 0, out.output
    notes = [w for w in json.loads(out.stdout)["warnings"] if w.startswith("loads.bus:")]
    assert len(notes) == 1 and "decimal point" in notes[0]

"""A table folder whose id columns pandas wrote as floats (an integer column with a missing
value becomes float: bus 2 is saved as 2.0).

Whole numbers are read as the integers' text, with a note naming the table and the column; a
float id that is not a whole number is refused with a typed problem (exit 2, no traceback)
naming the table, the column and the id, and how to store the ids. The reference for the
accepted folders is the same feeder written with integer ids, read by the same command: its
base-case AC power flow (pandapower) and loads per bus. Fails on the old code (the float ids
were unknown buses "2.0", "3.0").
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.io import write_folder

runner = CliRunner()

LOAD_BUSES = [2, 3, 3]
LOAD_P = [0.5, 0.3, 0.2]


def _write(folder: Path, fmt: str, load_buses: list, bus_ids: list | None = None) -> Path:
    """A 3-bus feeder; the loads' ``bus`` column as given (floats: as pandas stores them)."""
    folder.mkdir()
    bus_ids = bus_ids if bus_ids is not None else [1, 2, 3]
    tables = {
        "buses": pd.DataFrame({"id": bus_ids, "vn_kv": [11.0] * 3,
                               "is_source": [True, False, False]}),
        "branches": pd.DataFrame({"id": ["L1", "L2"], "from_bus": bus_ids[:2],
                                  "to_bus": bus_ids[1:], "r_ohm": [0.5, 0.6],
                                  "x_ohm": [0.4, 0.5]}),
        "loads": pd.DataFrame({"id": ["D1", "D2", "D3"], "bus": load_buses, "p_mw": LOAD_P,
                               "q_mvar": [0.1, 0.1, 0.05]}),
    }
    for name, df in tables.items():
        if fmt == "parquet":
            df.to_parquet(folder / f"{name}.parquet")
        else:
            df.to_csv(folder / f"{name}.csv", index=False)
    return folder


def _float_buses() -> pd.Series:
    """The loads' buses as pandas has them after a missing value was dropped: float64."""
    with_gap = pd.Series([*LOAD_BUSES, np.nan])
    return with_gap.dropna().reset_index(drop=True)


def _info(path: Path) -> tuple[int, dict, str]:
    out = runner.invoke(app, ["info", str(path), "--json"])
    text = runner.invoke(app, ["info", str(path)], env={"COLUMNS": "250"})
    assert (out.exit_code, text.exit_code) == (0, 0), out.output + text.output
    return out.exit_code, json.loads(out.stdout), text.output


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_whole_float_ids_read_as_integers_with_a_note(tmp_path, fmt):
    buses = _float_buses()
    assert buses.dtype == np.float64  # the premise: pandas made them floats
    path = _write(tmp_path / "f", fmt, buses.tolist())
    if fmt == "csv":  # as pandas writes a float column
        assert "2.0" in (path / "loads.csv").read_text()
    ref = _write(tmp_path / "i", fmt, LOAD_BUSES)
    _, got, text = _info(path)
    _, want, _ = _info(ref)
    note = [w for w in got["warnings"] if w.startswith("loads.bus:")]
    assert len(note) == 1 and "read as whole numbers (2, 3, 3)" in note[0]
    assert "loads.bus" in text and "whole numbers" in text
    assert not [w for w in want["warnings"] if w.startswith("loads.bus:")]
    # the same feeder: the loads on the same buses, the same AC power flow
    assert got["base_converged"] and want["base_converged"]
    for key in ("total_load_mw", "base_losses_kw", "base_min_voltage_pu",
                "base_min_voltage_bus"):
        assert got[key] == pytest.approx(want[key], rel=1e-12), key
    net = load(path)
    per_bus = dict(zip(net.loads["bus"].to_list(), net.loads["p_mw"].to_list(), strict=True))
    assert set(per_bus) == {"2", "3"} and per_bus["2"] == LOAD_P[0]


def test_non_integral_float_id_refused(tmp_path):
    """Parquet floats with a 2.5: a typed problem on loads.bus naming the row and the value,
    exit 2, no traceback."""
    path = _write(tmp_path / "f", "parquet", [2.0, 2.5, 3.0])
    out = runner.invoke(app, ["info", str(path)])
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    assert out.exception is None or isinstance(out.exception, SystemExit)
    msg = out.output
    assert "invalid_value: loads [D2].bus" in msg and "(2.5)" in msg
    assert "not a whole number" in msg and "astype(str)" in msg
    assert "unknown_bus" not in msg  # the cause, not its consequence


def test_csv_decimal_ids_that_are_no_bus_explained(tmp_path):
    """CSV 2.0, 2.5, 3.0 (a float column with a non-whole id): the unknown buses with the
    decimal point named as the cause and the bus id 2 that 2.0 likely meant; exit 2."""
    path = _write(tmp_path / "f", "csv", [2.0, 2.5, 3.0])
    out = runner.invoke(app, ["info", str(path)])
    assert out.exit_code == 2, out.output
    msg = out.output
    assert "unknown_bus: loads [D1, D2, D3].bus" in msg
    assert "decimal point" in msg and "buses.id has 2, 3" in msg and "Int64" in msg


def test_ids_written_as_decimal_text_everywhere_keep_matching(tmp_path):
    """Bus ids stored as the text "1.0", "2.0", "3.0" in the buses table and as floats in the
    loads table: they match as written (no conversion, no note), as before."""
    path = _write(tmp_path / "f", "parquet", _float_buses().tolist(),
                  bus_ids=["1.0", "2.0", "3.0"])
    _, got, _ = _info(path)
    assert not [w for w in got["warnings"] if w.startswith("loads.bus:")]
    assert sorted(load(path).loads["bus"].to_list()) == ["2.0", "3.0", "3.0"]


def test_written_back_folder_has_text_ids_and_no_note(tmp_path):
    path = _write(tmp_path / "f", "parquet", _float_buses().tolist())
    net = load(path)
    assert any(w.startswith("loads.bus:") for w in net.meta["warnings"])
    again = write_folder(net, tmp_path / "again")
    back = load(again)
    assert back.loads["bus"].to_list() == ["2", "3", "3"]
    assert not any(w.startswith("loads.bus:") for w in back.meta.get("warnings", []))

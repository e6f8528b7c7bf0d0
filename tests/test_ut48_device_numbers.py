"""A NaN or an infinity in any numeric device column is one ``invalid_value`` naming that
column, by one rule (:data:`feederopt.network.devices.DEVICE_NUMBERS`), and the range and sign
checks look at finite values only (user test ut48_dopf #1 to #5):

1. a table folder's ``shunts.p_mw_per_step`` = nan passed ``info`` ("problems: none") and
   ``solve`` died in cvxpy ("Problem data contains NaN or Inf", exit 1);
2. a controllable OLTC's ``tap_max_ratio`` = nan likewise;
3. ``tap_min_ratio`` = nan was "inverted_limits ... swap the tap limits";
4. ``tap_min_ratio`` -0.5, 0 or -inf was blamed on a sound ``tap_steps`` 11;
5. a NaN generator ``p_mw`` was said twice (also "p_mw nan outside p_min_mw..p_max_mw").

Truth: the user's file, the cell written here; the field, the kind and the words of the problem
the user must see, once, and exit 2 before any solver is built (cvxpy's ``Problem`` fails the
test if the solve reaches it).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import cvxpy as cp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from dopf_grid import device_tables, tap_grid_tables
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.io import write_folder
from feederopt.network import Network
from feederopt.network.devices import DEVICE_NUMBERS

runner = CliRunner()
ENV = {"COLUMNS": "400"}

# (grid, table, row id, column, cell text, kind, field, message): the tester's cases
CASES = [
    ("device", "shunts", "C1", "p_mw_per_step", "nan", "invalid_value", "p_mw_per_step",
     "p_mw_per_step is NaN (not a number)"),
    ("tap", "branches", "T1", "tap_max_ratio", "nan", "invalid_value", "tap_max_ratio",
     "tap_max_ratio is NaN (not a number)"),
    ("tap", "branches", "T1", "tap_min_ratio", "nan", "invalid_value", "tap_min_ratio",
     "tap_min_ratio is NaN (not a number)"),
    ("tap", "branches", "T1", "tap_min_ratio", "-0.5", "invalid_value", "tap_min_ratio",
     "tap_min_ratio must be positive"),
    ("tap", "branches", "T1", "tap_min_ratio", "0", "invalid_value", "tap_min_ratio",
     "tap_min_ratio must be positive"),
    ("tap", "branches", "T1", "tap_min_ratio", "-inf", "invalid_value", "tap_min_ratio",
     "tap_min_ratio is infinite"),
    ("device", "generators", "G1", "p_mw", "nan", "invalid_value", "p_mw",
     "p_mw is NaN (not a number)"),
]


def _tables(grid: str) -> dict[str, pl.DataFrame]:
    if grid == "tap":
        return tap_grid_tables()
    t = device_tables()
    # a lossy bank (the column given, as a folder written from pandapower has it)
    t["shunts"] = t["shunts"].with_columns(pl.lit(0.001).alias("p_mw_per_step"))
    return t


def _folder(tmp_path: Path, grid: str, table: str, row: str, column: str, text: str) -> Path:
    """A sound table folder with one cell of ``table`` rewritten to ``text``, as the tester
    edited tab_all's CSV."""
    folder = write_folder(Network.from_tables(**_tables(grid), name="ut48"), tmp_path / "bad",
                          fmt="csv")
    path = Path(folder) / f"{table}.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    hit = [r for r in rows if r["id"] == row]
    assert len(hit) == 1 and column in hit[0]  # the premise: the cell exists
    hit[0][column] = text
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return Path(folder)


@pytest.fixture
def no_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    def reached(*args: object, **kwargs: object) -> None:
        raise RuntimeError("cvxpy reached")
    monkeypatch.setattr(cp.Problem, "__init__", reached)


@pytest.mark.parametrize(("grid", "table", "row", "column", "text", "kind", "field", "says"),
                         CASES)
def test_a_bad_device_number_is_one_problem_on_its_column(
        tmp_path: Path, no_solver: None, grid: str, table: str, row: str, column: str,
        text: str, kind: str, field: str, says: str) -> None:
    folder = _folder(tmp_path, grid, table, row, column, text)
    with pytest.raises(InputError) as err:
        feederopt.load(folder)
    (problem,) = err.value.problems  # said once (#5), on the column given (#3, #4)
    assert (problem.kind.value, problem.component, problem.ids, problem.field) == (
        kind, table, (row,), field)
    assert problem.message.startswith(says)
    for args in (["info", str(folder)],
                 ["solve", str(folder), "--time-limit", "10", "--no-ac-check"]):
        res = runner.invoke(app, args, env=ENV)
        out = " ".join(res.output.split())
        assert res.exit_code == 2, out
        assert "error: 1 problem in the input" in out
        assert f"{kind}: {table} [{row}].{field}: {says}" in out
        assert "swap" not in out and "tap_steps" not in out
        assert "cvxpy reached" not in out and "Traceback" not in out


def test_a_sound_folder_still_passes(tmp_path: Path) -> None:
    """The premise of every case above: the folder without the edited cell is sound."""
    for grid, table, row, column in {(c[0], c[1], c[2], c[3]) for c in CASES}:
        folder = write_folder(Network.from_tables(**_tables(grid), name="ut48"),
                              tmp_path / f"{grid}_{column}", fmt="csv")
        feederopt.load(folder)  # no InputError
        assert row in pl.read_csv(Path(folder) / f"{table}.csv")["id"].to_list()


def _every_number() -> list[tuple[str, str, float]]:
    out = []
    for table, columns in DEVICE_NUMBERS.items():
        for col, rule in columns.items():
            out.append((table, col, math.nan))
            if not rule.unbounded:
                out += [(table, col, math.inf), (table, col, -math.inf)]
    return out


ROW = {"buses": "s", "branches": None, "shunts": "C1", "generators": "G1", "loads": "Lb"}


@pytest.mark.parametrize(("table", "column", "value"), _every_number())
def test_every_device_number_gets_the_same_rule(table: str, column: str, value: float) -> None:
    """One rule for all: the value NaN, inf or -inf in any row, in any numeric device column,
    is one ``invalid_value`` naming that column and that row, and nothing else (no "negative",
    "inverted", "outside the limits" beside it)."""
    t = device_tables()
    df = t[table]
    row = ROW[table] or str(df["id"][0])
    t[table] = df.with_columns(
        pl.when(pl.col("id") == row).then(pl.lit(value, dtype=pl.Float64))
        .otherwise(pl.col(column).cast(pl.Float64) if column in df.columns else None)
        .alias(column))
    with pytest.raises(InputError) as err:
        Network.from_tables(**t, name="bad").check()
    (problem,) = err.value.problems
    assert (problem.kind.value, problem.component, problem.ids, problem.field) == (
        "invalid_value", table, (row,), column)
    said = "NaN (not a number)" if math.isnan(value) else "infinite"
    assert problem.message == f"{column} is {said}"


def test_a_pandapower_shunt_without_a_voltage_is_one_problem() -> None:
    """A shunt's ``vn_kv`` 0 makes both its powers NaN when scaled to its bus: the root cause
    (``net.shunt.vn_kv``) is said, not the rule's NaN ``q_mvar_per_step`` and
    ``p_mw_per_step`` beside it. Truth: the net's own shunt, whose vn_kv is 0."""
    import pandapower as pp

    net = pp.create_empty_network()
    hv, lv, far = pp.create_bus(net, 110), pp.create_bus(net, 20), pp.create_bus(net, 20)
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    pp.create_transformer(net, hv, lv, "25 MVA 110/20 kV")
    pp.create_line(net, lv, far, 2.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
    pp.create_load(net, far, p_mw=2.0, q_mvar=0.5)
    pp.create_shunt(net, far, q_mvar=-0.4, p_mw=0.01, step=1, max_step=3, vn_kv=0.0)
    with pytest.raises(InputError) as err:
        feederopt.load(net)
    (problem,) = err.value.problems
    assert (problem.component, problem.ids, problem.field) == ("shunts", ("shunt:0",), "vn_kv")

"""Fields that a scenario file is not read by are named, not dropped (user test ut42_badin #5).

A load-scenario table (``solve --scenarios``, CSV or Parquet) with a ``comment`` column, and a
disaster file (``plan --scenarios``, JSON or CSV) whose scenario gives ``brokn`` beside
``broken``, were read without a word; a scenario with ``brokn`` alone was told "no broken lines
given (an empty list breaks none)", which names neither the missing key nor ``brokn``; and a
header ``wieght`` got "missing column(s) weight" without pointing at it. The truth here is the
files themselves: which fields they hold, and the demands and lines they give (each scenario
still reads as its file says, by hand).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import FeederoptWarning, InputError, ProblemKind
from feederopt.io.disasters import disaster_warnings, frame_disasters, read_disasters
from feederopt.io.scenarios import load_scenarios
from feederopt.network import Network
from feederopt.uncertainty import solve_scenarios
from test_scenario_missing_load import _feeder

runner = CliRunner()


def _table() -> pl.DataFrame:
    return pl.DataFrame({"scenario": ["s0", "s0", "s1", "s1"], "element": ["d1", "d2"] * 2,
                         "p_mw": [0.6, 0.4, 0.15, 0.1], "q_mvar": [0.2, 0.1, 0.05, 0.02],
                         "weight": [0.5] * 4, "comment": ["peak", "peak", "low", "low"]})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_unknown_scenario_column_is_warned_and_the_rest_read(tmp_path: Path,
                                                                suffix: str) -> None:
    path = tmp_path / f"sc{suffix}"
    (_table().write_csv if suffix == ".csv" else _table().write_parquet)(path)
    sset = load_scenarios(_feeder(), path)
    (note,) = sset.notes
    assert "unknown_column" in note and "'comment'" in note
    # by hand: s0 draws 0.6 MW at b1 and 0.4 MW at b2, as the file says
    b1, b2 = sset.bus_ids.index("b1"), sset.bus_ids.index("b2")
    assert (sset.p_mw[0, b1], sset.p_mw[0, b2]) == pytest.approx((0.6, 0.4))


def test_a_misspelt_kind_column_gets_the_nearest_name() -> None:
    (note,) = load_scenarios(_feeder(), _table().drop("comment").with_columns(
        pl.lit("load").alias("knd"))).notes
    assert "'knd'" in note and "did you mean 'kind'?" in note


def test_the_solve_says_it_before_and_in_its_notes() -> None:
    with pytest.warns(FeederoptWarning, match="unknown column 'comment'"):
        res = solve_scenarios(_feeder(), _table(), ac_check=False, time_limit=30)
    assert any("'comment'" in n for n in res.notes)


def test_a_known_table_gets_no_note() -> None:
    assert load_scenarios(_feeder(), _table().drop("comment")).notes == ()


def test_a_misspelt_required_column_is_named(tmp_path: Path) -> None:
    """The tester's ``wieght``: the missing column and the one meant."""
    path = tmp_path / "w.csv"
    _table().drop("comment").rename({"weight": "wieght"}).write_csv(path)
    with pytest.raises(InputError) as exc:
        load_scenarios(_feeder(), path)
    (p,) = exc.value.problems
    assert p.field == "weight" and "'wieght'" in p.message
    assert "rename 'wieght' to weight" in p.hint


# ----- disaster scenarios (plan --scenarios) ---------------------------------------------------
def _write(tmp_path: Path, doc: object, name: str = "d.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture(scope="module")
def zhang13() -> Network:
    return load("zhang13")


def test_a_misspelt_key_beside_the_right_one_is_warned(tmp_path: Path,
                                                       zhang13: Network) -> None:
    """``brokn`` beside ``broken`` (the tester's s6.json): read as the file's ``broken``
    says, with a warning naming ``brokn``, its scenario and the key meant."""
    path = _write(tmp_path, {"scenarios": [
        {"name": "A", "probability": 0.9, "broken": ["2", "11"], "brokn": ["5"]},
        {"name": "B", "probability": 0.1, "broken": ["4"]}]})
    ds = read_disasters(path, zhang13)
    assert [d.broken for d in ds.scenarios] == [("2", "11"), ("4",)]
    (note,) = disaster_warnings(ds)
    assert "[A].brokn" in note and "did you mean 'broken'?" in note


def test_a_misspelt_key_alone_is_an_error_naming_it(tmp_path: Path, zhang13: Network) -> None:
    """``brokn`` alone in scenario B (the tester's s9.json): the key is said to be missing,
    and ``brokn`` named as the one meant."""
    path = _write(tmp_path, {"scenarios": [
        {"name": "A", "probability": 0.9, "broken": ["2", "11"]},
        {"name": "B", "probability": 0.1, "brokn": ["4"]}]})
    with pytest.raises(InputError) as exc:
        read_disasters(path, zhang13)
    (p,) = exc.value.problems
    assert (p.ids, p.field) == (("B",), "broken")
    assert "the field 'broken' is missing" in p.message and "'brokn'" in p.message
    assert "rename 'brokn' to 'broken'" in p.hint


def test_a_missing_key_says_it_is_missing(tmp_path: Path, zhang13: Network) -> None:
    path = _write(tmp_path, {"scenarios": [
        {"name": "A", "probability": 0.9, "broken": ["2"]},
        {"name": "B", "probability": 0.1}]})
    with pytest.raises(InputError) as exc:
        read_disasters(path, zhang13)
    (p,) = exc.value.problems
    assert "the field 'broken' is missing" in p.message and "no broken lines given" not in (
        p.message)


def test_every_scenario_misspelling_a_key_names_it(tmp_path: Path, zhang13: Network) -> None:
    path = _write(tmp_path, {"scenarios": [{"name": "A", "probability": 1.0, "brokn": ["2"]}]})
    with pytest.raises(InputError) as exc:
        read_disasters(path, zhang13)
    (p,) = exc.value.problems
    assert p.kind is ProblemKind.MISSING_COLUMN and "rename 'brokn' to 'broken'" in p.hint


def test_csv_and_table_columns_and_top_level_keys(tmp_path: Path, zhang13: Network) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("name,probability,broken,comment\nA,1.0,2;11,storm\n")
    ds = read_disasters(csv, zhang13)
    assert ds.scenarios[0].broken == ("2", "11")
    (note,) = disaster_warnings(ds)
    assert "unknown column 'comment'" in note
    top = _write(tmp_path, {"descripton": "x", "scenarios": [
        {"name": "A", "probability": 1.0, "broken": ["2"]}]})
    (note,) = disaster_warnings(read_disasters(top, zhang13))
    assert "'descripton'" in note and "did you mean 'description'?" in note
    frame = pl.DataFrame({"name": ["A"], "probability": [1.0], "broken": ["2"],
                          "probabilty": [0.5]})
    (note,) = disaster_warnings(frame_disasters(frame, zhang13))
    assert "'probabilty'" in note and "did you mean 'probability'?" in note
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = read_disasters(_write(tmp_path, {"scenarios": [
            {"name": "A", "probability": 1.0, "broken": ["2"]}]}, "c.json"), zhang13)
    assert disaster_warnings(clean) == []


def test_plan_exits_2_naming_brokn(tmp_path: Path) -> None:
    path = _write(tmp_path, {"scenarios": [
        {"name": "A", "probability": 0.9, "broken": ["2", "11"]},
        {"name": "B", "probability": 0.1, "brokn": ["4"]}]})
    r = runner.invoke(app, ["plan", "zhang13", "--scenarios", str(path), "--time-limit", "20"])
    text = " ".join(r.output.split())
    assert r.exit_code == 2, r.output
    assert "'brokn'" in text and "Traceback" not in r.output

"""A disaster-scenario file without the columns ``probability`` and ``broken`` (user test:
``name,prob,lines``): one typed problem naming the missing columns and the columns found,
exit code 2, not a "probability must be a number" per row."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from feederopt import InputError
from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import ProblemKind
from feederopt.io.disasters import read_disasters


@pytest.fixture(scope="module")
def zhang():
    return load("zhang13")


def test_csv_with_wrong_columns_names_them(zhang, tmp_path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("name,prob,lines\nA,0.5,2\nB,0.5,5\n")
    with pytest.raises(InputError) as err:
        read_disasters(f, zhang)
    (p,) = err.value.problems
    assert p.kind is ProblemKind.MISSING_COLUMN
    assert p.field == "probability,broken"
    for word in ("'probability'", "'broken'", "'prob'", "'lines'"):
        assert word in p.message
    res = CliRunner().invoke(app, ["plan", "zhang13", "--scenarios", str(f)])
    assert res.exit_code == 2
    assert "probability must be a number" not in res.output
    assert "'probability', 'broken'" in res.output and "'lines'" in res.output


def test_csv_missing_one_column(zhang, tmp_path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("name,probability,lines\nA,0.5,2\nB,0.5,5\n")
    with pytest.raises(InputError) as err:
        read_disasters(f, zhang)
    (p,) = err.value.problems
    assert (p.kind, p.field) == (ProblemKind.MISSING_COLUMN, "broken")


def test_json_fields(zhang, tmp_path) -> None:
    f = tmp_path / "d.json"
    f.write_text(json.dumps({"scenarios": [{"name": "A", "prob": 1.0, "broken": ["2"]}]}))
    with pytest.raises(InputError) as err:
        read_disasters(f, zhang)
    (p,) = err.value.problems
    assert (p.kind, p.field) == (ProblemKind.MISSING_COLUMN, "probability")
    assert "'prob'" in p.message and "rename 'prob' to 'probability'" in p.hint
    # One scenario without the field: named per scenario.
    f.write_text(json.dumps({"scenarios": [{"name": "A", "probability": 0.5, "broken": ["2"]},
                                           {"name": "B", "broken": ["5"]}]}))
    with pytest.raises(InputError) as err:
        read_disasters(f, zhang)
    assert [(p.ids, p.field, p.message) for p in err.value.problems] == [
        (("B",), "probability", "the field 'probability' is missing")]


def test_good_csv_still_reads(zhang, tmp_path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("name,probability,broken\nA,0.5,2;11\nB,0.5,\n")
    ds = read_disasters(f, zhang)
    assert [(d.name, d.probability, d.broken) for d in ds.scenarios] == [
        ("A", 0.5, ("2", "11")), ("B", 0.5, ())]

"""A result document edited by hand or cut short is a typed problem naming the field (and the
file), never a KeyError, ValueError or AttributeError from inside ``Result.from_dict`` (user
test ut41_pyapi #2: ``load_result`` of a result.json without ``status`` leaked ``KeyError:
'status'``, ``"status": "great"`` ``ValueError: 'great' is not a valid Status``, ``"objective":
"abc"`` a float conversion error, ``tables.buses = "x"`` an AttributeError)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import feederopt
from feederopt.errors import InputError
from netbuild import tiny


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return feederopt.solve(tiny(), time_limit=30, ac_check=False).to_dict(tables=True)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.pop(key)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.__setitem__(key, value)


EDITS = [
    (_drop("status"), "status", "the result has no status",
     "optimal, feasible, infeasible, time_limit, interrupted, error"),
    (_drop("method"), "method", "the result has no method", "benders"),
    (_drop("case"), "case", "the result has no case", "case33bw"),
    (_set("status", "great"), "status", "unknown status 'great'", "optimal, feasible"),
    (_set("objective", "abc"), "objective", "objective must be a number or null, not 'abc'",
     ""),
    (_set("open_branches", "L-FG"), "open_branches", "must be a list of objects, not 'L-FG'",
     '"id"'),
    (lambda d: d["tables"].__setitem__("buses", "x"), "tables.buses",
     "tables.buses must be a table", "columns"),
    (_set("iterations", "many"), "iterations", "must be a whole number", ""),
]


@pytest.mark.parametrize(("edit", "field", "message", "hint"), EDITS)
def test_from_dict_names_the_field(doc: dict[str, Any], edit: Any, field: str, message: str,
                                   hint: str) -> None:
    d = copy.deepcopy(doc)
    edit(d)
    with pytest.raises(InputError) as e:
        feederopt.Result.from_dict(d)
    (p,) = e.value.problems
    assert (p.component, p.field) == ("result", field)
    assert message in p.message and hint in p.hint


@pytest.mark.parametrize(("edit", "field", "message", "hint"), EDITS[:5])
def test_load_result_names_the_file_and_the_field(doc: dict[str, Any], tmp_path: Path,
                                                  edit: Any, field: str, message: str,
                                                  hint: str) -> None:
    d = json.loads(feederopt.Result.from_dict(doc).to_json())
    edit(d)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(d))
    with pytest.raises(InputError) as e:
        feederopt.load_result(path)
    (p,) = e.value.problems
    assert p.field == field and message in p.message
    assert p.ids == (str(path),)


def test_every_problem_at_once_and_a_good_document_reads(doc: dict[str, Any]) -> None:
    d = copy.deepcopy(doc)
    del d["status"]
    d["objective"] = "abc"
    with pytest.raises(InputError) as e:
        feederopt.Result.from_dict(d)
    assert {p.field for p in e.value.problems} == {"status", "objective"}
    back = feederopt.Result.from_dict(json.loads(json.dumps(doc)))
    assert back.objective == doc["objective"] and back.status.value == doc["status"]

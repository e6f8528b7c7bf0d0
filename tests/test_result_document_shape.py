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


# ----- every field from_dict converts, fuzzed (user test ut41_recheck_a #2) -----------------------
# ac_check.losses_kw "x", ac_check.warnings 5 and status [1] leaked ValueError/TypeError (and
# "feederopt report" exited 1 with "error: TypeError"); gap -1, lower_bound [1] (read as -inf)
# and within_limits "x" (read as true) were taken without a word. The truth: the JSON type that
# to_dict writes for each key (the written document's own value; for keys that are null or
# absent in it, the type to_dict writes when there is a value).
_NULL_OR_ABSENT = {"source": "string", "generators": "list", "literature": "list",
                   "ac_check.max_loading_percent": "number",
                   "ac_check.max_loading_element": "string"}
#: Keys from_dict does not convert: kept in ``extra`` as written, derived, or checked apart.
_NOT_READ = {"kind", "schema_version", "feederopt_version", "ac_verdict", "inputs_sha256",
             "settings", "tables", "ac_check.limit_tolerance"}
_WRONG = {"string": "x", "number": 5, "bool": True, "list": [1], "object": {"a": 1}}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "list", dict: "object"}[type(value)]


@pytest.fixture(scope="module")
def checked_doc() -> dict[str, Any]:
    """A solve's document with its AC check."""
    return json.loads(feederopt.solve(tiny(), time_limit=30).to_json())


def _typed_keys(doc: dict[str, Any]) -> dict[str, str]:
    keys = {k: _json_type(v) for k, v in doc.items() if v is not None and k != "ac_check"}
    keys.update({f"ac_check.{k}": _json_type(v) for k, v in doc["ac_check"].items()
                 if v is not None})
    keys.update(_NULL_OR_ABSENT)
    return {k: t for k, t in keys.items() if k not in _NOT_READ}


def _with(doc: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    d = copy.deepcopy(doc)
    where, _, name = key.rpartition(".")
    (d[where] if where else d)[name] = value
    return d


def test_every_field_of_a_wrong_json_type_is_refused_by_name(
        checked_doc: dict[str, Any]) -> None:
    keys = _typed_keys(checked_doc)
    assert len(keys) >= 35 and "ac_check.warnings" in keys and "status" in keys
    crashed, accepted = [], []
    for key, kind in keys.items():
        for wrong, value in _WRONG.items():
            if wrong == kind:
                continue
            try:
                feederopt.Result.from_dict(_with(checked_doc, key, value))
            except InputError as e:
                assert key in {p.field for p in e.problems}, (key, value, e)
                continue
            except Exception as e:  # the defect: any other exception
                crashed.append(f"{key}={value!r}: {type(e).__name__}: {e}")
                continue
            accepted.append(f"{key}={value!r}")
    assert not crashed, crashed
    assert not accepted, accepted


@pytest.mark.parametrize(("key", "value"), [
    ("gap", -1), ("iterations", -3), ("solve_time_s", -2.0), ("lower_bound", "x"),
    ("ac_check.warnings", ["ok", 5]), ("ac_check.limit_violations", ["v"]),
    ("ac_check.converged", None),
])
def test_a_value_of_the_right_type_that_cannot_be_is_refused(checked_doc: dict[str, Any],
                                                             key: str, value: Any) -> None:
    # a gap is (objective - bound) / |objective| >= 0, a count and a time are not negative
    with pytest.raises(InputError) as e:
        feederopt.Result.from_dict(_with(checked_doc, key, value))
    assert key in {p.field for p in e.value.problems}


@pytest.mark.parametrize(("key", "value"), [
    ("lower_bound", "-inf"), ("lower_bound", "inf"), ("gap", None), ("gap", 0),
    ("ac_check.max_loading_percent", 87.5), ("ac_check.max_loading_element", "line 3"),
])
def test_what_a_solve_writes_still_reads(checked_doc: dict[str, Any], key: str,
                                         value: Any) -> None:
    feederopt.Result.from_dict(_with(checked_doc, key, value))
    feederopt.Result.from_dict(checked_doc)

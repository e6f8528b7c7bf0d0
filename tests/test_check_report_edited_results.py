"""``feederopt check`` and ``feederopt report`` of a result folder whose result.json was
edited by hand: a typed problem naming the file and the field, exit code 2, no traceback.

Before, on a schedule result (``feederopt schedule case33bw --hours 2 --out DIR``, the stored
folder of ``tests/data/result_kinds``):

* check stopped with exit 1 (``KeyError``, ``IndexError``, ``TypeError``, ``AttributeError``)
  for ``open_lines_by_hour`` deleted or with a null hour, ``ess_discharge_mode`` not an
  object or with fewer hours, ``inputs`` not an object, ``inputs.source`` a number,
  ``settings`` not an object or ``settings.hours`` a word, ``sample_check`` not an object;
  and read ``settings`` deleted as the default day (``open_lines_by_hour has 2 hour(s), the
  schedule 24``);
* report said ``result.json is not a schedule result as ... writes it (AttributeError:
  'str' object has no attribute 'get')`` for ``series``, ``nominal``, ``ac_check``,
  ``iterations`` or ``dg_commitment`` of the wrong type, naming no field;
* on a solve result whose ``open_branches`` was deleted, check said "its kind 'solve' is
  none that feederopt writes", which it is.

The truth: the edits themselves (each field the test changes is the one that must be named).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import check_schedule_result
from feederopt.cli import app
from feederopt.errors import InputError

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "result_kinds"


def _edited(tmp_path: Path, kind: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    folder = tmp_path / kind
    shutil.copytree(DATA / kind, folder)
    doc = json.loads((folder / "result.json").read_text())
    edit(doc)
    (folder / "result.json").write_text(json.dumps(doc))
    return folder


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        outer, _, inner = key.partition(".")
        if inner:
            doc[outer][inner] = value
        else:
            doc[outer] = value
    return edit


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.pop(key)


def _short_modes(doc: dict[str, Any]) -> None:
    doc["ess_discharge_mode"] = {k: v[:1] for k, v in doc["ess_discharge_mode"].items()}


def _one_unit_less(doc: dict[str, Any]) -> None:
    doc["ess_discharge_mode"].pop("ESS32")


def _typed(result: Any, folder: Path, field: str) -> str:
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Error:" not in text, result.output
    assert f"result [{folder / 'result.json'}].{field}:" in text, text
    return text


CHECK_EDITS = {
    "open_lines_by_hour": _drop("open_lines_by_hour"),
    "open_lines_by_hour ": _set("open_lines_by_hour", [None, None]),
    "ess_discharge_mode": _set("ess_discharge_mode", "x"),
    "ess_discharge_mode ": _short_modes,
    "ess_discharge_mode  ": _one_unit_less,
    "inputs": _set("inputs", "x"),
    "inputs.source": _set("inputs.source", 5),
    "settings": _set("settings", "x"),
    "settings ": _drop("settings"),
    "settings.hours": _set("settings.hours", "two"),
    "sample_check": _set("sample_check", "x"),
}


@pytest.mark.parametrize("field", list(CHECK_EDITS))
def test_check_names_the_file_and_the_field(tmp_path: Path, field: str) -> None:
    folder = _edited(tmp_path, "schedule", CHECK_EDITS[field])
    result = runner.invoke(app, ["check", str(folder), "--samples", "1"])
    _typed(result, folder, field.strip())


def test_the_api_names_the_file_too(tmp_path: Path) -> None:
    folder = _edited(tmp_path, "schedule", _drop("open_lines_by_hour"))
    with pytest.raises(InputError) as exc:
        check_schedule_result(folder, samples=1)
    (problem,) = exc.value.problems
    assert problem.field == "open_lines_by_hour"
    assert problem.ids == (str(folder / "result.json"),)


def test_the_unedited_folder_is_checked(tmp_path: Path) -> None:
    """The baseline: the same folder unedited is checked (exit 0), so that the exit 2 above
    is the edit's."""
    folder = _edited(tmp_path, "schedule", lambda doc: None)
    result = runner.invoke(app, ["check", str(folder), "--samples", "1"])
    assert result.exit_code == 0, result.output


REPORT_EDITS = {
    "series": _set("series", [1]),
    "nominal": _set("nominal", "x"),
    "ac_check": _set("ac_check", ["x"]),
    "iterations": _set("iterations", "x"),
    "dg_commitment": _set("dg_commitment", "x"),
    "open_lines_by_hour": _set("open_lines_by_hour", "x"),
}


@pytest.mark.parametrize("field", list(REPORT_EDITS))
def test_report_names_the_field(tmp_path: Path, field: str) -> None:
    folder = _edited(tmp_path, "schedule", REPORT_EDITS[field])
    result = runner.invoke(app, ["report", str(folder)])
    text = _typed(result, folder, field)
    assert "AttributeError" not in text and "TypeError" not in text
    assert not (folder / "report.html").exists()


def test_a_solve_result_without_open_branches(tmp_path: Path) -> None:
    """Before: "not a feederopt result (no open_branches); its kind 'solve' is none that
    feederopt writes"."""
    folder = _edited(tmp_path, "solve_v1", _drop("open_branches"))
    result = runner.invoke(app, ["check", str(folder), "-u", "0.1", "--samples", "1",
                                 "--no-ac-check"])
    text = _typed(result, folder, "open_branches")
    assert "none that feederopt writes" not in text


def test_a_truncated_table_is_named_by_report(tmp_path: Path) -> None:
    """A guard (typed before this change too): a Parquet table cut short is named."""
    folder = _edited(tmp_path, "solve_v1", lambda doc: None)
    table = folder / "buses.parquet"
    table.write_bytes(table.read_bytes()[:200])
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert f"[{table}]" in text and "not a readable Parquet table" in text

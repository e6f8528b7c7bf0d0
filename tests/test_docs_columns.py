"""ut37_fresh #3: the column reference of a table folder (docs/columns.md) is generated from
the schemas (``docs/columns.py``) and must match them, and the README names every column of
a result folder's ``iterations.parquet`` and ``switches.parquet`` (their gap, elapsed_s,
master_s, slave_s, note and initially_closed were undocumented)."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path
from typing import Any

from feederopt.network.schemas import BOOL_TEXT, TABLES

ROOT = Path(__file__).resolve().parents[1]


def _columns_script() -> Any:
    spec = importlib.util.spec_from_file_location("docs_columns", ROOT / "docs" / "columns.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_columns_md_matches_the_schemas() -> None:
    script = _columns_script()
    assert script.current() == script.markdown(), (
        "docs/columns.md differs from feederopt.network.schemas: run "
        "`PYTHONPATH=src python docs/columns.py`")
    text = (ROOT / "docs" / "columns.md").read_text()
    for table, model in TABLES.items():
        for name in model.model_fields:
            assert f"| `{name}` |" in text, (table, name)


def test_the_boolean_spellings_documented_are_the_readers() -> None:
    """The words the docs give for a true/false column are those the readers take."""
    from feederopt.io import folder

    documented = {"true", "false", "1", "0"}
    assert set(BOOL_TEXT) == documented  # tables given in memory
    assert {*folder._TRUE, *folder._FALSE} == documented  # CSV and Parquet files
    for path in (ROOT / "docs" / "columns.md", ROOT / "README.md"):
        doc = " ".join(path.read_text().split())
        assert "`true`/`false` or `1`/`0`" in doc and "any letter case" in doc, path


def test_readme_names_every_result_table_column(tmp_path: Path) -> None:
    import feederopt
    from feederopt.report.output import ITERATION_COLUMNS
    from feederopt.solvers.status import IterationRecord
    from test_ut37_base_limits import _folder

    readme = (ROOT / "README.md").read_text()
    iterations = [ITERATION_COLUMNS.get(f.name, f.name)
                  for f in dataclasses.fields(IterationRecord)]
    switches = feederopt.solve(str(_folder(tmp_path)), time_limit=60).switches.columns
    named = set(re.findall(r"`([a-z_]+)`", readme))
    assert [c for c in [*iterations, *switches] if c not in named] == []

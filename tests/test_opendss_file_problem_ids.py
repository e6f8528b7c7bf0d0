"""The ids of an OpenDSS file's problem are files (user test ut50_iobad #6): a file holding
"hello world" listed OpenDSS's example command ``new circuit.mycktname`` among the "file"
ids. The truth is the user's file: its text names no circuit, and the only file is itself
(or, for a missing Redirect, the file it names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from feederopt.cases import load_any
from feederopt.errors import InputError


def _problem(path: Path):  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        load_any(str(path))
    assert len(info.value.problems) == 1
    return info.value.problems[0]


def test_a_file_without_a_circuit_is_named_alone(tmp_path: Path) -> None:
    path = tmp_path / "garbage.dss"
    path.write_text("hello world\n")
    found = _problem(path)
    assert found.component == "file"
    assert found.ids == (str(path),), found.ids
    assert "New Circuit" in found.hint


def test_a_missing_redirect_still_names_its_target(tmp_path: Path) -> None:
    path = tmp_path / "master.dss"
    path.write_text("Clear\nNew Circuit.c basekv=12.47 pu=1.0\nRedirect nosuchfile.dss\n")
    found = _problem(path)
    assert found.ids == (str(path), "nosuchfile.dss"), found.ids

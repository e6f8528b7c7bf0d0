"""A doubled ``[`` (``mpc.bus = [[``, closed by one ``];``) is named as the bracket it is, at
its line (user test ut50_iobad #6: "row(s) 1 of mpc.bus have a different number of columns
than the others"). The truth is the user's file: the line that holds the ``[[``. A nested,
balanced matrix (MATLAB's ``[[1 2]; [3 4]]``) is not refused by this rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from feederopt.cases import load
from feederopt.errors import InputError, ProblemKind


def _case_lines() -> list[str]:
    return Path(load("case33bw").meta["path"]).read_text(encoding="utf-8").splitlines()


def test_a_doubled_bracket_is_named_at_its_line(tmp_path: Path) -> None:
    lines = _case_lines()
    at = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("mpc.bus"))
    lines[at] = lines[at].replace("[", "[[", 1)
    broken = tmp_path / "syntax_bracket.m"
    broken.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        load(broken)
    (p,) = err.value.problems
    assert p.kind is ProblemKind.UNREADABLE_FILE
    assert "different number of columns" not in p.message
    assert (f"the brackets of mpc.bus do not balance: the '[' at line {at + 1} is never "
            "closed" in p.message), p.message


def test_a_balanced_nested_matrix_is_no_bracket_problem(tmp_path: Path) -> None:
    lines = _case_lines()
    at = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("mpc.gen ="))
    end = next(i for i in range(at, len(lines)) if lines[i].strip() == "];")
    rows = [ln.strip().rstrip(";") for ln in lines[at + 1:end] if ln.strip()]
    lines[at:end + 1] = ["mpc.gen = [" + "; ".join(f"[{r}]" for r in rows) + "];"]
    nested = tmp_path / "nested.m"
    nested.write_text("\n".join(lines) + "\n")
    try:
        load(nested)
    except InputError as err:
        assert not any("do not balance" in p.message for p in err.problems), err

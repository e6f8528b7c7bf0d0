"""The shell blocks of the documentation name the repository's data so that they run where a
reader runs them (user test ut39_cli #3: docs/schedule.md's "Reproduce" block set
``D=tests/data/schedule_commitment``, which works only from the repository root and said
nothing of it; the files are in the clone's ``tests/``, not in the installed package).

Every line of a shell block (README.md, docs/*.md) that names ``tests/data/`` either assigns
a variable whose value, evaluated by bash in a subfolder of the clone (``docs/``), is an
existing folder, or uses such a variable; a relative ``tests/data/...`` elsewhere is refused.
Independent truth: bash's own expansion and the file system."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = ("bash", "sh", "shell", "")


def _shell_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of every line inside a fenced shell block of ``path``."""
    out, language = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fence = re.match(r"^\s*```\s*([\w-]*)", line)
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language in SHELLS:
            out.append((number, line))
    return out


CASES = [(p, n, line) for p in DOCS for n, line in _shell_lines(p) if "tests/data/" in line]


def test_the_schedule_reproduce_block_is_among_them() -> None:
    assert any(p.name == "schedule.md" and "schedule_commitment" in line
               for p, _, line in CASES)


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("git") is None
                    or not (ROOT / ".git").exists(), reason="needs bash, git and a clone")
@pytest.mark.parametrize(("path", "number", "line"), CASES,
                         ids=[f"{p.name}:{n}" for p, n, _ in CASES])
def test_a_data_path_resolves_from_a_subfolder(path: Path, number: int, line: str) -> None:
    assignment = re.match(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=(.*)$", line)
    assert assignment, (f"{path.name}:{number}: a relative tests/data/ path in a command "
                        f"runs only from the repository root: {line!r}; assign it to a "
                        "variable anchored at the clone's root")
    name = assignment.group(1)
    run = subprocess.run(["bash", "-c", f"{line.strip()}; printf %s \"${name}\""],
                         cwd=ROOT / "docs", capture_output=True, text=True, timeout=30,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert Path(run.stdout).is_absolute(), (f"{path.name}:{number}: {name} = {run.stdout!r} "
                                            "is relative to where the reader runs it")
    assert (ROOT / "docs" / run.stdout).is_dir(), run.stdout

"""User test ut34 #3: a stochastic solve from Python fed on standard input (``python - <
cell.py``) or from a script without the ``if __name__ == "__main__":`` guard ended
``interrupted`` with only "a worker process of the pool died": the ``spawn`` workers import the
main module first, and cannot (``<stdin>`` is no file) or run the script's solve again while
they start (multiprocessing's bootstrapping RuntimeError). The executor now sees it coming and
runs the work serially, with a FeederoptWarning naming the cause and the fix; a guarded script
still gets the process pool.

Each case runs in its own interpreter, as the user's did; the truth is the task's own
arithmetic (``operator.sub(0, x)`` on the state ``int() == 0``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import feederopt

#: Where the feederopt under test lives, for the child interpreters.
SRC = str(Path(feederopt.__file__).resolve().parents[1])

IMPORTS = "import json, operator, warnings\nfrom feederopt.execution import make_executor\n"
BODY = """\
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ex = make_executor(int, workers=2)
out = ex.map(operator.sub, [1, 2, 3, 4])
ex.close()
print("RESULT " + json.dumps({"kind": type(ex).__name__, "out": out,
                              "warnings": [str(w.message) for w in caught]}))
"""


def _script(guarded: bool) -> str:
    if not guarded:
        return IMPORTS + BODY  # make_executor on line 5, at the top level
    return IMPORTS + 'if __name__ == "__main__":\n' + textwrap.indent(BODY, "    ")


def _run(tmp_path: Path, guarded: bool, stdin: bool) -> dict[str, object]:
    script = tmp_path / "user_script.py"
    script.write_text(_script(guarded))
    env = {**os.environ, "PYTHONPATH": SRC}
    args = [sys.executable, "-"] if stdin else [sys.executable, str(script)]
    proc = subprocess.run(args, input=script.read_text() if stdin else None, cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and len(lines) == 1, proc.stdout + proc.stderr[-3000:]
    result: dict[str, object] = json.loads(lines[0].removeprefix("RESULT "))
    return result


TRUTH = [0 - x for x in (1, 2, 3, 4)]


@pytest.mark.parametrize("stdin", [False, True], ids=["script-without-guard", "stdin"])
def test_unimportable_main_runs_serially_with_a_warning(tmp_path: Path, stdin: bool) -> None:
    got = _run(tmp_path, guarded=False, stdin=stdin)
    assert got["out"] == TRUTH
    assert got["kind"] == "SerialExecutor"
    warned = got["warnings"]
    assert isinstance(warned, list) and len(warned) == 1
    text = warned[0]
    assert "serially" in text and 'if __name__ == "__main__":' in text and "workers=1" in text
    assert ("<stdin>" in text) if stdin else ("without the" in text and "line 5" in text)


def test_a_guarded_script_keeps_the_process_pool(tmp_path: Path) -> None:
    got = _run(tmp_path, guarded=True, stdin=False)
    assert got == {"kind": "ProcessExecutor", "out": TRUTH, "warnings": []}

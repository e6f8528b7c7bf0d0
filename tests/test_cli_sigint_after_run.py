"""A Ctrl-C (SIGINT) that comes as ``plan`` finishes (user test ut43 recheck #4).

After the solve's stop handler (``solvers.interrupt.handle_signals``) was removed, a SIGINT
raised Python's ``KeyboardInterrupt``: while the outputs were written, the command said
"interrupted: (Ctrl-C) before the run started; nothing written" (exit 130) and the JSON was
missing; after the command (at the interpreter's exit) the process died with return code -2
and no message. Now the completed answer stands (``cli.app._sigint_after_run``): the JSON is
written whole, the console output is complete, one line says the run had finished, and the
exit code is the run's; after the command SIGINT is ignored (at the interpreter's exit CPython
puts the handlers it installed back to the default action, not an ignored signal).

A hook sends the signal at a fixed point of each run (as tests/test_resilience_lshaped_interrupt.py
does): inside the JSON's write, and after the command returned. Truth: the JSON parses and is
the answer the console printed (its status), the process's return code.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: Runs ``feederopt ARGS`` with SIGINT sent to itself at ``WHERE``: ``write`` (inside the
#: JSON's write, waiting until the handler has run) or ``exit`` (after the command returned,
#: during the interpreter's way out).
_HOOKED = textwrap.dedent("""
    import atexit, os, signal, sys, time
    # what the interpreter's exit finds: CPython's finalization puts a handler back to the
    # default action (a SIGINT then ends the process, -2) unless the signal is ignored
    atexit.register(lambda: sys.stderr.write(
        f"sigint at exit: {signal.getsignal(signal.SIGINT)!r}\\n"))
    from feederopt.cli import app
    from feederopt.cli import resilience as cli_res
    where = sys.argv[1]
    write = cli_res.write_text
    sent = []
    def hooked(*args, **kwargs):
        # one Ctrl-C, in the first write: the JSON is written twice, the second time with
        # the wall-clock time with writing (a second SIGINT exits at once, by design)
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)
        return write(*args, **kwargs)
    if where == "write":
        cli_res.write_text = hooked
    sys.argv = ["feederopt", *sys.argv[2:]]
    try:
        app()
    finally:
        if where == "exit":
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)
""")


@pytest.mark.parametrize("where", ["write", "exit"])
def test_plan_sigint_as_it_finishes_keeps_the_answer(tmp_path: Path, where: str) -> None:
    out = tmp_path / "plan.json"
    proc = subprocess.run(
        [sys.executable, "-c", _HOOKED, where, "plan", "zhang13", "--scenarios", "B611_C_p2",
         "--method", "lshaped", "--no-measures", "--no-ac-check", "--time-limit", "60",
         "--json", str(out)],
        capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, (proc.returncode, proc.stderr)  # was 130 (write), -2 (exit)
    assert "nothing written" not in proc.stderr, proc.stderr
    if where == "write":  # during the outputs: one line; after the command: ignored
        assert "SIGINT: the run has finished" in proc.stderr, proc.stderr
    assert "sigint at exit: <Handlers.SIG_IGN: 1>" in proc.stderr, proc.stderr
    doc = json.loads(out.read_text())  # written whole
    assert doc["status"] == "optimal"
    assert "resilience plan" in proc.stdout and "optimal" in proc.stdout

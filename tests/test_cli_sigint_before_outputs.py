"""A Ctrl-C (SIGINT) between the end of ``plan``'s run and the start of its outputs (session
43's note, session 44 item 3).

After the solve's stop handler (``solvers.interrupt.handle_signals``) is removed and before
the command's outputs begin (``cli.app.late_outputs``: from there a SIGINT leaves the answer
whole, tests/test_cli_sigint_after_run.py), a SIGINT raises Python's ``KeyboardInterrupt``, and
the command said "interrupted: (Ctrl-C) before the run started; nothing written", though the
run had finished. Now the line says that the run had finished and that nothing was written.

A hook sends the signal in that window (inside ``clock_answer``, which the command calls on
``plan``'s returned result before it writes anything, to take its wall-clock time at the
answer; the hook was in ``PlanResult.to_dict``, which the command now calls after the
outputs began, with that time). Truth: the hook ran, so the run had returned its answer; no
JSON file exists; the process's return code.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

_HOOKED = textwrap.dedent("""
    import os, signal, sys, time
    from feederopt.cli import app
    from feederopt.cli import resilience as cli_res
    clock_answer = cli_res.clock_answer
    def hooked(res, *args, **kwargs):
        sys.stderr.write(f"hook: the run returned, status {res.status}\\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
        return clock_answer(res, *args, **kwargs)
    cli_res.clock_answer = hooked
    sys.argv = ["feederopt", *sys.argv[1:]]
    app()
""")


def test_plan_sigint_before_its_outputs_says_the_run_had_finished(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    proc = subprocess.run(
        [sys.executable, "-c", _HOOKED, "plan", "zhang13", "--scenarios", "B611_C_p2",
         "--no-measures", "--no-ac-check", "--time-limit", "60", "--json", str(out)],
        capture_output=True, text=True, timeout=120)
    assert "hook: the run returned, status optimal" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 130, (proc.returncode, proc.stderr)
    assert "before the run started" not in proc.stderr, proc.stderr  # was said
    assert ("after the run had finished, before its answer was written; nothing written"
            in " ".join(proc.stderr.split())), proc.stderr
    assert not out.exists()

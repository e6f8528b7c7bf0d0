"""``feederopt --help``, ``feederopt solve --help`` and a mistyped option do not wait for the
solvers and the engines: building the typer app and its command signatures imports neither
cvxpy, HiGHS, SCIP, pandapower, OpenDSS, Ray nor matplotlib (``import feederopt.cli`` took
~1.7 s, most of it cvxpy through ``feederopt.api``); each command imports them when it runs.

Truth: ``sys.modules`` of a fresh interpreter (the point is what a new process imports, so a
subprocess, as tests/test_is_pandapower_net_lazy.py), after every command's ``--help`` and an
unknown option through typer's own ``CliRunner``, whose exit codes (0, and click's 2 for a
usage error) are checked too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")

#: The packages the command line must not import before a command runs.
HEAVY = ("cvxpy", "highspy", "pyscipopt", "pandapower", "opendssdirect", "ray", "matplotlib")

CODE = f"""
import sys
import typer.main
from typer.testing import CliRunner

import feederopt.cli

runner = CliRunner()
codes = [runner.invoke(feederopt.cli.app, ["--help"]).exit_code]
for name in typer.main.get_command(feederopt.cli.app).commands:
    codes.append(runner.invoke(feederopt.cli.app, [name, "--help"]).exit_code)
codes.append(runner.invoke(feederopt.cli.app, ["solve", "case33bw", "--no-such-option"]).exit_code)
loaded = {{name.split(".")[0] for name in sys.modules}}
print(" ".join(map(str, codes)))
print(" ".join(sorted(loaded & set({HEAVY!r}))) or "-")
"""


def test_help_and_a_usage_error_import_no_solver_nor_engine() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [SRC, *filter(None, [os.environ.get("PYTHONPATH")])])}
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    codes, heavy = out.stdout.splitlines()
    *helps, typo = codes.split()
    assert len(helps) >= 10 and set(helps) == {"0"}, codes  # the app's and each command's
    assert typo == "2", codes  # click's usage error, before the command runs
    assert heavy == "-", f"imported by the command line before any command ran: {heavy}"

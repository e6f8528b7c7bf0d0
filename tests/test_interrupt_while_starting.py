"""A Ctrl-C while the ``feederopt`` command imports itself (user test ut43_resil #8;
``feederopt._startup``): one line, exit code 130 (128 + SIGINT), no traceback. Before, a
SIGINT 4 s after the start of ``plan`` on a loaded machine gave a ``KeyboardInterrupt``
traceback from ``feederopt/io/__init__.py`` and return code -2.

Deterministic: an import hook sends the process SIGINT when a given module of the package
is first imported, so the ``KeyboardInterrupt`` is raised inside that import (the truth is
the signal sent and the exit code the POSIX shells give it, 128 + 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")

CHILD = """
import os, signal, sys
class Hook:
    def find_spec(self, name, path, target=None):
        if name == {module!r}:
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Hook())
sys.argv = [{arg0!r}, "plan", "zhang13", "--broken", "2"]
{run}
"""

CONSOLE = "from feederopt.cli import main\nmain()"  # what the console script runs
AS_MODULE = "import runpy\nrunpy.run_module('feederopt', run_name='__main__', alter_sys=True)"


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize(("module", "arg0", "run"), [
    ("feederopt.network", "/usr/local/bin/feederopt", CONSOLE),  # the package's own import
    ("feederopt.io", "/usr/local/bin/feederopt", CONSOLE),  # the tester's: the CLI's imports
    ("feederopt.io", "-m", AS_MODULE),  # python -m feederopt
    # the solvers, imported when the command starts, after the command line
    # (cli.app._command_start): a Ctrl-C there is still one of the start
    ("feederopt.api", "/usr/local/bin/feederopt", CONSOLE),
])
def test_ctrl_c_while_starting(module: str, arg0: str, run: str) -> None:
    env = dict(os.environ, PYTHONPATH=SRC)
    code = CHILD.format(module=module, arg0=arg0, run=run)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 130, (p.returncode, p.stderr[-2000:])
    assert "Traceback" not in p.stderr and "KeyboardInterrupt" not in p.stderr, p.stderr
    assert "interrupted (Ctrl-C) while starting" in p.stderr


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_ctrl_c_in_the_commands_own_imports() -> None:
    """Past the imports of the command line, in ``plan``'s lazy import of its API, before
    its stop handler: the same exit code, with a line (it exited 130 without a word)."""
    env = dict(os.environ, PYTHONPATH=SRC)
    code = CHILD.format(module="feederopt.api_resilience", arg0="/usr/local/bin/feederopt",
                        run=CONSOLE)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 130, (p.returncode, p.stderr[-2000:])
    assert "Traceback" not in p.stderr
    assert "before the run started" in p.stderr, p.stderr


def test_library_import_keeps_keyboard_interrupt() -> None:
    """``import feederopt`` from a program of one's own: the KeyboardInterrupt stays."""
    env = dict(os.environ, PYTHONPATH=SRC)
    code = CHILD.format(module="feederopt.network", arg0="myscript.py",
                        run="import feederopt")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert "KeyboardInterrupt" in p.stderr and p.returncode != 0

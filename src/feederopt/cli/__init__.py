"""The ``feederopt`` command line (typer + rich): one module per command group.

* :mod:`~feederopt.cli.app`: the app, the shared options and the error handling;
* :mod:`~feederopt.cli.info`: ``info``, ``cases``;
* :mod:`~feederopt.cli.solve`: ``solve`` (dispatching to the two modules below);
* :mod:`~feederopt.cli.scenarios`: ``scenarios``, ``check`` and the --scenarios/--robust solves;
* :mod:`~feederopt.cli.threephase`: ``solve`` on three-phase (.dss) feeders;
* :mod:`~feederopt.cli.report`: ``report``;
* :mod:`~feederopt.cli.partition`: ``partition`` (networked microgrids, seed 001);
* :mod:`~feederopt.cli.resilience`: ``restore``, ``plan`` (resilience planning, seed 003);
* :mod:`~feederopt.cli.schedule`: ``schedule`` (24-hour robust dynamic reconfiguration, seed
  004).

A new command group is a new module that registers its commands on
:data:`~feederopt.cli.app.app` and is imported below. The modules import ``app`` and the shared
helpers from :mod:`feederopt.cli.app` and never each other upwards, so they form no cycle.

Importing this package builds the app and every command's signature without the solvers and
the engines (cvxpy, HiGHS, SCIP, pandapower, OpenDSS, Ray, matplotlib): ``--help`` and a
mistyped option answer at once. A module imports at module level only the package root's light
names and the constants that option defaults need; the rest, :mod:`feederopt.api` included,
inside the function that uses it (types under ``TYPE_CHECKING``;
``tests/test_cli_import_lazy.py``, docs/architecture.md "Start-up of the command line").
"""

from __future__ import annotations

# the package root's (feederopt._startup's): the CLI imports the root, not its modules
from feederopt import _interrupted_at_start as interrupted_at_start

try:  # a Ctrl-C while the command starts: one line and exit code 130 (feederopt._startup)
    from feederopt.cli import (
        info,
        partition,
        report,
        resilience,
        scenarios,
        schedule,
        solve,
        threephase,
    )
    from feederopt.cli.app import app, guard_stdout
except KeyboardInterrupt:
    interrupted_at_start()
    raise

__all__ = ["app", "info", "main", "partition", "report", "resilience", "scenarios", "schedule",
           "solve", "threephase"]


def main() -> None:
    """The console-script entry point; a closed stdout (``| head``) is harmless
    (:class:`~feederopt.cli.app.PipeSafeStdout`)."""
    guard_stdout()
    app(prog_name="feederopt")

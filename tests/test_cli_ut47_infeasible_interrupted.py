"""A Ctrl-C during an infeasible solve's search for the least-violating topology ends the run
as a stopped one (user test ut47_cli #2).

``solve case33bw --v-min 0.97`` is proven infeasible, then searches for the least-violating
topology (README "When no topology meets the limits"). A Ctrl-C in that search exited 3 and
only the JSON's ``least_violating_ac.stopped`` said so. README "Exit codes": a Ctrl-C or
SIGTERM stop gives 128 + the signal's number (130, 143), the answer so far printed and
written. Now: that exit code, the status still ``infeasible`` (the proof stands), and a
console line that the search was cut short; the console's "Exit code" sentence names the
same code as the process.

The Ctrl-C is made as the signal handler makes it (``interrupt.request``) when the search
begins, after the proof; the truth is the convention 128 + signal number and the process's
own exit code.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from feederopt.algorithms import benders
from feederopt.cli import app
from feederopt.solvers import interrupt

runner = CliRunner(env={"COLUMNS": "200"})


def test_ctrl_c_in_the_least_violating_search_exits_130(monkeypatch: Any,
                                                        tmp_path: Path) -> None:
    real = benders.Benders.search_least_violating
    seen = []

    def ctrl_c_then_search(self: Any, initial: Any) -> Any:
        seen.append(True)
        interrupt.request(signal.SIGINT)
        return real(self, initial)

    monkeypatch.setattr(benders.Benders, "search_least_violating", ctrl_c_then_search)
    out = tmp_path / "inf.json"
    try:
        res = runner.invoke(app, ["solve", "case33bw", "--v-min", "0.97", "--time-limit",
                                  "60", "--json", str(out)])
    finally:
        interrupt.clear()
    assert seen  # the premise: the run reached the search after its proof
    doc = json.loads(out.read_text())
    assert doc["status"] == "infeasible"  # the proof stands
    assert res.exit_code == 128 + signal.SIGINT, res.output  # was 3
    err = " ".join(res.stderr.split())
    assert "the search for the least-violating topology was cut short" in err, err
    said = re.findall(r"Exit code (\d+)", res.stdout)
    assert all(int(c) == res.exit_code for c in said), said

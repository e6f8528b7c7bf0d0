"""``feederopt report FILE.json`` names the command line that writes the file's folder (user
test ut38_cli #3).

A ``solve --json`` file is refused (a report is built from a folder), and the hint said only
"run 'feederopt solve CASE --out DIR --report' again", while the README promises "the command
line that writes its folder". The hint now fills in the network and the options that the JSON
records (:mod:`feederopt.report.command_line`).

Independent truth: the hint is run as it is (DIR replaced by a folder): it must write a folder
that ``feederopt report`` takes, holding the same answer as the file, Baran & Wu's optimum of
case33bw (ties 7, 9, 14, 32, 37 open, 139.55 kW; IEEE Trans. Power Delivery 4(2), 1989).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.report.command_line import command_again

ENV = {"COLUMNS": "400"}
PUBLISHED_KW = 139.55


def _hint(output: str) -> str:
    found = re.search(r"run '([^']*)'", " ".join(output.split()))
    assert found, output
    return found.group(1)


def test_hint_is_the_command_that_writes_the_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    file = tmp_path / "s33.json"
    run = runner.invoke(app, ["solve", "case33bw", "--gap", "0.001", "--no-ac-check",
                              "--json", str(file)], env=ENV)
    assert run.exit_code == 0, run.output
    refused = runner.invoke(app, ["report", str(file)], env=ENV)
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    hint = _hint(refused.output)
    assert "CASE" not in hint, hint
    assert hint.startswith("feederopt solve case33bw "), hint
    assert "--gap 0.001" in hint and "--no-ac-check" in hint, hint
    # run it: it writes the folder, whose report the command then rebuilds
    folder = tmp_path / "again"
    argv = shlex.split(hint.replace(" DIR", f" {shlex.quote(str(folder))}"))
    assert argv[0] == "feederopt"
    again = runner.invoke(app, argv[1:], env=ENV)
    assert again.exit_code == 0, (hint, again.output)
    assert (folder / "report.html").is_file()
    first, second = (json.loads(p.read_text()) for p in (file, folder / "result.json"))
    assert sorted(b["id"] for b in second["open_branches"]) == sorted(
        b["id"] for b in first["open_branches"])
    assert second["settings"] == first["settings"]
    assert second["losses_kw"] == pytest.approx(PUBLISHED_KW, abs=0.01)
    assert runner.invoke(app, ["report", str(folder), "--force"], env=ENV).exit_code == 0


@pytest.mark.parametrize(("doc", "kind", "template", "expected"), [
    # a file's absolute path, quoted for the shell
    ({"source": "/data/my grid/feeder.m", "settings": {"method": "misocp"}}, "solve",
     "feederopt solve CASE --out DIR",
     "feederopt solve '/data/my grid/feeder.m' --method misocp --out DIR --report"),
    # a schedule records its network and its input files in inputs
    ({"inputs": {"source": "case33bw", "profiles": "/p/day.csv", "devices": None},
      "case": "case33bw"}, "schedule", "feederopt schedule CASE --out DIR",
     "feederopt schedule case33bw --profiles /p/day.csv --out DIR"),
    # a restoration records only the network's name: a built-in case is given by it ...
    ({"case": "zhang13"}, "resilience_restore", "feederopt restore CASE --broken ... --out DIR",
     "feederopt restore zhang13 --broken ... --out DIR"),
    # ... a name that is no case is not (a file's network name is not its path)
    ({"case": "my_feeder"}, "resilience_restore",
     "feederopt restore CASE --broken ... --out DIR",
     "feederopt restore CASE --broken ... --out DIR"),
    # a three-phase solve's file
    ({"source": "/x/ieee13.dss"}, "three_phase_solve", "feederopt solve FEEDER.dss --out DIR",
     "feederopt solve /x/ieee13.dss --out DIR"),
])
def test_command_fills_what_the_document_records(doc: dict[str, object], kind: str,
                                                 template: str, expected: str) -> None:
    assert command_again(doc, kind, template) == expected

"""``-`` given as an output gets a hint that fits the output (user test ut47_cli #8).

``--json -`` was refused with "give a file name, e.g. result.json", not naming
``/dev/stdout``, which README ("Output paths") documents as the way to write the JSON to
standard output; ``report -o -`` suggested result.json for an HTML file, ``solve --out -`` a
file name for a folder. The truth is the README's own sentence, and the hint's advice is
tried: ``--json /dev/stdout`` must then print the JSON document.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "300"})
README = (Path(__file__).parents[1] / "README.md").read_text()


def _hint(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "'-' is not written to standard output" in text, text
    return text.split("(hint: ", 1)[1]


def test_json_dash_names_dev_stdout_and_it_works() -> None:
    assert "--json /dev/stdout" in README  # the premise: the documented way
    hint = _hint(["solve", "case33bw", "--json", "-"])
    assert "--json /dev/stdout" in hint, hint
    # the advice works: the JSON document on standard output
    run = subprocess.run([sys.executable, "-m", "feederopt", "solve", "case33bw", "-q",
                          "--json", "/dev/stdout"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["case"] == "case33bw"


def test_report_dash_suggests_an_html_file(tmp_path: Path) -> None:
    folder = tmp_path / "r"
    res = runner.invoke(app, ["solve", "case33bw", "-q", "--no-ac-check", "--out", str(folder)])
    assert res.exit_code == 0, res.output
    hint = _hint(["report", str(folder), "-o", "-"])
    assert "report.html" in hint and "result.json" not in hint, hint


def test_out_dash_asks_for_a_folder() -> None:
    hint = _hint(["solve", "case33bw", "--out", "-"])
    assert "folder name" in hint and "result.json" not in hint, hint

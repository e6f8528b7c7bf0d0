"""``feederopt report DIR`` on every kind of result folder (audit A1, B3).

Each command that writes a folder with ``--out`` writes its own report.html; ``feederopt report``
must rebuild that same page from the folder's result.json and figure, by the document's ``kind``
(a solve result has none), and refuse with a typed problem (exit 2) what it cannot rebuild or
what has no report, never crash or write the solve page of a schedule, partition or plan.
The folders are made by the real commands on the smallest inputs: a 3-hour case33bw schedule,
the zhang13 plan on one scenario and restoration with three lines broken, the ieee13mod
partition and the 5-bus test feeder's solve.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io.folder import write_folder
from feederopt.network import InputError
from netbuild import tiny

runner = CliRunner()

#: The command line that writes each kind of folder (then ``--out DIR -q``).
COMMANDS = {
    "schedule": ["schedule", "case33bw", "--dsm", "0.1", "--hours", "3"],
    "resilience_plan": ["plan", "zhang13", "--scenarios", "A_C_p1"],
    "resilience_restore": ["restore", "zhang13", "--broken", "2,11,15"],
    "partition": ["partition", "ieee13mod"],
}

#: What each kind's own page shows (the sections its command's report has).
CONTENT = {
    "schedule": ['<section id="hourly"><h2>Hourly series</h2>', '<section id="ccg">',
                 "<h2>Hourly AC check (pandapower)</h2>", "feederopt schedule: case33bw"],
    "resilience_plan": ["zhang13: resilience plan", '<section id="scenarios">',
                        "<h2>Value of the stochastic solution</h2>", "<td>A</td>"],
    "resilience_restore": ["zhang13: restoration", '<section id="switching">',
                           '<section id="buses">', "<th scope=\"col\">vm_ac_pu</th>"],
    "partition": ["feederopt partition: ieee13mod", '<section id="microgrids">',
                  "<h2>Iteration log (Algorithm 1)</h2>", '<section id="blocks">'],
}

#: The figure each kind's folder holds.
FIGURE = {"schedule": "hourly.png", "resilience_plan": "plan.png",
          "resilience_restore": "restoration.png", "partition": "microgrids.png"}

#: Marks of the solve page that have no place on another kind's page.
SOLVE_MARKS = ("The result folder has no grid tables", "losses before", "Benders convergence",
               '<section id="voltages">', "[{&#x27;", "[{'")


def run(args: list[str]) -> tuple[int, str]:
    res = runner.invoke(app, args)
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One folder per kind, written by its command with --out (report.html included)."""
    root = tmp_path_factory.mktemp("kinds")
    out: dict[str, Path] = {}
    for kind, cmd in COMMANDS.items():
        folder = root / kind
        code, text = run([*cmd, "--out", str(folder), "-q"])
        assert code == 0, text
        assert json.loads((folder / "result.json").read_text())["kind"] == kind
        out[kind] = folder
    case = write_folder(tiny(), root / "tiny_case")
    code, text = run(["solve", str(case), "--out", str(root / "solve"), "--report", "-q"])
    assert code == 0, text
    out["solve"] = root / "solve"
    return out


def copy(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


# ----- each kind gets its own command's page -----------------------------------------------------
@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_report_rebuilds_the_commands_own_page(folders: dict[str, Path], tmp_path: Path,
                                               kind: str) -> None:
    folder = folders[kind]
    target = tmp_path / "r.html"
    code, text = run(["report", str(folder), "--out", str(target)])
    assert code == 0, text
    assert "Traceback" not in text and "error" not in text
    assert f"report: {target}" in text
    page = target.read_text(encoding="utf-8")
    # The very page the command wrote with --out, byte for byte.
    assert page == (folder / "report.html").read_text(encoding="utf-8")
    for mark in CONTENT[kind]:
        assert mark in page, mark
    for mark in SOLVE_MARKS:
        assert mark not in page, mark
    assert page.count('<img src="data:image/png;base64,') == 1


def test_schedule_report_has_a_row_per_hour(folders: dict[str, Path], tmp_path: Path) -> None:
    """The schedule's ac_check is a list of hours (the solve renderer crashed on it)."""
    doc = json.loads((folders["schedule"] / "result.json").read_text())
    assert isinstance(doc["ac_check"], list) and len(doc["ac_check"]) == 3
    page = feederopt.write_report(folders["schedule"], tmp_path / "s.html").read_text()
    ac = page[page.index('<section id="ac">'):]
    assert ac.count("<tr>") == 1 + 3  # the header and one row per hour


@pytest.mark.parametrize("kind", ["partition", "schedule"])
def test_the_page_lists_the_results_notes(folders: dict[str, Path], tmp_path: Path,
                                          kind: str) -> None:
    """The notes of result.json (settings not applied, fallbacks) are on the page: only the
    three-phase solve page showed them (the partition's settings notes were in the JSON only)."""
    folder = copy(folders[kind], tmp_path)
    doc = json.loads((folder / "result.json").read_text())
    doc["notes"] = [*(doc.get("notes") or []), "a note <of this run> & its reason"]
    (folder / "result.json").write_text(json.dumps(doc))
    page = feederopt.write_report(folder, tmp_path / f"{kind}.html").read_text()
    notes = page[page.index('<section id="notes">'):]
    assert "a note &lt;of this run&gt; &amp; its reason" in notes
    if kind == "partition":  # the shipped settings' fields the model does not apply
        assert "settings not applied: line vad_ub" in notes


def test_python_function_dispatches_too(folders: dict[str, Path], tmp_path: Path) -> None:
    for kind in COMMANDS:
        path = feederopt.write_report(folders[kind], tmp_path / f"{kind}.html")
        assert path.read_text() == (folders[kind] / "report.html").read_text()


def test_default_output_is_not_overwritten_without_force(folders: dict[str, Path],
                                                         tmp_path: Path) -> None:
    folder = copy(folders["partition"], tmp_path)
    before = (folder / "report.html").read_bytes()
    (folder / "report.html").write_text("mine")
    code, text = run(["report", str(folder)])
    assert code == 2 and "output_exists" in text and "Traceback" not in text
    assert (folder / "report.html").read_text() == "mine"
    code, text = run(["report", str(folder), "--force"])
    assert code == 0, text
    assert (folder / "report.html").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == [
        ".feederopt-files", "der_setpoints.parquet", "microgrids.png", "report.html",
        "result.json"]  # no temporary


# ----- the solve page is unchanged ---------------------------------------------------------------
def test_solve_folder_report_is_the_one_solve_wrote(folders: dict[str, Path],
                                                    tmp_path: Path) -> None:
    folder = folders["solve"]
    target = tmp_path / "r.html"
    code, text = run(["report", str(folder), "--out", str(target)])
    assert code == 0, text
    page = target.read_text(encoding="utf-8")
    assert page == (folder / "report.html").read_text(encoding="utf-8")
    for anchor in ("summary", "grid", "voltages", "convergence", "ac-check", "switches"):
        assert f'<section id="{anchor}">' in page


# ----- what cannot be rebuilt, or has no report, is refused --------------------------------------
@pytest.mark.parametrize(("kind", "command"), [("partition", "feederopt partition"),
                                               ("resilience_plan", "feederopt plan"),
                                               ("resilience_restore", "feederopt restore")])
def test_missing_figure_is_refused_naming_the_command(folders: dict[str, Path], tmp_path: Path,
                                                      kind: str, command: str) -> None:
    folder = copy(folders[kind], tmp_path)
    (folder / FIGURE[kind]).unlink()
    (folder / "report.html").unlink()
    code, text = run(["report", str(folder)])
    assert code == 2, text
    assert "unreadable_file" in text and FIGURE[kind] in text and command in text
    assert "Traceback" not in text
    assert not (folder / "report.html").exists()
    with pytest.raises(InputError, match=command):
        feederopt.write_report(folder)


def test_schedule_figure_is_redrawn_from_the_series(folders: dict[str, Path],
                                                    tmp_path: Path) -> None:
    folder = copy(folders["schedule"], tmp_path)
    (folder / "hourly.png").unlink()
    page = feederopt.write_report(folder, tmp_path / "s.html").read_text()
    assert '<section id="hourly">' in page and page.count("data:image/png;base64,") == 1


@pytest.mark.parametrize(("doc", "message"), [
    ({"kind": "schedule_check", "samples": 5}, "feederopt check"),
    ({"case": "case33bw", "open_branches": [], "samples": 10, "feasible_share_convex": 1.0},
     "an out-of-sample check"),
    ({"kind": "partition", "samples": 5, "uncertainty": 0.1}, "a partition check"),
    ({"case": "ieee13mod", "method": "lindist3flow", "open_switches": []}, "three-phase"),
    ({"kind": "no_such_kind"}, "unknown kind 'no_such_kind'"),
    ({"kind": ["schedule"]}, "not a name"),
    ({"case": "x", "losses_kw": 1.0}, "not a feederopt result"),
    ({"kind": "schedule", "series": {}, "status": "optimal"}, "not a schedule result"),
    ({"kind": "partition", "blocks": "x", "iterations": 3}, "not a partition result"),
])
def test_results_without_a_report_are_typed_errors(tmp_path: Path, doc: dict[str, object],
                                                   message: str) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "result.json").write_text(json.dumps(doc))
    (folder / "microgrids.png").write_bytes(b"\x89PNG")  # a partition "figure"
    code, text = run(["report", str(folder)])
    assert code == 2, text
    assert message in " ".join(text.split()) and "Traceback" not in text
    assert not (folder / "report.html").exists()


# user test ut41_recheck_a #2: ac_check.losses_kw "x", ac_check.warnings 5 and status [1]
# exited 1 with "error: TypeError" (or a TypeError inside the message)
@pytest.mark.parametrize(("key", "value", "message"), [
    ("base", [1, 2], "base must be an object"),
    ("ac_check.losses_kw", "x", "ac_check.losses_kw must be a number"),
    ("ac_check.warnings", 5, "ac_check.warnings must be a list"),
    ("status", [1], "status must be a string"),
])
def test_a_broken_solve_result_is_a_typed_error(folders: dict[str, Path], tmp_path: Path,
                                                key: str, value: object,
                                                message: str) -> None:
    folder = copy(folders["solve"], tmp_path)
    doc = json.loads((folder / "result.json").read_text())
    where, _, name = key.rpartition(".")
    (doc[where] if where else doc)[name] = value
    (folder / "result.json").write_text(json.dumps(doc))
    code, text = run(["report", str(folder), "--out", str(tmp_path / "r.html")])
    # named by the document's shape check, as load_result names it
    assert code == 2 and message in " ".join(text.split()), text
    assert "TypeError" not in text and "Traceback" not in text
    assert not (tmp_path / "r.html").exists()


# ----- the footer names the result folder (ut_docs, 4) -------------------------------------------
@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_the_footer_names_the_folder_also_of_a_copy(folders: dict[str, Path], tmp_path: Path,
                                                    kind: str) -> None:
    """Every page's footer says which folder it came from: the plan's said "from zhang13/" (the
    case), also when `feederopt report` re-rendered a copy."""
    page = (folders[kind] / "report.html").read_text(encoding="utf-8")
    assert f", from {folders[kind].name}/</footer>" in page
    twin = Path(shutil.copytree(folders[kind], tmp_path / "my copy"))
    code, text = run(["report", str(twin), "--out", str(tmp_path / "c.html")])
    assert code == 0, text
    again = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert ", from my copy/</footer>" in again
    assert f"from {folders[kind].name}/" not in again


# ----- the plan's rows in words with units (ut_docs, 5) -------------------------------------------
def test_plan_report_labels_its_rows_with_units(folders: dict[str, Path]) -> None:
    page = (folders["resilience_plan"] / "report.html").read_text(encoding="utf-8")
    doc = json.loads((folders["resilience_plan"] / "result.json").read_text())
    m = doc["measures"]
    rows = {"investment [$]": doc["investment"],
            "expected shedding cost, priority-weighted [$]": doc["expected_recourse"],
            "expected total cost [$]": doc["expected_total"],
            "lower bound [$]": doc["lower_bound"],
            "recourse problem (RP) [$]": m["recourse_problem"],
            "wait-and-see (WS) [$]": m["wait_and_see"],
            "expected-value solution cost (EEV) [$]": m["expected_value_solution_cost"],
            "EVPI = RP - WS [$]": m["evpi"], "VSS = EEV - RP [$]": m["vss"]}
    for label, value in rows.items():
        assert f'<tr><th scope="row">{label}</th><td>{value:,.2f}</td></tr>' in page, label
    assert '<th scope="row">solve time [s]</th>' in page
    assert '<th scope="row">gap [%]</th>' in page
    assert '<th scope="row">value of lost load [$/kW]</th>' in page
    assert '<th scope="row">hardening cost [$ per line]</th>' in page
    # no raw key of result.json as a row label
    for key in ("investment", "expected_recourse", "expected_total", "lower_bound", "gap",
                "solve_time_s", "recourse_problem", "wait_and_see", "evpi", "vss", "voll",
                "harden_cost", "dg_cost_per_kw"):
        assert not re.search(rf"<th[^>]*>{re.escape(key)}</th>", page), key

"""The three-phase report: ``feederopt solve FEEDER.dss --out DIR`` and ``feederopt report DIR``.

One solve, shared by the module: the built-in IEEE 13 file (``network.ieee13.dss``) with its tie
moved, ``801675`` closed and ``701702`` open in the file, so that the answer (``801675`` open
again) differs from the base case: the base case feeds 701-801 over the 15-mile line
``675675aux`` (0.84 p.u. on phase a), the answer does not. The plotted voltages are checked
against OpenDSS's own solution at the answer's and the base case's switch states
(:func:`feederopt.validation.opendss.solve_opendss`, which the report code does not call), the
grid data against the file's ``BusCoords`` (IEEE 37's CSV read here with the csv module).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "src" / "feederopt" / "cases" / "data" / "opendss"
DATA_PNG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
PNGS = ("voltage_profile.png", "grid.png")


def run(args: list[str]) -> tuple[int, str]:
    res = runner.invoke(app, args)
    return res.exit_code, res.output


def moved_tie_feeder(folder: Path) -> Path:
    """The built-in IEEE 13 file with the tie ``801675`` closed and ``701702`` open."""
    text = (DATA / "network.ieee13.dss").read_text()
    lines = []
    for line in text.splitlines():
        if line.startswith("New Line.801675 "):
            assert "enabled=n" in line
            line = line.replace("enabled=n", "enabled=y")
        elif line.startswith("New Line.701702 "):
            assert "enabled=y" in line
            line = line.replace("enabled=y", "enabled=n")
        lines.append(line)
    path = folder / "ieee13_moved_tie.dss"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the feeder file, the --out folder of its solve)."""
    root = tmp_path_factory.mktemp("threephase")
    feeder = moved_tie_feeder(root)
    # XFM1 carries 104.3 % of its per-phase normhkva rating in OpenDSS's own solution of the
    # stock feeder
    code, text = run(["solve", str(feeder), "--time-limit", "30", "--max-loading", "110",
                      "--out", str(root / "out")])
    assert code == 0, text
    assert f"report: {root / 'out' / 'report.html'}" in text
    return feeder, root / "out"


@pytest.fixture(scope="module")
def doc(solved: tuple[Path, Path]) -> dict[str, Any]:
    return dict(json.loads((solved[1] / "result.json").read_text()))


def embedded(page: str) -> list[bytes]:
    return [base64.b64decode(d) for d in DATA_PNG.findall(page)]


# ----- the folder and the page ---------------------------------------------------------------
def test_folder_holds_result_json_pngs_and_the_page(solved: tuple[Path, Path],
                                                    doc: dict[str, Any]) -> None:
    folder = solved[1]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [".feederopt-files", "result.json", "report.html", *PNGS])
    assert doc["kind"] == "three_phase_solve"
    assert doc["open_switches"] == ["801675"] and doc["base_open_switches"] == ["701702"]
    assert doc["changed_switches"] == ["701702", "801675"]
    page = (folder / "report.html").read_text(encoding="utf-8")
    images = embedded(page)
    assert images == [(folder / name).read_bytes() for name in PNGS]  # inlined, in order
    for png in images:
        with Image.open(io.BytesIO(png)) as img:
            assert img.format == "PNG" and img.size[0] > 600 and img.size[1] > 500


def test_page_shows_the_opendss_check_as_in_result_json(solved: tuple[Path, Path],
                                                        doc: dict[str, Any]) -> None:
    page = (solved[1] / "report.html").read_text(encoding="utf-8")
    ac = doc["ac_check"]
    assert ac["passed"] is True and ac["converged"] is True
    shown = [f"{ac['losses_kw']:.3f} kW", f"{doc['base_losses_kw']:.3f} kW",
             f"{ac['unbalance_pct']:.2f} %", f"{ac['max_voltage_diff_pu']:.4f} p.u. at "
             f"{ac['max_voltage_diff_node']}", f"{ac['unserved_load_kw']:.3f} kW",
             f"{doc['loss_proxy_kw']:.3f} kW",
             f"{ac['with_controls']['losses_kw']:.3f} kW",
             '<th scope="row">de-energised nodes</th><td>0</td>',
             '<th scope="row">passed (converged, every load served)</th><td>yes</td>',
             '<th scope="row">open switches (answer)</th><td>801675</td>',
             '<th scope="row">changed switches</th><td>701702, 801675</td>',
             f"{(doc['base_losses_kw'] - ac['losses_kw']) / doc['base_losses_kw'] * 100:.2f} %"]
    for ph in "abc":
        shown.append(f"<td>{ph}</td><td>{ac['min_voltage_pu'][ph]:.4f}</td>"
                     f"<td>{ac['max_voltage_pu'][ph]:.4f}</td>")
    for text in shown:
        assert text in page, text
    for anchor in ("summary", "opendss-check", "voltages", "grid", "switches"):
        assert f'<section id="{anchor}">' in page
    # self-contained: no external URL, nothing but data URLs, and a CSP that forbids loads
    text = DATA_PNG.sub("", page)
    assert "://" not in text and "url(" not in text and "@import" not in text
    assert not re.search(r'(src|href)="(?!data:|#)', page)
    assert "default-src 'none'; img-src data:" in page


def test_voltage_limit_breaks_of_the_check_are_shown(doc: dict[str, Any]) -> None:
    """When the check says OpenDSS's voltages break the limits (``within_voltage_limits``,
    ``voltage_limits``: IEEE 13 at --v-max 1.09, 675aux.b at 1.0927 p.u.), the page says so."""
    from feederopt.report.threephase import render_three_phase_report

    bad = json.loads(json.dumps(doc))
    bad["ac_check"].update(within_voltage_limits=False, voltage_limits={
        "nodes_below_min": 0, "nodes_above_max": 2, "worst_node": "675aux.b",
        "worst_voltage_pu": 1.0927468, "worst_limit": "v_max", "worst_limit_pu": 1.09,
        "worst_violation_pu": 0.0027468})
    bad["voltage_limits"] = {"from": "options", "v_min_pu": 0.9, "v_max_pu": 1.09}
    page = render_three_phase_report(bad, {}, "x")
    assert ('<th scope="row">within the voltage limits</th><td><b class="warn">no</b>: 0 node(s) '
            "below "
            "v_min, 2 above v_max; worst 675aux.b at 1.0927 p.u. (v_max 1.09, by 0.0027 "
            "p.u.)</td>") in page
    assert "passed, voltage limits broken" in page
    assert ('<th scope="row">voltage limits</th><td>0.9 - 1.09 p.u. (from the options)</td>'
            in page)
    # the badge: not the MILP's green status for an answer that breaks the limits (exit 4)
    assert '<span class="status limits_broken">breaks the limits</span>' in page
    bad["ac_check"]["within_voltage_limits"] = True
    page = render_three_phase_report(bad, {}, "x")
    assert '<th scope="row">within the voltage limits</th><td>yes</td>' in page
    assert "limits broken" not in page
    assert f'<span class="status {bad["status"]}">' in page


def test_report_command_rebuilds_the_same_page(solved: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    folder = solved[1]
    target = tmp_path / "r.html"
    code, text = run(["report", str(folder), "--out", str(target)])
    assert code == 0, text
    original = (folder / "report.html").read_text(encoding="utf-8")
    assert target.read_text(encoding="utf-8") == original
    # without the PNGs the figures are redrawn from result.json: the same page again
    copy = Path(shutil.copytree(folder, tmp_path / folder.name))
    for name in PNGS:
        (copy / name).unlink()
    (copy / "report.html").unlink()
    code, text = run(["report", str(copy)])
    assert code == 0, text
    assert (copy / "report.html").read_text(encoding="utf-8") == original
    # the page is not written over without --force
    code, text = run(["report", str(copy)])
    assert code == 2 and "exists already" in text


def test_a_broken_three_phase_result_is_a_typed_error(solved: tuple[Path, Path],
                                                      tmp_path: Path) -> None:
    copy = Path(shutil.copytree(solved[1], tmp_path / "broken"))
    doc = json.loads((copy / "result.json").read_text())
    doc["grid"] = [1, 2]
    (copy / "result.json").write_text(json.dumps(doc))
    code, text = run(["report", str(copy), "--out", str(tmp_path / "r.html")])
    assert code == 2 and "not a three phase solve result" in " ".join(text.split()), text
    assert "Traceback" not in text and not (tmp_path / "r.html").exists()


def test_existing_out_folder_and_json_inside_it_are_refused(solved: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    feeder = solved[0]
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    code, text = run(["solve", str(feeder), "--out", str(taken)])
    assert code == 2 and "exists already" in text and "Traceback" not in text
    assert [p.name for p in taken.iterdir()] == ["mine.txt"]
    assert (taken / "mine.txt").read_text() == "keep"
    fresh = tmp_path / "fresh"
    code, text = run(["solve", str(feeder), "--out", str(fresh), "--json",
                      str(fresh / "r.json")])
    assert code == 2 and "--json names the --out folder" in text and not fresh.exists()


# ----- the plots' data -----------------------------------------------------------------------
def _opendss(feeder: Path, open_switches: set[str] | None, *, again: bool = False,
             ) -> dict[str, float]:
    from feederopt.api_threephase import floating_buses
    from feederopt.cases import load_three_phase
    from feederopt.validation.opendss import solve_opendss

    net = load_three_phase(feeder)
    sol = solve_opendss(net, open_switches=open_switches, floating_buses=floating_buses(net),
                        with_controls=False, solve_again=again)
    return sol.voltages_pu


def _plotted(fig: Any, gid: str) -> np.ndarray:
    found = [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == gid]
    assert len(found) == 1, gid
    return np.sort(np.asarray(found[0].get_ydata(), float))


def _phase(volts: dict[str, float], ph: str) -> np.ndarray:
    return np.sort([v for k, v in volts.items() if k.endswith("." + ph) and v >= 0.1])


def test_plotted_voltages_are_opendss_at_the_answer_and_in_the_base_case(
        solved: tuple[Path, Path], doc: dict[str, Any]) -> None:
    from feederopt.report.plot import figure_png
    from feederopt.report.threephase import voltage_profile_figure

    feeder, folder = solved
    at_answer = _opendss(feeder, set(doc["open_switches"]))
    # the file's own switch states, solved once more as the answer is (the file's own solve,
    # at its tolerance 1e-3, is 3e-5 p.u. off)
    in_base = _opendss(feeder, None, again=True)
    fig = voltage_profile_figure(doc)
    for ph in "abc":
        answer, base = _phase(at_answer, ph), _phase(in_base, ph)
        np.testing.assert_allclose(_plotted(fig, f"opendss.{ph}"), answer, atol=1e-6)
        np.testing.assert_allclose(_plotted(fig, f"opendss_base.{ph}"), base, atol=1e-6)
        model = _plotted(fig, f"lindist3flow.{ph}")
        assert model.shape == answer.shape and np.abs(model - answer).max() > 1e-3
    # the two states differ (else the test could not tell them apart): 701-801 hang on the
    # 15-mile line in the base case
    assert _phase(in_base, "a").min() < 0.85 < _phase(at_answer, "a").min()
    # the voltage limits (0.9 and 1.1 p.u., the reader's defaults) are drawn on every phase
    for ax in fig.axes:
        flat = sorted({float(line.get_ydata()[0]) for line in ax.get_lines()
                       if line.get_linestyle() == ":"})
        assert flat == [0.9, 1.1]
    # the folder's PNG is this figure
    fig2 = voltage_profile_figure(doc)
    assert figure_png(fig2) == (folder / "voltage_profile.png").read_bytes()


def test_grid_drawing_opens_the_answers_switches(doc: dict[str, Any]) -> None:
    from feederopt.report.threephase import grid_figure_3ph

    fig = grid_figure_3ph(doc)
    dashed = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]
    branches = {(b["from_bus"], b["to_bus"]): b["id"] for b in doc["grid"]["branches"]}
    buses = [b["id"] for b in doc["grid"]["buses"]]
    assert len(dashed) == 1  # 801675 (801 - 675aux), drawn thick: it changed
    assert branches[("801", "675aux")] == "801675" and dashed[0].get_linewidth() > 2
    assert {"801", "675aux"} <= set(buses)


def test_grid_data_has_the_files_bus_coordinates() -> None:
    """IEEE 37's BusCoords file, read here, against the grid data the solve adds; the drawing
    puts every bus there."""
    from feederopt.api_threephase import report_grid
    from feederopt.cases import load_three_phase
    from feederopt.report.threephase import grid_figure_3ph

    with open(DATA / "ieee37" / "IEEE37_BusXY.csv", newline="") as fh:
        xy = {r[0].strip().lower(): (float(r[1]), float(r[2])) for r in csv.reader(fh) if r}
    net = load_three_phase("ieee37")
    grid = report_grid(net, set(), set())
    placed = {b["id"]: (b["x"], b["y"]) for b in grid["buses"]}
    assert placed == xy
    fig = grid_figure_3ph({"case": "ieee37", "has_solution": True, "open_switches": [],
                           "grid": grid, "node_voltages_pu": {}})
    scat = [c for c in fig.axes[0].collections if len(c.get_offsets()) == len(placed)]
    assert scat, "the bus scatter"
    got = {tuple(np.round(p, 9)) for p in np.asarray(scat[0].get_offsets())}
    assert got == {tuple(np.round(p, 9)) for p in xy.values()}
    # a radial feeder: the distance from the source is the sum of the line lengths on the path
    dist = {b["id"]: b["distance_m"] for b in grid["buses"]}
    length = {(r["from_bus"], r["to_bus"]): r["length_m"] for r in net.lines.iter_rows(named=True)}
    assert dist["702"] == pytest.approx(dist["701"] + length[("701", "702")])
    assert dist["775"] == pytest.approx(dist["709"] + 0.0)  # behind the transformer 709-775


# ----- headless Chromium (skipped without one, as in test_report.py) ---------------------------
def test_page_renders_in_headless_chromium(solved: tuple[Path, Path], tmp_path: Path) -> None:
    from test_report import console_messages, probe

    page = solved[1] / "report.html"
    seen = probe(page, tmp_path)
    assert seen["problems"] == []
    assert {"summary", "opendss-check", "voltages", "grid", "switches"} <= set(seen["sections"])
    assert len(seen["images"]) == 2
    for img in seen["images"]:
        assert img["complete"] and img["width"] > 600 and img["shown"] > 300
    shot = tmp_path / "shot.png"
    assert console_messages(page, tmp_path, shot) == []
    with Image.open(shot) as img:
        assert img.size == (1280, 3200)


def test_lengths_without_a_unit_are_plotted_as_the_files_numbers() -> None:
    """IEEE 37's lines give ``Length=0.96`` without a unit (its line codes are per kft): the
    profile's axis read 0-0.008 "km" (the bare numbers taken as metres, divided by 1000). Now
    the grid says ``length_unit`` "none" and the axis carries the file's numbers, labelled as
    such; IEEE 13 (``units=ft``) stays in km."""
    from feederopt.api_threephase import report_grid
    from feederopt.cases import load_three_phase
    from feederopt.report.threephase import profile_points, voltage_profile_figure

    net = load_three_phase("ieee37")
    # the file itself: IEEE 37's first line, L1 701-702, 'Length=0.96' and no unit anywhere
    text = (DATA / "ieee37" / "ieee37.dss").read_text()
    assert "Length=0.96" in text and "units=" not in text.lower()
    grid = report_grid(net, set(), set())
    assert grid["length_unit"] == "none"
    dist = {b["id"]: b["distance_m"] for b in grid["buses"]}
    volts = {f"{b}.{ph}": 1.0 for b in dist for ph in "abc"}
    result = {"case": "ieee37", "has_solution": True, "open_switches": [], "grid": grid,
              "node_voltages_pu": {"opendss": volts}}
    ids, xs, _ = profile_points(result, "opendss", "a")
    at = dict(zip(ids, xs, strict=True))
    assert at["702"] - at["701"] == pytest.approx(0.96)
    fig = voltage_profile_figure(result)
    assert "without one" in fig.axes[-1].get_xlabel()
    grid13 = report_grid(load_three_phase("ieee13"), set(), set())
    assert grid13["length_unit"] == "m"


def test_no_ac_check_summary_gives_the_feedbacks_opendss_losses(tmp_path: Path) -> None:
    """``--no-ac-check`` (the voltage feedback on): the feedback solved the base case and the
    kept answer in OpenDSS, so the summary gives those losses and the reduction, labelled as
    the feedback's; before, "losses before" and "losses after" were "-"."""
    feeder = moved_tie_feeder(tmp_path)
    out = tmp_path / "out"
    code, text = run(["solve", str(feeder), "--time-limit", "30", "--no-ac-check",
                      "--max-loading", "110", "--out", str(out), "--quiet"])
    assert code == 0, text
    doc = json.loads((out / "result.json").read_text())
    fb = doc["voltage_feedback"]
    assert not doc.get("ac_check") and doc.get("base_losses_kw") is None  # the premise
    base, kept = fb["iterations"][0], fb["iterations"][fb["kept_iteration"]]
    assert base["topology"] == "base" and kept["open_switches"] == doc["open_switches"]
    before, after = base["opendss_losses_kw"], kept["opendss_losses_kw"]
    assert before > after  # the tie moved back: the answer loses less than the base case
    page = (out / "report.html").read_text()
    m = re.search(r'<section id="summary">(.*?)</section>', page, re.S)
    assert m is not None
    summary = m.group(1)
    assert f"{before:.2f} kW" in summary and f"{after:.2f} kW" in summary
    assert f"{(before - after) / before * 100:.2f} %" in summary
    assert "in the voltage feedback" in summary


def test_the_method_row_says_how_the_answer_was_searched(doc: dict[str, Any]) -> None:
    """User test ut_3ph2: an answer found by enumerating the radial states was labelled
    "lindist3flow (MILP on HiGHS)" while the page's own search row said enumeration."""
    from feederopt.report.threephase import render_three_phase_report

    for search, words in (("enumeration (11 radial states)", "enumeration (11 radial states)"),
                          ("MILP", "MILP on HiGHS")):
        changed = {**json.loads(json.dumps(doc)), "search": search}
        page = render_three_phase_report(changed, {}, "x")
        assert f"lindist3flow ({words}" in page
        assert f"three-phase reconfiguration: LinDist3Flow, {words}" in page

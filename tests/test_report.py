"""The HTML report, ``feederopt report``, the package-level API and ``Result.to_pandapower``.

The browser tests open the report in a real headless Chromium (Debian's ``chromium`` package,
which ``.ci/run`` installs): a probe script, added to a copy of the page, records every image's
natural size and every error, CSP violation and ``console.error``; the page itself is loaded
untouched with Chromium's console logging on, and screenshotted. A deliberately broken page
checks that the harness does see errors and broken images.
"""

from __future__ import annotations

import base64
import copy
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io.folder import write_folder
from feederopt.network import InputError
from feederopt.report.html import CSP, write_report
from netbuild import tiny

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("summary", "grid", "voltages", "convergence", "ac-check", "switches")
DATA_PNG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(scope="module")
def result_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real Benders solve of the 5-bus test feeder (one tie), saved with its report."""
    result = feederopt.solve(tiny(), method="benders")
    assert result.status.value == "optimal"
    assert result.log, "Benders logs its iterations"
    return feederopt.save(result, tmp_path_factory.mktemp("res") / "tiny", report=True)


@pytest.fixture
def fresh_dir(result_dir: Path, tmp_path: Path) -> Path:
    """A copy of the result folder that a test may change."""
    return Path(shutil.copytree(result_dir, tmp_path / "copy"))


def png_sizes(page: str) -> list[tuple[int, int]]:
    """(width, height) of every embedded PNG, decoded with Pillow."""
    sizes = []
    for data in DATA_PNG.findall(page):
        with Image.open(io.BytesIO(base64.b64decode(data))) as img:
            assert img.format == "PNG"
            sizes.append(img.size)
    return sizes


# ----- the page's content ------------------------------------------------------------------------
def test_report_has_every_section_and_embedded_figures(result_dir: Path) -> None:
    page = (result_dir / "report.html").read_text(encoding="utf-8")
    doc = json.loads((result_dir / "result.json").read_text())
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in page
    sizes = png_sizes(page)
    assert len(sizes) == 3  # grid, voltage profile, convergence
    assert all(w > 100 and h > 100 for w, h in sizes)
    # Self-contained: nothing but data URLs, and a policy that forbids loading anything else.
    assert not re.search(r'(src|href)="(?!data:|#)', page)
    assert "http://" not in page and "https://" not in page
    assert f'content="{CSP}"' in page
    # The summary's numbers come from result.json.
    before, after = doc["base"]["losses_kw"], doc["ac_check"]["losses_kw"]
    assert f"{before:.2f} kW" in page and f"{after:.2f} kW" in page
    assert f"{(before - after) / before * 100:.2f} %" in page
    assert f"{doc['base']['min_voltage_pu']:.4f} p.u." in page
    assert f"{doc['ac_check']['min_voltage_pu']:.4f} p.u." in page
    assert doc["solver"] in html.unescape(page)
    # The switching actions: the tie closes, one line opens.
    assert "2 of 4 switchable branches change state" in page


def test_scenario_and_robust_results_become_tables(fresh_dir: Path) -> None:
    doc = json.loads((fresh_dir / "result.json").read_text())
    doc["scenarios"] = [
        {"scenario": "<peak>", "weight": 0.25, "losses_kw": 12.5, "violations": 0},
        {"scenario": "valley", "weight": 0.75, "losses_kw": 3.25, "worst": True},
    ]
    doc["robust"] = {"uncertainty": 0.1, "worst_case_losses_kw": 4.5,
                     "extreme_points": [{"point": 1, "losses_kw": 4.5}]}
    (fresh_dir / "result.json").write_text(json.dumps(doc))
    page = write_report(fresh_dir, fresh_dir / "r.html").read_text(encoding="utf-8")
    scen = page[page.index('<section id="scenarios">'):]
    # scenario rows get the scenario table (probability, the model's losses; keys they lack
    # show "-"), whatever else they hold
    assert ('<th scope="col">scenario</th><th scope="col">probability</th>'
            '<th scope="col">model losses [kW]</th>') in scen
    assert '<td>&lt;peak&gt;</td><td class="num">0.25</td><td class="num">12.500</td>' in scen
    assert "&lt;peak&gt;" in scen and "<peak>" not in scen  # escaped
    rob = page[page.index('<section id="robust">'):]
    assert "worst_case_losses_kw" in rob and "<h3>extreme_points</h3>" in rob


def test_report_without_tables_or_images(fresh_dir: Path) -> None:
    """Only result.json: the page still opens, the figures' sections say what is missing."""
    for name in ("buses.parquet", "branches.parquet", "switches.parquet", "grid.png"):
        (fresh_dir / name).unlink()
    page = write_report(fresh_dir, force=True).read_text(encoding="utf-8")
    assert "no grid tables" in page and "No bus table" in page
    assert len(png_sizes(page)) == 1  # the convergence plot, from result.json


def test_report_redraws_the_grid_without_grid_png(fresh_dir: Path) -> None:
    (fresh_dir / "grid.png").unlink()
    page = write_report(fresh_dir, force=True).read_text(encoding="utf-8")
    assert len(png_sizes(page)) == 3


def test_missing_result_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such result folder"):
        write_report(tmp_path / "nope")
    with pytest.raises(InputError, match=r"no result\.json"):
        write_report(tmp_path)


# ----- the command line --------------------------------------------------------------------------
def test_cli_report_and_solve_report(result_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", str(result_dir), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert str(out) in res.stdout and len(png_sizes(out.read_text())) == 3

    folder = write_folder(tiny(), tmp_path / "tiny")
    res = runner.invoke(app, ["solve", str(folder), "--out", str(tmp_path / "o"), "--report",
                              "--quiet"])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    assert len(png_sizes((tmp_path / "o" / "report.html").read_text())) == 3


def test_cli_errors_without_traceback_unless_verbose(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    res = runner.invoke(app, ["solve", "case33bw", "--report"])
    assert res.exit_code == 2 and "--report needs --out" in res.output
    res = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "no such result folder" in res.output
    assert "Traceback" not in res.output

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("feederopt.report.html.write_report", boom)
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 1
    assert "error: RuntimeError: boom" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["report", str(tmp_path), "--verbose"])
    assert isinstance(res.exception, RuntimeError)  # propagates: Python prints the traceback

    def leave(*args: Any, **kwargs: Any) -> None:
        raise typer.Exit(5)

    monkeypatch.setattr("feederopt.report.html.write_report", leave)
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 5 and "error" not in res.output  # an exit is not an error
    res = runner.invoke(app, ["info", "no_such_case", "--verbose"])
    assert res.exit_code == 2 and "Traceback" in res.output and "unknown_case" in res.output


def test_cli_error_outside_the_test_runner_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "feederopt.cli", "report", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no result.json" in proc.stderr and "Traceback" not in proc.stderr


# ----- the package-level API and pandapower write-back -------------------------------------------
def test_package_level_api() -> None:
    from feederopt import api, load, save, solve

    assert (feederopt.load, feederopt.solve, feederopt.save) == (api.load, api.solve, api.save)
    assert load is api.load and solve is api.solve and save is api.save
    assert {"load", "solve", "save", "write_report"} <= set(dir(feederopt))
    with pytest.raises(AttributeError):
        _ = feederopt.no_such_name  # type: ignore[attr-defined]


def test_to_pandapower_on_a_net_of_ones_own() -> None:
    """A user's pandapower net: the copy carries the result's switch states, pandapower's own
    power flow of it gives the losses of the AC check, and the user's net is untouched."""
    import pandapower as pp
    import pandapower.networks as pn
    from pandapower.toolbox import nets_equal

    user_net = pn.case33bw()
    pristine = copy.deepcopy(user_net)
    result = feederopt.solve(feederopt.load(user_net), method="lindistflow")
    assert result.switches["changed"].any(), "the case is only a test if switches change"
    new = result.to_pandapower(user_net)
    assert new is not user_net
    assert nets_equal(user_net, pristine, check_only_results=False)

    pp.runpp(new)
    losses_kw = sum(new[f"res_{el}"].pl_mw.sum() for el in ("line", "trafo") if len(new[el]))
    assert result.ac_check is not None and result.ac_check.converged
    assert losses_kw * 1000 == pytest.approx(result.ac_check.losses_kw, abs=1e-6)
    opened = {b["id"] for b in result.open_branches}
    out_of_service = {f"line:{i}" for i in new.line.index[~new.line.in_service]}
    open_switches = {f"line:{new.switch.element[i]}" for i in new.switch.index
                     if new.switch.et[i] == "l" and not new.switch.closed[i]}
    assert opened == out_of_service | open_switches
    vm = new.res_bus.vm_pu.to_numpy()
    assert vm.min() == pytest.approx(result.ac_check.min_voltage_pu, abs=1e-9)
    assert np.isfinite(vm).all()


#: Runs the README's blocks (a JSON list on stdin) one after the other in one interpreter, each
#: in a namespace of its own (``__name__ == "__main__"``, nothing from the block before: a
#: block that lacks an import fails as in a fresh ``python``); stops at the first that raises,
#: naming it on stderr with its traceback and exiting 1.
README_RUNNER = """
import json, sys, traceback
for i, code in enumerate(json.load(sys.stdin)):
    try:
        exec(compile(code, f"<README python block {i}>", "exec"), {"__name__": "__main__"})
    except BaseException:
        print(f"README python block {i} failed:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    print(f"README python block {i} ran", file=sys.stderr, flush=True)
"""


@pytest.mark.slow
def test_readme_python_examples_run(tmp_path: Path) -> None:
    """Every ```python block of the README runs as written (in a scratch folder, in a fresh
    interpreter outside the test runner). The blocks share that one interpreter, each in its
    own namespace: a new interpreter per block spent 2-4 s of its 6-15 s importing feederopt,
    pandapower and polars again."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks
    proc = subprocess.run([sys.executable, "-c", README_RUNNER], input=json.dumps(blocks),
                          cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ran = re.findall(r"^README python block (\d+) ran$", proc.stderr, flags=re.M)
    assert ran == [str(i) for i in range(len(blocks))], proc.stderr[-3000:]
    assert len(png_sizes((tmp_path / "my_result" / "report.html").read_text())) == 3


# ----- headless Chromium -------------------------------------------------------------------------
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)

#: Added to a copy of the page, first thing in <head>: records errors, CSP violations and
#: console.error/warn calls, and after the load event the natural size of every image, into
#: <pre id="probe"> as JSON (read back with --dump-dom).
PROBE = """<script>
window.__problems = [];
window.addEventListener('error', e => window.__problems.push(
  'error: ' + (e.message || (e.target && (e.target.src || e.target.href)) || e.type)), true);
window.addEventListener('unhandledrejection',
  e => window.__problems.push('rejection: ' + e.reason));
document.addEventListener('securitypolicyviolation', e => window.__problems.push(
  'csp: ' + e.violatedDirective + ' ' + e.blockedURI));
for (const level of ['error', 'warn']) {
  const orig = console[level];
  console[level] = (...args) => { window.__problems.push(level + ': ' + args.join(' '));
                                  orig.apply(console, args); };
}
window.addEventListener('load', () => setTimeout(() => {
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({
    images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,
      width: i.naturalWidth, height: i.naturalHeight, shown: i.getBoundingClientRect().width})),
    sections: Array.from(document.querySelectorAll('section')).map(s => s.id),
    problems: window.__problems});
  document.body.appendChild(pre);
}, 100));
</script>"""


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("FEEDEROPT_REQUIRE_CHROMIUM"):  # set by .ci/run, which installs it
        pytest.fail("FEEDEROPT_REQUIRE_CHROMIUM is set but no Chromium is installed")
    pytest.skip("no Chromium found (tried " + ", ".join(CHROMIUM_NAMES) + "); install Debian's "
                "'chromium' package (apt-get install -y chromium), as .ci/run does")


def run_chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def probe(page: Path, tmp_path: Path) -> dict[str, Any]:
    """Load a probed copy of ``page`` and return what the probe recorded."""
    text = page.read_text(encoding="utf-8")
    # The copy's policy also allows inline scripts (the probe); everything else stays as is.
    text = text.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    head = text.index("<head>") + len("<head>")
    probed = tmp_path / f"probed_{page.name}"
    probed.write_text(text[:head] + PROBE + text[head:], encoding="utf-8")
    proc = run_chromium(probed, tmp_path / "profile-probe", "--dump-dom",
                        "--virtual-time-budget=10000")
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, flags=re.S)
    assert m, "the probe did not run:\n" + proc.stdout[-2000:] + proc.stderr[-2000:]
    return dict(json.loads(html.unescape(m.group(1))))


def console_messages(page: Path, tmp_path: Path, shot: Path) -> list[str]:
    """Load ``page`` untouched with Chromium's console logging on, screenshot it, and return
    every console message (errors, CSP violations, failed loads, logs)."""
    proc = run_chromium(page, tmp_path / "profile-shot", "--enable-logging=stderr", "--v=0",
                        "--hide-scrollbars", "--window-size=1280,3200", f"--screenshot={shot}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [line for line in proc.stderr.splitlines()
            if ":CONSOLE" in line or "Uncaught" in line]


def test_report_renders_in_headless_chromium(result_dir: Path, tmp_path: Path) -> None:
    page = result_dir / "report.html"
    seen = probe(page, tmp_path)
    assert seen["problems"] == []
    assert set(SECTIONS) <= set(seen["sections"])
    assert len(seen["images"]) == 3
    for img in seen["images"]:
        assert img["complete"] and img["width"] > 100 and img["height"] > 100, img
        assert img["shown"] > 100, img  # laid out on the page, not collapsed

    shot = tmp_path / "report.png"
    assert console_messages(page, tmp_path, shot) == []
    with Image.open(shot) as img:
        assert img.size == (1280, 3200)
        rgb = np.asarray(img.convert("RGB"))
    colours = np.unique(rgb.reshape(-1, 3), axis=0)
    assert len(colours) > 200, "the screenshot is blank"
    assert (rgb.min(axis=2) < 200).mean() > 0.01, "the screenshot is nearly white"


def test_chromium_harness_sees_errors_and_broken_images(tmp_path: Path) -> None:
    """The negative control: an external image, a broken one and a script error are caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}"></head><body>'
        '<img src="https://example.invalid/x.png" alt="external">'
        '<img src="data:image/png;base64,AAAA" alt="broken">'
        '<script>throw new Error("boom")</script></body></html>', encoding="utf-8")
    seen = probe(page, tmp_path)
    assert any("csp: img-src" in p for p in seen["problems"]), seen
    assert any("boom" in p for p in seen["problems"]), seen
    assert [i["width"] for i in seen["images"]] == [0, 0]
    messages = "\n".join(console_messages(page, tmp_path, tmp_path / "bad.png"))
    assert "Content Security Policy" in messages  # the external image is blocked and logged
    assert "script-src" in messages  # so is the inline script of the untouched page


def test_grid_uses_geographic_coordinates_when_the_input_has_them(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import polars as pl

    from feederopt.report import plot
    from netbuild import tiny_tables

    tables = tiny_tables()
    xy = {"x": [0.0, 1.0, 2.0, 3.0, 4.0], "y": [5.0, 4.0, 3.0, 2.0, 1.0]}
    tables["buses"] = tables["buses"].with_columns(pl.Series("x", xy["x"]),
                                                   pl.Series("y", xy["y"]))
    net = feederopt.network.Network.from_tables(**tables, name="tiny_xy")
    result = feederopt.solve(net, method="lindistflow")
    seen: dict[str, Any] = {}
    draw = plot.grid_figure

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen["pos"] = args[2]
        return draw(*args, **kwargs)

    monkeypatch.setattr(plot, "grid_figure", spy)
    plot.plot_grid(result, tmp_path / "g.png")
    np.testing.assert_array_equal(seen["pos"], np.column_stack([xy["x"], xy["y"]]))
    # Without coordinates: the tree layout, the source on top.
    plot.plot_grid(feederopt.solve(tiny(), method="lindistflow"), tmp_path / "t.png")
    assert seen["pos"] is None
    pos = plot.tree_layout(5, np.array([0, 1, 2, 3, 0]), np.array([1, 2, 3, 4, 3]),
                           np.array([True, True, True, True, False]), np.array([0]))
    assert pos[0, 1] == 0 and (pos[1:, 1] < 0).all()


def test_timings_table_holds_only_seconds(fresh_dir: Path) -> None:
    """The "Timings [s]" section lists the ``*_s`` entries; the engine's counts and bounds
    (cuts, probed switches, a loop bound in kW) stand in their own section; before, they were
    listed as seconds ('warm_cuts 591', 'loop_bound_kw 140.3')."""
    doc = json.loads((fresh_dir / "result.json").read_text())
    doc["timings"] = {"master_s": 1.25, "warm_cuts": 591.0, "loop_bound_kw": 140.3}
    (fresh_dir / "result.json").write_text(json.dumps(doc))
    page = write_report(fresh_dir, fresh_dir / "again.html").read_text(encoding="utf-8")
    secs = re.search(r'<section id="timings">(.*?)</section>', page, re.S)
    engine = re.search(r'<section id="engine">(.*?)</section>', page, re.S)
    assert secs is not None and engine is not None
    assert "master_s" in secs.group(1) and "warm_cuts" not in secs.group(1)
    assert "warm_cuts" in engine.group(1) and "loop_bound_kw" in engine.group(1)

"""What a user saw of the three-phase command line (``feederopt info/solve FILE.dss``, ``--out``
and ``feederopt report``) before the fixes of this file's commits, each test failing on the
code before its fix.

The ring feeder is the one of ``tests/test_threephase_voltage_limits.py`` (12.47 kV, four
switches, ``s1`` open in the base case), whose states OpenDSS's own power flow puts at these
lowest voltages: ``s1`` 0.9479, ``s2`` 0.9483, ``s3`` 0.9459, ``s4`` 0.9387 p.u. With
``--v-min 0.949`` no radial state keeps the limit in OpenDSS.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import solve_three_phase
from feederopt.cli import app

runner = CliRunner()


def test_info_json_of_a_three_phase_feeder_is_json_on_stdout(tmp_path: Path) -> None:
    """``feederopt info ieee13 --json`` (the README's command on a built-in feeder): standard
    output is one JSON document. Before, HiGHS's banner ("Running HiGHS 1.16.0 ...: Copyright
    ...") came first, written by the C library to descriptor 1 when LinDist3Flow made its first
    HiGHS object, so ``json.loads`` of the output failed; CliRunner does not see descriptor 1,
    hence a real process here."""
    done = subprocess.run([sys.executable, "-m", "feederopt.cli", "info", "ieee13", "--json"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "HiGHS" not in done.stdout
    doc = json.loads(done.stdout)
    assert doc["name"] == "ieee13" and doc["base_converged"]


def test_v_min_alone_above_the_networks_v_max_is_bad_input() -> None:
    """``solve ieee13 --v-min 1.15`` (the file's buses have v_max 1.1): exit 2 with a typed
    problem that names the option and the network's limit, before any solve; ``--v-max 0.5``
    alone likewise. Before: the MILP ran with every bus's band empty and the answer was
    "infeasible: no radial topology keeps every voltage within its limits", exit 3. The
    balanced solve (case33bw, v_max 1.0-1.1) failed with HiGHS's "Invalid bounds", exit 1."""
    res = runner.invoke(app, ["solve", "ieee13", "--v-min", "1.15"])
    assert res.exit_code == 2, res.output
    assert "--v-min 1.15 is not below the network's own v_max (1.1 p.u.)" in res.output
    assert "Traceback" not in res.output and "infeasible" not in res.output
    res = runner.invoke(app, ["solve", "ieee13", "--v-max", "0.5"])
    assert res.exit_code == 2, res.output
    assert "--v-max 0.5 is not above the network's own v_min (0.9 p.u.)" in res.output
    res = runner.invoke(app, ["solve", "case33bw", "--v-min", "1.15"])
    assert res.exit_code == 2, res.output
    assert "--v-min 1.15 is not below the network's own v_max" in res.output


def test_the_voltage_feedback_keeps_the_time_limit() -> None:
    """``solve iowa240 --time-limit 0.01`` (the feedback on, the default): the MILP stops at the
    time limit as with ``--no-voltage-feedback`` (no topology, status time_limit). Before, the
    feedback gave every MILP at least 1 s whatever the limit: 1.00 s of MILP, a topology and
    exit 0 for a 0.01 s limit."""
    data = solve_three_phase("iowa240", time_limit_s=0.01, ac_check=False)
    runs = [r for r in data["voltage_feedback"]["iterations"] if r["topology"] == "answer"]
    assert runs and all(r["milp_time_s"] < 0.5 for r in runs), runs
    assert data["solve_time_s"] < 0.5
    assert data["status"] == "time_limit"


def test_a_milp_without_an_answer_is_not_said_to_break_the_limits() -> None:
    """``solve iowa240 --time-limit 0.01``: no topology from the MILP, so the feedback's line
    says "no answer" and not "none within the limits", which blamed voltages that no answer
    had (the same on a feeder infeasible on its current ratings). The base topology, within
    the voltage limits by OpenDSS, is the time-limited run's incumbent: kept (it was exit 4,
    no topology, before the base became the incumbent). Its service transformer T_3082 is
    above its rating whatever the switches (177 % in OpenDSS, tests/test_threephase_audit's
    neighbours and docs/threephase.md), so the feedback's OpenDSS solve of the kept answer
    makes the exit code 4 and names it."""
    res = runner.invoke(app, ["solve", "iowa240", "--time-limit", "0.01", "--no-ac-check"])
    assert res.exit_code == 4, res.output
    text = " ".join(res.output.split())
    assert "OpenDSS's currents of the answer load Transformer.t_3082" in text
    assert "no answer" in res.output and "none within the limits" not in res.output
    assert "is kept: the MILP found no topology in that time" in res.output


def test_the_report_of_a_no_ac_check_solve_shows_the_feedbacks_verdict(tmp_path: Path) -> None:
    """``solve ring.dss --v-min 0.949 --no-ac-check --out DIR``: no radial state keeps 0.949 in
    OpenDSS (lowest 0.9459-0.9483 p.u., module docstring), the feedback's OpenDSS solve of the
    answer (``s3`` open) says so and the exit code is 3 (infeasible: OpenDSS solved every
    radial state). report.html now says it too: the summary's card "none; feedback: voltage
    limits broken" and a "Voltage feedback" section with a row per OpenDSS solve.
    Before, the page showed the green "optimal", "-" for the
    OpenDSS check and nothing of the feedback."""
    from test_threephase_voltage_limits import FEEDER

    feeder = tmp_path / "ring.dss"
    feeder.write_text(FEEDER)
    out = tmp_path / "r"
    res = runner.invoke(app, ["solve", str(feeder), "--v-min", "0.949", "--no-ac-check",
                              "--out", str(out)])
    # no radial state within the limits in OpenDSS: infeasible (ut32_3ph #4)
    assert res.exit_code == 3, res.output
    data = json.loads((out / "result.json").read_text())
    assert data["open_switches"] == ["s3"] and "ac_check" not in data
    # the verdict of the exit code in the JSON too (ut_cli #7: only "status": "optimal")
    assert data["within_limits"] is False
    page = (out / "report.html").read_text()
    assert "none; feedback: voltage limits broken" in page
    # red, not the green 'optimal' (infeasible since ut32_3ph #4)
    assert '<span class="status infeasible">' in page
    assert 'id="voltage-feedback"' in page
    assert "OpenDSS finds no answer within the voltage limits" in page
    # OpenDSS's losses of the kept answer, as the JSON has them; OpenDSS's own solution of the
    # script with s3 open gives 61.4 kW (tests/test_threephase_voltage_limits.py)
    kept = data["voltage_feedback"]["iterations"][data["voltage_feedback"]["kept_iteration"]]
    assert abs(kept["opendss_losses_kw"] - 61.4) < 0.05
    assert f"{kept['opendss_losses_kw']:.3f}" in page


RADIAL = """Clear
New Circuit.rad bus1=src basekV=12.47 pu=1.00 phases=3 MVAsc3=200 MVAsc1=210
New Linecode.lc nphases=3 units=kft rmatrix=(0.05|0.015 0.05|0.015 0.015 0.05) """ + \
    """xmatrix=(0.30|0.10 0.30|0.10 0.10 0.30)
New Line.l1 Phases=3 Bus1=src Bus2=a LineCode=lc Length=5 units=kft
New Line.l2 Phases=3 Bus1=a Bus2=b LineCode=lc Length=5 units=kft
New Load.b Bus1=b Phases=3 kV=12.47 kW=nan kvar=300 model=1
Set voltagebases=[12.47]
Calcvoltagebases
Solve
"""


def test_a_nan_load_in_the_file_is_bad_input(tmp_path: Path) -> None:
    """``Load.b ... kW=nan`` (OpenDSS reads it as NaN): ``solve`` and ``info`` exit 2 with a
    typed problem naming the load and its field. Before, ``info`` printed a total load of nan
    (``NaN`` in its JSON, which strict JSON readers refuse) and ``solve`` answered
    "infeasible: the current limits bind (l2 (291 %), l1 (291 %))", exit 3."""
    feeder = tmp_path / "nan.dss"
    feeder.write_text(RADIAL)
    for command in ("solve", "info"):
        res = runner.invoke(app, [command, str(feeder)])
        assert res.exit_code == 2, res.output
        # the OpenDSS reader names the file's own element and field (Load.b, kW)
        assert "loads [b].kW: Load.b: kW is nan, not a finite number" in res.output, res.output
        assert "infeasible" not in res.output


def test_a_load_rated_at_zero_kv_is_bad_input(tmp_path: Path) -> None:
    """``Load.b ... kV=0``: OpenDSS's own solution of the script ends in NaN (checked here with
    opendssdirect), which read as NaN powers of whatever came after the loads (IEEE 13's DERs:
    "generators [Generator.675, PVSystem...].p_mw: p_mw is not a finite number", naming them
    and not the load). ``info`` exits 2 naming the load and its kV."""
    import opendssdirect as dss

    feeder = tmp_path / "kv0.dss"
    feeder.write_text(RADIAL.replace("kW=nan", "kW=900").replace("kV=12.47 kW", "kV=0 kW"))
    dss.Text.Command(f'redirect "{feeder}"')
    assert not all(math.isfinite(v) for v in dss.Circuit.TotalPower())
    res = runner.invoke(app, ["info", str(feeder)])
    assert res.exit_code == 2, res.output
    assert "loads [b].kV: Load.b: kV is 0, not a positive number" in res.output, res.output


@pytest.mark.parametrize(("spec", "field", "words"), [
    ("kvar=600 kV=0", "kV", "kV is 0, not a positive number"),
    ("kvar=nan kV=12.47", "kvar", "kvar is nan, not a finite number")])
def test_a_capacitor_without_a_rating_is_bad_input(tmp_path: Path, spec: str, field: str,
                                                   words: str) -> None:
    """A capacitor at ``kV=0`` or ``kvar=nan``: OpenDSS's own solution of the script ends in
    NaN (checked here), which read as NaN powers of the DERs after it (IEEE 13: its
    generators named, not the capacitor). ``info`` exits 2 naming the capacitor and field."""
    import opendssdirect as dss

    feeder = tmp_path / "cap.dss"
    feeder.write_text(RADIAL.replace("kW=nan", "kW=900").replace(
        "Set voltagebases", f"New Capacitor.c1 Bus1=a phases=3 {spec}\nSet voltagebases"))
    dss.Text.Command(f'redirect "{feeder}"')
    assert not all(math.isfinite(v) for v in dss.Circuit.TotalPower())
    res = runner.invoke(app, ["info", str(feeder)])
    assert res.exit_code == 2, res.output
    assert f"shunts [c1].{field}: Capacitor.c1: {words}" in res.output, res.output


@pytest.mark.parametrize(("old", "new", "words"), [
    # the source's set-point: named
    ("pu=1.00", "pu=nan", "sources [source].pu: Vsource.source: pu is nan, not a finite number"),
    # a NaN that no check names (a shunt reactor's kvar): the buses it leaves without a
    # voltage, not the DERs
    ("Set voltagebases", "New Reactor.r1 Bus1=a phases=3 kvar=nan kV=12.47\nSet voltagebases",
     "OpenDSS's power flow of the file gives no finite voltage at 3 bus(es) (NaN)")])
def test_a_nan_that_spoils_opendss_solution_is_named(tmp_path: Path, old: str, new: str,
                                                      words: str) -> None:
    """OpenDSS takes these NaN values without an error and its solution is NaN (checked
    here); the reader read the DERs' outputs from it and named them (IEEE 13 with pu=nan:
    "generators [Generator.675, PVSystem...].p_mw: p_mw is not a finite number")."""
    import opendssdirect as dss

    feeder = tmp_path / "nan.dss"
    feeder.write_text(RADIAL.replace("kW=nan", "kW=900").replace(old, new))
    dss.Text.Command(f'redirect "{feeder}"')
    assert not all(math.isfinite(v) for v in dss.Circuit.AllBusVMag())
    res = runner.invoke(app, ["info", str(feeder)])
    assert res.exit_code == 2, res.output
    assert words in " ".join(res.output.split()), res.output
    assert "generators" not in res.output


def test_the_profile_caption_names_only_the_series_drawn() -> None:
    """With ``--no-ac-check`` the voltage profile has LinDist3Flow's voltages alone; its caption
    described OpenDSS's blue and grey series too, which the figure does not have."""
    from feederopt.report.threephase import figures_section

    alone = figures_section({"voltage_profile.png": b"png"},
                            {"node_voltages_pu": {"lindist3flow": {"b.a": 1.0}}})
    assert "LinDist3Flow at the answer" in alone and "OpenDSS at the answer" not in alone
    assert "OpenDSS in the base case" not in alone
    full = figures_section({"voltage_profile.png": b"png"}, {"node_voltages_pu": {
        "opendss": {"b.a": 1.0}, "opendss_base": {"b.a": 1.0}, "lindist3flow": {"b.a": 1.0}}})
    assert "OpenDSS at the answer" in full and "OpenDSS in the base case" in full


def test_out_onto_the_current_folder_or_the_inputs_folder_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``solve ring.dss --out . --force`` in the feeder's folder: exit 2, nothing written or
    moved. Before: "OSError: [Errno 16] Device or resource busy", exit 1, and a stray
    '..<random>.old' folder. ``solve sub/ring.dss --out sub --force``: exit 2 and the feeder
    file kept; before, exit 0 with ``sub`` replaced by the result folder, the input deleted."""
    from test_threephase_voltage_limits import FEEDER

    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ring.dss").write_text(FEEDER)
    monkeypatch.chdir(sub)
    res = runner.invoke(app, ["solve", "ring.dss", "--out", ".", "--force", "--quiet"])
    assert res.exit_code == 2, res.output
    assert "current folder" in res.output
    assert sorted(p.name for p in sub.iterdir()) == ["ring.dss"]
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["solve", "sub/ring.dss", "--out", "sub", "--force", "--quiet"])
    assert res.exit_code == 2, res.output
    assert "holds the input" in res.output
    assert (sub / "ring.dss").read_text() == FEEDER


def test_result_folders_and_reports_get_the_usual_permissions(tmp_path: Path) -> None:
    """``solve FILE.dss --out DIR`` and ``report DIR --out FILE``: the folder and the page have
    the permissions ``mkdir``/``open`` give under the user's umask (0755/0644 under 022).
    Before, ``drwx------`` and ``-rw-------`` (``mkdtemp``/``mkstemp``'s), so a report put on a
    shared folder or web server could not be read by anyone else."""
    import os

    feeder = tmp_path / "rad.dss"
    feeder.write_text(RADIAL.replace("kW=nan", "kW=1500"))
    umask = os.umask(0o022)
    os.umask(umask)
    assert umask & 0o055 != 0o055  # a umask that lets others read (the usual 022)
    res = runner.invoke(app, ["solve", str(feeder), "--out", str(tmp_path / "r"), "--quiet"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", str(tmp_path / "r"), "--out",
                              str(tmp_path / "page.html"), "--quiet"])
    assert res.exit_code == 0, res.output
    expect_dir, expect_file = 0o777 & ~umask, 0o666 & ~umask
    assert (tmp_path / "r").stat().st_mode & 0o777 == expect_dir
    assert (tmp_path / "page.html").stat().st_mode & 0o777 == expect_file


def test_no_ac_check_warning_gives_opendss_voltages_of_the_answer(tmp_path: Path) -> None:
    """``solve ring.dss --v-min 0.949 --no-ac-check`` without ``--json``: the warning gives
    OpenDSS's voltage range of the kept answer (``s3``: lowest 0.9459 p.u. in OpenDSS's own
    solution, module docstring) against the limits. Before, it said only "(see
    voltage_feedback in the JSON)", with no JSON written and no OpenDSS figure on screen."""
    from test_threephase_voltage_limits import FEEDER

    feeder = tmp_path / "ring.dss"
    feeder.write_text(FEEDER)
    res = runner.invoke(app, ["solve", str(feeder), "--v-min", "0.949", "--no-ac-check"])
    # no radial state within the limits in OpenDSS: infeasible (ut32_3ph #4)
    assert res.exit_code == 3, res.output
    text = " ".join(res.output.split())
    assert "break the limits (OpenDSS 0.9459 - " in text and "against 0.949 - 1.1" in text


def test_opendss_warnings_of_the_check_reach_the_console(tmp_path: Path) -> None:
    """``solve ieee13mod``: OpenDSS's check warns that its seven zero-impedance switch lines get
    OpenDSS's switch impedance. report.html showed the warning; the console did not."""
    # XFM1 carries 104.3 % of its per-phase normhkva rating in OpenDSS's own solution of the
    # stock feeder
    res = runner.invoke(app, ["solve", "ieee13mod", "--max-loading", "110",
                              "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    warnings = json.loads((tmp_path / "r.json").read_text())["ac_check"]["warnings"]
    assert any("zero impedance" in w for w in warnings)
    text = " ".join(res.output.split())
    for w in warnings:
        assert f"warning (OpenDSS check): {' '.join(w.split())}" in text


def test_a_built_in_feeder_is_the_results_source() -> None:
    """User test ut_cli #7: a balanced solve of a built-in case records its name as
    ``source``; a three-phase one recorded null."""
    from feederopt import solve_three_phase

    res = solve_three_phase("ieee13mod", time_limit_s=20, ac_check=False,
                            voltage_feedback=False)
    assert res.source == "ieee13mod" and res.to_dict()["source"] == "ieee13mod"

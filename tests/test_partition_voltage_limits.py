"""``feederopt partition --v-min/--v-max`` and the settings file's bus ``vm_lb``/``vm_ub``: the
limits of every bus in the partition model and in the OpenDSS checks of its plan (the voltage
feedback's at the nominal load, ``feederopt check``'s samples); the option wins over the file.
Before, partition had no such options (exit 2, "No such option") and the file's bounds were
only noted ("each bus keeps the network's voltage limits").

The feeder is the long line of tests/partition_feeders.py at 3.5 MW + j1.17 Mvar: one
grid-forming 10 MW generator g1 at b1, the switch s12, 10 km of line to the load at b2; the
plan either closes s12 and serves the load or serves nothing. The independent truth is OpenDSS
itself, driven here without feederopt (:func:`partition_feeders.long_line_b2_voltages`: the
file compiled with ``opendssdirect``, g1 replaced by a stiff source at a set-point, b2's phase
voltages read back):

* at the plan's own set-point b2 lies within the network's 0.9-1.1 p.u. but below 0.95 p.u.,
  so the same plan is within the limits by default and breaks ``--v-min 0.95`` (exit 4);
* even at the highest set-point that ``--v-max`` leaves g1's bus (1.1 p.u.) b2 is below
  0.96 p.u., so no plan that serves the load holds ``--v-min 0.96``: the optimum serves
  nothing (the only other plan), and so with the file's ``vm_lb`` of 0.96 p.u. at b2.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from partition_feeders import long_line, long_line_b2_voltages

runner = CliRunner(env={"COLUMNS": "400"})

KW, KVAR = 3500, 1166.67
SETTINGS = {"dss": {"Generator.g1": {"inverter": "gfm"}}}  # s12 left to the optimisation
PHASE_KV = 12.47 / math.sqrt(3)  # b2's 1 p.u. phase to neutral [kV]
_RUNS = itertools.count()  # one JSON file per run


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("vlim")
    feeder, settings = tmp / "long.dss", tmp / "long.json"
    feeder.write_text(long_line(KW, KVAR))
    settings.write_text(json.dumps(SETTINGS))
    return feeder, settings


def _run(files: tuple[Path, Path], *options: str, settings: Path | None = None
         ) -> tuple[int, dict[str, Any], str]:
    feeder, own = files
    out = feeder.parent / f"res{next(_RUNS)}.json"
    res = runner.invoke(app, ["partition", str(feeder), "--settings", str(settings or own),
                              "--json", str(out), "--time-limit", "120", "--force",
                              *options])
    console = " ".join(res.output.replace("\u2502", " ").split())  # table cells as text
    assert out.exists(), res.output
    return res.exit_code, json.loads(out.read_text()), console


def _b2(files: tuple[Path, Path], v_set: float) -> float:
    """OpenDSS's lowest phase voltage at b2 [p.u.], g1 a source at ``v_set``, load nominal."""
    return long_line_b2_voltages(files[0], v_set, 1.0)[0]


def test_a_tighter_v_min_breaks_the_plan_that_the_default_limits_pass(files) -> None:
    code, doc, console = _run(files)
    assert code == 0 and doc["within_limits"] is True
    assert doc["closed_switches"] == ["s12"]
    (mg,) = doc["microgrids"]
    truth = _b2(files, mg["v_set_pu"])
    assert 0.9 <= truth < 0.95  # the premise: within 0.9, below 0.95 in OpenDSS
    assert doc["inputs"]["voltage_limits"]["v_min_pu"] == 0.9
    assert "voltage limits 0.9 - 1.1 p.u. (v_min: network; v_max: network)" in console

    code, doc, console = _run(files, "--v-min", "0.95")
    assert doc["inputs"]["v_min_pu"] == 0.95
    assert doc["inputs"]["voltage_limits"]["v_min_pu"] == 0.95
    assert "voltage limits 0.95 - 1.1 p.u. (v_min: --v-min; v_max: network)" in console
    # the model holds b2 at 0.95 (lossless); OpenDSS puts it below: the verdict is the option's
    assert doc["closed_switches"] == ["s12"]
    (mg,) = doc["microgrids"]
    assert mg["v_min_pu"] >= 0.95 - 1e-6
    truth = _b2(files, mg["v_set_pu"])
    assert 0.9 <= truth < 0.95 - 1e-3
    fb = doc["voltage_feedback"]
    kept = fb["rounds"][fb["kept_round"]]
    assert abs(kept["opendss_v_min_pu"] - truth) < 2e-3, (kept, truth)
    assert kept["within_voltage_limits"] is False
    assert code == 4 and doc["within_limits"] is False
    assert "the plan is not within the limits" in console and "exit code 4" in console


def test_a_v_min_that_no_serving_plan_holds_sheds_the_load(files, tmp_path) -> None:
    code, doc, console = _run(files, "--v-min", "0.96", "--out", str(tmp_path / "f"))
    # no plan that closes s12 holds 0.96 at b2 in OpenDSS, even with g1 at the v_max 1.1
    assert _b2(files, 1.1) < 0.96
    assert code == 0, console
    assert doc["closed_switches"] == [] and doc["served_load_kw"] == 0.0
    assert doc["status"] == "optimal"
    # the report says the limits used, and the command line that writes the folder again
    # from the JSON gives the option back
    html = (tmp_path / "f" / "report.html").read_text()
    assert ("<th scope=\"row\">voltage limits</th><td>0.96 - 1.1 p.u. (v_min: --v-min; "
            "v_max: network)</td>") in html
    last = max(files[0].parent.glob("res*.json"), key=lambda f: f.stat().st_mtime_ns)
    res = runner.invoke(app, ["report", str(last)])
    assert res.exit_code == 2 and "--v-min 0.96" in res.output, res.output
    # and --v-max binds g1's set-point (the model's voltages lie within it)
    code, doc, _ = _run(files, "--v-max", "1.08")
    assert doc["closed_switches"] == ["s12"]
    (mg,) = doc["microgrids"]
    assert mg["v_set_pu"] <= 1.08 + 1e-6 and mg["v_max_pu"] <= 1.08 + 1e-6
    truth = _b2(files, mg["v_set_pu"])
    assert 0.9 <= truth <= 1.08


def test_the_settings_files_bus_limits_apply_and_the_option_wins(files, tmp_path) -> None:
    own = tmp_path / "vm.json"
    own.write_text(json.dumps({**SETTINGS, "bus": {"b2": {
        "vm_lb": [0.96 * PHASE_KV] * 3, "vm_ub": [1.1 * PHASE_KV] * 3}}}))
    code, doc, console = _run(files, settings=own)
    assert code == 0, console
    assert doc["closed_switches"] == [] and doc["served_load_kw"] == 0.0  # as --v-min 0.96
    assert "not applied: bus" not in console
    lim = doc["inputs"]["voltage_limits"]
    assert lim["v_min_pu"] == {"min": 0.9, "max": pytest.approx(0.96)}
    assert lim["v_min_from"] == "settings" and lim["v_max_from"] == "network"
    # the command line's limit wins over the file's for every bus
    code, doc, console = _run(files, "--v-min", "0.9", settings=own)
    assert code == 0 and doc["closed_switches"] == ["s12"], console
    (mg,) = doc["microgrids"]
    assert 0.9 <= _b2(files, mg["v_set_pu"]) <= 1.1


def test_feederopt_check_holds_the_results_own_limits(files) -> None:
    """`feederopt check` of a result rebuilds its limits: the --v-min 0.95 plan's samples
    (uncertainty 0: the nominal load) break 0.95 at b2 in OpenDSS, as the truth says."""
    feeder = files[0]
    out = feeder.parent / "v95.json"
    res = runner.invoke(app, ["partition", str(feeder), "--settings", str(files[1]),
                              "--v-min", "0.95", "--no-voltage-feedback", "--json", str(out),
                              "--time-limit", "120", "--force"])
    assert res.exit_code == 0, res.output  # no OpenDSS check without feedback and samples
    doc = json.loads(out.read_text())
    (mg,) = doc["microgrids"]
    assert _b2(files, mg["v_set_pu"]) < 0.95 - 1e-3
    chk = runner.invoke(app, ["check", str(out), "--samples", "2"])
    text = " ".join(chk.output.split())
    assert chk.exit_code == 4, chk.output
    assert "2 of 2 samples" in text


@pytest.mark.parametrize(("options", "words"), [
    (("--v-min", "1.12"), "--v-min 1.12 is not below the network's own v_max"),
    (("--v-min", "0.95", "--v-max", "0.9"), "--v-min (0.95) must be below --v-max (0.9)"),
    (("--v-max", "2.5"), "--v-max must be a voltage in p.u. between 0 and 2"),
])
def test_bad_limits_are_typed_problems(files, options, words) -> None:
    feeder, settings = files
    res = runner.invoke(app, ["partition", str(feeder), "--settings", str(settings),
                              *options])
    assert res.exit_code == 2, res.output
    assert words in " ".join(res.output.split())


def test_a_files_lower_bound_above_the_networks_upper_is_a_typed_problem(files,
                                                                          tmp_path) -> None:
    own = tmp_path / "bad.json"
    own.write_text(json.dumps({**SETTINGS, "bus": {"b2": {"vm_lb": [1.2 * PHASE_KV] * 3}}}))
    res = runner.invoke(app, ["partition", str(files[0]), "--settings", str(own)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "bus b2 the voltage limits 1.2000-1.1000 p.u." in text, text

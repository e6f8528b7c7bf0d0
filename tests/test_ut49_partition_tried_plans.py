"""The partition lists every plan it tried when OpenDSS did not converge, the first one
included, and its HTML report shows them and the voltage feedback's row, as the console does
(user test ut49_part #4 and #5).

Before, ``voltage_feedback.alternatives`` began with the first alternative (docs/
partition-tiebreak.md says it "lists every plan tried": the first plan, at which OpenDSS did
not converge, was missing), and the page of ``--out`` had neither the console's "voltage
feedback (OpenDSS at the nominal load)" row nor the plans tried.

The feeder is the tester's ``edit1.dss`` of tests/test_partition_non_convergence_note.py
(ieee13mod with Generator.675 at 4.16 kV, 2,000 kVA, 1,800 kW and Battery_mg1b at 150 kW):
the first optimal plan closes the tie 801675 and OpenDSS does not converge at it.

Independent truth: OpenDSS itself. The first plan's switch states are held in the settings
file (its closed tie 801675 closed, dispatchable NO), and that run's own OpenDSS power flow
(its voltage feedback's round 0) does not converge, as the list says of the first plan; the
page's voltage row is compared with OpenDSS's voltages recorded in the rounds, and each
plan's switches with the list.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "400"})
DATA = Path(__file__).parents[1] / "src/feederopt/cases/data/opendss"


def _edit1(tmp_path: Path) -> Path:
    text = (DATA / "network.ieee13mod.dss").read_text()
    old_b = "kwhstored=5 kwhrated=50 kwrated=10 "
    old_g = "New Generator.675 Phases=3 Bus1=675 kv=2.4 kva=500 kw=500 kvar=350"
    assert old_b in text and old_g in text
    text = text.replace(old_b, "kwhstored=300 kwhrated=500 kwrated=150 ").replace(
        old_g, "New Generator.675 Phases=3 Bus1=675 kv=4.16 kva=2000 kw=1800 kvar=350")
    path = tmp_path / "edit1.dss"
    path.write_text(text)
    return path


def test_every_plan_tried_is_listed_and_shown(tmp_path: Path) -> None:
    feeder = _edit1(tmp_path)
    settings = json.loads((DATA / "settings.ieee13mod.json").read_text())
    sfile = tmp_path / "s.json"
    sfile.write_text(json.dumps(settings))
    out = tmp_path / "run"
    r = runner.invoke(app, ["partition", str(feeder), "--settings", str(sfile),
                            "--time-limit", "60", "--out", str(out)])
    doc = json.loads((out / "result.json").read_text())
    fb = doc["voltage_feedback"]
    tried = fb["alternatives"]
    assert len(tried) >= 2, (r.output, tried)
    first = tried[0]
    assert first["first"] is True and first["opendss_converged"] is False, tried
    assert "801675" in first["closed_switches"]  # the first plan closes the tie
    assert all(t["first"] is False for t in tried[1:])
    assert tried[-1]["opendss_converged"] and tried[-1]["closed_switches"] == doc[
        "closed_switches"]
    note = next(n for n in doc["notes"] if "did not converge at the first optimal plan" in n)
    assert "closing " + ", ".join(first["closed_switches"]) + "," in note

    # the page: the console's row, from OpenDSS's voltages of the kept round, and the plans
    page = (out / "report.html").read_text()
    kept = fb["rounds"][fb["kept_round"]]
    assert "voltage feedback (OpenDSS at the nominal load)" in page
    assert (f"{len(fb['rounds']) - 1} re-solve(s), stopped: {fb['stopped']}; plan of round "
            f"{fb['kept_round']}: OpenDSS {kept['opendss_v_min_pu']:.4f}-"
            f"{kept['opendss_v_max_pu']:.4f} p.u.") in page
    assert "Equal-cost plans tried" in page
    for t in tried:
        assert ", ".join(t["closed_switches"]) in page

    # OpenDSS at the first plan's switch states (every operable switch held as the first
    # plan has it, the tie 801675 closed): the run's own power flow does not converge at it
    sw = settings["switch"]
    for sid in ("801675", "671692", "671700", "703800", "800801", "701702"):
        sw[sid] = {"state": "CLOSED" if sid in first["closed_switches"] else "OPEN",
                   "dispatchable": "NO"}
    sfile.write_text(json.dumps(settings))
    out2 = tmp_path / "held.json"
    runner.invoke(app, ["partition", str(feeder), "--settings", str(sfile), "--time-limit",
                        "60", "--json", str(out2)])
    held = json.loads(out2.read_text())
    rounds = held["voltage_feedback"]["rounds"]
    assert rounds and rounds[0]["closed_switches"] == first["closed_switches"], rounds
    assert rounds[0]["opendss_converged"] is False

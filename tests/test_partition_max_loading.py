"""``feederopt partition --max-loading PCT`` and ``--no-thermal-limits`` (``max_loading_percent``,
``thermal_limits`` of :func:`feederopt.partition`), with the three-phase solve's meaning: the
lines' and transformer banks' current ratings scaled (or dropped) in the model and in the
OpenDSS check of the plan, recorded in the result's ``inputs`` so that ``feederopt check`` and
``feederopt report FILE.json``'s command line follow them. Before, partition had neither (exit 2,
"No such option"): a user planning an emergency operation at 120 % of the ratings could not say
so.

The feeder is ut47_part #1's tests/data/ut47_part/tiny.dss: the 1 MW grid-forming Generator.G on
the 0.48 kV bus ``gl`` reaches the 600 kW + j100 kvar load at ``b2`` only through the 300 kVA
Transformer.T (normhkva 330 kVA). The plan either energises that block (G serving the load) or
serves nothing. The independent truth is OpenDSS itself, driven here without feederopt
(:func:`_opendss_loading`): the file compiled with ``opendssdirect``, the substation's switch
opened, G replaced by a stiff source at the plan's set-point, and T's loading read as OpenDSS
gives it, its largest winding-1 phase current over its own ``NormAmps``. That loading is above
100 % (the default ratings forbid the plan) and below 250 %.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("opendssdirect")

from feederopt.cli import app

DATA = Path(__file__).parent / "data" / "ut47_part"
FEEDER, SETTINGS = DATA / "tiny.dss", DATA / "stiny.json"
runner = CliRunner(env={"COLUMNS": "400"})


def _opendss_loading(v_set_pu: float) -> float:
    """OpenDSS's loading [% of NormAmps] of Transformer.T when G alone, held at ``v_set_pu``
    p.u. (a stiff source), serves the load with the substation's switch s01 open."""
    import opendssdirect as dss

    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{FEEDER}"')
    dss.Text.Command("open Line.s01 1")
    dss.Text.Command("Generator.G.enabled=no")
    dss.Text.Command(f"New Vsource.gf bus1=gl basekv=0.48 pu={v_set_pu!r} phases=3 "
                     "MVAsc3=1e8 MVAsc1=1e8")
    dss.Text.Command("solve")
    assert dss.Solution.Converged()
    dss.Circuit.SetActiveElement("Transformer.T")
    nc = int(dss.CktElement.NumConductors())
    amps = max(dss.CktElement.CurrentsMagAng()[0:2 * nc:2][:3])  # winding 1's phases
    return 100.0 * amps / float(dss.CktElement.NormalAmps())


def _partition(tmp_path: Path, name: str, *options: str) -> tuple[int, dict, str]:
    out = tmp_path / f"{name}.json"
    res = runner.invoke(app, ["partition", str(FEEDER), "--settings", str(SETTINGS),
                              "--time-limit", "120", "--json", str(out), "--force", *options])
    doc = json.loads(out.read_text()) if out.exists() else {}
    return res.exit_code, doc, _text(res.output)


def _text(output: str) -> str:
    """The console's words, without the tables' borders and line breaks."""
    return " ".join(output.replace("│", " ").split())


@pytest.fixture(scope="module")
def serving(tmp_path_factory) -> tuple[dict, float, str]:
    """The plan of --no-thermal-limits (it serves the load), OpenDSS's loading of T in it and
    the console."""
    code, doc, console = _partition(tmp_path_factory.mktemp("free"), "free",
                                    "--no-thermal-limits")
    assert code == 0, console
    (mg,) = doc["microgrids"]
    return doc, _opendss_loading(mg["v_set_pu"]), console


def test_the_truth_forbids_the_plan_at_the_ratings_and_allows_it_at_250(serving) -> None:
    _, loading, _ = serving
    # 600 kVA-ish through 330 kVA: the hand figure 0.6083 MVA / (sqrt(3) 4.16 kV) / 45.8 A
    # at 1 p.u. is 184 %; OpenDSS's, with the transformer's own drop, a little more
    hand = 100 * math.hypot(600, 100) / (math.sqrt(3) * 4.16) / (330 / (math.sqrt(3) * 4.16))
    assert 100.0 < hand <= loading < 250.0


def test_no_thermal_limits_serves_the_load_and_judges_no_rating(serving) -> None:
    doc, loading, console = serving
    assert doc["served_load_kw"] == pytest.approx(600.0, rel=1e-6)
    assert doc["within_limits"] is True
    kept = doc["voltage_feedback"]["rounds"][doc["voltage_feedback"]["kept_round"]]
    assert loading > 100.0 and kept["branch_overloads"] == []  # T over its rating, unjudged
    assert doc["inputs"]["thermal_limits"] is False
    assert ("current ratings ignored (--no-thermal-limits): not held by the model, not "
            "judged by OpenDSS") in console


def test_the_ratings_as_given_still_refuse_the_plan(tmp_path, serving) -> None:
    code, doc, console = _partition(tmp_path, "default")
    assert code == 0, console
    assert doc["served_load_kw"] == pytest.approx(0.0, abs=1e-6)
    assert doc["inputs"]["thermal_limits"] is True
    assert doc["inputs"]["max_loading_percent"] is None
    code, doc, console = _partition(tmp_path, "at100", "--max-loading", "100")
    assert doc["served_load_kw"] == pytest.approx(0.0, abs=1e-6), console


def test_max_loading_above_opendss_loading_allows_the_plan(tmp_path, serving) -> None:
    _, loading, _ = serving
    limit = math.ceil(loading) + 5
    code, doc, console = _partition(tmp_path, "above", "--max-loading", str(limit),
                                    "--out", str(tmp_path / "folder"))
    assert code == 0, console
    assert doc["served_load_kw"] == pytest.approx(600.0, rel=1e-6)
    assert doc["within_limits"] is True
    assert doc["inputs"]["max_loading_percent"] == limit
    assert f"current ratings the lines' and transformers' ratings at {limit} %" in console
    html = (tmp_path / "folder" / "report.html").read_text()
    assert f"ratings at {limit} % (--max-loading)" in html
    # feederopt check rebuilds the problem with the result's limit: the nominal sample
    # (uncertainty 0) is served within it in OpenDSS
    chk = runner.invoke(app, ["check", str(tmp_path / "above.json"), "--samples", "1",
                              "--json", str(tmp_path / "chk.json")])
    assert chk.exit_code == 0, chk.output
    assert "AC-feasible, OpenDSS (IV-E) 100.00 %" in _text(chk.output)
    # and says which limit it judged (ut48_recheck #5: nothing in its console or JSON)
    assert f"current ratings the lines' and transformers' ratings at {limit} %" in _text(
        chk.output)
    judged = json.loads((tmp_path / "chk.json").read_text())
    assert judged["max_loading_percent"] == limit and judged["thermal_limits"] is True
    # and `feederopt report FILE.json`'s command line gives the option back
    rep = runner.invoke(app, ["report", str(tmp_path / "above.json")])
    assert rep.exit_code == 2 and f"--max-loading {limit}" in rep.output, rep.output


def test_a_limit_between_the_models_and_opendss_loading_is_judged_by_opendss(
        tmp_path, serving) -> None:
    """At 3 % below OpenDSS's loading the lossless model still admits the plan, and OpenDSS's
    check of it judges T against the same scaled rating: over it, exit code 4, and
    `feederopt check` of the result holds that limit too (not the file's 100 %, not none)."""
    _, loading, _ = serving
    limit = round(loading - 3.0, 1)
    code, doc, console = _partition(tmp_path, "between", "--max-loading", str(limit))
    assert doc["served_load_kw"] == pytest.approx(600.0, rel=1e-6), console
    assert code == 4 and doc["within_limits"] is False
    kept = doc["voltage_feedback"]["rounds"][doc["voltage_feedback"]["kept_round"]]
    [over] = kept["branch_overloads"]
    assert over.startswith("Transformer.t") and f"over {limit:g} % of its" in over
    assert f"({loading:.1f} %)" in over  # OpenDSS's own loading, in feederopt's words
    chk = runner.invoke(app, ["check", str(tmp_path / "between.json"), "--samples", "1"])
    assert chk.exit_code == 4, chk.output
    assert "AC-feasible, OpenDSS (IV-E) 0.00 %" in _text(chk.output)
    # the same result read back with the limit above the loading: its nominal sample is
    # served within it in OpenDSS (the verdict keeps the run's own check at the nominal load)
    doc["inputs"]["max_loading_percent"] = limit + 10
    (tmp_path / "raised.json").write_text(json.dumps(doc))
    chk = runner.invoke(app, ["check", str(tmp_path / "raised.json"), "--samples", "1"])
    assert "AC-feasible, OpenDSS (IV-E) 100.00 %" in _text(chk.output), chk.output


def test_report_command_line_gives_no_thermal_limits_back(tmp_path, serving) -> None:
    doc, _, _ = serving
    (tmp_path / "free.json").write_text(json.dumps(doc))
    rep = runner.invoke(app, ["report", str(tmp_path / "free.json")])
    assert rep.exit_code == 2 and "--no-thermal-limits" in rep.output, rep.output


@pytest.mark.parametrize(("options", "words"), [
    (("--max-loading", "0"), "the loading limit must be a positive percentage of the rating, "
                             "not 0.0"),
    (("--max-loading", "-20"), "the loading limit must be a positive percentage of the "
                               "rating, not -20.0"),
])
def test_bad_limits_are_refused_as_the_solve_refuses_them(options, words) -> None:
    for command in (["partition", str(FEEDER), "--settings", str(SETTINGS)],
                    ["solve", str(FEEDER)]):
        res = runner.invoke(app, [*command, *options])
        assert res.exit_code == 2, res.output
        assert words in " ".join(res.output.split())


def test_python_keywords_are_checked() -> None:
    from feederopt import InputError, partition

    with pytest.raises(InputError) as err:
        partition(str(FEEDER), settings=str(SETTINGS), max_loading_percent="120",
                  thermal_limits="no")
    said = {p.field: str(p) for p in err.value.problems}
    assert "the loading limit must be a number" in said["max_loading_percent"]
    assert "thermal_limits must be True or False, not 'no'" in said["thermal_limits"]


def test_a_limit_well_below_the_loading_refuses_the_plan_and_names_it(tmp_path,
                                                                       serving) -> None:
    """At 150 % (OpenDSS's loading is above it) the block stays dark, and the note on it names
    the ratings among the causes at the limit they were held at."""
    _, loading, _ = serving
    assert loading > 150.0
    code, doc, console = _partition(tmp_path, "at150", "--max-loading", "150")
    assert code == 0, console
    assert doc["served_load_kw"] == pytest.approx(0.0, abs=1e-6)
    assert any("line and transformer ratings (held at 150 %, --max-loading)" in n
               for n in doc["notes"]), doc["notes"]

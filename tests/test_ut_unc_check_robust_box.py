"""``feederopt check`` of a robust result samples the box the result was solved for unless told
otherwise, and says so when told otherwise (user test ut_unc, finding 6).

Following the README, a planner solved ``--robust 0.3 --uncertain-loads 16,17,18,31,32,33``
and then ran ``feederopt check robust.json --uncertainty 0.3`` without repeating the loads:
the check silently sampled all 32 loads, a box the robust solve never certified, and without
``--uncertainty`` it refused to run although the result records its box. Now the result's own
box (uncertainty, loads) is the default, as for a partition result, and a check of another box
(or of a budgeted solve, whose samples move every load) carries a note.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()
LOADS = ["16", "17", "18", "31", "32", "33"]


@pytest.fixture(scope="module")
def robust_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rob") / "robust.json"
    out = runner.invoke(app, ["solve", "case33bw", "--robust", "0.3", "--uncertain-loads",
                              ",".join(LOADS), "--json", str(path), "--workers", "1"])
    assert out.exit_code == 0, out.output
    return path


def _check(robust_json: Path, name: str, *extra: str) -> tuple[dict, str]:
    js = robust_json.parent / name
    out = runner.invoke(app, ["check", str(robust_json), "--samples", "20", "--no-ac", "--json",
                              str(js), *extra], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    return json.loads(js.read_text()), " ".join(out.output.split())


def test_the_default_box_is_the_robust_solves(robust_json: Path) -> None:
    doc, text = _check(robust_json, "c1.json")
    assert doc["uncertainty"] == 0.3 and sorted(doc["uncertain_loads"], key=int) == LOADS
    assert doc["samples"] == 20 and doc["feasible_convex"] == 20  # the certified box
    assert "on 6 load(s) (the robust solve's box)" in text
    assert "not solved for" not in text


def test_only_the_uncertainty_given_keeps_the_solves_loads(robust_json: Path) -> None:
    doc, text = _check(robust_json, "c2.json", "--uncertainty", "0.3")
    assert sorted(doc["uncertain_loads"], key=int) == LOADS
    assert "not solved for" not in text


def test_another_box_gets_a_note(robust_json: Path) -> None:
    doc, text = _check(robust_json, "c3.json", "--uncertainty", "0.5")
    assert doc["uncertainty"] == 0.5 and sorted(doc["uncertain_loads"], key=int) == LOADS
    assert ("note: the robust solve was certified for +-30 % on 6 load(s); this check samples "
            "+-50 % on 6 load(s), a box it was not solved for") in text
    doc, text = _check(robust_json, "c4.json", "--uncertain-loads", "2,3")
    assert doc["uncertain_loads"] == ["2", "3"] and "a box it was not solved for" in text

"""``feederopt check`` of a robust result samples the box the result was solved for unless told
otherwise, and says so when told otherwise (user test ut_unc, finding 6).

Following the README, a planner solved ``--robust 0.3 --uncertain-loads 16,17,18,31,32,33``
and then ran ``feederopt check robust.json --uncertainty 0.3`` without repeating the loads:
the check silently sampled all 32 loads, a box the robust solve never certified, and without
``--uncertainty`` it refused to run although the result records its box. Now the result's own
box (uncertainty, loads) is the default, as for a partition result, and a check of another box
(or of a budgeted solve, sampled in its budgeted set) carries a note.
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


# ---- feederopt.check_result takes the same defaults (user test ut40_docs, finding 1) ----
# `feederopt.check_result("robust.json", samples=10)` was a bare TypeError: `samples` and
# `uncertainty` were required positionals, although `feederopt check robust.json` takes the
# robust solve's own box and 1000 samples.


def _upper_corner_v_min() -> float:
    """Independent truth: pandapower's own case33bw (MATPOWER branch k is its line k-1, the
    ties 33-37 out of service) with the robust solve's open branches and the 6 loads at
    +30 %, the box's upper corner: the lowest bus voltage of its Newton-Raphson flow."""
    import pandapower as pp
    import pandapower.networks as pn

    net = pn.case33bw()
    net.line["in_service"] = True
    for k in (7, 9, 14, 28, 32):  # the topology robust.json holds (asserted below)
        net.line.at[k - 1, "in_service"] = False
    for bus in LOADS:
        rows = net.load.index[net.load.bus == int(bus) - 1]
        net.load.loc[rows, ["p_mw", "q_mvar"]] *= 1.3
    pp.runpp(net)
    return float(net.res_bus.vm_pu.min())


def test_check_result_defaults_to_the_robust_solves_box(robust_json: Path) -> None:
    import feederopt

    doc = json.loads(robust_json.read_text())
    assert sorted((b["id"] for b in doc["open_branches"]), key=int) == ["7", "9", "14", "28",
                                                                         "32"]
    mc = feederopt.check_result(robust_json, samples=2)  # a path; no uncertainty given
    assert mc.samples == 2 and mc.uncertainty == 0.3
    assert sorted(mc.uncertain_loads, key=int) == LOADS
    assert mc.notes == []  # the box it was solved for: nothing to note
    upper = next(c for c in mc.corners if c["corner"] == "upper")
    assert upper["factor"] == pytest.approx(1.3)
    assert upper["min_voltage_pu"] == pytest.approx(_upper_corner_v_min(), abs=1e-6)
    # another box: checked, with the CLI's note
    other = feederopt.check_result(doc, samples=1, uncertainty=0.5, ac=False)
    assert sorted(other.uncertain_loads, key=int) == LOADS
    assert other.notes == ["the robust solve was certified for +-30 % on 6 load(s); this "
                           "check samples +-50 % on 6 load(s), a box it was not solved for"]


def test_check_result_samples_1000_by_default() -> None:
    import inspect

    import feederopt

    params = inspect.signature(feederopt.check_result).parameters
    assert params["samples"].default == 1000  # `feederopt check --samples`'s default
    assert params["uncertainty"].default is None


NOT_ROBUST = {"case": "case33bw", "method": "benders", "status": "optimal",
              "open_branches": ["7", "9", "14", "28", "32"]}


def test_a_result_without_a_box_needs_an_uncertainty(tmp_path: Path) -> None:
    import feederopt
    from feederopt.errors import InputError

    with pytest.raises(InputError) as exc:
        feederopt.check_result(dict(NOT_ROBUST), samples=10)
    (p,) = exc.value.problems
    assert p.field == "uncertainty" and "is required for this result" in p.message
    assert p.hint == "e.g. uncertainty=0.1"  # the Python spelling
    path = tmp_path / "det.json"
    path.write_text(json.dumps(NOT_ROBUST))
    out = runner.invoke(app, ["check", str(path), "--samples", "10"], env={"COLUMNS": "200"})
    text = " ".join(out.output.split())
    assert out.exit_code == 2, text
    assert "--uncertainty is required for this result" in text
    assert "e.g. --uncertainty 0.1" in text and "Traceback" not in text

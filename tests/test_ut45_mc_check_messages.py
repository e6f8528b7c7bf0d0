"""``feederopt check``'s messages (user test ut45_mc, items 2, 3 and 5).

* ``check --help`` gave the exit-code rule with samples only, while a uniform corner that
  breaks a limit alone gives exit code 4: the help now names the corners.
* The verdict named a scenario result's corner "the upper at scenario s1 corner (x1.1)", and
  an unknown ``--uncertain-loads`` id was typed ``bad_scenario`` with no scenario file
  involved: now "the upper corner at scenario s1 (x1.1)" and ``invalid_value`` of the option.
* The shares came without an interval: they are binomial proportions of independent draws,
  now with the Clopper-Pearson exact 95 % interval (console and JSON). Truth: the closed forms
  at k = n and k = 0 (``(a/2)^(1/n)``: 98.17 % for 200 of 200) and, for 123 of 200, the
  interval's definition by binomial sums (``P(X >= k | p_lower) = P(X <= k | p_upper) =
  0.025``, computed here with ``math.comb``, not with the beta quantiles the code uses).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.validation.montecarlo import MonteCarloResult, clopper_pearson

runner = CliRunner(env={"COLUMNS": "300"})


def _flat(text: str) -> str:
    """The output with a table's column rules dropped and its lines joined."""
    return " ".join(text.replace("\u2502", " ").split())


def test_check_help_names_the_corners_in_the_exit_rule() -> None:
    res = runner.invoke(app, ["check", "--help"])
    assert res.exit_code == 0
    text = _flat(res.output)
    assert "when one of the two uniform corners of the box is not served within the limits" \
        in text
    assert "even when every sample is" in text
    assert "0 when every sample and both corners are served within the limits" in text


def _upper_tail(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))


def _lower_tail(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1))


def test_clopper_pearson_against_its_closed_forms_and_definition() -> None:
    lo, hi = clopper_pearson(200, 200)
    assert hi == 1.0
    assert lo == pytest.approx(0.025 ** (1 / 200), rel=1e-10)
    assert round(lo * 100, 2) == 98.17  # the published closed form's value
    lo, hi = clopper_pearson(0, 200)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 200), rel=1e-10)
    lo, hi = clopper_pearson(123, 200)
    assert _upper_tail(123, 200, lo) == pytest.approx(0.025, abs=1e-9)
    assert _lower_tail(123, 200, hi) == pytest.approx(0.025, abs=1e-9)
    assert lo < 123 / 200 < hi
    assert clopper_pearson(0, 0) is None


def test_the_json_carries_the_intervals() -> None:
    mc = MonteCarloResult(samples=200, uncertainty=0.1, seed=1, uncertain_loads=[],
                          open_branches=[], feasible_convex=200, feasible_ac=123)
    out = mc.to_dict()
    assert out["share_interval"].startswith("Clopper-Pearson")
    lo, hi = out["feasible_share_convex_ci95"]
    assert lo == pytest.approx(0.025 ** (1 / 200)) and hi == 1.0
    lo, hi = out["feasible_share_ac_ci95"]
    assert _upper_tail(123, 200, lo) == pytest.approx(0.025, abs=1e-9)
    assert _lower_tail(123, 200, hi) == pytest.approx(0.025, abs=1e-9)
    skipped = MonteCarloResult(samples=5, uncertainty=0.1, seed=1, uncertain_loads=[],
                               open_branches=[], feasible_convex=5, feasible_ac=None)
    assert skipped.to_dict()["feasible_share_ac_ci95"] is None


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A solve result of a small pandapower net (``feederopt solve --json``)."""
    from test_ac_loading_report import _net
    from test_check_corners import solved_result

    return solved_result(_net(), tmp_path_factory.mktemp("ut45_mc"))


def test_the_console_and_json_of_a_check_give_the_intervals(solved: Path,
                                                            tmp_path: Path) -> None:
    result = solved
    out = tmp_path / "check.json"
    args = ["check", str(result), "--samples", "20", "--uncertainty", "0.3", "--seed", "3"]
    res = runner.invoke(app, [*args, "--json", str(out)])
    assert res.exit_code in (0, 4), res.output
    data = json.loads(out.read_text())
    text = _flat(res.output)
    for key, row in (("convex", "feasible, convex model"), ("ac", "feasible, AC power flow")):
        k = data[f"feasible_{key}"]
        lo, hi = data[f"feasible_share_{key}_ci95"]
        # the interval's definition, by binomial sums (the ends' conventions at 0 and n)
        assert lo == 0.0 if k == 0 else _upper_tail(k, 20, lo) == pytest.approx(0.025, abs=1e-9)
        assert hi == 1.0 if k == 20 else _lower_tail(k, 20, hi) == pytest.approx(0.025,
                                                                                  abs=1e-9)
        assert (f"{row} {k} ({k / 20 * 100:.2f} %; 95 % CI {lo * 100:.2f} - {hi * 100:.2f} %, "
                "Clopper-Pearson)") in text


def test_a_scenario_corner_reads_as_a_corner_of_the_scenario() -> None:
    from feederopt.cli.scenarios import _broken_text

    def corner(name: str, factor: float, scenario: str, ok: bool) -> dict:
        return {"corner": name, "factor": factor, "label": f"{name} at scenario {scenario}",
                "scenario": scenario, "feasible_convex": True, "feasible_ac": ok}

    mc = MonteCarloResult(samples=10, uncertainty=0.1, seed=2, uncertain_loads=[],
                          open_branches=[], feasible_convex=10, feasible_ac=10,
                          corners=[corner("lower", 0.9, "s1", True),
                                   corner("upper", 1.1, "s1", False),
                                   corner("upper", 1.1, "s3", False)])
    text = _broken_text(mc)
    assert text.startswith("the upper corner at scenario s1 (x1.1) and the upper corner at "
                           "scenario s3 (x1.1) break a limit"), text
    assert "at scenario s1 corner" not in text
    one = MonteCarloResult(samples=10, uncertainty=0.1, seed=2, uncertain_loads=[],
                           open_branches=[], feasible_convex=10, feasible_ac=10,
                           corners=[{"corner": "upper", "factor": 1.15, "label": "upper",
                                     "feasible_convex": True, "feasible_ac": False}])
    assert _broken_text(one).startswith("the upper corner (x1.15) breaks a limit")


def test_an_unknown_uncertain_load_is_an_invalid_option_value(solved: Path) -> None:
    res = runner.invoke(app, ["check", str(solved), "-u", "0.1", "-n", "3",
                              "--uncertain-loads", "99"])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    text = _flat(res.output)
    assert "invalid_value" in text and "uncertain_loads" in text and "99" in text, text
    assert "bad_scenario" not in text

"""User test ut48_pyapi #1, #2, #5, #6: every entry point checks its seed, Ray address, switches
and counts by one rule (:mod:`feederopt.options`: ``seed_problems``, ``ray_address_problems``,
``switch_problems``, ``count_problems``), before any work.

The truth is the README's contract: a switch takes ``True``/``False`` only, a count a whole
number and never a bool, a seed what numpy's ``SeedSequence`` takes (a whole number >= 0), a
Ray address a string; anything else is an :class:`InputError` naming the option, raised before
the solve. "Before any work" is checked by replacing the first step of the work with one that
fails the test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import feederopt
import feederopt.api_partition as api_partition
import feederopt.api_resilience as api_resilience
import feederopt.api_schedule as api_schedule
import feederopt.api_threephase as api_threephase
from feederopt.errors import InputError, ProblemKind

DATA = Path(__file__).parent / "data"
PARTITION_RESULT = DATA / "result_kinds" / "partition"
SCHEDULE_RESULT = DATA / "result_kinds" / "schedule"


def _no_work(*_: Any, **__: Any) -> Any:
    raise AssertionError("the work ran: the option was not refused before it")


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first step of each entry point's work, after its option checks, fails the test."""
    monkeypatch.setattr(api_partition, "build_partition_data", _no_work)
    monkeypatch.setattr(api_partition, "_post_analyses", _no_work)
    monkeypatch.setattr(api_threephase, "load_three_phase", _no_work)
    monkeypatch.setattr(api_schedule, "input_digests", _no_work)
    monkeypatch.setattr(api_schedule, "sample_budget_set", _no_work)
    for work in ("_restore", "normal_operation", "make_executor", "solve_extensive",
                 "expected_value_plan"):
        monkeypatch.setattr(api_resilience, work, _no_work)


def _refused(call: Callable[[], Any], field: str) -> str:
    """The one problem of ``call``, which names ``field``: its message."""
    with pytest.raises(InputError) as exc:
        call()
    problems = [p for p in exc.value.problems if p.is_error]
    assert [p.field for p in problems] == [field], problems
    assert problems[0].kind is ProblemKind.INVALID_VALUE
    assert problems[0].component == "options"
    return problems[0].message


# ----- 1. the seed --------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [-1, 2.5, "1"])
def test_partition_refuses_a_seed_numpy_does_not_take(no_work: None, seed: Any) -> None:
    message = _refused(lambda: feederopt.partition("ieee13mod", seed=seed, samples=5,
                                                   time_limit_s=30), "seed")
    assert "non-negative whole number" in message
    with pytest.raises((ValueError, TypeError)):  # the truth: numpy refuses it too
        np.random.SeedSequence(seed)


def test_a_bool_is_no_seed(no_work: None) -> None:
    """numpy takes True as 1; the README's one rule takes no bool for a number."""
    _refused(lambda: feederopt.partition("ieee13mod", seed=True, samples=5), "seed")


@pytest.mark.parametrize("seed", [-1, 2.5])
def test_check_partition_result_refuses_the_seed_first(no_work: None, seed: Any) -> None:
    _refused(lambda: feederopt.check_partition_result(PARTITION_RESULT, samples=5, seed=seed),
             "seed")


@pytest.mark.parametrize("seed", [-1, 2.5])
def test_schedule_and_its_check_refuse_the_seed_first(no_work: None, seed: Any) -> None:
    _refused(lambda: feederopt.schedule("case33bw", seed=seed, time_limit_s=10), "seed")
    _refused(lambda: feederopt.check_schedule_result(SCHEDULE_RESULT, samples=5, seed=seed),
             "seed")


def test_a_numpy_seed_is_a_seed(no_work: None) -> None:
    with pytest.raises(AssertionError, match="the work ran"):
        feederopt.partition("ieee13mod", seed=np.int64(3), samples=5, time_limit_s=30)


# ----- 2. the Ray address -------------------------------------------------------------------
@pytest.mark.parametrize("address", [5, "  ", ["auto"]])
def test_a_ray_address_that_is_no_string_is_refused_typed(no_work: None, address: Any) -> None:
    _refused(lambda: feederopt.partition("ieee13mod", ray_address=address, time_limit_s=10),
             "ray_address")
    _refused(lambda: feederopt.plan("zhang13", broken="2", method="lshaped",
                                    ray_address=address, time_limit_s=10), "ray_address")


def test_solve_refuses_a_ray_address_that_is_no_string() -> None:
    message = _refused(lambda: feederopt.solve("case33bw", robust=0.1, ray_address=5,
                                               time_limit=10), "ray_address")
    assert "ray_address" in message and "5 (an int)" in message


# ----- 5. switches and counts: one rule --------------------------------------------------------
@pytest.mark.parametrize(("call", "field"), [
    (lambda: feederopt.restore("case33bw", "7", time_limit_s=30, ac_check="no"), "ac_check"),
    (lambda: feederopt.solve_three_phase("ieee13", ac_check="no"), "ac_check"),
    (lambda: feederopt.solve_three_phase("ieee13", thermal_limits="no"), "thermal_limits"),
    (lambda: feederopt.solve_three_phase("ieee13", voltage_feedback=0), "voltage_feedback"),
    (lambda: feederopt.partition("ieee13mod", ac_check="no", samples=5), "ac_check"),
    (lambda: feederopt.partition("ieee13mod", voltage_feedback="no"), "voltage_feedback"),
    (lambda: feederopt.schedule("case33bw", ac_check="no"), "ac_check"),
    (lambda: feederopt.plan("zhang13", broken="2", measures="no"), "measures"),
])
def test_a_switch_takes_true_or_false_only(no_work: None, call: Callable[[], Any],
                                           field: str) -> None:
    assert "must be True or False" in _refused(call, field)


def test_numpy_bools_are_switches(no_work: None) -> None:
    with pytest.raises(AssertionError, match="the work ran"):
        feederopt.partition("ieee13mod", ac_check=np.False_, samples=5,
                            voltage_feedback=np.True_)


@pytest.mark.parametrize("k_der", [True, -1, 0, 2.5])
def test_k_der_is_a_count_never_a_bool(no_work: None, k_der: Any) -> None:
    _refused(lambda: feederopt.partition("ieee13mod", k_der=k_der), "k_der")


# ----- 6. the messages of a count --------------------------------------------------------------
def test_a_count_that_is_no_whole_number_is_told_so(no_work: None) -> None:
    message = _refused(lambda: feederopt.partition("ieee13mod", samples=2.5), "samples")
    assert message == "samples must be a whole number >= 0, not 2.5"
    message = _refused(lambda: feederopt.schedule("case33bw", samples="5"), "samples")
    assert message == "samples must be a whole number >= 0, not '5' (a str)"


def test_an_unknown_keyword_names_the_public_function_and_no_far_option() -> None:
    with pytest.raises(InputError) as exc:
        feederopt.solve_options(foo=1)
    (p,) = exc.value.problems
    assert p.message == "solve_options() has no option 'foo'" and "_flat" not in p.hint
    with pytest.raises(InputError) as exc:
        feederopt.solve("case33bw", out="x")
    (p,) = exc.value.problems
    assert p.field == "out" and "robust" not in p.hint and "feederopt.save(" in p.hint
    with pytest.raises(InputError) as exc:  # a near miss is still suggested
        feederopt.solve("case33bw", time_limt=5)
    assert exc.value.problems[0].hint == "did you mean 'time_limit'?"


# ----- 7. the option named as the caller gave it, in Python's spelling ------------------------
@pytest.mark.parametrize(("call", "field", "hint"), [
    (lambda: feederopt.partition("ieee13mod", method="foo"), "method", "method='extensive'"),
    (lambda: feederopt.partition("ieee13mod", samples=-1), "samples", "samples=1000"),
    (lambda: feederopt.partition("ieee13mod", k_der=-1), "k_der", "k_der=2"),
    (lambda: feederopt.partition("ieee13mod", uncertainty=2), "uncertainty", "uncertainty"),
    (lambda: feederopt.partition("ieee13mod", v_min_pu=95), "v_min_pu", "v_min_pu=0.9"),
    (lambda: feederopt.partition("ieee13mod", v_min=95), "v_min", "v_min=0.9"),
    (lambda: feederopt.restore("case33bw", "7", time_limit_s=-1), "time_limit_s",
     "time_limit_s=600"),
    (lambda: feederopt.solve("case33bw", time_limit_s=-1), "time_limit_s", "time_limit_s=600"),
    (lambda: feederopt.solve("case33bw", time_limit=-1), "time_limit", "time_limit=600"),
])
def test_python_callers_get_their_own_keywords(no_work: None, call: Callable[[], Any],
                                               field: str, hint: str) -> None:
    with pytest.raises(InputError) as exc:
        call()
    (p,) = [p for p in exc.value.problems if p.is_error]
    assert p.field == field and hint in p.hint, p
    assert "--" not in p.message + p.hint, p  # no flag of the command line


def test_the_command_line_keeps_its_flags() -> None:
    from typer.testing import CliRunner

    from feederopt.cli import app

    out = CliRunner().invoke(app, ["partition", "ieee13mod", "--v-min", "95"])
    assert out.exit_code == 2
    text = out.output + (out.stderr if out.stderr_bytes is not None else "")
    assert "options.v_min:" in text and "--v-min 0.9" in text and "v_min_pu" not in text


# ----- 8. the classes of the API at the top level --------------------------------------------
def test_the_classes_the_entry_points_take_and_return_are_at_the_top_level() -> None:
    from feederopt.algorithms.partition import PartitionResult
    from feederopt.options import Limits, Stop
    from feederopt.problems.resilience import PlanSettings
    from feederopt.problems.schedule import ScheduleSettings
    from feederopt.results.resilience import PlanResult, RestoreResult
    from feederopt.results.result import AcCheck
    from feederopt.results.schedule import ScheduleResult

    for cls in (PartitionResult, RestoreResult, ScheduleResult, PlanResult, ScheduleSettings,
                PlanSettings, AcCheck, Limits, Stop):
        assert getattr(feederopt, cls.__name__) is cls
        assert cls.__name__ in feederopt.__all__ and cls.__name__ in dir(feederopt)
    # the README's SolveOptions(stop=Stop(...), limits=Limits(...)) from the package alone
    opts = feederopt.SolveOptions(stop=feederopt.Stop(time_limit_s=60),
                                  limits=feederopt.Limits(v_min=0.95))
    assert opts.check() == []


# ----- 12. method names in any case ------------------------------------------------------------
def test_method_names_are_case_insensitive() -> None:
    from netbuild import tiny

    # the truth: the lower-case name's own answer
    want = feederopt.solve(tiny(), method="misocp", time_limit=30)
    got = feederopt.solve(tiny(), method="MISOCP", time_limit=30)
    assert got.method == "misocp" and got.losses_kw == pytest.approx(want.losses_kw)
    assert feederopt.solve_options(method=" Benders ").checked().method == "benders"
    with pytest.raises(InputError):
        feederopt.solve_options(method="misocpx")


def test_partition_method_names_are_case_insensitive(no_work: None) -> None:
    with pytest.raises(AssertionError, match="the work ran"):  # accepted, so the work starts
        feederopt.partition("ieee13mod", method="Extensive")


def test_plan_method_names_are_case_insensitive(no_work: None) -> None:
    with pytest.raises(AssertionError, match="the work ran"):  # accepted, so the work starts
        feederopt.plan("zhang13", broken="2", method="LShaped", measures=False)
    _refused(lambda: feederopt.plan("zhang13", broken="2", method="lshapedx"), "method")

"""One option, two spellings (user test ut_bad 16): ``feederopt.solve`` spells the time limit
and the voltage limits ``time_limit``/``v_min``/``v_max``, ``solve_three_phase``, ``schedule``,
``partition``, ``restore`` and ``plan`` ``time_limit_s``/``v_min_pu``/``v_max_pu``; every entry
point takes both (:func:`feederopt.options.option_names`). Both at once, or a keyword that
names no option, is a typed :class:`~feederopt.errors.OptionNameError` naming the keywords
(the closest option as hint), not Python's bare ``TypeError``.

Every expectation is the value passed in: the result records the limits and time limit that
the solve was given, whichever spelling gave them."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

import feederopt
from feederopt.errors import InputError, OptionNameError
from netbuild import tiny

#: Values no default has, so that a recorded value can only come from the keyword given.
TIME_LIMIT = 7.5
V_MIN, V_MAX = 0.91, 1.09

BALANCED = {"time_limit": TIME_LIMIT, "v_min": V_MIN, "v_max": V_MAX}
UNIT_SUFFIXED = {"time_limit_s": TIME_LIMIT, "v_min_pu": V_MIN, "v_max_pu": V_MAX}

#: The two spellings of each option.
PAIRS = [("time_limit", "time_limit_s"), ("v_min", "v_min_pu"), ("v_max", "v_max_pu")]


def _problems(call: Any) -> list[Any]:
    """The problems of the options that ``call`` raises (not a name error: the keyword was
    taken)."""
    with pytest.raises(InputError) as exc:
        call()
    assert not isinstance(exc.value, OptionNameError), exc.value
    return list(exc.value.problems)


@pytest.mark.parametrize("spelling", [BALANCED, UNIT_SUFFIXED], ids=["balanced", "suffixed"])
def test_solve_records_the_limits_of_either_spelling(spelling: dict[str, float]) -> None:
    result = feederopt.solve(tiny(), ac_check=False, **spelling)  # type: ignore[arg-type]
    settings = result.extra["settings"]
    assert settings["time_limit_s"] == TIME_LIMIT
    assert (settings["v_min_pu"], settings["v_max_pu"]) == (V_MIN, V_MAX)
    assert settings["voltage_band_from"] == "options"
    assert result.extra["limits"] == {"v_min_pu": V_MIN, "v_max_pu": V_MAX}


# 0.85-1.15 p.u.: limits that the IEEE 13-bus feeder keeps (a topology exists)
@pytest.mark.parametrize("spelling", [{"time_limit": 30.0, "v_min": 0.85, "v_max": 1.15},
                                      {"time_limit_s": 30.0, "v_min_pu": 0.85,
                                       "v_max_pu": 1.15}], ids=["balanced", "suffixed"])
def test_solve_three_phase_records_the_limits_of_either_spelling(
        spelling: dict[str, float]) -> None:
    result = feederopt.solve_three_phase("ieee13", ac_check=False, voltage_feedback=False,
                                         **spelling)  # type: ignore[arg-type]
    assert result.voltage_limits.to_dict() == {"from": "options", "v_min_pu": 0.85,
                                               "v_max_pu": 1.15}


@pytest.mark.parametrize("keyword", ["time_limit", "time_limit_s"])
def test_solve_three_phase_checks_the_time_limit_of_either_spelling(keyword: str) -> None:
    problems = _problems(lambda: feederopt.solve_three_phase("ieee13", **{keyword: 0.0}))
    assert [p.field for p in problems] == [keyword]  # named as given (ut48_pyapi #7)
    assert "time limit" in problems[0].message


@pytest.mark.parametrize("call", [
    lambda kw: feederopt.partition("ieee13", **kw),
    lambda kw: feederopt.restore("case33bw", ["7"], **kw),
    lambda kw: feederopt.plan("case33bw", broken=["7"], **kw),
    lambda kw: feederopt.schedule("case33bw", **kw),
], ids=["partition", "restore", "plan", "schedule"])
@pytest.mark.parametrize("keyword", ["time_limit", "time_limit_s"])
def test_the_other_entry_points_check_the_time_limit_of_either_spelling(
        call: Any, keyword: str) -> None:
    # a non-positive time limit is refused before any work: the keyword reached the check
    problems = _problems(lambda: call({keyword: -1.0}))
    assert [p.message for p in problems] == ["the time limit must be positive"]
    assert [p.field for p in problems] == [keyword]  # named as given (ut48_pyapi #7)
    assert problems[0].hint == f"e.g. {keyword}=600"


def test_check_result_records_the_limits_of_either_spelling() -> None:
    doc = json.loads(feederopt.solve(tiny(), time_limit=30, ac_check=False).to_json())
    for spelling in ({"v_min": V_MIN, "v_max": V_MAX}, {"v_min_pu": V_MIN, "v_max_pu": V_MAX}):
        mc = feederopt.check_result(doc, 2, 0.05, network=tiny(), ac=False,
                                    **spelling)  # type: ignore[arg-type]
        assert mc.limits == {"v_min_pu": V_MIN, "v_max_pu": V_MAX}


@pytest.mark.parametrize(("call", "pair"), [
    (lambda kw: feederopt.solve(tiny(), **kw), PAIRS[0]),
    (lambda kw: feederopt.solve(tiny(), **kw), PAIRS[1]),
    (lambda kw: feederopt.solve_options(**kw), PAIRS[2]),
    (lambda kw: feederopt.solve_three_phase("ieee13", **kw), PAIRS[0]),
    (lambda kw: feederopt.solve_three_phase("ieee13", **kw), PAIRS[1]),
    (lambda kw: feederopt.schedule("case33bw", **kw), PAIRS[0]),
    (lambda kw: feederopt.restore("case33bw", ["7"], **kw), PAIRS[0]),
])
def test_both_spellings_at_once_is_a_typed_error_naming_both(call: Any,
                                                            pair: tuple[str, str]) -> None:
    value = 60.0 if pair[0] == "time_limit" else 0.95
    with pytest.raises(OptionNameError) as exc:
        call({pair[0]: value, pair[1]: value})
    (problem,) = exc.value.problems
    assert problem.component == "options"
    assert pair[0] in problem.message and pair[1] in problem.message
    assert isinstance(exc.value, InputError) and exc.value.exit_code == 2


@pytest.mark.parametrize(("call", "wrong", "meant"), [
    (lambda kw: feederopt.solve(tiny(), **kw), "time_limt", "time_limit"),
    (lambda kw: feederopt.solve(tiny(), **kw), "max_loading", "max_loading_percent"),
    (lambda kw: feederopt.solve(tiny(), **kw), "progres", "progress"),
    (lambda kw: feederopt.solve_three_phase("ieee13", **kw), "v_mn_pu", "v_min_pu"),
    (lambda kw: feederopt.schedule("case33bw", **kw), "gama", "gamma"),
    (lambda kw: feederopt.plan_settings(**kw), "harden_budgt", "harden_budget"),
])
def test_a_misspelt_keyword_names_the_option_meant(call: Any, wrong: str, meant: str) -> None:
    with pytest.raises(OptionNameError) as exc:
        call({wrong: 1.0})
    (problem,) = exc.value.problems
    assert problem.field == wrong
    assert repr(wrong) in problem.message
    assert repr(meant) in problem.hint
    assert isinstance(exc.value, TypeError)  # what Python's own error for it is


def test_every_keyword_that_names_no_option_is_reported_at_once() -> None:
    with pytest.raises(OptionNameError) as exc:
        feederopt.solve(tiny(), v_mn=0.9, zzz=1)  # type: ignore[arg-type]
    assert [p.field for p in exc.value.problems] == ["v_mn", "zzz"]


def test_every_public_entry_point_takes_both_spellings() -> None:
    """Each public function that takes one spelling of a pair (itself or, for ``solve``,
    through ``solve_options``) takes the other as its alias."""
    checked = 0
    for name in feederopt.__all__:
        fn = getattr(feederopt, name)
        if not inspect.isfunction(fn):
            continue
        params = set(inspect.signature(fn).parameters)
        if name == "solve":
            params |= set(inspect.signature(feederopt.solve_options).parameters)
        aliases = getattr(fn, "__option_aliases__", {})
        for a, b in PAIRS:
            if a in params or b in params:
                checked += 1
                assert {a, b} <= params | set(aliases), (name, a, b)
    assert checked >= 12  # solve, solve_options, solve_three_phase, check_result, partition, ...

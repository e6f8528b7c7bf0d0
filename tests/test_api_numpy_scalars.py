"""NumPy scalars are numbers and switches like Python's, in every option (user test
ut41_pyapi #1): ``solve_options(workers=np.int64(1))`` was refused with "workers must be at
least 1, not 1", ``time_limit=np.int64(20)`` with "must be a number of seconds, not
np.int64(20)", ``schedule(net, hours=np.int64(3))`` with "hours is 3, must be within 1..24":
each check had its own ``isinstance(x, int | float)``. The truth: ``np.int64(20) == 20``, so
the options built from NumPy scalars are the options built from the Python numbers they equal,
holding Python's types (what a solver and a result's JSON are given)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.options import SolveOptions, Stop, solve_options
from feederopt.problems.resilience import PlanSettings
from feederopt.problems.schedule import ScheduleSettings
from feederopt.scalars import plain
from feederopt.validation.montecarlo import check_option_problems
from netbuild import tiny

#: (keyword, NumPy scalar, the Python value it equals)
NUMPY_OPTIONS = [
    ("time_limit", np.int64(20), 20),
    ("time_limit", np.float32(20), 20.0),
    ("iteration_limit", np.int64(50), 50),
    ("gap", np.float32(0.01), float(np.float32(0.01))),
    ("switch_cost_kw", np.int64(5), 5),
    ("max_loading_percent", np.int64(120), 120),
    ("v_min", np.float32(0.93), float(np.float32(0.93))),
    ("v_max", np.float32(1.05), float(np.float32(1.05))),
    ("ac_check", np.True_, True),
    ("ac_check", np.False_, False),
    ("workers", np.int64(1), 1),
    ("robust", np.float32(0.25), 0.25),
]


@pytest.mark.parametrize(("keyword", "value", "python"), NUMPY_OPTIONS)
def test_a_numpy_scalar_is_the_python_number_it_equals(keyword: str, value: Any,
                                                       python: Any) -> None:
    got = solve_options(**{keyword: value})
    assert got == solve_options(**{keyword: python})
    # the fields hold Python's types, not NumPy's (a result's JSON cannot hold np.int64)
    for part in (got.stop, got.limits, got.costs, got.execution, got.uncertainty):
        for v in ([] if part is None else dataclasses.astuple(part)):
            assert not isinstance(v, np.generic), (keyword, part)
    assert not isinstance(got.ac_check, np.generic)


def test_the_option_dataclasses_take_numpy_scalars() -> None:
    stop = Stop(time_limit_s=np.int64(60), gap=np.float32(0.5), iteration_limit=np.int64(7))
    assert (type(stop.time_limit_s), type(stop.gap), type(stop.iteration_limit)) == (
        int, float, int)
    assert SolveOptions(stop=stop, ac_check=np.False_).ac_check is False
    assert ScheduleSettings(hours=np.int64(3)).hours == 3
    assert type(PlanSettings(dg_p_max_kw=np.float32(500)).dg_p_max_kw) is float


@pytest.mark.parametrize(("keyword", "value", "text"), [
    ("time_limit", True, "the time limit must be a number of seconds, not True"),
    ("workers", True, "workers must be a whole number at least 1, not True (a bool)"),
    ("workers", 1.5, "workers must be a whole number at least 1, not 1.5"),
    ("workers", np.int64(0), "workers must be at least 1, not 0"),
    ("iteration_limit", np.float32(2.5), "positive whole number, not 2.5"),
    ("ac_check", np.int64(1), "ac_check must be True or False, not 1"),
])
def test_a_bool_is_no_number_and_a_refusal_names_what_is_wrong(keyword: str, value: Any,
                                                                text: str) -> None:
    with pytest.raises(InputError) as e:
        solve_options(**{keyword: value})
    (p,) = e.value.problems
    assert text in p.message


def test_schedule_takes_numpy_hours_and_time_limit() -> None:
    # tiny() has no schedule data: that is refused, and nothing about hours or the limit
    with pytest.raises(InputError) as e:
        feederopt.schedule(tiny(), hours=np.int64(3), time_limit_s=np.int64(60))
    assert {p.field for p in e.value.problems}.isdisjoint({"hours", "time_limit"})
    with pytest.raises(InputError) as e:
        feederopt.schedule(tiny(), hours=np.int64(30))
    assert "hours" in {p.field for p in e.value.problems}


def test_restore_takes_numpy_dg_size_and_time_limit() -> None:
    python = feederopt.restore("zhang13", ["15"], dg_sites=["10"], dg_p_max_kw=500.0,
                               time_limit_s=60, ac_check=False)
    numpy = feederopt.restore("zhang13", ["15"], dg_sites=["10"],
                              dg_p_max_kw=np.float32(500), time_limit_s=np.int64(60),
                              ac_check=np.False_)
    assert numpy.shed_kw == python.shed_kw
    json.dumps(numpy.to_dict())  # Python's numbers only


def test_check_takes_a_numpy_uncertainty() -> None:
    assert check_option_problems(np.int64(10), np.float32(0.1), np.int64(0)) == []


def test_plain() -> None:
    assert [type(plain(x)) for x in (np.int32(1), np.float16(1), np.bool_(0), 2, 2.0, True)] == [
        int, float, bool, int, float, bool]
    assert plain("1") == "1" and plain(None) is None

"""User test ut50_pyapi #6: ``SolveOptions(stop=Stop(time_limit_s=-1))`` was told of
``options.time_limit`` with the hint ``time_limit=600``, though the caller wrote
``time_limit_s``; ``Stop(time_limit=5)``, the spelling ``solve`` takes, was a raw dataclass
TypeError. The problem now names the option as the caller gave it, and ``Stop`` takes
``time_limit`` as ``solve`` does. The truth is the keyword the test itself writes."""

from __future__ import annotations

import pickle

import pytest

from feederopt.errors import InputError, OptionNameError
from feederopt.options import Box, SolveOptions, Stop


def _problem(build: object) -> str:
    assert callable(build)
    with pytest.raises(InputError) as info:
        build()
    (problem,) = info.value.problems
    return str(problem)


def test_a_time_limit_s_of_stop_is_named_as_given() -> None:
    text = _problem(lambda: SolveOptions(stop=Stop(time_limit_s=-1)))
    assert "options.time_limit_s:" in text and "time_limit_s=600" in text


def test_stop_takes_solves_spelling_and_is_named_by_it() -> None:
    assert Stop(time_limit=5) == Stop(time_limit_s=5)  # type: ignore[call-arg]
    assert pickle.loads(pickle.dumps(Stop(time_limit=5))) == Stop(5)  # type: ignore[call-arg]
    text = _problem(lambda: SolveOptions(stop=Stop(time_limit=-1)))  # type: ignore[call-arg]
    assert "options.time_limit:" in text and "time_limit=600" in text


def test_stop_refuses_a_keyword_it_does_not_take_typed() -> None:
    with pytest.raises(OptionNameError) as info:
        Stop(time_limt=5)  # type: ignore[call-arg]
    assert isinstance(info.value, TypeError)  # still a TypeError for code that catches it
    assert "did you mean 'time_limit'?" in str(info.value)
    with pytest.raises(OptionNameError, match="two names of one option"):
        Stop(time_limit=5, time_limit_s=4)  # type: ignore[call-arg]


def test_the_oracle_time_limit_of_box_is_named_as_its_field() -> None:
    text = _problem(lambda: SolveOptions(uncertainty=Box(0.1, oracle_time_limit_s=-1)))
    assert "options.oracle_time_limit_s:" in text

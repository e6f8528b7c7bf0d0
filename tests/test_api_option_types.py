"""Options of the wrong type are typed problems naming the option, before any work (user test
ut_api2): ``scenarios=5`` was a TypeError from pathlib, ``solver=3`` an AttributeError in the
solver lookup, ``SolveOptions(stop=None)`` one inside ``check()``, ``progress=5`` failed only
after the whole solve; and ``switch_cost_kw="5"`` read "not 5", as if the number were wrong."""

from __future__ import annotations

from typing import Any

import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.options import Limits, SolveOptions, Stop
from netbuild import tiny


def _problem(call: Any) -> Any:
    with pytest.raises(InputError) as e:
        call()
    (p,) = e.value.problems
    assert p.component == "options"
    return p


@pytest.mark.parametrize(("keywords", "field", "text"), [
    ({"scenarios": 5}, "scenarios", "not 5 (an int)"),
    ({"solver": 3}, "solver", "not 3 (an int)"),
    ({"progress": 5}, "progress", "must be a function"),
    ({"switch_cost_kw": "5"}, "switch_cost_kw", "must be a number (kW per switching action), "
                                                "not '5' (a str)"),
    ({"max_loading_percent": "120"}, "max_loading_percent", "not '120' (a str)"),
])
def test_a_keyword_of_the_wrong_type_names_the_option(keywords: dict[str, Any], field: str,
                                                      text: str) -> None:
    p = _problem(lambda: feederopt.solve(tiny(), time_limit=5, **keywords))
    assert p.field == field
    assert text in p.message


@pytest.mark.parametrize(("options", "field"), [
    (SolveOptions(stop=None, validate=False), "stop"),  # type: ignore[arg-type]
    (SolveOptions(limits=None, validate=False), "limits"),  # type: ignore[arg-type]
    (SolveOptions(stop={"gap": 0.1}, validate=False), "stop"),  # type: ignore[arg-type]
])
def test_a_grouped_option_that_is_not_its_class_names_it(options: SolveOptions,
                                                          field: str) -> None:
    p = _problem(options.checked)
    assert p.field == field and "feederopt.options." in p.message
    assert _problem(lambda: feederopt.solve(tiny(), options)).field == field


def test_the_good_classes_still_pass() -> None:
    assert SolveOptions(stop=Stop(time_limit_s=5), limits=Limits(v_min=0.9)).check() == []


def test_a_negative_switch_cost_still_says_the_bound() -> None:
    p = _problem(lambda: feederopt.solve(tiny(), switch_cost_kw=-1.0))
    assert "finite number >= 0" in p.message and "not -1.0" in p.message
    p = _problem(lambda: feederopt.solve(tiny(), switch_cost_kw=float("nan")))
    assert "finite number >= 0" in p.message

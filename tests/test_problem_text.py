"""How a problem of an option reads (user test ut_fresh): the option's name, then the message
and the value given; an element's problem keeps its ids in brackets."""

from __future__ import annotations

from feederopt.errors import Problem, ProblemKind


def test_option_problem_names_the_option_and_the_value_given() -> None:
    p = Problem(ProblemKind.INVALID_VALUE, "options", "samples must be >= 0", ("-1",), "samples")
    assert str(p) == "invalid_value: options.samples: samples must be >= 0 (given: -1)"
    # a message that already states the value does not repeat it
    q = Problem(ProblemKind.INVALID_VALUE, "options", "hours is 0, must be within 1..24",
                ("0",), "hours")
    assert str(q) == "invalid_value: options.hours: hours is 0, must be within 1..24"


def test_element_problem_keeps_its_ids() -> None:
    p = Problem(ProblemKind.INVALID_VALUE, "line", "negative resistance", ("7", "9"), "r_ohm")
    assert str(p) == "invalid_value: line [7, 9].r_ohm: negative resistance"

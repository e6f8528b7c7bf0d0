"""Misuses of the Network's edit methods are typed errors naming the argument, as the solve
options' are (user test ut37_api2): ``net.replace(lines=...)`` raised Python's bare
``TypeError: Network.__init__() got an unexpected keyword argument 'lines'``, and
``net.with_loads_scaled("2")`` polars' ``ColumnNotFoundError`` (the string read as a column
name). The truth for a valid factor is the hand product of the tiny feeder's loads."""

from __future__ import annotations

import math

import pytest

import feederopt
from netbuild import tiny, tiny_tables


@pytest.mark.parametrize(("name", "meant"), [("lines", "branches"), ("lods", "loads"),
                                             ("trafos", "branches")])
def test_an_unknown_field_of_replace_is_an_option_error(name: str, meant: str) -> None:
    net = tiny()
    with pytest.raises(feederopt.OptionNameError) as exc:
        net.replace(**{name: net.branches})
    assert isinstance(exc.value, TypeError)  # as Python's own error for a wrong keyword
    [p] = exc.value.problems
    assert p.field == name
    assert p.hint is not None and f"did you mean {meant!r}" in p.hint


@pytest.mark.parametrize("factor", ["2", None, math.nan, math.inf, -1.0, True])
def test_a_factor_that_is_no_number_is_an_input_error(factor: object) -> None:
    with pytest.raises(feederopt.InputError) as exc:
        tiny().with_loads_scaled(factor)  # type: ignore[arg-type]
    assert [(p.component, p.field) for p in exc.value.problems] == [
        ("with_loads_scaled", "factor")]


def test_a_numeric_factor_scales_every_load() -> None:
    given = tiny_tables()["loads"]
    scaled = tiny().with_loads_scaled(2).loads
    assert scaled["p_mw"].to_list() == pytest.approx([2 * p for p in given["p_mw"]])
    assert scaled["q_mvar"].to_list() == pytest.approx([2 * q for q in given["q_mvar"]])

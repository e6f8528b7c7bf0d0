"""User test ut50_pyapi #2: ``partition``, ``solve_three_phase`` and ``three_phase_info`` raised
a raw ``TypeError`` ("expected str, bytes or os.PathLike object, not Network") for anything but
a path or a case name. They now raise a typed InputError as ``load`` does: a balanced network
(a Network, a pandapower net) is said to be one, with the three-phase sources to give instead;
anything else is "cannot load a <type>"."""

from __future__ import annotations

from typing import Any

import pandapower.networks as pn
import polars as pl
import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind

FUNCTIONS = {"solve_three_phase": ("the three-phase solve", feederopt.solve_three_phase),
             "partition": ("partition", feederopt.partition),
             "three_phase_info": ("three_phase_info", feederopt.three_phase_info)}


def _problem(fn: Any, source: Any) -> str:
    with pytest.raises(InputError) as info:
        fn(source)
    (problem,) = info.value.problems
    assert problem.kind is ProblemKind.UNKNOWN_FILE_TYPE
    return str(problem)


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("make", [lambda: feederopt.load("case33bw"), pn.case33bw],
                         ids=["Network", "pandapower-net"])
def test_a_balanced_network_is_named_as_one(name: str, make: Any) -> None:
    purpose, fn = FUNCTIONS[name]
    text = _problem(fn, make())
    assert f"{purpose} needs a three-phase feeder" in text
    assert "balanced" in text and "ieee13" in text and "feederopt.solve" in text


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("source", [7, None, b"ieee13", pl.DataFrame({"bus": ["1"]})],
                         ids=["int", "None", "bytes", "DataFrame"])
def test_anything_else_cannot_be_loaded(name: str, source: Any) -> None:
    text = _problem(FUNCTIONS[name][1], source)
    assert f"cannot load a {type(source).__name__}" in text
    assert "OpenDSS .dss file" in text and "┌" not in text  # no table art


def test_a_balanced_case_name_is_named_as_one() -> None:
    text = _problem(feederopt.solve_three_phase, "case33bw")
    assert "'case33bw' is a balanced" in text

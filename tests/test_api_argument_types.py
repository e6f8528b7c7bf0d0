"""Arguments of the wrong type are typed problems naming the argument, not TypeErrors
(user test ut44_nb #2, #3)."""

from __future__ import annotations

from typing import Any

import pytest
from polars.testing import assert_frame_equal

import feederopt
from feederopt.errors import InputError


@pytest.fixture(scope="module")
def net() -> Any:
    return feederopt.load("case33bw")


@pytest.mark.parametrize("seed", ["a", None, 3.0, -1, True])
def test_a_seed_that_is_no_whole_number_is_a_problem(net: Any, seed: Any) -> None:
    with pytest.raises(InputError) as exc:
        feederopt.generate_scenarios(net, count=2, seed=seed)
    (p,) = exc.value.problems
    assert p.field == "seed" and "non-negative whole number" in p.message


@pytest.mark.parametrize(("field", "value"), [("count", 2.0), ("count", "3"),
                                              ("pv_share", "x"), ("noise", None)])
def test_other_generator_arguments_of_a_wrong_type(net: Any, field: str, value: Any) -> None:
    with pytest.raises(InputError) as exc:
        feederopt.generate_scenarios(net, **{field: value})
    assert [p.field for p in exc.value.problems] == [field]


def test_generate_scenarios_takes_a_case_name(net: Any) -> None:
    by_name = feederopt.generate_scenarios("case33bw", count=2, seed=4)
    assert_frame_equal(by_name, feederopt.generate_scenarios(net, count=2, seed=4))
    # 2 scenarios x 32 loads of case33bw (MATPOWER's file: buses 2..33 carry load)
    assert by_name.filter(by_name["kind"] == "load").height == 2 * 32


def test_the_io_generator_refuses_a_name_by_type() -> None:
    from feederopt.io.scenarios import generate_scenarios

    with pytest.raises(InputError) as exc:
        generate_scenarios("case33bw")  # type: ignore[arg-type]
    assert exc.value.problems[0].field == "network"


@pytest.mark.parametrize("path", [None, 3, ["a"]])
def test_save_to_no_path_is_a_problem(path: Any) -> None:
    res = feederopt.solve("case4_dist", ac_check=False)
    for call, name in ((feederopt.save, "out_dir"), (feederopt.save_json, "path")):
        with pytest.raises(InputError) as exc:
            call(res, path)
        assert [p.field for p in exc.value.problems] == [name]


def test_samples_that_are_no_whole_number() -> None:
    from feederopt.validation.montecarlo import samples_problem

    p = samples_problem(5.0)
    assert p is not None and "whole number" in p.message and "5.0" in p.message
    zero = samples_problem(0)
    assert zero is not None and "at least 1, not 0" in zero.message
    assert samples_problem(5) is None

"""A network built in memory (``Network.from_tables``) is validated by ``feederopt.solve`` as
one read from a file is by ``feederopt.load`` (user test ut_api #1: a negative resistance was
solved to "optimal" with negative losses, a NaN or a missing source crashed untyped).

The expected problems are the validation's own kinds, naming the component, the ids and the
field; a checked network is not checked again while its tables stay the same.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind
from feederopt.network import validate as validate_module
from netbuild import set_value, tiny, tiny_tables


def _problems(net: feederopt.Network) -> list[tuple[ProblemKind, str, tuple[str, ...], str]]:
    with pytest.raises(InputError) as exc:
        feederopt.solve(net, time_limit=10, ac_check=False)
    return [(p.kind, p.component, p.ids, p.field) for p in exc.value.problems if p.is_error]


@pytest.mark.parametrize("value", [-0.3, math.nan])
def test_a_bad_resistance_is_a_typed_problem(value: float) -> None:
    br = set_value(tiny_tables()["branches"], "l2", "r_ohm", value)
    assert _problems(tiny(branches=br)) == [
        (ProblemKind.BAD_IMPEDANCE, "branches", ("l2",), "r_ohm")]


def test_no_source_is_a_typed_problem() -> None:
    buses = tiny_tables()["buses"].with_columns(pl.lit(False).alias("is_source"))
    kinds = [k for k, *_ in _problems(tiny(buses=buses))]
    assert ProblemKind.NO_SOURCE in kinds


def test_a_negative_load_and_a_duplicate_id_are_typed_problems() -> None:
    loads = set_value(tiny_tables()["loads"], "Lb", "p_mw", -0.3)
    assert (ProblemKind.BAD_LOAD, "loads", ("Lb",), "p_mw") in _problems(tiny(loads=loads))
    br = set_value(tiny_tables()["branches"], "l3", "id", "l2")
    assert (ProblemKind.DUPLICATE_ID, "branches", ("l2",), "id") in _problems(tiny(branches=br))


def test_a_network_is_validated_once_and_again_after_a_change(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = validate_module.validate

    def counting(net: feederopt.Network) -> list:  # type: ignore[type-arg]
        calls.append(1)
        return real(net)

    monkeypatch.setattr(validate_module, "validate", counting)
    net = feederopt.load(tiny())
    assert len(calls) == 1
    feederopt.solve(net, time_limit=10, ac_check=False)
    feederopt.solve(net, time_limit=10, ac_check=False)
    assert len(calls) == 1  # checked by load, not again by either solve
    changed = net.replace(branches=set_value(net.branches, "l2", "r_ohm", -1.0))
    with pytest.raises(InputError):
        feederopt.solve(changed, time_limit=10, ac_check=False)
    net.loads = set_value(net.loads, "Lb", "p_mw", -0.3)  # a table assigned in place
    with pytest.raises(InputError):
        feederopt.solve(net, time_limit=10, ac_check=False)


def test_a_duplicate_bus_id_is_one_problem_not_also_an_island() -> None:
    buses = tiny_tables()["buses"]
    twice = pl.concat([buses, buses.filter(pl.col("id") == "a")])
    with pytest.raises(InputError) as exc:
        feederopt.load(tiny(buses=twice))
    assert [(p.kind, p.ids) for p in exc.value.problems if p.is_error] == [
        (ProblemKind.DUPLICATE_ID, ("a",))]

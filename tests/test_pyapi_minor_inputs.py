"""Python API inputs that contradicted themselves (user test ut41_pyapi, notes):
``check_result(result)`` refused the Result that ``solve`` returned with "result must be a
result ... not a feederopt Result"; ``Network.from_tables(name=5)`` and ``name=None`` were
taken against the ``str`` hint; ``from_tables(buses=None)`` listed every branch and load as
referring to unknown buses instead of saying that there is no bus."""

from __future__ import annotations

import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind
from feederopt.network.container import Network
from netbuild import tiny, tiny_tables


def test_check_result_takes_the_result_object() -> None:
    net = tiny()
    result = feederopt.solve(net, time_limit=30, ac_check=False)
    by_object = feederopt.check_result(result, 5, 0.05, network=net, ac=False)
    by_dict = feederopt.check_result(result.to_dict(), 5, 0.05, network=net, ac=False)
    assert by_object.open_branches == by_dict.open_branches == sorted(
        b["id"] for b in result.to_dict()["open_branches"])
    assert by_object.to_dict() == by_dict.to_dict()


@pytest.mark.parametrize("name", [5, None, "  "])
def test_a_network_name_must_be_text(name: object) -> None:
    with pytest.raises(InputError) as e:
        Network.from_tables(**tiny_tables(), name=name)  # type: ignore[arg-type]
    (p,) = e.value.problems
    assert p.field == "name" and repr(name) in p.message


def test_no_buses_is_said_once() -> None:
    t = tiny_tables()
    net = Network.from_tables(buses=None, branches=t["branches"],  # type: ignore[arg-type]
                              loads=t["loads"])
    with pytest.raises(InputError) as e:
        net.check()
    kinds = [p.kind for p in e.value.problems]
    assert ProblemKind.UNKNOWN_BUS not in kinds
    assert any(p.component == "buses" and "buses table is empty" in p.message
               for p in e.value.problems)

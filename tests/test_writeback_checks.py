"""Writing switch states back into a pandapower net refuses a net that is not the one the
network was read from (user test ut_io #1: pandas' ``.at`` appended a phantom line of NaN and
``runpp`` then crashed)."""

from __future__ import annotations

import copy

import pandapower as pp
import pandapower.networks as pn
import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.io.pandapower import write_switch_states


def _states(network: feederopt.Network) -> dict[str, bool]:
    br = network.branches
    return dict(zip(br["id"].to_list(), (~br["normally_open"]).to_list(), strict=True))


def test_writes_into_the_same_net() -> None:
    net = pn.case33bw()
    network = feederopt.load(net)
    states = _states(network) | {"line:6": False, "line:33": True}
    out = write_switch_states(net, network, states)
    assert len(out.line) == len(net.line)
    assert not out.line.at[6, "in_service"] and out.line.at[33, "in_service"]
    pp.runpp(out)
    assert out.converged


def test_a_deleted_element_is_named_and_nothing_is_appended() -> None:
    net = pn.case33bw()
    network = feederopt.load(net)
    current = pn.case33bw()
    current.line = current.line.drop(index=[6])
    before = copy.deepcopy(current)
    with pytest.raises(InputError) as err:
        write_switch_states(current, network, _states(network))
    (problem,) = err.value.problems
    assert problem.ids == ("line:6",) and problem.field == "pp_index"
    assert len(current.line) == len(before.line) == 36


def test_an_element_moved_to_other_buses_is_named() -> None:
    net = pn.case33bw()
    network = feederopt.load(net)
    current = pn.case33bw()
    current.line.at[10, "to_bus"] = 20
    with pytest.raises(InputError) as err:
        write_switch_states(current, network, _states(network))
    assert err.value.problems[0].ids == ("line:10",)
    assert "other buses" in err.value.problems[0].message


@pytest.fixture(scope="module")
def simple() -> tuple[object, feederopt.Result]:
    net = pn.example_simple()
    return net, feederopt.solve(feederopt.load(net), time_limit=30, ac_check=False)


@pytest.mark.parametrize("given", ["case33bw", "net.json", 33])
def test_not_a_pandapower_net_is_a_typed_problem(given: object,
                                                 simple: tuple[object, feederopt.Result]) -> None:
    """``result.to_pandapower("case33bw")`` (a name for the net object) was an AttributeError
    from five frames deep (user test ut33_api #3); it is the InputError of a wrong net."""
    net, result = simple
    with pytest.raises(InputError) as err:
        result.to_pandapower(given)
    (problem,) = err.value.problems
    assert problem.component == "net"
    assert "not a pandapower net" in problem.message and type(given).__name__ in problem.message
    assert problem.ids == ((repr(given),) if isinstance(given, str) else ())
    with pytest.raises(InputError):
        write_switch_states(given, result.network, result.closed)
    # the net itself still takes the states
    assert result.to_pandapower(net) is not net

"""Bad input in a pandapower net is reported on the field the user wrote (user test
ut51_journey #1, #2).

#1: a bus-bus switch (``et='b'``) whose ``element`` is not a bus was reported as
``branches [switch:0].to_bus``: feederopt's internal table and a column pandapower's switch
table does not have. #2: one NaN (or infinite) ``length_km`` gave three problems, two of them
on the derived ``b_us``/``g_us`` with the hint "0 when unknown", fields the user cannot set.
The truth is the user's own net: the switch's and the line's rows as the test writes them."""

from __future__ import annotations

import math

import pandapower as pp
import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind


def _net() -> pp.pandapowerNet:
    """A 20 kV feeder of four buses: a source, two lines, a closed bus-bus coupler and an
    open tie line."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=20.0) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    lines = [pp.create_line(net, f, t, length_km=1.0, std_type="NA2XS2Y 1x95 RM/25 12/20 kV")
             for f, t in ((0, 1), (1, 2), (3, 4), (2, 4))]
    pp.create_switch(net, b[2], b[3], et="b", closed=True)  # switch 0: the coupler
    pp.create_switch(net, b[2], lines[3], et="l", closed=False)  # the tie's switch
    for bus in b[1:]:
        pp.create_load(net, bus, p_mw=0.5, q_mvar=0.1)
    return net


def _problems(net: pp.pandapowerNet) -> list:
    with pytest.raises(InputError) as err:
        feederopt.load(net)
    return list(err.value.problems)


def test_the_net_itself_loads() -> None:
    feederopt.load(_net())  # the control: the problems below are the edits'


@pytest.mark.parametrize("field", ["element", "bus"])
def test_bus_bus_switch_to_a_missing_bus_names_the_switch_field(field: str) -> None:
    net = _net()
    assert net.switch.at[0, "et"] == "b"
    missing = int(net.bus.index.max()) + 990
    net.switch.at[0, field] = missing
    problems = _problems(net)
    assert len(problems) == 1, problems
    (p,) = problems
    assert p.kind == ProblemKind.UNKNOWN_BUS
    assert (p.component, p.ids, p.field) == ("switch", ("switch:0",), field)
    assert str(missing) in p.message
    assert f"net.switch.{field}" in (p.hint or "")
    assert "to_bus" not in p.message + (p.hint or "")


@pytest.mark.parametrize("length", [math.nan, math.inf, -1.0])
def test_a_bad_length_is_one_problem_on_length_km(length: float) -> None:
    net = _net()
    net.line.at[1, "length_km"] = length
    problems = _problems(net)
    assert [(p.component, p.ids, p.field) for p in problems] == [
        ("branches", ("line:1",), "length_km")], problems
    assert problems[0].kind == ProblemKind.BAD_IMPEDANCE

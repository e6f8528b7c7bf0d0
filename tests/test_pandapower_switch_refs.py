"""A line, trafo or trafo3w switch of a pandapower net whose ``element`` (or ``bus``) does not
exist, or whose ``bus`` is not an end of its element, is a typed problem naming the switch,
the field and the missing index or the element's buses (exit 2 for info and solve): before,
``info`` said "problems: none" and showed pandapower's KeyError as "did not converge", and
``solve`` exited 0 with ``within_limits: true`` though its AC check could not run. An AC check
that pandapower cannot run at all says so and does not count as within the limits. The
independent truth is pandapower's own ``runpp`` on the same net: it raises (a KeyError or
IndexError, not ``LoadflowNotConverged``) on every net refused here; for a switch at a bus off
its element, pandapower's ``create_switch``, which refuses it.

Nets are built here with pandapower's API: HV bus - trafo - MV busbar, two feeders joined by
an open tie line, a trafo3w to a second MV and an LV bus, line switches at the lines' from
buses, a trafo switch and a trafo3w switch.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import from_pandapower
from test_pandapower_bad_values import _flat, _write  # one copy

runner = CliRunner()
LINE_TYPE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def _net() -> Any:
    """HV bus 0 - trafo 0 - MV bus 1; feeders 1-2-3-4 and 1-5-6-7 (lines 0..5), tie line 6
    (4-7) open by switch 0; lines 1..5 have a closed switch at their from bus (switches 1..5);
    a closed trafo switch 6 at the HV bus; trafo3w 0 from the HV bus to MV bus 8 and LV bus 9
    with a closed switch 7; loads on buses 2..7 and 8, 9."""
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0)
    mv = [pp.create_bus(net, 20.0) for _ in range(7)]
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    tr = pp.create_transformer(net, hv, mv[0], std_type="25 MVA 110/20 kV")
    pairs = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6)]
    lines = [pp.create_line(net, mv[a], mv[b], 2.0, LINE_TYPE) for a, b in pairs]
    tie = pp.create_line(net, mv[3], mv[6], 1.5, LINE_TYPE)
    pp.create_switch(net, mv[3], tie, et="l", closed=False)
    for k, (a, _) in list(enumerate(pairs))[1:]:
        pp.create_switch(net, mv[a], lines[k], et="l", closed=True)
    pp.create_switch(net, hv, tr, et="t", closed=True)
    b8, b9 = pp.create_bus(net, 20.0), pp.create_bus(net, 10.0)
    t3 = pp.create_transformer3w(net, hv, b8, b9, std_type="63/25/38 MVA 110/20/10 kV")
    pp.create_switch(net, hv, t3, et="t3", closed=True)
    for i in range(1, 7):
        pp.create_load(net, mv[i], p_mw=1.0 + 0.2 * i, q_mvar=0.3)
    pp.create_load(net, b8, p_mw=2.0, q_mvar=0.5)
    pp.create_load(net, b9, p_mw=1.0, q_mvar=0.2)
    return net


def _runpp_raises(net: Any) -> BaseException | None:
    """What pandapower's own power flow raises on ``net`` (None when it runs)."""
    try:
        pp.runpp(copy.deepcopy(net))
    except Exception as exc:  # the independent truth: pandapower fails on the net
        return exc
    return None


def test_the_unbroken_net_loads_and_pandapower_runs_it() -> None:
    net = _net()
    assert _runpp_raises(net) is None
    network = from_pandapower(net)
    assert not [p for p in network.validate() if p.is_error]


@pytest.mark.parametrize(("switch", "table"), [(1, "line"), (6, "trafo"), (7, "trafo3w")])
def test_a_switch_naming_a_missing_element_is_a_typed_problem(switch: int, table: str) -> None:
    net = _net()
    net.switch.at[switch, "element"] = 999
    if table == "trafo3w":  # pandapower looks a trafo3w switch's element up once it is open
        net.switch.at[switch, "closed"] = False
    exc = _runpp_raises(net)
    assert exc is not None and not isinstance(exc, pp.LoadflowNotConverged), exc
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    [problem] = [p for p in err.value.problems if p.component == "switch"]
    assert problem.is_error and problem.field == "element"
    assert problem.ids == (f"switch:{switch}",)
    assert f"switch {switch} -> {table} 999" in problem.message
    assert f"net.{table}.index" in problem.hint


def test_a_switch_of_no_known_element_type_is_a_typed_problem() -> None:
    """``et='x'``: pandapower's own power flow skips the switch (its line is taken as not
    switched here: the tie 4-7 closed), so it runs; feederopt's reader named nothing and, for a
    bus-bus switch, reported only an island without a source. The switch is named now."""
    net = _net()
    net.switch.at[0, "et"] = "x"
    assert _runpp_raises(net) is None  # pandapower runs, ignoring the switch
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    [problem] = [p for p in err.value.problems if p.component == "switch"]
    assert problem.is_error and problem.field == "et" and problem.ids == ("switch:0",)
    assert "'x'" in problem.message and "'b', 'l', 't' or 't3'" in problem.hint


def test_a_line_switch_at_a_missing_bus_is_a_typed_problem() -> None:
    net = _net()
    net.switch.at[1, "bus"] = 999
    net.switch.at[1, "closed"] = False  # pandapower fails once the switch is open
    exc = _runpp_raises(net)
    assert exc is not None and not isinstance(exc, pp.LoadflowNotConverged), exc
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    [problem] = [p for p in err.value.problems if p.component == "switch"]
    assert problem.kind is ProblemKind.UNKNOWN_BUS and problem.field == "bus"
    assert problem.ids == ("switch:1",) and "bus 999" in problem.message


def test_info_and_solve_exit_2_naming_the_switch(tmp_path: Path) -> None:
    """The tester's file: line switch 3 ... element 999; here line switch 1."""
    net = _net()
    net.switch.at[1, "element"] = 999
    path = _write(net, tmp_path)
    for args in (["info", str(path)],
                 ["solve", str(path), "--time-limit", "10", "--json", str(tmp_path / "r.json")]):
        res = runner.invoke(app, args)
        text = _flat(res.output)
        assert res.exit_code == 2, (args, res.output)
        assert "switch [switch:1].element" in text and "line 999" in text, text
        assert "Traceback" not in res.output and "problems: none" not in text
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(("switch", "bus", "table", "closed"), [
    (2, 6, "line", False), (2, 6, "line", True), (6, 5, "trafo", True), (7, 3, "trafo3w", True)])
def test_a_switch_at_a_bus_off_its_element_is_refused(switch: int, bus: int, table: str,
                                                      closed: bool, tmp_path: Path) -> None:
    """A line, trafo or trafo3w switch whose bus is not an end of its element: the truth is
    pandapower's own ``create_switch``, which refuses the same switch ("Line 2 not connected
    to bus 6"). It was read (ut35_errs #4; the earlier reading, as pandapower's power flow
    takes it, opened the element at its from or lv end, not at the switch's bus); now one
    typed problem on ``switch:<index>``, field ``bus``, naming the element's buses; info
    exits 2."""
    net = _net()
    net.switch.at[switch, "bus"] = bus
    net.switch.at[switch, "closed"] = closed
    element = int(net.switch.at[switch, "element"])
    et = str(net.switch.at[switch, "et"])
    with pytest.raises(UserWarning, match="not connected to bus"):
        pp.create_switch(copy.deepcopy(net), bus, element, et=et)
    with pytest.raises(InputError) as exc:
        from_pandapower(net)
    (problem,) = [p for p in exc.value.problems if p.component == "switch"]
    assert problem.kind is ProblemKind.INVALID_VALUE and problem.field == "bus"
    assert problem.ids == (f"switch:{switch}",)
    assert f"switch {switch} at bus {bus}, {table} {element} between buses" in problem.message
    result = runner.invoke(app, ["info", str(_write(net, tmp_path))])
    assert result.exit_code == 2, result.output
    assert "switch [switch:" in _flat(result.output) and "Traceback" not in result.output


def test_an_ac_check_pandapower_cannot_run_is_not_within_limits() -> None:
    """The reader now refuses a dangling switch; a net broken after reading (its origin's
    line switch names a missing line) stands for any net that pandapower cannot evaluate:
    the AC check says it failed, not "did not converge", and the result is not within the
    limits (before: ``within_limits`` True and exit 0)."""
    import feederopt
    from feederopt.validation.ac import ac_power_flow

    network = from_pandapower(_net())
    assert network.origin is not None
    network.origin.switch.at[1, "element"] = 999
    exc = _runpp_raises(network.origin)
    assert isinstance(exc, KeyError), exc
    base = ac_power_flow(network)
    assert not base.converged and base.failed and "KeyError" in base.message
    result = feederopt.solve(network, time_limit=10)
    assert result.has_topology
    check = result.ac_check
    assert check is not None and not check.converged
    assert any("AC check failed" in w for w in check.warnings), check.warnings
    assert not any("did not converge" in w for w in check.warnings)
    assert result.within_limits is False
    assert json.loads(json.dumps(result.to_dict(), default=str))["within_limits"] is False


def test_a_power_flow_that_does_not_converge_is_no_failed_check() -> None:
    """Loads 1000x too large: pandapower raises LoadflowNotConverged, which is a verdict on
    the operating point, not a failure to run the check."""
    from feederopt.validation.ac import ac_power_flow

    net = _net()
    net.load["p_mw"] *= 1000
    assert isinstance(_runpp_raises(net), pp.LoadflowNotConverged)
    ac = ac_power_flow(from_pandapower(net))
    assert not ac.converged and not ac.failed

"""Bad values in a pandapower net are typed problems on the pandapower element and field (exit
2, no traceback), not silent defaults or crashes; the net's controllers are noted as ignored;
a base case that leaves load without supply is flagged where its losses are shown.

Each net is a small MV net built here with pandapower's API (a 110/20 kV transformer, two
feeders joined by an open tie, loads and a PV sgen); one field is broken per test.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from pathlib import Path
from typing import Any

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.io import from_pandapower

runner = CliRunner()
LINE_TYPE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def _net() -> Any:
    """HV bus 0 - trafo 0 - MV bus 1; feeders 1-2-3-4 and 1-5-6-7 (lines 0..5), tie line 6
    (4-7) open by switch 0; lines 1..5 have a closed switch at their from bus; loads on buses
    2..7, a PV sgen at bus 6. A fresh copy each time (pandapower's create functions take
    half a second for it; a copy, a few ms)."""
    return copy.deepcopy(_built())


@functools.cache
def _built() -> Any:
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0)
    mv = [pp.create_bus(net, 20.0) for _ in range(7)]
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer(net, hv, mv[0], std_type="25 MVA 110/20 kV")
    pairs = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6)]
    lines = [pp.create_line(net, mv[a], mv[b], 2.0, LINE_TYPE) for a, b in pairs]
    tie = pp.create_line(net, mv[3], mv[6], 1.5, LINE_TYPE)
    pp.create_switch(net, mv[3], tie, et="l", closed=False)
    for k, (a, _) in list(enumerate(pairs))[1:]:
        pp.create_switch(net, mv[a], lines[k], et="l", closed=True)
    for i in range(1, 7):
        pp.create_load(net, mv[i], p_mw=1.0 + 0.2 * i, q_mvar=0.3)
    pp.create_sgen(net, mv[5], p_mw=2.0, q_mvar=0.0)
    return net


def _write(net: Any, tmp_path: Path) -> Path:
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    return path


def _flat(text: str) -> str:
    """The CLI output with line breaks (a narrow terminal's wrapping) turned into spaces."""
    return " ".join(text.split())


def test_the_unbroken_net_loads_without_a_problem(tmp_path: Path) -> None:
    result = runner.invoke(app, ["info", str(_write(_net(), tmp_path))])
    assert result.exit_code == 0, result.output
    assert "problems: none" in result.output
    assert "controller" not in result.output and "without supply" not in result.output


# (pandapower table, row, field, bad value, feederopt component, id named in the problem)
BAD = [
    ("ext_grid", 0, "vm_pu", math.nan, "ext_grid", "ext_grid:0"),
    ("ext_grid", 0, "vm_pu", -1.0, "ext_grid", "ext_grid:0"),
    ("ext_grid", 0, "va_degree", math.nan, "ext_grid", "ext_grid:0"),
    ("trafo", 0, "vk_percent", 0.0, "branches", "trafo:0"),
    ("trafo", 0, "vk_percent", math.nan, "branches", "trafo:0"),
    ("trafo", 0, "vkr_percent", -0.5, "branches", "trafo:0"),
    ("trafo", 0, "sn_mva", 0.0, "branches", "trafo:0"),
    ("trafo", 0, "parallel", 0, "branches", "trafo:0"),
    ("trafo", 0, "shift_degree", math.nan, "branches", "trafo:0"),
    ("line", 1, "parallel", 0, "branches", "line:1"),
    ("line", 1, "c_nf_per_km", math.nan, "branches", "line:1"),
    ("line", 1, "df", 0.0, "branches", "line:1"),
    ("load", 1, "scaling", math.nan, "loads", "load:1"),
    ("sgen", 0, "p_mw", math.nan, "generators", "sgen:0"),
    ("sgen", 0, "scaling", math.nan, "generators", "sgen:0"),
]


@pytest.mark.parametrize(("table", "row", "field", "value", "component", "element"), BAD,
                         ids=[f"{t}.{f}={v}" for t, _, f, v, _, _ in BAD])
def test_bad_value_is_one_typed_problem_on_the_element_and_field(
        tmp_path: Path, table: str, row: int, field: str, value: float, component: str,
        element: str) -> None:
    net = _net()
    net[table].at[row, field] = value
    result = runner.invoke(app, ["info", str(_write(net, tmp_path))])
    out = _flat(result.output)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in out and "Error:" not in out
    # One problem, on the field the user wrote (no derived r_ohm, v_set_pu, p_min_mw echoes).
    assert "1 problem in the input" in out, result.output
    assert f"{component} [{element}].{field}:" in out, result.output
    assert "hint:" in out
    # The same problem from the API.
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (problem,) = err.value.problems
    assert (problem.component, problem.ids, problem.field) == (component, (element,), field)


def test_zero_bus_voltage_is_a_problem_on_bus_vn_kv_not_a_crash(tmp_path: Path) -> None:
    net = _net()
    net.bus.loc[[1, 2, 3], "vn_kv"] = 0.0  # the transformer's lv bus and two feeder buses
    result = runner.invoke(app, ["info", str(_write(net, tmp_path))])
    out = _flat(result.output)
    assert result.exit_code == 2, result.output
    assert "ZeroDivisionError" not in out and "Traceback" not in out
    assert "1 problem in the input" in out, result.output
    assert "buses [1, 2, 3].vn_kv:" in out and "net.bus.vn_kv" in out


@pytest.mark.parametrize("field", ["sn_mv_mva", "vn_hv_kv"])
def test_zero_rating_of_a_three_winding_transformer_is_a_problem_not_a_crash(
        field: str) -> None:
    net = _net()
    mv2, lv = pp.create_bus(net, 20.0), pp.create_bus(net, 10.0)
    pp.create_transformer3w(net, 0, mv2, lv, std_type="63/25/38 MVA 110/20/10 kV")
    pp.create_load(net, lv, p_mw=1.0)
    pp.create_load(net, mv2, p_mw=0.5)
    assert from_pandapower(net).validate() == []
    net.trafo3w.at[0, field] = 0.0
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (problem,) = err.value.problems
    assert (problem.ids, problem.field) == (("trafo3w:0",), field)


def test_zero_shunt_voltage_is_a_problem_not_a_crash() -> None:
    net = _net()
    pp.create_shunt(net, 3, q_mvar=-0.5)
    assert from_pandapower(net).validate() == []
    net.shunt.at[0, "vn_kv"] = 0.0
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (problem,) = err.value.problems
    assert (problem.component, problem.ids, problem.field) == ("shunts", ("shunt:0",), "vn_kv")


@pytest.mark.parametrize("field", ["tap_pos", "tap_neutral"])
def test_nan_tap_position_is_noted_and_taken_at_neutral_like_pandapower(
        tmp_path: Path, field: str) -> None:
    net = _net()
    net.trafo.at[0, "tap_pos"] = -2
    pp.runpp(net)
    held = float(net.res_bus.vm_pu.min())
    net.trafo.at[0, field] = math.nan
    pp.runpp(net)
    assert float(net.res_bus.vm_pu.min()) != pytest.approx(held)  # pandapower: no step
    result = runner.invoke(app, ["info", str(_write(net, tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert any("1 trafo(s) with tap_pos or tap_neutral NaN (0)" in w and "neutral position" in w
               for w in data["warnings"]), data["warnings"]
    assert data["model"]["exact"], data["model"]  # the model takes it as pandapower does


def _with_tap_controller() -> Any:
    import pandapower.control as control

    net = _net()
    control.DiscreteTapControl(net, 0, vm_lower_pu=0.99, vm_upper_pu=1.01)
    return net


def test_controllers_are_noted_as_ignored_in_info(tmp_path: Path) -> None:
    result = runner.invoke(app, ["info", str(_write(_with_tap_controller(), tmp_path))])
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "1 controller(s) ignored (DiscreteTapControl of trafo 0)" in out, result.output
    assert "held at tap_pos" in out


def test_controllers_are_noted_as_ignored_in_solve(tmp_path: Path) -> None:
    path = _write(_with_tap_controller(), tmp_path)
    result = runner.invoke(app, ["solve", str(path), "--time-limit", "20", "--no-ac-check"])
    assert result.exit_code == 0, result.output
    assert "1 controller(s) ignored (DiscreteTapControl of trafo 0)" in _flat(result.output)


def _unsupplied() -> Any:
    """The net with line 1 (buses 2-3) opened by its switch: buses 3 and 4 (loads 1 and 2,
    1.4 + 1.6 MW) have no supply in the base case; the open tie (4-7) can supply them."""
    net = _net()
    net.switch.loc[(net.switch.et == "l") & (net.switch.element == 1), "closed"] = False
    return net


def test_unsupplied_base_case_load_is_flagged_in_info(tmp_path: Path) -> None:
    path = _write(_unsupplied(), tmp_path)
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["problems"] == []  # a warning, not an error: reconfiguration may feed them
    assert data["base_unsupplied"]["buses"] == ["3", "4"]
    assert data["base_unsupplied"]["load_mw"] == pytest.approx(1.4 + 1.6)
    (note,) = [w for w in data["warnings"] if "without supply" in w]
    assert "(3, 4)" in note and "3.0000 MW" in note and "supplied part only" in note
    text = _flat(runner.invoke(app, ["info", str(path)]).output)
    assert "base-case unsupplied" in text and "without supply (3, 4)" in text


def test_unsupplied_base_case_load_is_flagged_in_solve_and_report(tmp_path: Path) -> None:
    path = _write(_unsupplied(), tmp_path)
    out_dir = tmp_path / "res"
    result = runner.invoke(app, ["solve", str(path), "--time-limit", "20", "--out",
                                 str(out_dir), "--report"])
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    assert "base case unsupplied" in text and "without supply (3, 4)" in text
    saved = json.loads((out_dir / "result.json").read_text())
    assert saved["base"]["unsupplied"]["buses"] == ["3", "4"]
    assert "supplied part only" in saved["base"]["warning"]
    report = (out_dir / "report.html").read_text()
    assert "without supply (3, 4)" in report

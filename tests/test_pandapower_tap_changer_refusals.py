"""Tap-changer settings on which pandapower's power flow fails are typed problems on the
transformer (user test ut38_realg #2).

An "Ideal" tap changer with both ``tap_step_percent`` and ``tap_step_degree``: runpp raises
"Both tap_step_degree and tap_step_percent set for ideal phase shifter". The reader said
"problems: none" and a solve ended "status optimal" with "the AC check found no operating
point" (exit 4). Likewise ``tap_dependency_table`` without an ``id_characteristic_table``,
or with one but no ``net.trafo_characteristic_table`` to read it from (runpp: AttributeError;
before, the reader gave only a note), and a trafo3w whose table has no row at its tap.
The truth is pandapower's own runpp of the same net.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pandapower as pp
import pandas as pd
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, Problem
from feederopt.io import from_pandapower

runner = CliRunner()
CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"
COLS = ["tap_side", "tap_neutral", "tap_min", "tap_max", "tap_step_percent",
        "tap_step_degree", "tap_pos", "tap_changer_type"]


def _net(percent: float = 1.5, degree: float = 2.0, kind: str = "Ideal") -> Any:
    """110 kV bus - trafo 0 (tap at hv, position 3) - 20 kV feeder of two switched lines."""
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0)
    mv = [pp.create_bus(net, 20.0) for _ in range(3)]
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer(net, hv, mv[0], std_type="25 MVA 110/20 kV")
    net.trafo.loc[0, COLS] = ["hv", 0, -9, 9, percent, degree, 3, kind]
    for a, b in ((0, 1), (1, 2)):
        ln = pp.create_line(net, mv[a], mv[b], 2.0, CABLE)
        pp.create_switch(net, mv[a], ln, et="l", closed=True)
        pp.create_load(net, mv[b], p_mw=1.0, q_mvar=0.3)
    return net


def _runpp(net: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)


def _write(net: Any, tmp_path: Path) -> str:
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    return str(path)


def test_pandapower_refuses_an_ideal_changer_with_both_steps() -> None:
    with pytest.raises(UserWarning, match="Both tap_step_degree and tap_step_percent"):
        _runpp(_net())


@pytest.mark.parametrize("command", ["info", "solve"])
def test_an_ideal_changer_with_both_steps_is_a_typed_problem(tmp_path: Path,
                                                               command: str) -> None:
    result = runner.invoke(app, [command, _write(_net(), tmp_path)])
    out = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in out and "problems: none" not in out
    assert "1 problem in the input" in out, out
    assert "branches [trafo:0].tap_step_degree:" in out and "tap_step_percent (1.5)" in out
    assert "hint: keep one and set the other to 0 or NaN" in out
    with pytest.raises(InputError) as err:
        from_pandapower(_net())
    (problem,) = err.value.problems
    assert (problem.ids, problem.field) == (("trafo:0",), "tap_step_degree")


@pytest.mark.parametrize(("percent", "degree", "kind"), [
    (math.nan, 2.0, "Ideal"), (0.0, 2.0, "Ideal"), (1.5, math.nan, "Ideal"),
    (1.5, 2.0, "Symmetrical")])
def test_one_step_or_another_type_is_no_problem(percent: float, degree: float,
                                                kind: str) -> None:
    """pandapower runs these; so does the reader."""
    _runpp(_net(percent, degree, kind))
    assert not [p for p in from_pandapower(_net(percent, degree, kind)).validate()
                if p.is_error]


def test_a_three_winding_ideal_changer_with_both_steps_is_a_typed_problem() -> None:
    net = _net(math.nan)
    mv2, lv = pp.create_bus(net, 20.0), pp.create_bus(net, 10.0)
    pp.create_transformer3w(net, 0, mv2, lv, std_type="63/25/38 MVA 110/20/10 kV")
    pp.create_load(net, lv, p_mw=1.0)
    net.trafo3w.loc[0, ["tap_changer_type", "tap_step_percent", "tap_step_degree"]] = [
        "Ideal", 1.25, 2.0]
    with pytest.raises(UserWarning, match="Both tap_step_degree and tap_step_percent"):
        _runpp(net)
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (problem,) = err.value.problems
    assert (problem.ids, problem.field) == (("trafo3w:0",), "tap_step_degree")


def test_a_tap_table_without_its_id_is_a_typed_problem() -> None:
    def broken() -> Any:
        net = _net(1.5, math.nan, "Ratio")
        net.trafo["tap_dependency_table"] = True
        net.trafo["id_characteristic_table"] = math.nan
        return net

    with pytest.raises(UserWarning, match="id_characteristic_table NA"):
        _runpp(broken())
    with pytest.raises(InputError) as err:
        from_pandapower(broken())
    (problem,) = err.value.problems
    assert (problem.ids, problem.field) == (("trafo:0",), "id_characteristic_table")


# --- a tap table that pandapower cannot read (trafo_characteristic_table) -------------------
# The truth is runpp of the same net: it fails without the table (AttributeError), without a
# column it reads (KeyError) and, for a trafo3w, without the row at tap_pos (every vk and vkr
# taken as 1: "Equivalent transformer with zero impedance!"); a trafo without its row runs.

TABLE_2W = {"id_characteristic": [0, 0], "step": [2, 3], "voltage_ratio": [1.0, 1.0],
            "angle_deg": [0.0, 0.0], "vk_percent": [12.0, 12.5],
            "vkr_percent": [0.41, 0.42]}


def _trafo_with_table(table: dict[str, list[Any]] | None, ref: float = 0) -> Any:
    net = _net(1.5, math.nan, "Ratio")  # tap_pos 3
    net.trafo["tap_dependency_table"] = True
    net.trafo["id_characteristic_table"] = ref
    if table is not None:
        net["trafo_characteristic_table"] = pd.DataFrame(table)
    return net


def _three_winding_with_table(table: dict[str, list[Any]] | None) -> Any:
    net = _net(1.5, math.nan, "Ratio")
    mv2, lv = pp.create_bus(net, 20.0), pp.create_bus(net, 10.0)
    pp.create_transformer3w(net, 0, mv2, lv, std_type="63/25/38 MVA 110/20/10 kV")
    pp.create_load(net, lv, p_mw=1.0)
    net.trafo3w.loc[0, ["tap_pos", "tap_changer_type"]] = [0, "Ratio"]
    net.trafo3w["tap_dependency_table"] = True
    net.trafo3w["id_characteristic_table"] = 0
    if table is not None:
        net["trafo_characteristic_table"] = pd.DataFrame(table)
    return net


def _table_3w(step: int) -> dict[str, list[Any]]:
    return {"id_characteristic": [0], "step": [step], "voltage_ratio": [1.0],
            "angle_deg": [0.0], "vk_hv_percent": [10.4], "vkr_hv_percent": [0.28],
            "vk_mv_percent": [10.4], "vkr_mv_percent": [0.32], "vk_lv_percent": [10.4],
            "vkr_lv_percent": [0.35]}


def _refused(net: Any, element: str) -> Problem:
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    # (an out-of-service trafo also leaves its feeder an island: another problem)
    (problem,) = [p for p in err.value.problems if p.field == "id_characteristic_table"]
    assert problem.ids == (f"{element}:0",)
    assert problem.hint
    return problem


@pytest.mark.parametrize("in_service", [True, False])
def test_a_tap_table_without_the_nets_table_is_a_typed_problem(in_service: bool) -> None:
    def broken() -> Any:
        net = _trafo_with_table(None)
        net.trafo["in_service"] = in_service
        return net

    with pytest.raises(AttributeError, match="trafo_characteristic_table"):
        _runpp(broken())
    problem = _refused(broken(), "trafo")
    assert "no trafo_characteristic_table" in problem.message
    assert "add net.trafo_characteristic_table" in (problem.hint or "")


def test_a_tap_table_without_a_column_pandapower_reads_is_a_typed_problem() -> None:
    table = {k: v for k, v in TABLE_2W.items() if k != "angle_deg"}
    with pytest.raises(KeyError, match="angle_deg"):
        _runpp(_trafo_with_table(table))
    assert "angle_deg" in _refused(_trafo_with_table(table), "trafo").message


def test_the_cli_refuses_a_tap_table_without_the_nets_table(tmp_path: Path) -> None:
    result = runner.invoke(app, ["info", _write(_trafo_with_table(None), tmp_path)])
    out = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in out and "problems: none" not in out
    assert "branches [trafo:0].id_characteristic_table:" in out, out
    assert "hint: add net.trafo_characteristic_table" in out


def test_a_trafo_whose_id_has_no_row_runs_as_pandapower_does() -> None:
    """runpp runs it (with vk_percent = vkr_percent = 1 in place of the missing row): a note,
    no problem; and a table with the trafo's row keeps the reader's note as before."""
    for ref in (7, 0):
        table = TABLE_2W if ref == 7 else {k: v[1:] for k, v in TABLE_2W.items()}
        _runpp(_trafo_with_table(table, ref))
        net = from_pandapower(_trafo_with_table(table, ref))
        assert not [p for p in net.validate() if p.is_error]
        notes = " ".join(net.meta.get("warnings", []))
        assert "trafo 0: its tap-dependency table is not modelled" in notes
        assert ("no row for its id_characteristic_table 7 at tap_pos 3" in notes) == (ref == 7)


def test_a_three_winding_tap_table_without_the_nets_table_is_a_typed_problem() -> None:
    with pytest.raises(AttributeError, match="trafo_characteristic_table"):
        _runpp(_three_winding_with_table(None))
    assert "no trafo_characteristic_table" in _refused(
        _three_winding_with_table(None), "trafo3w").message


def test_a_three_winding_tap_table_without_its_row_is_a_typed_problem() -> None:
    with pytest.raises(UserWarning, match="zero impedance"):
        _runpp(_three_winding_with_table(_table_3w(step=1)))
    problem = _refused(_three_winding_with_table(_table_3w(step=1)), "trafo3w")
    assert "no row for id_characteristic 0 at the tap_pos 0" in problem.message
    # with its row, runpp runs and so does the reader
    _runpp(_three_winding_with_table(_table_3w(step=0)))
    net = from_pandapower(_three_winding_with_table(_table_3w(step=0)))
    assert not [p for p in net.validate() if p.is_error]

"""A finite but absurd pandapower field whose derived value overflows (or passes validation's
magnitude bounds) is named on the field the user wrote, not on the derived branch or load
field.

A line's ``length_km = 1e300`` is finite and positive, so the field checks passed it, and
validation reported the derived ``r_ohm``/``x_ohm`` ("absurdly large"), fields a pandapower
user does not have; ``r_ohm_per_km = 1e305`` alike; a trafo's ``vk_percent = 1e307`` gave
"r_ohm is NaN", ``pfe_kw = 1e308`` raised OverflowError, and a load's ``p_mw = 1e308`` at
``scaling = 2`` read "p_mw is NaN or infinite". The truth is the field the test breaks: each
case must be named by it, and no problem may name the derived fields of that element."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt import load
from feederopt.cli import app
from feederopt.errors import InputError

#: The fields the reader derives, which a pandapower user does not have.
DERIVED = {"r_ohm", "x_ohm", "b_us", "g_us", "i_max_ka", "tap_ratio"}


@functools.cache
def _built() -> Any:
    """A 20 kV source, a line to a second 20 kV bus, a 0.63 MVA 20/0.4 kV trafo, one load."""
    net = pp.create_empty_network()
    a, b, c = (pp.create_bus(net, vn) for vn in (20.0, 20.0, 0.4))
    pp.create_ext_grid(net, a)
    pp.create_line(net, a, b, 1.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
    pp.create_transformer(net, b, c, std_type="0.63 MVA 20/0.4 kV")
    pp.create_load(net, c, p_mw=0.1, q_mvar=0.02)
    return net


def _set(table: str, **values: float) -> Callable[[Any], None]:
    def edit(net: Any) -> None:
        for col, value in values.items():
            net[table][col] = value
    return edit


CASES = {
    "length_km": (_set("line", length_km=1e300), "branches", "line:0", "length_km"),
    "r_ohm_per_km": (_set("line", r_ohm_per_km=1e305), "branches", "line:0", "r_ohm_per_km"),
    "x_ohm_per_km": (_set("line", x_ohm_per_km=1e305), "branches", "line:0", "x_ohm_per_km"),
    "c_nf_per_km": (_set("line", length_km=10.0, c_nf_per_km=1e307), "branches", "line:0",
                    "c_nf_per_km"),
    # finite (3e304 uS) but 1e301 p.u.: no bound of validation's, "problems: none" and a
    # power flow that did not converge
    "c_nf_per_km_finite": (_set("line", c_nf_per_km=1e305), "branches", "line:0",
                           "c_nf_per_km"),
    "vk_percent": (_set("trafo", vk_percent=1e307), "branches", "trafo:0", "vk_percent"),
    "sn_mva": (_set("trafo", sn_mva=1e-300), "branches", "trafo:0", "sn_mva"),
    "pfe_kw": (_set("trafo", pfe_kw=1e308), "branches", "trafo:0", "pfe_kw"),
    "p_mw": (_set("load", p_mw=1e308, scaling=2.0), "loads", "load:0", "p_mw"),
    "scaling": (_set("load", scaling=1e305), "loads", "load:0", "scaling"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_load_names_the_users_field(case: str) -> None:
    edit, component, eid, field = CASES[case]
    net = copy.deepcopy(_built())
    edit(net)
    with pytest.raises(InputError) as err:
        load(net)
    problems = err.value.problems
    named = [p for p in problems if p.field == field and eid in p.ids]
    assert named, [str(p) for p in problems]
    assert all(p.component == component and p.hint for p in named)
    # a finite value is not "NaN or infinite" (a load's p_mw 1e308 x scaling 2 was)
    assert not any("NaN" in p.message for p in named), [str(p) for p in named]
    # nothing on the derived fields of that element (superseded, as NaN and negative are)
    derived = [str(p) for p in problems if eid in p.ids and p.field in DERIVED | (
        {"p_mw", "q_mvar"} - {field} if component == "loads" else set())]
    assert not derived, derived


@pytest.mark.parametrize("case", ["length_km", "r_ohm_per_km", "vk_percent", "p_mw"])
def test_cli_exits_2_naming_the_field(case: str, tmp_path: Path) -> None:
    edit, _, eid, field = CASES[case]
    net = copy.deepcopy(_built())
    edit(net)
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    res = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["info", str(path)])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    line = next(text for text in res.output.splitlines() if eid in text and field in text)
    for other in DERIVED:
        assert f" {other} " not in line and f"{other}:" not in line, line
    assert "NaN" not in line, line  # the user's value is finite


def test_trafo3w_short_circuit_voltage_is_named() -> None:
    # vk_hv_percent 1e200: the star split squared it, OverflowError (a traceback)
    net = pp.create_empty_network()
    hv, mv, lv = (pp.create_bus(net, vn) for vn in (110.0, 20.0, 10.0))
    pp.create_ext_grid(net, hv)
    pp.create_transformer3w(net, hv, mv, lv, std_type="63/25/38 MVA 110/20/10 kV")
    pp.create_load(net, mv, p_mw=1.0)
    net.trafo3w["vk_hv_percent"] = 1e200
    with pytest.raises(InputError) as err:
        load(net)
    problems = err.value.problems
    assert [(p.ids, p.field) for p in problems if "trafo3w:0" in p.ids] == [
        (("trafo3w:0",), "vk_hv_percent")], [str(p) for p in problems]
    assert not [str(p) for p in problems if p.field in DERIVED], problems

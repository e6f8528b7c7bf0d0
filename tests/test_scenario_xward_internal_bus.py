"""A scenario bus row at an xward's internal bus (user test ut40_recheck_c #1).

The pandapower reader models an xward as a load ``xward:0`` (its ``ps``) at the xward's bus
and an auxiliary bus, also ``xward:0``, behind its impedance: a bus the model adds, not one
of the user's net. A ``kind=bus`` row at ``xward:0`` was taken (the internal-bus check
skipped every id that is also a load id), then the AC check of the user's net crashed on it
(``ValueError: invalid literal for int() with base 10: 'xward:0'``, exit 1). Such a row is a
``bad_scenario`` problem naming the row and what the bus is (exit 2); a row without a kind
(and no bus DER) naming ``xward:0`` is the xward's load, which it replaces.

Truth by hand: the user's net (``net.bus``) has buses 0, 1 and 2 and no bus ``xward:0``; a
load row replaces the xward's ``ps`` at its bus (bus 2), so two scenarios giving 0.5 and
0.2 MW differ by 0.3 MW there and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api import load
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.scenarios import resolve_scenarios

runner = CliRunner()


def _grid() -> pp.pandapowerNet:
    """A 20 kV radial feeder of three buses, a load at bus 1 and an xward at bus 2."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20) for _ in range(3)]
    pp.create_ext_grid(net, b[0])
    for x, y in ((b[0], b[1]), (b[1], b[2])):
        line = pp.create_line(net, x, y, 1.0, "NA2XS2Y 1x185 RM/25 12/20 kV")
        pp.create_switch(net, x, line, "l", closed=True)
    pp.create_load(net, b[1], p_mw=1.0, q_mvar=0.2)
    pp.create_xward(net, b[2], ps_mw=0.4, qs_mvar=0.1, pz_mw=0.0, qz_mvar=0.0,
                    r_ohm=0.1, x_ohm=1.0, vm_pu=1.0)
    return net


def _table(kind: str | None, der: str | None, p: list[float]) -> pl.DataFrame:
    n = len(p)
    return pl.DataFrame({"scenario": [f"s{i}" for i in range(n)], "kind": [kind] * n,
                         "element": ["xward:0"] * n, "der": [der] * n, "p_mw": p,
                         "q_mvar": [0.0] * n, "weight": [1.0] * n},
                        schema_overrides={"kind": pl.String, "der": pl.String})


@pytest.mark.parametrize(("kind", "der"), [("bus", "pv"), ("bus", None), (None, "pv")])
def test_a_bus_row_at_the_xwards_internal_bus_is_refused(kind: str | None,
                                                         der: str | None) -> None:
    net = _grid()
    assert "xward:0" not in {str(i) for i in net.bus.index}  # not a bus of the user's net
    with pytest.raises(InputError) as err:
        resolve_scenarios(load(net), _table(kind, der, [-0.5]))
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.BAD_SCENARIO
    assert "xward:0" in problem.ids
    assert "auxiliary bus of xward 0" in problem.message and "row 1" in problem.message
    assert "kind load" in problem.hint  # the other reading: the xward's load


@pytest.mark.parametrize("der", [None, "load"])
def test_a_row_without_a_kind_names_the_xwards_load(der: str | None) -> None:
    network = load(_grid())
    sc = resolve_scenarios(network, _table(None, der, [0.5, 0.2]))
    diff = sc.p_mw[0] - sc.p_mw[1]
    at = {b: j for j, b in enumerate(sc.bus_ids)}["2"]
    assert diff[at] == pytest.approx(0.3)
    assert np.delete(diff, at) == pytest.approx(0.0)


def test_cli_bus_row_at_the_xwards_internal_bus_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "xw.json"
    pp.to_json(_grid(), str(src))
    scen = tmp_path / "s.csv"
    scen.write_text("scenario,kind,element,der,p_mw,q_mvar,weight\n"
                    "s0,bus,xward:0,pv,-0.5,0,0.5\ns1,bus,1,pv,-0.2,0,0.5\n")
    res = runner.invoke(app, ["solve", str(src), "--scenarios", str(scen), "--time-limit",
                              "10"], env={"COLUMNS": "400"})
    assert res.exit_code == 2, res.output
    assert "bad_scenario" in res.output and "auxiliary bus of xward 0" in res.output
    assert "Traceback" not in res.output and "ValueError" not in res.output

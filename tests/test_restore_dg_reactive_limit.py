"""The restore AC check compares a grid-forming backup DG's reactive output with its size
(user test ut45b_resil #1): on an 11 kV 10-bus feeder cut off from its source (``line:0``),
a 1,100 kW / 1,100 kvar backup DG at bus 4 forms the island. The model dispatches it to
Qmax = 1,100 kvar (the bound that binds: the firm load D4 needs 800 kvar); in AC, with the
lines' reactive losses, it gives about 1,108 kvar. Before, only its P was compared with its
size: "limits hold in AC", exit 0.

Truth: pandapower's own runpp of the restored operation (the result's closed lines and shed,
the DG as the island's ext_grid at the model's voltage): its Q is above 1,100 kvar, so the
check must say the DG is outside its reactive limit and the command exit with code 4."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from netbuild import own10_pandapower

SIZE = 1100.0  # --dg-size: Pmax [kW] = Qmax [kvar]


def _net() -> pp.pandapowerNet:
    """The tester's own10c (make_nets.py): 10 buses, 12 switched lines (3 normally open)."""
    return own10_pandapower([
        (2, 0.6, 0.2, True, 1), (3, 0.5, 0.15, True, 1), (4, 0.8, 0.8, False, 1),
        (5, 0.4, 0.1, True, 1), (6, 0.7, 0.2, True, 5), (7, 0.9, 0.3, True, 1),
        (8, 0.3, 0.1, True, 1), (9, 0.6, 0.2, False, 1)])


def _pandapower_dg_kvar(doc: dict) -> float:
    """The DG's Q [kvar] in pandapower's runpp of the restored operation, the DG the
    island's ext_grid at the model's voltage."""
    op = doc["operation"]
    net = _net()
    closed = {int(x.split(":")[1]) for x in op["closed_lines"]}
    net.line["in_service"] = net.line.index.isin(closed)
    net.switch.loc[net.switch.et == "l", "closed"] = True
    for k, v in op["shed_per_load_kw"].items():
        i = int(k.split(":")[1])
        f = 1 - v / 1e3 / float(net.load.p_mw[i])
        net.load.loc[i, ["p_mw", "q_mvar"]] = [float(net.load.p_mw[i]) * f,
                                               float(net.load.q_mvar[i]) * f]
    assert not op["island_generators_off"] and not op["generators_off"]
    eg = pp.create_ext_grid(net, 4, vm_pu=op["voltage_pu"]["4"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    return float(net.res_ext_grid.q_mvar[eg]) * 1e3


@pytest.mark.filterwarnings("ignore")
def test_the_island_dg_reactive_output_is_checked(tmp_path: Path) -> None:
    src = tmp_path / "own10c.json"
    pp.to_json(_net(), str(src))
    out = tmp_path / "r.json"
    res = CliRunner(env={"COLUMNS": "400"}).invoke(
        app, ["restore", str(src), "--broken", "line:0", "--dg-sites", "4",
              "--dg-size", str(SIZE), "--time-limit", "50", "--json", str(out)])
    doc = json.loads(out.read_text())
    truth = _pandapower_dg_kvar(doc)
    assert truth > SIZE * (1 + 1e-3), truth  # the premise: AC needs more than Qmax
    ac = doc["ac_check"]
    assert ac["dg_island_kvar"]["4"] == pytest.approx(truth, rel=1e-4)
    assert ac["dg_q_out"] == ["4"]
    assert not ac["limits_hold"]
    assert "reactive" in ac["verdict"]
    assert doc["within_limits"] is False
    assert res.exit_code == 4, res.output
    assert f"{truth:,.2f} kvar" in res.output  # the DG's AC kvar is printed

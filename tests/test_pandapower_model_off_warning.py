"""``feederopt solve`` says prominently when its model is materially off pandapower's power flow
because of elements it does not model (user test ut34_realgrid #2).

A pandapower 3 transformer with a ``tap_dependency_table`` (its impedance follows the tap) is
read at its neutral tap with its table's neutral impedance: the model's losses were 7.9 % off,
and the only hint was a warning under the AC check table, after a headline "optimal". The
expected numbers are pandapower's own ``runpp``: of the user's net (the truth) and of the same
net with the table switched off and the tap at neutral (what the model represents), both on
the topology the solve chose.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pandapower as pp
import pandas as pd
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()


def feeder(tap_table: bool) -> pp.pandapowerNet:
    """A 20/0.4 kV transformer and six 0.4 kV lines, one of them an open tie; with
    ``tap_table`` the transformer's tap 2 has 10 % short-circuit voltage in a
    tap-dependency table (6 % at neutral, as its type)."""
    n = pp.create_empty_network()
    hv = pp.create_bus(n, 20.0)
    b = [pp.create_bus(n, 0.4) for _ in range(6)]
    pp.create_ext_grid(n, hv, vm_pu=1.0)
    pp.create_transformer(n, hv, b[0], "0.4 MVA 20/0.4 kV", tap_pos=0)
    for x, y in [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (3, 5)]:
        line = pp.create_line(n, b[x], b[y], 0.15, "NAYY 4x150 SE")
        pp.create_switch(n, b[x], line, "l", closed=not (x == 3 and y == 5))
    for i in range(1, 6):
        pp.create_load(n, b[i], p_mw=0.04, q_mvar=0.01)
    if tap_table:
        n.trafo.loc[0, ["tap_pos", "tap_changer_type"]] = [2, "Ratio"]
        n["trafo_characteristic_table"] = pd.DataFrame({
            "id_characteristic": [0] * 5, "step": [-2, -1, 0, 1, 2],
            "voltage_ratio": [1.0] * 5, "angle_deg": [0.0] * 5,
            "vk_percent": [5.0, 5.5, 6.0, 8.0, 10.0],
            "vkr_percent": [1.0, 1.1, 1.2, 1.5, 2.0],
            **{c: [None] * 5 for c in ("vk_hv_percent", "vkr_hv_percent", "vk_mv_percent",
                                        "vkr_mv_percent", "vk_lv_percent", "vkr_lv_percent")}})
        n.trafo["tap_dependency_table"] = True
        n.trafo["id_characteristic_table"] = 0
    return n


def runpp_losses_kw(net: pp.pandapowerNet, open_lines: list[int]) -> float:
    net = copy.deepcopy(net)
    net.switch["closed"] = True
    net.switch.loc[net.switch.element.isin(open_lines) & (net.switch.et == "l"),
                   "closed"] = False
    pp.runpp(net, numba=False)
    return 1e3 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())


def solve(net: pp.pandapowerNet, tmp_path: Path) -> tuple[dict, str]:
    src = tmp_path / "net.json"
    pp.to_json(net, str(src))
    doc = tmp_path / "r.json"
    out = runner.invoke(app, ["solve", str(src), "--json", str(doc), "--force",
                              "--time-limit", "20"])
    assert out.exit_code == 0, out.output
    return json.loads(doc.read_text()), out.output


def test_solve_warns_above_the_ac_check_naming_the_element(tmp_path: Path):
    net = feeder(tap_table=True)
    r, console = solve(net, tmp_path)
    opened = [int(b["id"].split(":")[1]) for b in r["open_branches"]]
    truth = runpp_losses_kw(net, opened)
    neutral = copy.deepcopy(net)  # what the model represents: the type's impedance, no tap
    neutral.trafo["tap_dependency_table"] = False
    neutral.trafo.loc[0, "tap_pos"] = 0
    modelled = runpp_losses_kw(neutral, opened)
    fid = r["ac_check"]["model_fidelity"]
    assert math.isclose(fid["ac_losses_kw"], truth, rel_tol=1e-6)
    assert math.isclose(fid["model_losses_kw"], modelled, rel_tol=1e-4)
    expected = (modelled - truth) / truth * 100
    assert abs(expected) > 1.0  # material: beyond 1 % (the fixture must show it)
    assert math.isclose(fid["losses_diff_pct"], expected, rel_tol=1e-3)
    assert fid["material"] is True and fid["exact"] is False
    assert "trafo 0: its tap-dependency table is not modelled" in fid["warning"]
    assert f"{expected:+.2f} %" in fid["warning"]
    # in the console: above the AC check table, and beside the model's losses
    flat = " ".join(console.split())
    head = flat.index("warning: the model's power flow of this topology is off pandapower's")
    assert head < flat.index("AC check (pandapower Newton-Raphson)")
    assert f"model off AC by {expected:+.2f} %" in flat


def test_no_warning_when_the_model_is_exact(tmp_path: Path):
    r, console = solve(feeder(tap_table=False), tmp_path)
    fid = r["ac_check"]["model_fidelity"]
    assert fid["material"] is False and fid["warning"] is None
    assert "off pandapower's" not in console

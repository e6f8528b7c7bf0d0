"""ut_fresh #1: `feederopt check --uncertain-loads L` scales only the loads L at its two
uniform corners, but the console labelled them "every load x1.3". The label now names the
uncertain loads when they are a subset. Truth: pandapower's own power flow of the user's net
with the result's lines in service and only the six loads scaled (computed here), which the
corner's AC voltage matches, while scaling every load gives another voltage."""

from __future__ import annotations

import copy
import json

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from test_check_corners import solved_result

X = 0.3
LOADS = [15, 16, 17, 29, 30, 31]  # pandapower load indices (the far ends of both laterals)


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[pp.pandapowerNet, dict, dict,
                                                                str]:
    net = pn.case33bw()
    folder = tmp_path_factory.mktemp("corner_label")
    result = solved_result(net, folder)
    ids = ",".join(f"load:{k}" for k in LOADS)
    args = ["check", str(result), "--samples", "2", "--uncertainty", str(X),
            "--uncertain-loads", ids]
    out = folder / "check.json"
    res = CliRunner().invoke(app, [*args, "--json", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    console = CliRunner().invoke(app, args, env={"COLUMNS": "250"})
    assert console.exit_code == 0, console.output
    return net, json.loads(result.read_text()), json.loads(out.read_text()), console.output


def _vmin(net: pp.pandapowerNet, doc: dict, loads: list[int], factor: float) -> float:
    net = copy.deepcopy(net)
    opened = {b["id"] for b in doc["open_branches"]}
    net.line["in_service"] = [f"line:{k}" not in opened for k in net.line.index]
    net.load.loc[loads, "p_mw"] *= factor
    net.load.loc[loads, "q_mvar"] *= factor
    pp.runpp(net)
    return float(net.res_bus["vm_pu"].min())


def test_corner_scales_the_uncertain_loads_only(checked: tuple) -> None:
    net, doc, payload, _ = checked
    upper = next(c for c in payload["corners"] if c["corner"] == "upper")
    subset = _vmin(net, doc, LOADS, 1 + X)
    every = _vmin(net, doc, list(net.load.index), 1 + X)
    assert upper["min_voltage_pu"] == pytest.approx(subset, abs=1e-8)
    assert abs(every - subset) > 1e-3  # scaling every load would be another corner


def test_console_names_the_uncertain_loads(checked: tuple) -> None:
    _, _, payload, output = checked
    for c in payload["corners"]:
        assert f"corner: every load x{c['factor']:g}" not in output
        assert f"corner: the {len(LOADS)} uncertain load(s) x{c['factor']:g} (not a sample)" \
            in output

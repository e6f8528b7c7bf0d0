"""ut_core2 #7: `feederopt check` says that its samples draw each load independently, and
evaluates the two uniform corners (every uncertain load at 1 - X, and at 1 + X, together)
apart from the samples. The corners' AC voltages are checked against pandapower's own power
flow of the user's net with all loads scaled and the result's switch states (computed here)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from test_ac_loading_report import _net

X = 0.3


def solved_result(net: pp.pandapowerNet, folder: Path) -> Path:
    """``feederopt solve`` of the pandapower net ``net`` (saved as ``folder/net.json``); the
    path of its ``result.json``, for ``feederopt check``."""
    path = folder / "net.json"
    pp.to_json(net, str(path))
    result = folder / "result.json"
    res = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "60", "--quiet",
                                   "--json", str(result)])
    assert res.exit_code == 0, res.output
    return result


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[pp.pandapowerNet, dict, dict,
                                                                str]:
    net = _net()
    folder = tmp_path_factory.mktemp("corners")
    result = solved_result(net, folder)
    out = folder / "check.json"
    args = ["check", str(result), "--samples", "3", "--uncertainty", str(X)]
    res = CliRunner().invoke(app, [*args, "--json", str(out), "--quiet"])
    # a corner that breaks a limit sets the verdict since session 42 (judged as a sample is;
    # this file's tests hold each corner's figures against pandapower)
    check = json.loads(Path(out).read_text())
    expected = 4 if check["samples_breaking_limits"] or check["corners_breaking_limits"] else 0
    assert res.exit_code == expected, res.output
    console = CliRunner().invoke(app, args, env={"COLUMNS": "250"})  # no wrapped rows
    assert console.exit_code == expected, console.output
    return net, json.loads(result.read_text()), json.loads(Path(out).read_text()), \
        console.output


def _pandapower_at(net: pp.pandapowerNet, doc: dict, factor: float) -> pp.pandapowerNet:
    net = copy.deepcopy(net)
    opened = {b["id"] for b in doc["open_branches"]}
    for k, sw in net.switch.iterrows():
        net.switch.at[k, "closed"] = f"line:{int(sw['element'])}" not in opened
    net.load["p_mw"] *= factor
    net.load["q_mvar"] *= factor
    pp.runpp(net)
    return net


@pytest.mark.parametrize(("name", "factor"), [("lower", 1 - X), ("upper", 1 + X)])
def test_corner_voltages_are_pandapowers(checked: tuple, name: str, factor: float) -> None:
    net, doc, payload, _ = checked
    corner = next(c for c in payload["corners"] if c["corner"] == name)
    assert corner["factor"] == pytest.approx(factor)
    pf = _pandapower_at(net, doc, factor)
    vm = pf.res_bus["vm_pu"]
    assert corner["ac_converged"] is True
    assert corner["min_voltage_pu"] == pytest.approx(float(vm.min()), abs=1e-9)
    assert corner["max_voltage_pu"] == pytest.approx(float(vm.max()), abs=1e-9)
    assert str(corner["min_voltage_bus"]) == str(int(vm.idxmin()))
    # feasible in AC: the band 0.9-1.1 of case33bw and the 0.25 kA ratings, as pandapower has it
    ok = (vm.min() >= 0.9 - 1e-6 and vm.max() <= 1.1 + 1e-6
          and pf.res_line["loading_percent"].max() <= 100.0 * (1 + 1e-6))
    assert corner["feasible_ac"] is bool(ok)


def test_corners_differ_from_nominal(checked: tuple) -> None:
    """The upper corner's lowest voltage is below the nominal load's (a check that can fail
    if the corner were evaluated at the nominal loads)."""
    net, doc, payload, _ = checked
    upper = next(c for c in payload["corners"] if c["corner"] == "upper")
    nominal = _pandapower_at(net, doc, 1.0).res_bus["vm_pu"].min()
    assert upper["min_voltage_pu"] < nominal - 1e-3


def test_console_says_independent_and_shows_corners(checked: tuple) -> None:
    _, _, payload, output = checked
    assert "each load drawn independently" in output
    assert "independently" in payload["sampling"]
    for c in payload["corners"]:
        assert f"corner: every load x{c['factor']:g} (not a sample)" in output
        assert (f"V {c['min_voltage_pu']:.4f} - {c['max_voltage_pu']:.4f} p.u. (lowest at bus "
                f"{c['min_voltage_bus']})") in output
    assert payload["samples"] == 3  # the corners are not counted as samples


def test_check_names_a_resilience_result(tmp_path) -> None:
    """User test ut_cli #5: ``check`` called a restore result "not a feederopt result"."""
    runner = CliRunner()
    out = tmp_path / "restore.json"
    assert runner.invoke(app, ["restore", "zhang13", "--broken", "15", "--json", str(out),
                               "--quiet"]).exit_code == 0
    res = runner.invoke(app, ["check", str(out), "-u", "0.1"])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "a `feederopt restore` result" in text and "not a feederopt result" not in text

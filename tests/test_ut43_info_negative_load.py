"""``feederopt info`` of a pandapower net with a negative load (a net-metered customer; user
test ut43_ppgrid #7): it stopped at the load's problem and showed nothing, although pandapower
runs the net. Now it shows the network and the base case and lists the problem, exit code 2;
``solve`` still refuses the load. Truth: pandapower's power flow of the user's net."""

from __future__ import annotations

import sys
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.cli.info import network_info

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import two_feeder_pandapower

runner = CliRunner()


def _net():  # type: ignore[no-untyped-def]
    net = two_feeder_pandapower()
    pp.create_load(net, int(net.bus.index[net.bus.name == "B2"][0]), p_mw=-0.7, q_mvar=-0.1,
                   name="prosumer")
    return net


def test_info_shows_the_base_case_and_the_problem() -> None:
    net = _net()
    info = network_info(net)
    pp.runpp(net)
    pp_kw = float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1000
    assert info["base_losses_kw"] == pytest.approx(pp_kw, rel=1e-9)
    assert info["base_min_voltage_pu"] == pytest.approx(float(net.res_bus.vm_pu.min()), abs=1e-9)
    assert info["loads"] == len(net.load)
    (problem,) = info["problems"]
    prosumer = int(net.load.index[net.load.name == "prosumer"][0])
    assert (problem["kind"], problem["ids"], problem["field"]) == (
        "bad_load", [f"load:{prosumer}"], "p_mw")


def test_cli_info_exits_2_after_the_facts_and_solve_refuses(tmp_path: Path) -> None:
    src = tmp_path / "grid.json"
    pp.to_json(_net(), str(src))
    done = runner.invoke(app, ["info", str(src)])
    assert done.exit_code == 2
    assert "base-case losses (AC)" in done.output and "p_mw is negative" in done.output
    assert "Traceback" not in done.output
    solved = runner.invoke(app, ["solve", str(src), "--time-limit", "10"])
    assert solved.exit_code == 2 and "p_mw is negative" in solved.output

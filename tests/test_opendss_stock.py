"""The stock OpenDSS master-file forms that the IEEE and EPRI feeders use, on small copies of
the built-in feeders: a script without a final ``Solve`` (D1), a tie switch opened at a
terminal (D2), an infeasible three-phase solve and its exit code (D4), current limits that
can be lifted (D3), the OpenDSS check's de-energised nodes and unserved load (D6) and a
feeder with nothing to switch (D11)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import solve_three_phase, three_phase_info
from feederopt.cases import load_three_phase
from feederopt.cases.threephase import three_phase_case_path
from feederopt.cli import app
from feederopt.cli.app import EXIT_INFEASIBLE
from feederopt.validation.opendss import solve_opendss

runner = CliRunner()

TIE = "enabled=n  ! tie switch"


def _without_solve(text: str) -> str:
    """The script with its ``Solve`` commands removed (as the stock master files end)."""
    out = [ln for ln in text.splitlines() if not re.match(r"\s*solve\b", ln, re.I)]
    assert len(out) < len(text.splitlines())  # there was a solve to remove
    return "\n".join(out) + "\n"


def _ieee37_copy(tmp_path: Path, *, solve: bool) -> Path:
    folder = tmp_path / ("solved" if solve else "unsolved")
    shutil.copytree(three_phase_case_path("ieee37").parent, folder)
    path = folder / "ieee37.dss"
    if not solve:
        path.write_text(_without_solve(path.read_text()))
    return path


def _ieee13mod_copy(tmp_path: Path, name: str, edit: str = "", *, tie_by_terminal: bool = False,
                    ) -> Path:
    """IEEE 13 (PowerModelsONM, with switches); ``tie_by_terminal``: the tie 801675 is
    defined closed and opened by ``open Line.801675 term=2``, as IEEE 123's ties are."""
    text = three_phase_case_path("ieee13mod").read_text()
    if tie_by_terminal:
        assert TIE in text
        text = text.replace(TIE, "enabled=y\nopen Line.801675 term=2")
    path = tmp_path / f"{name}.dss"
    path.write_text(text + ("\n" + edit + "\n" if edit else ""))
    return path


# ---- D1: a script without a final Solve -------------------------------------------------


def test_script_without_solve_gives_the_solved_base_case(tmp_path: Path) -> None:
    """IEEE 37 ends with ``solve``; without it OpenDSS's last solution is CalcVoltageBases'
    zero-load one. Both give the same losses and regulator taps (OpenDSS's own solution)."""
    solved = three_phase_info(_ieee37_copy(tmp_path, solve=True))
    unsolved = three_phase_info(_ieee37_copy(tmp_path, solve=False))
    assert solved["base_losses_kw"] > 100  # 152.36 kW
    assert unsolved["base_losses_kw"] == pytest.approx(solved["base_losses_kw"], rel=1e-6)
    assert unsolved["opendss_source_kw"] == pytest.approx(solved["opendss_source_kw"], rel=1e-6)
    assert unsolved["base_min_voltage_pu"] < 0.99
    taps = [load_three_phase(_ieee37_copy(tmp_path / k, solve=k == "s")).transformers
            .sort("id")["tap_to"].to_list() for k in ("s", "u")]
    assert taps[0] == taps[1]
    assert max(taps[1]) > 1.0  # the regulators moved


# ---- D2: a tie switch opened at a terminal ----------------------------------------------


def test_switch_opened_at_a_terminal_is_normally_open(tmp_path: Path) -> None:
    """``open Line.801675 term=2`` makes the tie normally open, as ``enabled=n`` does; the
    OpenDSS check closes it (both terminals) and gives what OpenDSS gives for the same feeder
    with the tie closed in its file (701702 opened instead, in both)."""
    net = load_three_phase(_ieee13mod_copy(tmp_path, "term", tie_by_terminal=True))
    sw = net.lines.filter(net.lines["switchable"])
    assert sw.filter(sw["normally_open"])["id"].to_list() == ["801675"]
    assert sw.filter(sw["id"] == "801675")["in_service"].to_list() == [True]
    ref_path = tmp_path / "closed.dss"
    ref_path.write_text(three_phase_case_path("ieee13mod").read_text().replace(TIE, "enabled=y"))
    ref_net = load_three_phase(ref_path)
    assert not ref_net.lines.filter(ref_net.lines["normally_open"]).height
    ref = solve_opendss(ref_net, open_switches={"701702"})
    check = solve_opendss(net, open_switches={"701702"})
    assert ref.passed and check.converged and check.passed
    assert check.losses_kw == pytest.approx(ref.losses_kw, rel=1e-6)
    assert check.load_kw == pytest.approx(ref.load_kw, rel=1e-6)
    # the base case keeps the tie open: other losses than with it closed
    base = solve_opendss(net)
    assert base.passed and base.open_switches == ["801675"]
    assert base.losses_kw != pytest.approx(check.losses_kw, rel=1e-3)


# ---- D6: de-energised nodes and unserved load -------------------------------------------


def test_opendss_check_reports_unserved_load() -> None:
    """Opening 671692 with the tie open cuts 692 and 675 off: the check counts their nodes and
    their load, and does not pass."""
    net = load_three_phase("ieee13mod")
    base = solve_opendss(net)
    assert base.passed and base.unserved_load_kw == 0 and not base.dead_nodes
    cut = solve_opendss(net, open_switches={"801675", "671692"})
    loads = net.loads.filter(net.loads["bus"].is_in(["692", "675"]))
    assert cut.dead_nodes and all(n.split(".")[0] in {"692", "675", "675aux"}
                                  for n in cut.dead_nodes)
    assert cut.unserved_load_kw == pytest.approx(loads["p_mw"].sum() * 1000, rel=1e-6)
    assert not cut.passed
    data = cut.to_dict()
    assert data["dead_nodes"] == len(cut.dead_nodes) and data["passed"] is False


# ---- D4, D3: infeasible solves, exit codes and current limits ---------------------------


def test_infeasible_three_phase_solve_exits_3_and_limits_can_be_lifted(tmp_path: Path) -> None:
    """Every line rated 1 A: infeasible, exit 3; the answer is the least-overloading topology
    (status still infeasible), the message names the overloaded lines and the options;
    --no-thermal-limits and --max-loading make it solvable."""
    path = _ieee13mod_copy(tmp_path, "tiny", "batchedit line..* normamps=1 emergamps=1")
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["solve", str(path), "--json", str(out), "--time-limit", "60"])
    assert result.exit_code == EXIT_INFEASIBLE, result.output
    text = " ".join(result.output.split())
    assert "within its rating" in text and "650632" in text
    assert "--no-thermal-limits" in text and "--max-loading" in text
    data = json.loads(out.read_text())
    assert data["status"] == "infeasible" and data["has_solution"]
    # the source line carries the whole feeder's current (about 425 A in OpenDSS) on 1 A
    # whatever the switches (a bridge): its rating is left out of the search and reported;
    # the lines on the loop (700701, on the 670-...-801-675 loop) make it infeasible
    assert any(o.startswith("650632 ") for o in data["fixed_overloads"])
    assert any(o.startswith("700701 ") for o in data["overloaded"])
    assert not any(o.startswith("650632 ") for o in data["overloaded"])
    loads = {o["element"].lower(): o["loading_percent"]
             for o in data["ac_check"]["loading"]["overloads"]}
    assert loads["line.650632"] > 10_000.0
    for extra in (["--no-thermal-limits"], ["--max-loading", "1e6"]):
        ok = runner.invoke(app, ["solve", str(path), "-q", "--time-limit", "60", *extra])
        assert ok.exit_code == 0, (extra, ok.output)
    low = runner.invoke(app, ["solve", str(path), "-q", "--max-loading", "50"])
    assert low.exit_code == EXIT_INFEASIBLE, low.output
    bad = runner.invoke(app, ["solve", str(path), "-q", "--max-loading", "-5"])
    assert bad.exit_code == 2, bad.output


# ---- D11: nothing to switch --------------------------------------------------------------


def test_feeder_without_switches_says_so() -> None:
    data = solve_three_phase("ieee37", ac_check=False, time_limit_s=60)
    assert data["status"] == "optimal" and data["open_switches"] == []
    assert any("no switchable lines" in n for n in data["notes"])


def test_source_impedance_losses_are_reported_apart(tmp_path):
    """D8 of the audit: the LinDist3Flow loss proxy includes the losses on the source's own
    impedance, which OpenDSS's circuit losses leave out. With a weak source (IEEE 13 at 20 MVA
    instead of 20 GVA short-circuit power) that part is reported apart, and the proxy without it
    is the one close to OpenDSS's losses."""
    from feederopt.algorithms.threephase import lindist3flow_power_flow

    text = three_phase_case_path("ieee13").read_text()
    assert "MVAsc3=20000 MVASC1=21000" in text
    weak = tmp_path / "weak13.dss"
    weak.write_text(text.replace("MVAsc3=20000 MVASC1=21000", "MVAsc3=20 MVASC1=21"))
    flow = lindist3flow_power_flow(load_three_phase(str(weak)))
    opendss_kw = three_phase_info(str(weak))["base_losses_kw"]
    assert flow.source_loss_proxy_kw > 0.2 * flow.loss_proxy_kw
    feeder = flow.loss_proxy_kw - flow.source_loss_proxy_kw
    assert abs(feeder - opendss_kw) < 0.5 * abs(flow.loss_proxy_kw - opendss_kw)

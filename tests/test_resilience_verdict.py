"""``feederopt restore`` and ``feederopt plan`` end by the rule of the other commands (user test
ut41_cli #2, #4): exit code 4 when an operation's AC check breaks a limit, the JSON's top-level
``within_limits`` false (null without an AC check), one line on stderr naming the scenario(s)
and the limits, the console's and the report's verdict saying so; and a plan scenario reports
the lines it attacks (``attacked``, as given) apart from those that fail (``failed``: attacked
and not hardened).

Before, ``restore case33bw --broken 2`` exited 0 beside its own ``ac_check.limits_hold:
false`` (AC V_min 0.8943 p.u. against v_min 0.9), and a plan scenario's ``broken`` listed a
hardened line that ``closed_lines`` listed closed and carrying flow.

The feeder: a 10 kV pandapower net built here, the source at bus 0, a radial feeder 0-1-2-3
(``line:0`` .. ``line:2``, 4 km of 0.6 + j0.4 ohm/km each) and a normally open tie 0-3
(``line:3``). With ``line:0`` broken the tie must close, and every load is fed over 0-3-2-1.
At full load (2.8 MW) the lossless LinDistFlow sheds until bus 1 sits at its 0.9 p.u. limit;
with the losses the model has not, the AC voltage there is lower. The independent truth is
pandapower's own ``runpp`` of the user's net with the operation applied by hand
(:func:`resilience_ops.operated`: the broken line out of service, the switches as the model
sets them, each load less its shed kW), no feederopt code; the light variant (30 % of the
load) keeps 0.9 p.u. in AC, and must exit 0.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from resilience_ops import operated

runner = CliRunner(env={"COLUMNS": "240"})
#: Each load [MW], Q = 0.3 P.
LOADS_MW = {1: 0.8, 2: 1.1, 3: 0.9}
V_MIN = 0.9


def feeder(scale: float) -> pp.pandapowerNet:
    net = pp.create_empty_network(sn_mva=1.0)
    bus = [pp.create_bus(net, 10.0, min_vm_pu=V_MIN, max_vm_pu=1.1) for _ in range(4)]
    pp.create_ext_grid(net, bus[0], vm_pu=1.0)
    for a, b in ((0, 1), (1, 2), (2, 3)):
        pp.create_line_from_parameters(net, bus[a], bus[b], 4.0, 0.6, 0.4, 10.0, 0.6)
    tie = pp.create_line_from_parameters(net, bus[0], bus[3], 4.0, 0.6, 0.4, 10.0, 0.6)
    pp.create_switch(net, bus[0], tie, et="l", closed=False, name="sw_tie")
    for b, p in LOADS_MW.items():
        pp.create_load(net, bus[b], p_mw=p * scale, q_mvar=0.3 * p * scale)
    return net


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cases")
    out = {}
    for name, scale in (("heavy", 1.0), ("light", 0.3)):
        out[name] = folder / f"{name}.json"
        pp.to_json(feeder(scale), str(out[name]))
    return out


def own_low_buses(scale: float, broken: list[str], op: dict[str, Any]) -> list[str]:
    """The buses below v_min in pandapower's own power flow of the operation ``op`` (a JSON
    ``operation``) on the feeder at ``scale``; asserts that it converged."""
    r = SimpleNamespace(broken=broken, operation=SimpleNamespace(
        closed_lines=op["closed_lines"], shed_per_load_kw=op["shed_per_load_kw"]))
    own = operated(feeder(scale), r)
    pp.runpp(own, numba=False)
    vm = own.res_bus.vm_pu
    assert not vm.isna().any()
    return [str(b) for b in vm.index if vm[b] < V_MIN - 1e-6]


def run(args: list[str], json_file: Path) -> tuple[Any, dict[str, Any]]:
    res = runner.invoke(app, [*args, "--json", str(json_file)])
    return res, json.loads(json_file.read_text())


def test_restore_breaking_a_limit_in_ac_exits_4(cases: dict[str, Path], tmp_path: Path) -> None:
    res, doc = run(["restore", str(cases["heavy"]), "--broken", "line:0"], tmp_path / "r.json")
    low = own_low_buses(1.0, ["line:0"], doc["operation"])
    assert low  # the premise, by pandapower alone: the restoration is below v_min in AC
    assert doc["operation"]["shed_kw"] > 0  # and the model shed load to keep 0.9 lossless
    assert res.exit_code == 4, res.output  # was 0
    assert doc["within_limits"] is False
    assert sorted(doc["ac_check"]["low_voltage_buses"]) == sorted(low)
    err = " ".join(res.stderr.split())
    assert "the restoration is not within the limits" in err and "exit code 4" in err
    assert f"V below v_min at {', '.join(low)}" in err
    out = " ".join(res.stdout.split())
    assert "within the limits (AC check) │ no: an AC check breaks a limit (exit code 4)" in out
    # --quiet: the same exit code, no line
    quiet = runner.invoke(app, ["restore", str(cases["heavy"]), "--broken", "line:0", "-q"])
    assert quiet.exit_code == 4 and quiet.output == ""


def test_restore_within_the_limits_exits_0(cases: dict[str, Path], tmp_path: Path) -> None:
    res, doc = run(["restore", str(cases["light"]), "--broken", "line:0", "-q"],
                   tmp_path / "r.json")
    assert own_low_buses(0.3, ["line:0"], doc["operation"]) == []
    assert res.exit_code == 0, res.output
    assert doc["within_limits"] is True
    res, doc = run(["restore", str(cases["heavy"]), "--broken", "line:0", "--no-ac-check",
                    "-q"], tmp_path / "n.json")
    assert res.exit_code == 0 and doc["within_limits"] is None  # no AC check: no verdict


def test_plan_breaking_a_limit_in_ac_exits_4(cases: dict[str, Path], tmp_path: Path) -> None:
    """The tester's second command: a plan with nothing to invest in, one scenario."""
    res, doc = run(["plan", str(cases["heavy"]), "--broken", "line:0", "--harden-budget", "0",
                    "--dg-budget", "0"], tmp_path / "p.json")
    sc = doc["scenarios"][0]
    low = own_low_buses(1.0, ["line:0"], sc["operation"])
    assert low
    assert res.exit_code == 4, res.output  # was 0
    assert doc["within_limits"] is False and sc["ac_check"]["limits_hold"] is False
    err = " ".join(res.stderr.split())
    assert (f"the plan is not within the limits in 1 of 1 scenario(s): {sc['name']}: limits "
            f"broken in AC: V below v_min at {', '.join(low)}") in err
    assert "within the limits (AC checks) │ no" in " ".join(res.stdout.split())
    res, doc = run(["plan", str(cases["light"]), "--broken", "line:0", "--harden-budget", "0",
                    "--dg-budget", "0", "-q"], tmp_path / "q.json")
    assert own_low_buses(0.3, ["line:0"], doc["scenarios"][0]["operation"]) == []
    assert res.exit_code == 0 and doc["within_limits"] is True


def test_plan_reports_attacked_and_failed_lines(cases: dict[str, Path],
                                                tmp_path: Path) -> None:
    """Scenario A attacks line:0 and the tie line:3, B attacks line:0 and line:1. Hardening
    line:0 serves every load in both (A: the radial feeder 0-1-2-3; B: bus 1 over line:0,
    buses 3 and 2 over the tie); hardening the tie leaves bus 1 cut off in B, hardening line:1
    leaves everything cut off in A; so the plan of budget 1 hardens line:0 ($400 against
    $14/kW of shed load). By definition A then fails the tie only and B line:1 only, and
    line:0 survives and is closed in both."""
    scen = tmp_path / "s.json"
    scen.write_text(json.dumps({"scenarios": [
        {"name": "A", "probability": 0.5, "broken": ["line:0", "line:3"]},
        {"name": "B", "probability": 0.5, "broken": ["line:0", "line:1"]}]}))
    res, doc = run(["plan", str(cases["light"]), "--scenarios", str(scen), "--harden-budget",
                    "1", "--dg-budget", "0", "--no-measures"], tmp_path / "p.json")
    assert res.exit_code == 0, res.output
    assert doc["hardened"] == ["line:0"]
    a, b = doc["scenarios"]
    assert (a["attacked"], a["failed"]) == (["line:0", "line:3"], ["line:3"])
    assert (b["attacked"], b["failed"]) == (["line:0", "line:1"], ["line:1"])
    for sc in (a, b):
        assert sc["broken"] == sc["attacked"]  # the old field, as documented: the list given
        assert "line:0" in sc["operation"]["closed_lines"]
        assert set(sc["failed"]).isdisjoint(sc["operation"]["closed_lines"])
        assert sc["operation"]["shed_kw"] == 0.0
    out = " ".join(res.stdout.split())
    assert "attacked" in out and "failed (not hardened)" in out
    assert "│ A │ 0.5 │ line:0, line:3 │ line:3 │" in out
    assert "│ B │ 0.5 │ line:0, line:1 │ line:1 │" in out


def test_the_report_says_so(cases: dict[str, Path], tmp_path: Path) -> None:
    from feederopt.report.resilience import render_plan, render_restore

    res = runner.invoke(app, ["restore", str(cases["heavy"]), "--broken", "line:0", "--out",
                              str(tmp_path / "r"), "-q"])
    assert res.exit_code == 4
    page = (tmp_path / "r" / "report.html").read_text()
    assert 'class="status limits_broken"' in page
    assert "no: an AC check breaks a limit (exit code 4)" in page
    doc = json.loads((tmp_path / "r" / "result.json").read_text())
    # a result written before within_limits: the same verdict from its AC check
    old = {k: v for k, v in doc.items() if k not in ("within_limits", "objective",
                                                      "lower_bound")}
    assert 'class="status limits_broken"' in render_restore(old, b"", "r", None, None)
    plan = {"kind": "resilience_plan", "status": "optimal", "hardened": ["line:0"],
            "scenarios": [{"name": "A", "probability": 1.0, "broken": ["line:0", "line:2"],
                           "operation": doc["operation"], "shed_cost": 0.0,
                           "penalty_cost": 0.0, "ac_check": doc["ac_check"]}]}
    page = render_plan(plan, b"", "p")
    assert 'class="status limits_broken"' in page
    assert "<td>line:0, line:2</td><td>line:2</td>" in page  # attacked, failed
    assert math.isfinite(doc["objective"])

"""Every result kind's JSON has the same keys for the same concepts (user test ut41_cli #3;
README, "The keys every result has"): ``status``, ``objective``, ``lower_bound``, ``gap`` and
``within_limits``, so a script reading ``d["objective"]`` or ``d["within_limits"]`` works on
whatever command wrote ``d``. Before, a restoration had only ``objective_kw`` and
``lower_bound_kw``, a plan no ``objective`` (its ``expected_total``), a plan and a restoration
no ``within_limits``, and a three-phase solve neither ``objective`` nor ``lower_bound``.

Each kind is written by its command on a small network (seconds each): the plain solve on
``zhang13`` (13 buses, 15 lines, an AC check whose verdict is the exit code's), since the keys
do not depend on the size and ``case33bw`` took four times as long, twice. The truth per key is
the file's own older field for the same concept, which the common key must equal (not a
number of ours copied into the test): a restoration's ``objective_kw`` and
``lower_bound_kw``, a plan's ``expected_total``, a three-phase solve's ``loss_proxy_kw`` plus
``switching_cost_kw`` (what its ``gap`` is relative to, by hand: ``(objective - lower_bound) /
objective``) and ``lower_bound_kw``; and ``within_limits`` is the verdict of the exit code
(4 exactly when it is false).

The same concepts are attributes of every result object that Python returns (smalls42 #1):
``result.objective`` and ``result.lower_bound`` equal its JSON's keys. Before, a
restoration's result had neither (only ``objective_kw``, ``lower_bound_kw``), a plan's no
``objective`` (its ``expected_total``), a three-phase solve's neither.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from partition_feeders import LONG_LINE_SETTINGS, long_line
from test_resilience_verdict import feeder

runner = CliRunner(env={"COLUMNS": "240"})
COMMON = ("status", "objective", "lower_bound", "gap", "within_limits")


def _schedule_files(tmp: Path) -> list[str]:
    """A 5-bus chain with its tie and a 2-hour profile (tests/test_check_exit_rule.py's)."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for a, c in ((0, 1), (1, 2), (2, 3), (3, 4), (2, 4)):
        line = pp.create_line(net, b[a], b[c], 1.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
        pp.create_switch(net, b[a], line, "l", closed=(a, c) != (2, 4))
    for i in range(1, 5):
        pp.create_load(net, b[i], p_mw=0.5, q_mvar=0.1)
    grid, prof = tmp / "chain.json", tmp / "prof.csv"
    pp.to_json(net, str(grid))
    prof.write_text("time,element,value\n" + "".join(
        f"{h},load:{i},{f}\n" for h, f in enumerate((1.0, 0.95)) for i in range(4)))
    return ["schedule", str(grid), "--profiles", str(prof), "--hours", "2"]


def _commands(tmp: Path) -> dict[str, list[str]]:
    net = tmp / "feeder.json"
    pp.to_json(feeder(0.3), str(net))
    dss, settings = tmp / "long.dss", tmp / "long.json"
    dss.write_text(long_line(4000, round(4000 / 3, 2)))
    settings.write_text(json.dumps(LONG_LINE_SETTINGS))
    return {
        "solve": ["solve", "zhang13", "--time-limit", "60"],
        "three_phase_solve": ["solve", "ieee13", "--time-limit", "60", "--no-ac-check"],
        "resilience_restore": ["restore", str(net), "--broken", "line:0"],
        "resilience_plan": ["plan", str(net), "--broken", "line:0", "--harden-budget", "0",
                            "--dg-budget", "0", "--no-measures"],
        "partition": ["partition", str(dss), "--settings", str(settings), "--uncertainty",
                      "0.05", "--time-limit", "120"],
        "schedule": _schedule_files(tmp),
    }


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("kinds")
    out = {}
    for kind, args in _commands(tmp).items():
        path = tmp / f"{kind}.json"
        res = runner.invoke(app, [*args, "--json", str(path), "-q"])
        out[kind] = (res.exit_code, json.loads(path.read_text()))
    return out


KINDS = ("solve", "three_phase_solve", "resilience_restore", "resilience_plan", "partition",
         "schedule")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_the_common_keys(documents: dict[str, tuple[int, dict[str, Any]]],
                                        kind: str) -> None:
    code, doc = documents[kind]
    assert doc["kind"] == kind
    missing = [k for k in COMMON if k not in doc]
    assert not missing, f"{kind} lacks {missing}"
    assert doc["within_limits"] in (True, False, None)
    # the one verdict and the exit code agree: 4 exactly when within_limits is false
    assert (code == 4) == (doc["within_limits"] is False), (kind, code, doc["within_limits"])
    lo, obj, gap = doc["lower_bound"], doc["objective"], doc["gap"]
    if None not in (lo, obj, gap) and obj > 0:
        assert gap == pytest.approx(max(obj - lo, 0.0) / abs(obj), abs=1e-6)


def test_the_common_keys_are_the_old_fields(
        documents: dict[str, tuple[int, dict[str, Any]]]) -> None:
    restore = documents["resilience_restore"][1]
    assert (restore["objective"], restore["lower_bound"]) == (
        restore["objective_kw"], restore["lower_bound_kw"])  # kW, the old keys kept
    plan = documents["resilience_plan"][1]
    assert plan["objective"] == plan["expected_total"]  # $
    three = documents["three_phase_solve"][1]
    assert three["objective"] == pytest.approx(
        three["loss_proxy_kw"] + (three["switching_cost_kw"] or 0.0))
    assert three["lower_bound"] == three["lower_bound_kw"]


def _python_results(tmp: Path) -> dict[str, Any]:
    """Each kind's result object, from the Python functions with the options of
    :func:`_commands`."""
    net = tmp / "feeder.json"
    pp.to_json(feeder(0.3), str(net))
    dss, settings = tmp / "long.dss", tmp / "long.json"
    dss.write_text(long_line(4000, round(4000 / 3, 2)))
    settings.write_text(json.dumps(LONG_LINE_SETTINGS))
    args = _schedule_files(tmp)
    return {
        "solve": feederopt.solve("zhang13", time_limit_s=60),
        "three_phase_solve": feederopt.solve_three_phase("ieee13", time_limit_s=60,
                                                         ac_check=False),
        "resilience_restore": feederopt.restore(str(net), "line:0"),
        "resilience_plan": feederopt.plan(
            str(net), broken="line:0", measures=False,
            settings=feederopt.plan_settings(harden_budget=0, dg_budget=0)),
        "partition": feederopt.partition(str(dss), settings=settings, uncertainty=0.05,
                                         time_limit_s=120),
        "schedule": feederopt.schedule(args[1], profiles=args[3], hours=2),
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _python_results(tmp_path_factory.mktemp("objects"))


def _same(a: Any, b: Any) -> bool:
    """Equal, a non-finite number and None alike (the JSON writes them null)."""
    def norm(x: Any) -> Any:
        return None if isinstance(x, float) and not math.isfinite(x) else x
    a, b = norm(a), norm(b)
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return a == pytest.approx(b, rel=1e-9, abs=1e-9)
    return bool(a == b)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_the_common_attributes(results: dict[str, Any], kind: str) -> None:
    """Read generically (``getattr``), each common key is an attribute of the result object
    with its JSON's value."""
    res = results[kind]
    doc = res.to_dict()
    assert doc["kind"] == kind
    missing = [k for k in COMMON if not hasattr(res, k)]
    assert not missing, f"{type(res).__name__} lacks the attribute(s) {missing}"
    differ = {k: (getattr(res, k), doc[k]) for k in COMMON if not _same(getattr(res, k), doc[k])}
    assert not differ, f"{type(res).__name__}: attribute != JSON key: {differ}"

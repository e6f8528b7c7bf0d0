"""Progress of the long commands: the ``progress`` callbacks of the api functions (phases,
iterations, samples), and the CLI's progress display on stderr (nothing with --quiet, one line
per iteration with --verbose, stdout and the JSON left alone).

The instances are the small ones of the other tests: case33bw's schedule on 2 hours with one
uncertain bus (tests/test_schedule.py), zhang13's resilience plan over the shipped A_C_p2
scenarios (tests/test_resilience.py), ieee13mod's partition at +-20 % on loads 801 and 703
(tests/test_partition.py), and case33bw's base topology (the five ties open, Baran & Wu) for
the out-of-sample check (tests/test_bad_input.py); the phases of a solve on mv_open_ring. What
is checked is the bookkeeping of the progress against the run's own result: the counts, the
order, and that the last iteration record holds the bounds the result reports.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from feederopt import IterationRecord, PhaseRecord, SampleRecord
from feederopt.api_partition import check_partition_result, partition
from feederopt.api_resilience import plan, restore
from feederopt.api_schedule import check_schedule_result, schedule
from feederopt.cli import app
from feederopt.validation.montecarlo import check_result
from schedule_loop import LOOP, TIES

runner = CliRunner()

#: A verbose iteration line of the CLI: ``it k  LB x  UB y  gap z%  (t s)``.
IT_LINE = re.compile(r"^it (\d+)  LB (\S+)  UB (\S+)  gap (\S+)  \(\d+\.\d s\)$", re.M)


def _of(kind: type, events: list[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def _index(events: list[Any], pred: Any) -> int:
    return next(i for i, e in enumerate(events) if pred(e))


def _samples_in_order(records: list[SampleRecord], what: str, total: int) -> SampleRecord:
    """The records of the check ``what`` count 1..total, never lose a feasible sample; the
    last one."""
    mine = [r for r in records if r.what == what]
    assert [r.done for r in mine] == list(range(1, total + 1))
    assert all(r.total == total for r in mine)
    assert all(b.ok - a.ok in (0, 1) for a, b in itertools.pairwise(mine))
    return mine[-1]


# ----- the api callbacks ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def case33_ids() -> list[str]:
    from feederopt import load

    return [str(b) for b in load("case33bw").branches["id"].to_list()]


def test_schedule_reports_ccg_phases_bounds_and_samples(case33_ids: list[str]) -> None:
    """C&CG on 2 hours of the tie-33 loop, Gamma 1 at bus 12: the start, then per iteration
    the master, the policy bound and the iteration's bounds (LB non-decreasing, the last record
    the result's LB and UB); then the 3 samples of the schedule and of the deterministic one,
    whose last counts are the result's served shares; and the check of the result the same."""
    events: list[Any] = []
    res = schedule("case33bw", hours=2, gamma=0.3, budget=1.0, uncertain_buses=("12",),
                   fixed_open=TIES,
                   fixed_closed=tuple(b for b in case33_ids if b not in LOOP and b not in TIES),
                   ac_check=False, samples=3, time_limit_s=120, progress=events.append)
    assert res.method == "ccg"
    phases = [e.phase for e in _of(PhaseRecord, events)]
    assert phases[:3] == ["start: a radial first stage", "start: policy bound", "master 1"]
    its = _of(IterationRecord, events)
    assert its and len({r.iteration for r in its}) == len(res.iterations)
    assert all(b.lower_bound >= a.lower_bound for a, b in itertools.pairwise(its))
    assert (its[-1].lower_bound, its[-1].upper_bound) == (res.lower_bound, res.objective)
    for k in range(1, len(res.iterations) + 1):  # master k, policy bound k, then the record
        master = _index(events, lambda e, k=k: isinstance(e, PhaseRecord)
                        and e.phase == f"master {k}")
        bound = _index(events, lambda e, k=k: isinstance(e, PhaseRecord)
                       and e.phase == f"policy bound {k}")
        record = _index(events, lambda e, k=k: isinstance(e, IterationRecord)
                        and e.iteration == k)
        assert master < bound < record
    samples = _of(SampleRecord, events)
    assert _index(events, lambda e: isinstance(e, SampleRecord)) > events.index(its[-1])
    last = _samples_in_order(samples, "served without slack", 3)
    assert last.share_pct == pytest.approx(res.sample_check["served_pct"])
    det = _samples_in_order(samples, "deterministic schedule, served without slack", 3)
    assert det.share_pct == pytest.approx(res.sample_check["deterministic_served_pct"])
    # the check of the result: its own realisations, counted
    checked: list[Any] = []
    rep = check_schedule_result(res.to_dict(), samples=4, progress=checked.append)
    last = _samples_in_order(_of(SampleRecord, checked), "served without slack", 4)
    assert last.share_pct == pytest.approx(rep["served_pct"])


def test_out_of_sample_check_reports_each_sample() -> None:
    data = {"case": "case33bw", "method": "benders", "status": "optimal",
            "open_branches": ["33", "34", "35", "36", "37"]}
    events: list[Any] = []
    mc = check_result(data, 5, 0.1, seed=3, ac=False, progress=events.append)
    assert events == _of(SampleRecord, events)
    last = _samples_in_order(events, "feasible in the convex model", 5)
    assert last.ok == mc.feasible_convex


def test_plan_reports_lshaped_iterations_and_wait_and_see_scenarios() -> None:
    """The integer L-shaped method on zhang13's A_C_p2: master k before iteration k's record,
    LB non-decreasing, the last record the result's bound and total; then one phase per
    wait-and-see scenario, in order. Restoration: one MILP, one phase, then its second phase
    (fewest switch changes) and its AC check."""
    events: list[Any] = []
    res = plan("zhang13", scenarios="A_C_p2", method="lshaped", progress=events.append)
    its = _of(IterationRecord, events)
    assert [r.iteration for r in its] == list(range(1, res.iterations + 1))
    assert res.iterations >= 2
    assert all(b.lower_bound >= a.lower_bound for a, b in itertools.pairwise(its))
    assert its[-1].lower_bound == pytest.approx(res.lower_bound, abs=1e-6)
    assert its[-1].upper_bound == pytest.approx(res.expected_total, abs=1e-6)
    for r in its:
        assert _index(events, lambda e, k=r.iteration: isinstance(e, PhaseRecord)
                      and e.phase == f"master {k}") < events.index(r)
    n = len(res.scenarios)
    ws = [e.phase for e in _of(PhaseRecord, events) if e.phase.startswith("wait-and-see")]
    assert ws == [f"wait-and-see: scenario {k} of {n}" for k in range(1, n + 1)]
    assert _index(events, lambda e: e.phase.startswith("wait-and-see")
                  if isinstance(e, PhaseRecord) else False) > events.index(its[-1])
    events.clear()
    restore("zhang13", ["2", "11", "15"], progress=events.append)
    assert events == [PhaseRecord("restoration MILP (3 broken lines)"),
                      PhaseRecord("second phase: fewest switch changes, island set-points"),
                      PhaseRecord("AC check (pandapower)")]


PARTITION = dict(uncertainty=0.2, uncertain_loads=["801", "703"])
#: The post-analyses of a partition, in their order (IV-D after the deterministic plan).
PARTITION_CHECKS = ("LinDist3Flow-feasible", "AC-feasible, OpenDSS (IV-E)",
                    "deterministic plan LinDist3Flow-feasible (IV-D)")


def test_partition_reports_masters_slaves_and_each_sample() -> None:
    """Algorithm 1: master k, then its slaves; then the samples of IV-E's three shares in
    turn, each counting 1..N, their last shares the result's; the check of the result the
    same."""
    events: list[Any] = []
    res = partition("ieee13mod", **PARTITION, samples=4, progress=events.append)
    phases = [e.phase for e in _of(PhaseRecord, events)]
    for k in range(1, len(res.iterations) + 1):
        slaves = next(i for i, p in enumerate(phases) if p.startswith(f"slaves {k} ("))
        assert slaves > next(i for i, p in enumerate(phases) if p.startswith(f"master {k}"))
    samples = _of(SampleRecord, events)
    assert [r.what for r in samples] == [w for w in PARTITION_CHECKS for _ in range(4)]
    det_phase = _index(events, lambda e: isinstance(e, PhaseRecord)
                       and e.phase == "deterministic plan (IV-D)")
    assert events.index(samples[7]) < det_phase < events.index(samples[8])
    c = res.checks
    assert c is not None
    for what, pct in zip(PARTITION_CHECKS, (c.lindist3flow_pct, c.ac_pct,
                                            c.deterministic_pct), strict=True):
        assert _samples_in_order(samples, what, 4).share_pct == pytest.approx(pct)
    checked: list[Any] = []
    again = check_partition_result(res.to_dict(), samples=3, progress=checked.append)
    assert _samples_in_order(_of(SampleRecord, checked), PARTITION_CHECKS[1], 3).share_pct \
        == pytest.approx(again.ac_pct)


# ----- the CLI ------------------------------------------------------------------------------
def _it_lines(stderr: str) -> list[tuple[int, str, str]]:
    return [(int(k), lb, ub) for k, lb, ub, _ in IT_LINE.findall(stderr)]


def test_cli_schedule_verbose_prints_each_iteration_and_quiet_nothing(tmp_path: Path) -> None:
    args = ["schedule", "case33bw", "--hours", "2", "--robust-budget", "1", "--gamma", "0.3",
            "--uncertain-buses", "12", "--no-ac-check", "--time-limit", "120"]
    out = tmp_path / "v.json"
    r = runner.invoke(app, [*args, "--verbose", "--json", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    lines = _it_lines(r.stderr)
    assert [k for k, _, _ in lines][:len(doc["iterations"])] == \
        [it["k"] for it in doc["iterations"]]
    assert lines[-1][1:] == (f"{doc['lower_bound']:.4g}", f"{doc['objective']:.4g}")
    assert "C&CG log" in r.stdout and not IT_LINE.search(r.stdout)  # stdout: the tables
    q = runner.invoke(app, [*args, "--quiet", "--verbose", "--json", str(tmp_path / "q.json")])
    assert q.exit_code == 0, q.output
    assert q.stderr == "" and q.stdout == ""
    assert json.loads((tmp_path / "q.json").read_text())["objective"] == doc["objective"]


def test_cli_plan_verbose_prints_each_iteration_and_quiet_nothing(tmp_path: Path) -> None:
    args = ["plan", "zhang13", "--scenarios", "A_C_p2", "--method", "lshaped",
            "--no-measures"]
    out = tmp_path / "p.json"
    r = runner.invoke(app, [*args, "--verbose", "--json", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    lines = _it_lines(r.stderr)
    assert [k for k, _, _ in lines] == list(range(1, doc["iterations"] + 1))
    assert lines[-1][1] == f"{doc['lower_bound']:.4g}"
    q = runner.invoke(app, [*args, "--quiet", "--json", str(tmp_path / "q.json")])
    assert q.exit_code == 0, q.output
    assert q.stderr == "" and q.stdout == ""


def _solve_result(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"case": "case33bw", "method": "benders", "status": "optimal",
                                "open_branches": ["33", "34", "35", "36", "37"]}))
    return path


def test_cli_check_shows_a_bar_on_a_terminal_and_nothing_with_quiet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal (rich's TTY_COMPATIBLE=1) the bar shows the samples done of the total on
    stderr; with --quiet stderr stays empty; --verbose leaves the check's count as a line."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    args = ["check", str(_solve_result(tmp_path)), "--samples", "4", "--uncertainty", "0.1",
            "--no-ac"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "4/4 samples" in r.stderr and "check case33bw" in r.stderr
    q = runner.invoke(app, [*args, "--quiet", "--json", str(tmp_path / "c.json")])
    assert q.exit_code == 0, q.output
    assert q.stderr == "" and q.stdout == ""
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    v = runner.invoke(app, [*args, "--verbose"])
    assert v.exit_code == 0, v.output
    feasible = json.loads((tmp_path / "c.json").read_text())["feasible_convex"]
    assert f"feasible in the convex model: {feasible} of 4 samples" in v.stderr
    assert "out-of-sample check" in v.stdout and "of 4 samples" not in v.stdout


def test_cli_partition_bar_verbose_and_quiet(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The partition's samples on a terminal's bar (done/total), as --verbose lines (the
    result's counts) and, with --quiet, not at all."""
    args = ["partition", "ieee13mod", "--uncertainty", "0.2", "--uncertain-loads", "801,703",
            "--samples", "4"]
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "4/4 samples" in r.stderr and "partition ieee13mod" in r.stderr
    q = runner.invoke(app, [*args, "--quiet", "--json", str(tmp_path / "q.json")])
    assert q.exit_code == 0, q.output
    assert q.stderr == "" and q.stdout == ""
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    v = runner.invoke(app, [*args, "--verbose"])
    assert v.exit_code == 0, v.output
    checks = json.loads((tmp_path / "q.json").read_text())["checks"]
    for what, key in zip(PARTITION_CHECKS, ("lindist3flow_pct", "ac_pct", "deterministic_pct"),
                         strict=True):
        assert f"{what}: {round(checks[key] * 4 / 100)} of 4 samples" in v.stderr


def test_cli_solve_verbose_names_the_phases_before_the_first_iteration() -> None:
    """Benders' first phase (relaxation, start heuristics, their slaves) takes half a 60 s limit
    on a 1000-bus feeder; the bar and --verbose name each phase instead of a bare clock
    (ut_large #1-#2), in the order they run, and --quiet prints none of it. On pandapower's
    mv_open_ring (7 buses, one tie): the same phases as case33bw's in a sixth of the time."""
    args = ["solve", "mv_open_ring", "--no-ac-check"]
    r = runner.invoke(app, [*args, "--verbose"])
    assert r.exit_code == 0, r.output
    text = r.stderr
    order = [text.find(p) for p in ("continuous relaxation", "start heuristics",
                                    "start topolog", "it 0")]
    assert all(i >= 0 for i in order) and order == sorted(order), text
    assert "continuous relaxation" not in r.stdout
    q = runner.invoke(app, [*args, "--quiet", "--verbose"])
    assert q.exit_code == 0 and "continuous relaxation" not in q.stderr + q.stdout

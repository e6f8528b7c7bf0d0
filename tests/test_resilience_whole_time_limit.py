"""``plan`` keeps ``--time-limit`` as a whole command, and ``restore``'s LPs keep theirs
(session 39, defects 2 and 3 of the resilience brief).

``plan``: the limit was counted from after the network's read and the problem's build, the
extensive form built its whole model whatever the limit (case33bw with 400 storm scenarios:
the block 3.3 s, HiGHS's model 4.8 s, at a 3 s limit), the second phase built a block per
scenario with no time left, and the AC check ran a power flow per scenario past the limit:
22.9 s in all at ``--time-limit 3``. Now the limit counts from the call, the extensive form
is not built when its build would not fit (the plan is then the least costly of the
candidates evaluated, bound 0: a note says so), and the AC checks past the limit are left
out (null, a note). Truth: the run's CPU time within 9.5 s of the limit and its wall clock within
``time_limit_checks.WALL_MARGIN_S`` (the machine is shared: ``tests/time_limit_checks.py``;
measured at load 8: before 15.6 s of CPU and 47.5 s of wall clock, after 3.4 s and 9.5 s),
status ``time_limit`` (never ``optimal``), a finite lower bound at most the
expected total, and the gap from them.

``restore``: its LP relaxation and its start topology's operation ran without a limit. Now
each HiGHS run of the restoration has a finite limit within the time left, and with no time
at all the answer is the operation that sheds every load with every line open: on zhang13
the whole load, 1155.35 kW (the seed's total), status ``time_limit``."""

from __future__ import annotations

import json
import math
import random
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt.algorithms.resilience as res
from feederopt.cases.loading import load
from feederopt.cli import app
from feederopt.problems.resilience import ResilienceProblem
from feederopt.solvers.highs_backend import HighsModel

sys.path.insert(0, str(Path(__file__).parent))
from time_limit_checks import assert_kept, clock

runner = CliRunner(env={"COLUMNS": "200"})

LIMIT_S = 3.0
#: The CPU past the limit: 2 s here, 7.7 s on the CI machine (slower per core: 10.7 s of CPU in
#: 10.7 s of wall clock); the run that ignored its limit took 15.6 s here.
CPU_MARGIN_S = 9.5


@pytest.fixture(scope="module")
def storm400(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 scenarios of 4 random lines of case33bw (random.Random(3)), p = 1/400."""
    problem = ResilienceProblem.from_network(load("case33bw"))  # before any clock
    rng = random.Random(3)
    path = tmp_path_factory.mktemp("storm") / "storm400.json"
    path.write_text(json.dumps({"scenarios": [
        {"name": f"s{k}", "probability": 1 / 400,
         "broken": [problem.branch_ids[i] for i in sorted(rng.sample(range(problem.grid.m),
                                                                     4))]}
        for k in range(400)]}))
    return path


def test_plan_keeps_its_time_limit_as_a_whole(storm400: Path, tmp_path: Path) -> None:
    doc = tmp_path / "p.json"
    with clock() as c:
        out = runner.invoke(app, ["plan", "case33bw", "--scenarios", str(storm400),
                                  "--harden-budget", "3", "--dg-budget", "2",
                                  "--time-limit", str(LIMIT_S), "--json", str(doc)])
    assert out.exit_code == 0, out.output
    assert_kept(c, LIMIT_S, CPU_MARGIN_S)
    data = json.loads(doc.read_text())
    assert data["status"] == "time_limit"
    lb = data["lower_bound"]
    assert lb is not None and math.isfinite(lb) and lb <= data["expected_total"] + 1e-6
    assert data["gap"] == pytest.approx((data["expected_total"] - lb)
                                        / data["expected_total"], abs=1e-6)
    assert len(data["scenarios"]) == 400
    skipped = [s["name"] for s in data["scenarios"] if s["ac_check"] is None]
    if skipped:  # left out past the limit, and said so
        assert any(n.startswith("no AC check of scenario(s)") for n in data["notes"])


def test_restore_lps_get_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = ResilienceProblem.from_network(load("zhang13"))
    broken = tuple(problem.branch_index(["2", "11", "15"]))
    limits: list[tuple[bool, float]] = []
    real = HighsModel.solve

    def recorded(self: HighsModel) -> object:
        limits.append((self._relaxed, self.time_limit_s))
        return real(self)

    monkeypatch.setattr(HighsModel, "solve", recorded)
    op = res.restore(problem, broken, time_limit_s=5.0)
    assert limits and limits[0][0]  # the LP relaxation first
    # every run (the LP relaxation, the start's operation, the MILP if any) is bounded by
    # the time left of the 5 s; before, the LPs ran with no limit (inf)
    assert all(math.isfinite(t) and t <= 5.0 for _, t in limits), limits
    assert op.shed_pu.sum() * problem.kw_per_pu == pytest.approx(471.0, abs=1e-6)


def test_restore_with_no_time_sheds_everything() -> None:
    problem = ResilienceProblem.from_network(load("zhang13"))
    broken = tuple(problem.branch_index(["2", "11", "15"]))
    op = res.restore(problem, broken, time_limit_s=0.0)
    assert op.status == "time_limit" and op.shed_all
    assert op.shed_pu.sum() * problem.kw_per_pu == pytest.approx(1155.35, abs=1e-6)
    assert not op.closed.any()
    assert 0.0 <= op.bound <= op.objective

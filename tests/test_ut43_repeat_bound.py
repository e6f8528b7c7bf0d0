"""ut43_optima #2: the Benders master's "repeat" rule took a seen topology for a proof.

``feederopt solve case33bw --gap 0`` logged ``2 LB 139.55134613 UB 139.55134613 repeat`` and
reported gap 0.0000 %: a master that returns a topology it has seen set ``LB = UB``. But the
deterministic master stops at its first solution under the cutoff (HiGHS
``mip_max_improving_sols = 1``), not at its optimum, so its return proves nothing of the nodes
it left; the last bound proven was 139.551207 kW. Now a repeat under the first-improving rule
sends the master again, to its optimum: nothing under the cutoff proves the cutoff, a repeat
there ends the loop on the master's dual bound.

Truth: hand-made bounds of a scripted master (the loop's rule, where the numbers are
chosen), HiGHS's own option value, and for case33bw pandapower's runpp of MATPOWER's
case33bw.m with Baran & Wu's optimum (7, 9, 14, 32, 37 open): the bound reported must be at
most those losses, and the gap the relative distance of the reported bounds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import feederopt
from feederopt.algorithms.base import AlgorithmBase, StopOptions
from feederopt.algorithms.master import MasterLoop, MasterOptions
from feederopt.solvers.highs_backend import MilpSolution

sys.path.insert(0, str(Path(__file__).parent))


class _ScriptedMaster:
    """A master that returns the scripted solutions in turn and records its cutoffs."""

    def __init__(self, script: list[tuple[MilpSolution, np.ndarray | None]]) -> None:
        self.script = list(script)
        self.cutoffs: list[tuple[float, bool]] = []
        self._y: np.ndarray | None = None

    def set_time_limit(self, _seconds: float) -> None:
        pass

    def set_cutoff(self, bound: float, *, first_improving: bool = False) -> None:
        self.cutoffs.append((bound, first_improving))

    def solve(self) -> MilpSolution:
        sol, self._y = self.script.pop(0)
        return sol

    def values(self) -> dict[str, np.ndarray]:
        assert self._y is not None
        return {"y": self._y}


class _Loop(MasterLoop):
    """The master loop alone: its one slave value is 100 kW for every topology."""

    def __init__(self, gap: float) -> None:
        AlgorithmBase.__init__(self, StopOptions(gap=gap, time_limit_s=60.0))
        self.options = MasterOptions(stop=self.stop)
        self.timings = {"master_s": 0.0, "slave_s": 0.0}

    def _offer(self, helper: Any, y: np.ndarray) -> None:
        self.update_upper(100.0)

    def _has_incumbent(self) -> bool:
        return self.upper < np.inf


class _Helper:
    copies: tuple[str, ...] = ()


Y0 = np.array([1.0, 0.0, 1.0])


def _sol(status: str, bound: float, has: bool = True) -> MilpSolution:
    return MilpSolution(status, 100.0 if has else float("nan"), bound, 0.01, has)


def test_a_first_improving_repeat_proves_nothing_the_full_master_does() -> None:
    """The first master gives Y0 (100 kW), the second, first-improving, Y0 again at a dual
    bound of 90 kW: the bound stays 90 (before: 100, gap 0); the third master searches to
    its optimum and finds nothing under the cutoff: the cutoff, 100 at gap 0, is proven."""
    loop = _Loop(gap=0.0)
    master = _ScriptedMaster([(_sol("optimal", 80.0), Y0), (_sol("solution_limit", 90.0), Y0),
                              (_sol("infeasible", -np.inf, has=False), None)])
    assert loop._master_loop(master, _Helper(), y_const=0.0) is True  # type: ignore[arg-type]
    lowers = [r.lower_bound for r in loop.log]
    assert lowers == [80.0, 90.0, 100.0]
    assert [f for _, f in master.cutoffs] == [True, False]  # the third: to its optimum
    assert loop.log[1].gap == pytest.approx(0.1)


def test_a_repeat_at_the_master_s_optimum_ends_on_its_dual_bound() -> None:
    """The full master gives Y0 again at dual bound 99.99 kW: the loop ends there, the gap
    (100 - 99.99) / 100, not 0."""
    loop = _Loop(gap=0.0)
    master = _ScriptedMaster([(_sol("optimal", 80.0), Y0), (_sol("solution_limit", 90.0), Y0),
                              (_sol("optimal", 99.99), Y0)])
    assert loop._master_loop(master, _Helper(), y_const=0.0) is False  # type: ignore[arg-type]
    assert loop.lower == pytest.approx(99.99)
    assert loop.gap == pytest.approx(1e-4)
    assert loop.final_status(True) is feederopt.Status.FEASIBLE  # gap 0 asked, not proven


def test_highs_cutoff_without_first_improving_searches_to_the_optimum() -> None:
    """``set_cutoff(first_improving=False)`` after ``True`` restores HiGHS's default
    ``mip_max_improving_sols`` (it stayed 1: every later master stopped at its first
    solution)."""
    import highspy

    from feederopt.formulations.blocks import Block
    from feederopt.solvers.highs_backend import HighsModel

    model = HighsModel(Block())

    def value() -> int:
        got = model.h.getOptionValue("mip_max_improving_sols")
        return int(got[1] if isinstance(got, tuple) else got)

    default = value()
    assert default == highspy.kHighsIInf
    model.set_cutoff(10.0, first_improving=True)
    assert value() == 1
    model.set_cutoff(10.0, first_improving=False)
    assert value() == default


def test_case33bw_gap_0_reports_a_proven_bound() -> None:
    from matpower_files import feeder_losses

    optimum_kw, _ = feeder_losses("case33bw", open_rows={7, 9, 14, 32, 37})
    r = feederopt.solve("case33bw", gap=0.0, time_limit=60, ac_check=False)
    assert r.lower_bound <= optimum_kw + 1e-6
    assert r.gap == pytest.approx((r.objective - r.lower_bound) / r.objective, abs=1e-12)
    # the row that closed the gap (if one did) is a proof: the master at its optimum, an
    # infeasible master or probing, never a first-improving master's repeat
    closing = next((row for row in r.log if row.lower_bound >= row.upper_bound), None)
    if closing is not None:
        assert closing.note != "repeat", [(x.note, x.lower_bound) for x in r.log]

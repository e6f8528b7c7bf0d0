"""Where the time of one robust C&CG run goes, per iteration (issue 18 speed, session 40):
the second-stage LP's building (:class:`feederopt.algorithms.worst_climb.RecourseLp`'s
constructor: ``recourse_block`` and the HiGHS model) and solving (``RecourseLp.solve``), the
masters (``solve_lazy_master``), the radial start, the policy bound, the policy's maximum and
the MILP subproblem, each wrapped with a timer here (no change to the code measured).

    PYTHONPATH=src python benchmarks/schedule_ccg_profile.py [TIME_LIMIT_S] [OUT.json]

The run is the benchmark's robust case33bw (``benchmarks/schedule.py --only robust33``: 24 h,
gamma 10 %, Gamma 4 hours per bus and per renewable unit, tolerance 1e-3), without the AC
check. The centred policy bound's LP (the forecast's, with the storage fixed) counts as LP
building and solving too; the lazy master's checks of its inactive copies count in the
master's time.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from typing import Any

from run import seconds as fmt_seconds  # benchmarks/run.py, next to this file

import feederopt.algorithms.ccg as ccg
import feederopt.algorithms.worst_climb as worst_climb
from feederopt.api_schedule import schedule
from feederopt.solvers.status import IterationRecord, PhaseRecord

KEYS = ("radial_start", "lp_build", "lp_solve", "master", "policy_bound", "policy_max",
        "subproblem_milp")
seconds: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
calls: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
current = {"iteration": 0}


def progress(rec: Any) -> None:
    if isinstance(rec, PhaseRecord):
        current["iteration"] = rec.iteration
    elif isinstance(rec, IterationRecord):
        print(f"  iteration {rec.iteration}: LB {rec.lower_bound:.6f} UB {rec.upper_bound:.6f}",
              flush=True)


def timed(owner: Any, name: str, key: str) -> None:
    real = getattr(owner, name)

    def wrapped(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            seconds[current["iteration"]][key] += time.perf_counter() - t0
            calls[current["iteration"]][key] += 1

    setattr(owner, name, wrapped)


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 300.0
    out = sys.argv[2] if len(sys.argv) > 2 else None
    timed(worst_climb.RecourseLp, "__init__", "lp_build")
    timed(worst_climb.RecourseLp, "solve", "lp_solve")
    for name, key in (("solve_lazy_master", "master"), ("policy_bound", "policy_bound"),
                      ("policy_max_auto", "policy_max"), ("worst_case", "subproblem_milp"),
                      ("radial_start", "radial_start")):
        timed(ccg, name, key)
    t0 = time.perf_counter()
    res = schedule("case33bw", time_limit_s=limit, gap=1e-3, ac_check=False, gamma=0.1,
                   budget=4.0, budget_res=4.0, progress=progress)
    wall = time.perf_counter() - t0
    print(f"wall {fmt_seconds(wall)} s, status {res.status}, UB {res.objective:.6f}, "
          f"LB {res.lower_bound:.6f}, gap {res.gap:.4%}, {len(res.iterations)} iterations")
    print("it  " + "  ".join(f"{k:>16}" for k in KEYS))
    for it in sorted(seconds):
        print(f"{it:<3} " + "  ".join(f"{seconds[it][k]:9.2f}s/{calls[it][k]:<5d}"
                                      for k in KEYS))
    print("sum " + "  ".join(f"{sum(s[k] for s in seconds.values()):15.2f}s" for k in KEYS))
    for note in res.notes:
        print("note:", note)
    if out:
        with open(out, "w") as f:
            json.dump({"wall_s": wall, "upper": res.objective, "lower": res.lower_bound,
                       "gap": res.gap, "seconds": seconds, "calls": calls}, f, indent=2)


if __name__ == "__main__":
    main()

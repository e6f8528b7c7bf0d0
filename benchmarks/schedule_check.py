"""The sample check of a schedule result (``feederopt check RESULT`` of a schedule): the
recourse LP built anew for every realisation (as before user test ut39_sched) against one
persistent LP per first stage whose right-hand sides are set per realisation
(:class:`feederopt.algorithms.worst_climb.RecourseLp`).

    python benchmarks/schedule_check.py RESULT.json [RESULT.json ...] --samples 200

For each result: the time of :func:`feederopt.check_schedule_result` (the sampling loop and the
reading of the inputs; the import of feederopt is not counted) both ways, and whether the
per-sample verdicts (served without slack or not) are the same. Prints a Markdown table
(docs/schedule.md, Speed, "The sample check", has the numbers measured). A schedule result
to try: ``feederopt schedule case33bw --robust-budget 2 --gamma 0.2 --deterministic
--no-ac-check --json det33.json`` (24 h).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from run import seconds  # benchmarks/run.py, next to this file

import feederopt.validation.schedule as vs
from feederopt.algorithms.worst_climb import SecondStage, second_stage
from feederopt.api_schedule import check_schedule_result
from feederopt.formulations.schedule import ScheduleData


class _Rebuilt:
    """The LP built anew for every realisation (the code before the persistent LP)."""

    def __init__(self, d: ScheduleData, x: dict[str, np.ndarray]) -> None:
        self.d, self.x = d, x

    def solve(self, xi: dict[str, np.ndarray]) -> SecondStage:
        return second_stage(self.d, self.x, xi)


def _run(path: str, samples: int, seed: int, rebuild: bool) -> tuple[float, list[bool]]:
    verdicts: list[bool] = []
    original_lp, original_verdicts = vs.RecourseLp, vs.served_verdicts

    def recorded(*args: Any, **kwargs: Any) -> list[bool]:
        out = original_verdicts(*args, **kwargs)
        verdicts.extend(out)
        return out

    vs.served_verdicts = recorded  # type: ignore[assignment]
    if rebuild:
        vs.RecourseLp = _Rebuilt  # type: ignore[assignment,misc]
    try:
        t0 = time.perf_counter()
        check_schedule_result(path, samples=samples, seed=seed)
        return time.perf_counter() - t0, verdicts
    finally:
        vs.RecourseLp, vs.served_verdicts = original_lp, original_verdicts  # type: ignore[misc]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="+", help="schedule result JSON files or folders")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print("| result | samples | rebuilt per sample [s] | persistent [s] | served | "
          "same verdicts |")
    print("|---|---|---|---|---|---|")
    for path in a.results:
        t_old, old = _run(path, a.samples, a.seed, rebuild=True)
        t_new, new = _run(path, a.samples, a.seed, rebuild=False)
        share = 100.0 * sum(new) / max(len(new), 1)
        print(f"| {path} | {len(new)} | {seconds(t_old)} | {seconds(t_new)} | {share:.1f} % | "
              f"{'yes' if old == new else 'NO'} |")


if __name__ == "__main__":
    main()

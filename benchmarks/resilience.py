"""Benchmark of resilience planning (issue 17): the integer L-shaped method on many storm
scenarios on a synthetic 250-bus grid.

    python benchmarks/resilience.py                          # 1000 scenarios, 2 workers, 540 s
    python benchmarks/resilience.py --scenarios 50 --time-limit 60 --out /tmp/res  # a smoke run

Grid: ``synthetic250`` (``feederopt.cases.synthetic``, seed 0: 250 buses, 268 lines of which 19
normally-open ties, all usable for restoration, 17.27 MW). Scenarios (seed ``--seed``): each is
a storm whose track is a straight line through a random point of the grid's bounding box at a
random angle; a line fails with probability ``p_max * exp(-(d / w)^2)``, ``d`` the distance of
its midpoint from the track, ``w`` = ``--width`` times the box's diagonal. Every scenario has
probability ``1 / N``.

Planning data: the seed's hardening cost ($400 per line) and value of lost load ($14/kW), DGs of
``--dg-size`` kW at $1.5/kW, budgets ``--harden-budget`` lines and ``--dg-budget`` DGs. The
hardening candidates are the lines that fail in some scenario (hardening any other line only
costs); the DG candidates every ``--dg-every``-th non-source bus. Forest radiality.

Method: :func:`feederopt.algorithms.resilience.solve_lshaped` on a local process pool of
``--workers`` workers, each recourse MILP limited to ``--recourse-time-limit`` seconds (its value
serves the upper bound, its proven bound the cuts), the whole run to ``--time-limit`` seconds:
it reports the bounds and the gap it reached. Memory: peak RSS of the driver and of each worker.

Writes ``RESULTS_resilience.md`` and ``results_resilience.json`` to ``--out`` (default: next to
this file, the committed tables; a smoke run should give ``--out /tmp/...``; ``--no-write``
prints only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from run import seconds  # benchmarks/run.py, next to this file

HERE = Path(__file__).resolve().parent


def storm_scenarios(net: Any, count: int, seed: int, p_max: float, width: float
                    ) -> list[tuple[str, list[str]]]:
    """``count`` storm scenarios: (name, broken branch ids) (module docstring)."""
    xy = {str(b): (x, y) for b, x, y in zip(net.buses["id"].to_list(),
                                            net.buses["x"].to_list(),
                                            net.buses["y"].to_list(), strict=True)}
    ids = [str(b) for b in net.branches["id"].to_list()]
    mid = np.array([[(xy[str(a)][0] + xy[str(b)][0]) / 2, (xy[str(a)][1] + xy[str(b)][1]) / 2]
                    for a, b in zip(net.branches["from_bus"].to_list(),
                                    net.branches["to_bus"].to_list(), strict=True)])
    lo, hi = mid.min(axis=0), mid.max(axis=0)
    w = width * float(np.hypot(*(hi - lo)))
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        point = lo + rng.uniform(size=2) * (hi - lo)
        angle = rng.uniform(0, np.pi)
        normal = np.array([-np.sin(angle), np.cos(angle)])
        d = np.abs((mid - point) @ normal)
        fail = rng.uniform(size=len(ids)) < p_max * np.exp(-((d / w) ** 2))
        out.append((f"storm{k + 1}", [ids[i] for i in np.flatnonzero(fail)]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="synthetic250")
    ap.add_argument("--scenarios", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--p-max", type=float, default=0.2)
    ap.add_argument("--width", type=float, default=0.03)
    ap.add_argument("--harden-budget", type=int, default=5)
    ap.add_argument("--dg-budget", type=int, default=3)
    ap.add_argument("--dg-size", type=float, default=500.0)
    ap.add_argument("--dg-every", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=540.0)
    ap.add_argument("--recourse-time-limit", type=float, default=0.5)
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--no-write", action="store_true", help="Print only.")
    ap.add_argument("--out", type=Path, default=HERE,
                    help="Folder of RESULTS_resilience.md and results_resilience.json "
                    "(default: this folder, the committed tables; smoke runs: --out /tmp/...).")
    args = ap.parse_args()

    sys.path.insert(0, str(HERE.parent / "src"))
    from feederopt.algorithms.resilience import RecourseFactory, solve_lshaped
    from feederopt.cases import load
    from feederopt.execution import make_executor
    from feederopt.problems.resilience import PlanSettings, ResilienceProblem, Scenario
    from feederopt.solvers.status import IterationRecord

    t_all = time.perf_counter()
    net = load(args.case)
    storms = storm_scenarios(net, args.scenarios, args.seed, args.p_max, args.width)
    failing = sorted({b for _, broken in storms for b in broken}, key=lambda b: int(b))
    non_source = [str(b) for b, s in zip(net.buses["id"].to_list(),
                                         net.buses["is_source"].to_list(), strict=True) if not s]
    st = PlanSettings(harden_budget=args.harden_budget, dg_budget=args.dg_budget,
                      dg_p_max_kw=args.dg_size, dg_q_max_kvar=args.dg_size,
                      harden_candidates=tuple(failing),
                      dg_candidates=tuple(non_source[args.dg_every - 1:: args.dg_every]))
    problem = ResilienceProblem.from_network(net, st)
    p = 1.0 / len(storms)
    scs = [Scenario(name, p, problem.branch_index(broken)) for name, broken in storms]
    sizes = np.array([len(s.broken) for s in scs])
    log: list[dict[str, float]] = []

    def progress(rec: Any) -> None:
        if not isinstance(rec, IterationRecord):  # a phase that starts
            return
        log.append({"iteration": rec.iteration, "lower": rec.lower_bound, "upper": rec.upper_bound,
                    "gap": rec.gap, "elapsed_s": rec.elapsed_s})
        print(f"it {rec.iteration:3d}  LB {rec.lower_bound:14.2f}  UB {rec.upper_bound:14.2f}  "
              f"gap {100 * rec.gap:8.3f} %  {rec.elapsed_s:7.1f} s", flush=True)

    factory = RecourseFactory(problem, tuple(scs), time_limit_s=args.recourse_time_limit)
    t0 = time.perf_counter()
    with make_executor(factory, workers=args.workers) as ex:
        out = solve_lshaped(problem, scs, executor=ex, gap=args.gap,
                            time_limit_s=args.time_limit, progress=progress,
                            final_operations=False)
    solve_s = time.perf_counter() - t0
    driver_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hardened = [problem.branch_ids[int(problem.harden_lines[i])] for i in
                np.flatnonzero(out.harden)]
    sites = [problem.bus_ids[int(problem.grid.dg_bus[i])] for i in np.flatnonzero(out.site)]
    rec = np.array(out.recourse)
    row = {
        "date": date.today().isoformat(), "case": args.case, "buses": problem.grid.n,
        "lines": problem.grid.m, "scenarios": len(scs), "seed": args.seed,
        "broken_mean": float(sizes.mean()), "broken_max": int(sizes.max()),
        "no_failure_share": float((sizes == 0).mean()),
        "harden_candidates": len(problem.harden_lines), "dg_candidates": len(problem.grid.dg_bus),
        "harden_budget": args.harden_budget, "dg_budget": args.dg_budget,
        "workers": out.workers, "executor": out.executor, "status": str(out.status),
        "upper": out.objective, "lower": out.lower_bound, "gap": out.gap,
        "iterations": out.iterations, "solve_s": solve_s,
        "wall_s": time.perf_counter() - t_all, "hardened": hardened, "dg_sites": sites,
        "investment": out.investment, "expected_shedding_cost": float(p * rec.sum()),
        "scenarios_shedding": int((rec > 1e-6).sum()),
        "driver_mb": driver_mb, "worker_mb": out.worker_memory_mb,
        "recourse_time_limit_s": args.recourse_time_limit, "time_limit_s": args.time_limit,
        "log": log, "platform": platform.platform(), "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps({k: v for k, v in row.items() if k != "log"}, indent=1))
    if args.no_write:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results_resilience.json").write_text(json.dumps(row, indent=2) + "\n")
    (args.out / "RESULTS_resilience.md").write_text(markdown(row))


def _table(head: list[str], align: str, cells: list[str]) -> str:
    return "| " + " | ".join(head) + " |\n" + align + "\n| " + " | ".join(cells) + " |\n"


def markdown(row: dict[str, Any]) -> str:
    """``RESULTS_resilience.md`` of a run's ``row`` (the JSON's); times as ``run.py`` writes
    them (:func:`run.seconds`: three significant digits, whole seconds from 100 s)."""
    gap = "-" if not np.isfinite(row["gap"]) else f"{100 * row['gap']:.3f} %"
    grid = _table(
        ["case", "buses", "lines", "scenarios", "broken lines per scenario (mean / max)",
         "scenarios without failure", "hardening / DG candidates", "budgets H / G"],
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        [row["case"], str(row["buses"]), str(row["lines"]), str(row["scenarios"]),
         f"{row['broken_mean']:.2f} / {row['broken_max']}",
         f"{100 * row['no_failure_share']:.1f} %",
         f"{row['harden_candidates']} / {row['dg_candidates']}",
         f"{row['harden_budget']} / {row['dg_budget']}"])
    run = _table(
        ["executor", "workers", "status", "upper bound [$]", "lower bound [$]", "gap",
         "iterations", "solve [s]", "wall [s]", "driver MB", "worker MB"],
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
        [row["executor"], str(row["workers"]), row["status"], f"{row['upper']:,.2f}",
         f"{row['lower']:,.2f}", gap, str(row["iterations"]), seconds(row["solve_s"]),
         seconds(row["wall_s"]), f"{row['driver_mb']:.0f}",
         ", ".join(f"{m:.0f}" for m in row["worker_mb"])])
    hardened, sites = ", ".join(row["hardened"]) or "-", ", ".join(row["dg_sites"]) or "-"
    shedding = row["scenarios_shedding"]
    return f"""# Resilience planning: integer L-shaped on storm scenarios

Generated by `benchmarks/resilience.py` on {row['date']} ({row['platform']}, Python
{row['python']}, {row['cpus']} CPUs). See the script's docstring for the grid, the storm model and
the method.

{grid}
{run}
Best plan: harden lines {hardened}; DGs at {sites};
investment ${row['investment']:,.2f}, expected shedding cost ${row['expected_shedding_cost']:,.2f}
({shedding} of {row['scenarios']} scenarios shed load). Each recourse MILP was limited
to {row['recourse_time_limit_s']:g} s, the run to {row['time_limit_s']:g} s (checked between
iterations, so the last iteration may run past it): the gap is the proven one (master bound
against the best evaluated plan).

Iterations:

| iteration | lower [$] | upper [$] | gap | elapsed [s] |
|---:|---:|---:|---:|---:|
""" + "".join(f"| {r['iteration']} | {r['lower']:,.2f} | {r['upper']:,.2f} | "
              f"{100 * r['gap']:.3f} % | {seconds(r['elapsed_s'])} |\n" for r in row["log"])


if __name__ == "__main__":
    main()

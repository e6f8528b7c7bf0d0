"""Benchmark of the scenario slaves (issue 5): 100 scenario SOCPs per round on case33bw and on the
1000-bus synthetic feeder, serially, on a local process pool and on a local Ray, with 1 and 2
workers.

    python benchmarks/scenarios.py                       # 100 scenarios, 2 rounds, all runs
    python benchmarks/scenarios.py --count 20 --rounds 1 --cases case33bw --out /tmp/scen  # smoke
    python benchmarks/scenarios.py --solve --append --time-limit 300   # + whole solves

Each (case, executor, workers) runs in a fresh Python process (``--worker``), so that the peak
memory of the driver is its own. A run generates the scenarios (``generate_scenarios``, seed
0), builds the executor (``startup``: process spawn or Ray start plus every worker's slave
build), and runs ``--rounds`` rounds of the stochastic method's slave step
(:meth:`~feederopt.algorithms.stochastic.StochasticBenders.evaluate`: every scenario's SOCP at
the base topology, with the duals for the cuts) through the executor. The master is left out on
purpose: it is the same for every executor, and on the 1000-bus feeder a single master solve
takes minutes (see ``RESULTS.md``); the slaves are what the executors change.

Columns of ``RESULTS_scenarios.md``:

* ``wall``: the whole run (case, scenarios, executor start, rounds, shutdown) [s];
* ``startup``: creating the executor until its workers hold their slaves [s];
* ``round``: wall time of one round of ``count`` slaves (mean over rounds) [s];
* ``per slave``: mean solve time of one scenario SOCP (cvxpy + Clarabel, measured in the
  worker) [ms]; ``slaves/s``: solves per second of round wall time;
* ``driver MB``: peak RSS of the driver process; ``worker MB``: peak RSS of each worker
  (for ``serial`` the driver is the worker).

With ``--solve`` a run is a whole stochastic solve instead (``feederopt.solve_scenarios``, the
path of ``feederopt solve CASE --scenarios FILE``: presolve, heuristic start on the expected
loads, multi-cut Benders to ``--gap`` or ``--time-limit``) through the same executors, for
``--solve-cases`` (default case33bw: on the 1000-bus feeder one master solve takes minutes).
Its table adds the status, the bounds, the iterations and the split between the HiGHS master
and the slave rounds (``slave wall``: wall time of the rounds, ``slave CPU``: the sum of the
solve times measured in the workers).

Writes ``results_scenarios.json`` and ``RESULTS_scenarios.md`` to ``--out`` (default: next to
this file, the committed tables; a smoke run should give ``--out /tmp/...``), the workers'
results to ``OUT/logs/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from run import seconds  # benchmarks/run.py, next to this file

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CASES = ["case33bw", "synthetic1000"]
CONFIGS = [("serial", 1), ("process", 1), ("process", 2), ("ray", 1), ("ray", 2)]


def load_case(case: str) -> Any:
    import feederopt

    if case == "synthetic1000":
        from feederopt.cases.synthetic import synthetic_feeder

        return synthetic_feeder(1000, seed=0)
    return feederopt.load(case)


def setup(case: str, count: int) -> tuple[Any, Any, Any, Any, Any, Any]:
    """The case, its ``count`` generated scenarios (seed 0), the per-unit network, the
    scenario loads ``p``, ``q`` [p.u.] and the presolved network with the envelope loads."""
    from feederopt.io.scenarios import generate_scenarios, resolve_scenarios
    from feederopt.network.perunit import to_per_unit
    from feederopt.problems.uncertain import envelope, presolve_for

    net = load_case(case)
    sset = resolve_scenarios(net, generate_scenarios(net, count=count, seed=0))
    pu = to_per_unit(net)
    p, q = sset.per_unit(pu.s_base_mva)
    reduced, _ = presolve_for(pu, p, q)
    return net, sset, pu, p, q, envelope(reduced, p, q)


def worker(case: str, kind: str, workers: int, count: int, rounds: int,
           time_limit: float) -> dict[str, Any]:
    import numpy as np

    from feederopt.algorithms.base import StopOptions
    from feederopt.algorithms.stochastic import StochasticBenders, StochasticOptions
    from feederopt.problems.reconfiguration import RadialityModel, ReconfigurationProblem

    t_all = time.perf_counter()
    _, sset, pu, p, q, env = setup(case, count)
    problem = ReconfigurationProblem(env, RadialityModel.PARENT_CHILD)
    t0 = time.perf_counter()
    ex = make_executor(problem.pu, kind, workers)
    startup = time.perf_counter() - t0
    try:
        algo = StochasticBenders(problem, p, q, sset.weights,
                                 StochasticOptions(stop=StopOptions(time_limit_s=time_limit)),
                                 executor=ex)
        y0 = pu.initial_closed().astype(float)
        round_s = []
        results: list[Any] = []
        for _ in range(rounds):
            t1 = time.perf_counter()
            results = algo.evaluate(y0)
            round_s.append(time.perf_counter() - t1)
        worker_mb = ex.worker_memory_mb()
    finally:
        ex.close()
    wall = time.perf_counter() - t_all
    tm = algo.timings
    solves = algo.n_slave_solves
    return {
        "mode": "rounds", "case": case, "executor": kind, "workers": workers, "scenarios": count,
        "buses": pu.n_bus, "switchable": int(pu.switchable.sum()), "rounds": rounds,
        "wall_s": wall, "startup_s": startup, "round_s": float(np.mean(round_s)),
        "round_s_all": round_s, "slave_cpu_s": tm.get("slave_s"), "slave_solves": solves,
        "per_slave_ms": 1000.0 * tm.get("slave_s", 0.0) / max(solves, 1),
        "slaves_per_s": solves / max(sum(round_s), 1e-9),
        "driver_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "worker_peak_mb": [round(x, 1) for x in worker_mb],
        "expected_objective_kw": float(sset.weights @ np.array([r.objective for r in results])),
        "cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0],
    }


def make_executor(problem_pu: Any, kind: str, workers: int) -> Any:
    from feederopt.algorithms.slaves import SlaveFactory
    from feederopt.execution import ProcessExecutor, RayExecutor, SerialExecutor

    factory = SlaveFactory(problem_pu, "penalized")
    if kind == "serial":
        ex: Any = SerialExecutor(factory)
        _ = ex.state
    elif kind == "process":
        ex = ProcessExecutor(factory, workers)
        ex.worker_memory_mb()  # waits until every worker has built its slave
    else:
        ex = RayExecutor(factory, None, num_cpus=workers, workers=workers)
        ex.worker_memory_mb()
    return ex


def solve_worker(case: str, kind: str, workers: int, count: int, gap: float,
                 time_limit: float) -> dict[str, Any]:
    """A whole stochastic solve through the executor (see the module docstring)."""
    import math

    from feederopt.uncertainty import solve_scenarios

    t_all = time.perf_counter()
    net, sset, pu, _, _, env = setup(case, count)
    t0 = time.perf_counter()
    ex = make_executor(env, kind, workers)
    startup = time.perf_counter() - t0
    try:
        t1 = time.perf_counter()
        res = solve_scenarios(net, sset, gap=gap, time_limit=time_limit, executor=ex,
                              ac_check=False)
        solve_s = time.perf_counter() - t1
        worker_mb = ex.worker_memory_mb()
    finally:
        ex.close()
    tm = res.timings

    def num(x: Any) -> Any:
        return x if isinstance(x, (int, float)) and math.isfinite(x) else None

    return {
        "mode": "solve", "case": case, "executor": kind, "workers": workers, "scenarios": count,
        "buses": pu.n_bus, "wall_s": time.perf_counter() - t_all, "startup_s": startup,
        "solve_s": solve_s, "status": str(res.status), "objective_kw": num(res.objective),
        "lower_bound_kw": num(res.lower_bound), "gap": num(res.gap),
        "iterations": res.iterations, "master_s": tm.get("master_s"),
        "slave_wall_s": tm.get("slave_wall_s"), "slave_cpu_s": tm.get("slave_s"),
        "driver_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "worker_peak_mb": [round(x, 1) for x in worker_mb],
        "open": [str(b.get("id")) for b in res.open_branches],
        "cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0],
    }


def run_one(case: str, kind: str, workers: int, args: argparse.Namespace,
            solve: bool = False) -> dict[str, Any]:
    tag = "solve_" if solve else ""
    out = Path(args.out) / "logs" / f"scen_{tag}{case}_{kind}{workers}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", case, kind, str(workers),
           "--count", str(args.count), "--rounds", str(args.rounds),
           "--time-limit", str(args.time_limit), "--gap", str(args.gap),
           "--result-file", str(out)] + (["--solve"] if solve else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          timeout=args.time_limit * 3 + 600)
    if proc.returncode != 0 or not out.exists():
        return {"mode": "solve" if solve else "rounds", "case": case, "executor": kind,
                "workers": workers, "scenarios": args.count,
                "error": (proc.stderr or proc.stdout)[-2000:],
                "wall_s": time.perf_counter() - t0}
    return json.loads(out.read_text())


def sec(x: Any) -> str:
    """A time [s] (or [ms]) as ``run.py`` writes it: three significant digits, whole from 100
    up (:func:`run.seconds`); "-" when missing."""
    return seconds(x, "-")


def fmt(x: Any, spec: str = ".2f") -> str:
    if x is None:
        return "-"
    if isinstance(x, list):
        return ", ".join(f"{v:.0f}" for v in x) or "-"
    return f"{x:{spec}}"


def write_markdown(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    lines = [
        "# Scenario slaves: serial, process pool and Ray",
        "",
        f"Generated by `benchmarks/scenarios.py` on {dt.date.today().isoformat()} "
        f"({platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs).",
        "",
        "Rounds of generated scenarios (seed 0; `scenarios` and `rounds` columns): every "
        "scenario's SOCP slave of the stochastic method at the base topology, with duals. "
        "See the docstring of `benchmarks/scenarios.py` for the columns.",
        "",
        "| case | scenarios | rounds | executor | workers | wall [s] | startup [s] | round [s] | "
        "per slave [ms] | slaves/s | driver MB | worker MB | load 1m |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    solves = [r for r in rows if r.get("mode") == "solve"]
    rows = [r for r in rows if r.get("mode", "rounds") == "rounds"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['case']} | {r['scenarios']} | | {r['executor']} | "
                         f"{r['workers']} | error: "
                         f"{r['error'].splitlines()[-1] if r['error'] else '?'} | | | | | | | |")
            continue
        lines.append(
            f"| {r['case']} ({r['buses']} buses) | {r['scenarios']} | {r['rounds']} | "
            f"{r['executor']} | {r['workers']} | "
            f"{sec(r['wall_s'])} | {sec(r['startup_s'])} | {sec(r['round_s'])} | "
            f"{sec(r['per_slave_ms'])} | "
            f"{fmt(r['slaves_per_s'], '.1f')} | {fmt(r['driver_peak_mb'], '.0f')} | "
            f"{fmt(r['worker_peak_mb'])} | {fmt(r['load_avg_1m'], '.1f')} |")
    lines += ["", "Speed-up of a round (1 worker / 2 workers of the same executor):", ""]
    for case in sorted({r["case"] for r in rows}):
        for kind in ("process", "ray"):
            one = [r for r in rows if r["case"] == case and r["executor"] == kind
                   and r["workers"] == 1 and "error" not in r]
            two = [r for r in rows if r["case"] == case and r["executor"] == kind
                   and r["workers"] == 2 and "error" not in r]
            if one and two and two[0]["round_s"]:
                lines.append(f"* {case}, {kind}: {one[0]['round_s'] / two[0]['round_s']:.2f}x")
    if solves:
        lines += ["", "## Whole stochastic solves", "",
                  "`feederopt.solve_scenarios` (heuristic start, multi-cut Benders) with "
                  f"gap {args.gap:g} and a {args.time_limit:g} s limit, through each executor.",
                  "", "| case | scenarios | executor | workers | status | expected [kW] | "
                  "bound [kW] | gap | iter. | solve [s] | master [s] | slave wall [s] | "
                  "slave CPU [s] | startup [s] | driver MB | worker MB |",
                  "|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in solves:
            if "error" in r:
                lines.append(f"| {r['case']} | {r['scenarios']} | {r['executor']} | "
                             f"{r['workers']} | error | | | | | | | | | | | |")
                continue
            gap = "-" if r["gap"] is None else f"{100 * r['gap']:.2g} %"
            lines.append(
                f"| {r['case']} ({r['buses']} buses) | {r['scenarios']} | {r['executor']} | "
                f"{r['workers']} | {r['status']} | {fmt(r['objective_kw'])} | "
                f"{fmt(r['lower_bound_kw'])} | {gap} | {r['iterations']} | "
                f"{sec(r['solve_s'])} | {sec(r['master_s'])} | "
                f"{sec(r['slave_wall_s'])} | {sec(r['slave_cpu_s'])} | "
                f"{sec(r['startup_s'])} | {fmt(r['driver_peak_mb'], '.0f')} | "
                f"{fmt(r['worker_peak_mb'])} |")
    lines += [""] + [f"NOTE: {n}" for n in args.note]
    (Path(args.out) / "RESULTS_scenarios.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--worker", nargs=3, metavar=("CASE", "EXECUTOR", "WORKERS"))
    ap.add_argument("--result-file")
    ap.add_argument("--cases", nargs="+", default=CASES)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=1800.0)
    ap.add_argument("--gap", type=float, default=1e-3, help="gap of --solve runs")
    ap.add_argument("--solve", action="store_true",
                    help="whole stochastic solves (on --solve-cases) instead of slave rounds")
    ap.add_argument("--solve-cases", nargs="+", default=["case33bw"])
    ap.add_argument("--note", action="append", default=[])
    ap.add_argument("--append", action="store_true",
                    help="Keep the rows of results_scenarios.json (e.g. another --count).")
    ap.add_argument("--out", type=Path, default=HERE,
                    help="folder of RESULTS_scenarios.md, results_scenarios.json and logs/ "
                    "(default: this folder, the committed tables; smoke runs: --out /tmp/...)")
    args = ap.parse_args()
    args.out = args.out.resolve()  # the workers run with cwd=REPO
    if args.worker:
        case, kind, workers = args.worker
        if args.solve:
            row = solve_worker(case, kind, int(workers), args.count, args.gap, args.time_limit)
        else:
            row = worker(case, kind, int(workers), args.count, args.rounds, args.time_limit)
        Path(args.result_file).write_text(json.dumps(row, indent=2))
        return
    rows: list[dict[str, Any]] = []
    args.out.mkdir(parents=True, exist_ok=True)
    store = args.out / "results_scenarios.json"
    mode = "solve" if args.solve else "rounds"
    cases = args.solve_cases if args.solve else args.cases
    if args.append and store.exists():
        old = json.loads(store.read_text())
        rows = [r for r in old.get("rows", [])
                if r.get("mode", "rounds") != mode or r.get("case") not in cases]
        args.note = list(dict.fromkeys(old.get("notes", []) + args.note))
    configs = [c for c in CONFIGS if c[0] != "serial"] if args.solve else CONFIGS
    for case in cases:
        for kind, workers in configs:
            print(f"{case} {mode} {kind} x{workers} ...", flush=True)
            row = run_one(case, kind, workers, args, solve=args.solve)
            print(json.dumps({k: row.get(k) for k in ("wall_s", "startup_s", "round_s",
                                                       "per_slave_ms", "solve_s", "status",
                                                       "gap", "error")}), flush=True)
            rows.append(row)
            store.write_text(json.dumps({"rows": rows, "notes": args.note}, indent=2))
            write_markdown(rows, args)


if __name__ == "__main__":
    main()

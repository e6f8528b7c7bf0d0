"""Benchmark of networked-microgrid partitioning (issue 15, seed 001): the IEEE 37 case
(``ieee37mod``) at each uncertainty level of the seed's Table I, against a tenth of the seed's
run time (Moring et al.: 100.8 / 1952.6 / 2500.4 / 4599.9 s with Gurobi).

    python benchmarks/partition.py                      # 0, 10, 15, 25 %, one worker each
    python benchmarks/partition.py --levels 0 0.1       # some levels
    python benchmarks/partition.py --workers 2 --note "..."
    python benchmarks/partition.py --levels 0 --time-limit 30 --out /tmp/part   # a smoke run

Each level runs in a fresh Python process (``--worker``), one at a time, so that its peak
memory is its own and no run inherits another's caches. A run times the public call
``feederopt.api_partition.partition("ieee37mod", uncertainty=X)`` (reading the case and its
settings, building the problem, Algorithm 1 of the seed; imports excluded, reported as
``import_s``) without the post-analyses (those are ``feederopt partition --samples``).

Columns of ``RESULTS_partition.md``:

* ``wall``: the ``partition()`` call [s]; ``CPU``: the CPU time of the process during it
  (with one worker, what the run would take on an idle core); ``solve``: the algorithm's own clock
  (``run_time_s``); ``to best``: its time to the best plan;
* ``seed``, ``limit``: the seed's run time and a tenth of it (as published); the measured
  times are written as ``run.py`` writes them (:func:`run.seconds`: three significant digits,
  whole seconds from 100 s); ``ok``: ``yes`` when the run
  ended ``optimal`` (Algorithm 1's own stopping rule) with ``wall < limit``; ``no`` when it
  did not: it took longer, or it was stopped (``time_limit``, killed, crashed) with a run
  limit ``--time-limit`` of at least the target; ``undecided`` when it was stopped by a run
  limit below the target (it had less time than the target allows). A stopped run's plan is
  not the algorithm's answer, however fast (user test ut42_bench #1);
* ``status``, ``objective`` [$], ``gap``: ``(objective - last master bound) / objective``
  (the master of Algorithm 1 is a relaxation, so its objective is a lower bound),
  ``iter.``: iterations of Algorithm 1, ``blocks``/``served``: the plan;
* ``peak MB``: the worker's peak RSS (``ru_maxrss`` from ``os.wait4``);
* ``load``: the 1-minute load average of the machine when the run started, and its mean
  and maximum sampled every 0.5 s during the run (the machine is shared: the other jobs'
  load slows the run down).

Writes ``results_partition.json`` and ``RESULTS_partition.md`` to ``--out`` (default: next to
this file, the committed reference table; a smoke run should give ``--out /tmp/...``), the
workers' logs to ``OUT/logs/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from run import seconds, wait_child  # benchmarks/run.py, next to this file

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CASE = "ieee37mod"
#: The seed's run times (Table I of Moring et al.) per uncertainty level [s].
SEED_TIME_S = {0.0: 100.8, 0.1: 1952.6, 0.15: 2500.4, 0.25: 4599.9}


def worker(level: float, workers: int, time_limit: float) -> dict[str, Any]:
    t_imp = time.perf_counter()
    from feederopt.api_partition import partition

    import_s = time.perf_counter() - t_imp
    t0, c0 = time.perf_counter(), time.process_time()
    res = partition(CASE, uncertainty=level, workers=workers, time_limit_s=time_limit)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    bound = res.iterations[-1].master_objective if res.iterations else None
    gap = None if bound is None else max(0.0, res.objective - bound) / max(1.0, abs(res.objective))
    return {
        "case": CASE, "uncertainty": level, "workers": workers, "import_s": import_s,
        "wall_s": wall, "cpu_s": cpu, "solve_s": res.run_time_s, "to_best_s": res.time_to_best_s,
        "status": res.status, "objective": res.objective, "lower_bound": bound, "gap": gap,
        "iterations": len(res.iterations), "extreme_points": res.extreme_points,
        "energised_blocks": res.energised_blocks, "served_load_kw": res.served_load_kw,
        "closed_switches": res.closed_switches, "violations": res.violations,
    }


def verdict(row: dict[str, Any], run_limit: float) -> tuple[bool | None, str | None]:
    """``ok`` of a row (module docstring) and, when undecided, why: only an ``optimal`` run
    within a tenth of the seed's time meets the target; a run stopped by ``--time-limit``
    misses it, unless that limit was below the target."""
    seed = row.get("seed_time_s")
    if seed is None:  # a level the seed did not run: no target
        return None, None
    target = seed / 10
    if row.get("status") == "optimal" and row.get("wall_s") is not None:
        return row["wall_s"] < target, None
    if row.get("status") in ("time_limit", "interrupted") and run_limit < target:
        return None, f"run limit {run_limit:g} s < target {target:.2f} s"
    return False, None


def run_one(level: float, args: argparse.Namespace) -> dict[str, Any]:
    logdir = Path(args.out) / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    out = logdir / f"partition_{level:g}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(level),
           "--workers", str(args.workers), "--time-limit", str(args.time_limit),
           "--result-file", str(out)]
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load0 = os.getloadavg()[0]
    loads = [load0]
    t0 = time.perf_counter()
    backstop = args.time_limit * 1.5 + 120
    with (logdir / f"partition_{level:g}.log").open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO,
                                start_new_session=True)
        status, usage, killed = wait_child(proc, t0, backstop,
                                           tick=lambda: loads.append(os.getloadavg()[0]),
                                           poll_s=0.5)
    row: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    row.setdefault("case", CASE)
    row.setdefault("uncertainty", level)
    if killed:
        row["status"] = "killed"
    elif "status" not in row:
        row["status"] = "crashed"
    seed = SEED_TIME_S.get(level)
    row.update(
        started=started, process_wall_s=time.perf_counter() - t0,
        returncode=os.waitstatus_to_exitcode(status),
        peak_mem_mb=usage.ru_maxrss / 1024.0,  # kB on Linux
        load_start=load0, load_mean=sum(loads) / len(loads), load_max=max(loads),
        seed_time_s=seed, limit_s=None if seed is None else seed / 10,
        time_limit_s=args.time_limit,
    )
    row["under_limit"], row["undecided"] = verdict(row, args.time_limit)
    return row


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(),
                            "cpus": os.cpu_count(),
                            "date": dt.datetime.now(dt.UTC).isoformat(
                                timespec="seconds")}
    try:
        from importlib import metadata as md

        info["highspy"] = md.version("highspy")
    except Exception:
        info["highspy"] = None
    try:
        info["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                     capture_output=True, text=True).stdout.strip()
    except OSError:
        info["git"] = None
    return info


def fmt(x: Any, spec: str = ".1f") -> str:
    return "-" if x is None else f"{x:{spec}}"


def ok_cell(r: dict[str, Any]) -> str:
    if r.get("undecided"):
        return f"undecided ({r['undecided']})"
    return {True: "yes", False: "**no**", None: "-"}[r.get("under_limit")]


def write_markdown(rows: list[dict[str, Any]], info: dict[str, Any], notes: list[str],
                   out: Path = HERE) -> None:
    lines = [
        "# Networked-microgrid partitioning on IEEE 37 (issue 15, seed 001)",
        "",
        f"Written by `python benchmarks/partition.py` on {info['date']} (git {info['git']}, "
        f"{info['platform']}, Python {info['python']}, HiGHS {info['highspy']}, "
        f"{info['cpus']} CPUs shared with other jobs).",
        "",
        "`feederopt.api_partition.partition(\"ieee37mod\", uncertainty=X)`, Algorithm 1 of "
        "the seed, each level in a fresh process; the target is a tenth of the seed's run "
        "time. See the docstring of `benchmarks/partition.py` for the columns.",
        "",
        "| uncertainty | wall [s] | CPU [s] | solve [s] | to best [s] | seed [s] | limit [s] | "
        "ok | status | objective [$] | gap | iter. | blocks | served [kW] | peak MB | "
        "load start / mean / max |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ok = ok_cell(r)
        gap = "-" if r.get("gap") is None else f"{100 * r['gap']:.1g} %"
        lines.append(
            f"| {100 * r['uncertainty']:g} % | {seconds(r.get('wall_s'), '-')} | "
            f"{seconds(r.get('cpu_s'), '-')} | "
            f"{seconds(r.get('solve_s'), '-')} | {seconds(r.get('to_best_s'), '-')} | "
            f"{fmt(r.get('seed_time_s'), 'g')} | {fmt(r.get('limit_s'), 'g')} | {ok} | "
            f"{r['status']} | {fmt(r.get('objective'), ',.0f')} | {gap} | "
            f"{r.get('iterations', '-')} | {r.get('energised_blocks', '-')} | "
            f"{fmt(r.get('served_load_kw'), '.0f')} | {fmt(r.get('peak_mem_mb'), '.0f')} | "
            f"{r['load_start']:.2f} / {r['load_mean']:.2f} / {r['load_max']:.2f} |")
    lines += [""] + [f"NOTE: {n}" for n in notes]
    (out / "RESULTS_partition.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", type=float, metavar="LEVEL")
    ap.add_argument("--result-file")
    ap.add_argument("--levels", type=float, nargs="+", default=sorted(SEED_TIME_S))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=1800.0)
    ap.add_argument("--note", action="append", default=[])
    ap.add_argument("--out", type=Path, default=HERE,
                    help="folder of RESULTS_partition.md, results_partition.json and logs/ "
                    "(default: this folder, the committed table; smoke runs: --out /tmp/...)")
    args = ap.parse_args()
    args.out = args.out.resolve()  # the workers run with cwd=REPO
    if args.worker is None and not args.time_limit > 0:
        ap.error(f"--time-limit must be a positive number of seconds, got {args.time_limit:g}")
    if args.worker is not None:
        row = worker(args.worker, args.workers, args.time_limit)
        Path(args.result_file).write_text(json.dumps(row, indent=2))
        return
    info = machine()
    rows = []
    args.out.mkdir(parents=True, exist_ok=True)
    for level in args.levels:
        print(f"{CASE} at {100 * level:g} % ...", flush=True)
        row = run_one(level, args)
        print(json.dumps({k: row.get(k) for k in ("wall_s", "status", "objective",
                                                   "iterations", "limit_s", "under_limit",
                                                   "load_mean")}), flush=True)
        rows.append(row)
        (args.out / "results_partition.json").write_text(
            json.dumps({"machine": info, "rows": rows, "notes": args.note}, indent=2))
        write_markdown(rows, info, args.note, args.out)


if __name__ == "__main__":
    main()

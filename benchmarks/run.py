"""The feederopt benchmark (issues 4 and 13): every method on every case, one fresh process per run.

    python benchmarks/run.py                      # the full benchmark (600 s limits)
    python benchmarks/run.py --quick              # a smoke run: 3 small cases, 60 s limits,
                                                  # its table in benchmarks/quick/
    python benchmarks/run.py --cases case33bw case118zh --methods benders misocp
    python benchmarks/run.py --time-limit 300 --scip-time-limit 300 \\
        --scip-cases case33bw case69bw case118zh --resume

Each (case, method) runs in its own Python process (``run.py --worker ...``), so that its peak
memory (``ru_maxrss``) is its own and a crash or a hang cannot take the session down. The
method gets its time limit through ``solve(time_limit=...)``; the parent kills a worker that
overruns it by more than ``--grace`` (plus half the limit) and records it as ``killed``.

After every run the parent rewrites, in ``--out`` (default: this folder):

* ``results.json``: the raw rows (with the iteration log of each run) and the machine;
* ``results.csv``: the same rows without the logs;
* ``RESULTS.md``: the command that made it (with ``--resume``, also those of the sessions
  whose rows it keeps), the Markdown table, the machine, the growth of Benders with the grid
  size and where the targets of issue 13 stand.

So an interrupted session loses at most the run in progress, and ``--resume`` continues it:
runs already in ``results.json`` with the same time limit, gap, ``--ac-check`` and slave probe
are kept, not repeated (a row measured with other settings is run again and replaced).

Columns: ``wall`` is the wall-clock time of the ``solve()`` call (per-unit conversion, presolve,
model building and solving; the AC check is off unless ``--ac-check``), ``solve`` the method's
own clock, ``build``/``master``/``slaves`` the split of ``Result.timings``, ``peak MB`` the
largest resident set of the worker process, ``t/t_SCIP`` the wall time over that of the
monolithic SCIP run (method ``misocp``) of the same case in the same session (``<=`` when SCIP
stopped at its limit, so that the true ratio is smaller).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import platform
import re
import resource
import shlex
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

ALL_CASES = [
    "case33bw",
    "case69bw",
    "case70da",
    "case118zh",
    "case136ma",
    "cigre_mv",
    "mv_oberrhein",
    "mv_oberrhein_gen",
    "mv_oberrhein_sub",
    "mv_open_ring",
    "example_simple",
    "example_multivoltage",
    "lv_schutterwald",
    "synthetic250",
    "synthetic500",
    "synthetic1000",
    "synthetic2000",
]
#: Issue 13: the cases that Benders must prove within a time [s] (case33bw has its own line).
PROOF_TARGETS_S = {"case69bw": 1.0, "case70da": 1.0, "case118zh": 60.0, "case136ma": 60.0,
                   "cigre_mv": 60.0, "mv_oberrhein": 60.0, "mv_oberrhein_gen": 60.0,
                   "mv_oberrhein_sub": 60.0, "mv_open_ring": 60.0, "example_simple": 60.0,
                   "example_multivoltage": 60.0, "lv_schutterwald": 60.0}
QUICK_CASES = ["case33bw", "case69bw", "synthetic250"]
ALL_METHODS = ["benders", "benders-scip", "misocp", "lindistflow"]
SYNTHETIC_SIZES = {"synthetic250": 250, "synthetic500": 500, "synthetic1000": 1000,
                   "synthetic2000": 2000}
#: ``--growth``: synthetic grids from 250 to 2000 buses in steps of sqrt(2) (the sizes that
#: are not built-in cases are built by the worker with the same seed).
GROWTH_SIZES = (250, 354, 500, 707, 1000, 1414, 2000)
#: ``--growth``: the relative gap that every size is solved to (no size is proven to 1e-4 in
#: 10 minutes; at 5 % each stops at a proof, so its time is a time to solve, not a limit).
GROWTH_GAP = 0.05


def synthetic_size(case: str) -> int | None:
    """The bus count of a synthetic case ``synthetic<n>`` (None for other cases)."""
    m = re.fullmatch(r"synthetic(\d+)", case)
    return int(m.group(1)) if m else None

CSV_FIELDS = [
    "case", "method", "status", "objective_kw", "lower_bound_kw", "gap", "wall_s", "solve_s",
    "build_s", "master_s", "slave_s", "iterations", "peak_mem_mb", "process_peak_mem_mb",
    "ratio_to_scip", "time_limit_s", "gap_target", "load_s", "buses", "branches", "switchable",
    "slave_probe_s", "gap_at_60s", "load_avg_1m", "solver", "returncode", "error", "started",
]


# ================================================================================================
# worker: one (case, method) in this process
# ================================================================================================
def worker(case: str, method: str, time_limit: float, gap: float, ac_check: bool,
           slave_probe: bool, out: Path) -> int:
    row: dict[str, Any] = {"case": case, "method": method}
    try:
        t0 = time.perf_counter()
        import feederopt.api as api
        from feederopt.solvers.status import IterationRecord

        n_syn = synthetic_size(case)
        if n_syn is not None and case not in SYNTHETIC_SIZES:
            from feederopt.cases.registry import SYNTHETIC_SEED
            from feederopt.cases.synthetic import synthetic_feeder

            net = synthetic_feeder(n_syn, seed=SYNTHETIC_SEED)
        else:
            net = api.load(case)
        row["load_s"] = time.perf_counter() - t0
        s = net.summary()
        row.update(buses=s["buses"], branches=s["branches"], switchable=s["switchable"],
                   network=net.name)

        def progress(rec: Any) -> None:
            if not isinstance(rec, IterationRecord):  # a phase that starts
                return
            print(f"it {rec.iteration:4d}  t {rec.elapsed_s:8.2f}s  LB {rec.lower_bound:.6g}  "
                  f"UB {rec.upper_bound:.6g}  gap {rec.gap:.3g}  "
                  f"master {rec.master_s:.2f}s  slave {rec.slave_s:.3f}s  {rec.note}",
                  file=sys.stderr, flush=True)

        t1 = time.perf_counter()
        result = api.solve(net, method=method, gap=gap, time_limit=time_limit,
                           ac_check=ac_check, progress=progress)
        row["wall_s"] = time.perf_counter() - t1
        row["peak_mem_mb"] = _maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        row.update(
            status=result.status.value,
            objective_kw=_num(result.objective),
            lower_bound_kw=_num(result.lower_bound),
            gap=_num(result.gap),
            solve_s=_num(result.solve_time_s),
            iterations=result.iterations,
            solver=result.solver,
            timings={k: _num(v) for k, v in result.timings.items()},
            log=[r.to_dict() for r in result.log],
            open_branches=[b["id"] for b in result.open_branches],
            extra={k: v for k, v in result.extra.items() if isinstance(v, str | int | float)},
        )
        for key in ("build_s", "master_s", "slave_s"):
            row[key] = _num(result.timings.get(key))
        if result.ac_check is not None:
            row["ac_losses_kw"] = _num(result.ac_check.losses_kw)
            row["ac_exact"] = result.ac_check.exact
        if slave_probe and method == "benders" and result.open_branches is not None:
            row["slave_probe_s"] = _slave_probe(net, result)
    except Exception as exc:  # recorded, never raised: the parent wants a row
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
    row.setdefault("peak_mem_mb",
                   _maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    out.write_text(json.dumps(row, default=str) + "\n")
    return 0


def _slave_probe(net: Any, result: Any) -> float | None:
    """Solver time of one slave SOCP (Benders' phase-2 evaluator, Clarabel) of the final
    topology: the best of three solves of a freshly built evaluator."""
    import numpy as np

    from feederopt.algorithms.slaves import TopologyEvaluator
    from feederopt.network.perunit import to_per_unit
    from feederopt.problems.presolve import presolve
    from feederopt.problems.reconfiguration import RadialityModel, ReconfigurationProblem

    if result.branches.height == 0:
        return None
    pu = to_per_unit(net, 1.0)
    reduced, _ = presolve(pu)
    problem = ReconfigurationProblem(reduced, RadialityModel.PARENT_CHILD)
    closed = dict(zip(result.branches["id"].to_list(), result.branches["closed"].to_list(),
                      strict=True))
    y = np.array([1.0 if closed.get(b, False) else 0.0 for b in reduced.branch_ids])
    ev = TopologyEvaluator(problem)
    times = []
    for _ in range(3):
        e = ev.evaluate(y, need_gradient=False)
        times.append(e.solve_time_s)
    return min(times)


def _maxrss_mb(kb: float) -> float:
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    return kb / (1024.0 * 1024.0) if sys.platform == "darwin" else kb / 1024.0


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


# ================================================================================================
# parent: run the workers, one at a time
# ================================================================================================
def wait_child(proc: subprocess.Popen[Any], t0: float, backstop: float,
               tick: Any = None, poll_s: float = 0.2) -> tuple[int, Any, bool]:
    """Wait for ``proc`` (started in its own session) and return its wait status, its
    resource usage (``os.wait4``) and whether it was killed: its process group gets SIGKILL
    once ``backstop`` seconds have passed since ``t0``. ``tick()`` runs at every poll."""
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return status, usage, False
        if time.perf_counter() - t0 > backstop:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            return status, usage, True
        time.sleep(poll_s)
        if tick is not None:
            tick()


def run_one(case: str, method: str, time_limit: float, args: argparse.Namespace,
            logdir: Path) -> dict[str, Any]:
    logdir.mkdir(parents=True, exist_ok=True)
    out = logdir / f"{case}_{method}.json"
    log = logdir / f"{case}_{method}.log"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", case, method,
           "--time-limit", str(time_limit), "--gap", str(args.gap), "--result-file", str(out)]
    if args.ac_check:
        cmd.append("--ac-check")
    if not args.no_slave_probe:
        cmd.append("--slave-probe")
    backstop = time_limit * 1.5 + args.grace
    started = dt.datetime.now().isoformat(timespec="seconds")
    load_avg = os.getloadavg()[0]
    t0 = time.perf_counter()
    with log.open("w") as fh:
        fh.write(f"# {' '.join(cmd)}\n# started {started}, load average {load_avg:.2f}\n")
        fh.flush()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO,
                                start_new_session=True)
        status, usage, killed = wait_child(proc, t0, backstop)
        proc.returncode = os.waitstatus_to_exitcode(status)
    process_wall = time.perf_counter() - t0
    row: dict[str, Any] = {}
    if out.exists():
        try:
            row = json.loads(out.read_text())
        except json.JSONDecodeError:
            row = {}
    row.setdefault("case", case)
    row.setdefault("method", method)
    row.setdefault("buses", synthetic_size(case))
    if killed:
        row["status"] = "killed"
        row["error"] = killed_note(process_wall, backstop)
        row.setdefault("wall_s", process_wall)
    elif "status" not in row:
        row["status"] = "crashed"
        row["error"] = f"worker exited with code {proc.returncode} and no result"
        row.setdefault("wall_s", process_wall)
    row.update(
        time_limit_s=time_limit,
        gap_target=args.gap,
        ac_check=bool(args.ac_check),
        slave_probe=not args.no_slave_probe,
        returncode=proc.returncode,
        process_wall_s=process_wall,
        process_peak_mem_mb=_maxrss_mb(usage.ru_maxrss),
        load_avg_1m=load_avg,
        started=started,
    )
    row.setdefault("peak_mem_mb", row["process_peak_mem_mb"])
    row["gap_at_60s"] = gap_at(row, 60.0)
    return row


def gap_at(row: dict[str, Any], t: float) -> float | None:
    """The gap of the last iteration that ended within ``t`` seconds of solve time; for a run
    whose own time limit is at most ``t``, its final gap (what it reached within that limit:
    the last bound is logged as the deadline stops the search, a fraction of a second past it,
    and was read as the start heuristics' gap; user test ut_api #4, synthetic250 2 % against
    the 0.36 % it reached by its 60 s limit)."""
    if (row.get("time_limit_s") or math.inf) <= t and _num(row.get("gap")) is not None:
        return _num(row.get("gap"))
    best = None
    for rec in row.get("log") or []:
        if rec.get("elapsed_s", math.inf) <= t:
            best = _num(rec.get("gap"))
            if best is None:
                best = math.inf
    if best is None and row.get("status") == "optimal" and (row.get("solve_s") or math.inf) <= t:
        best = row.get("gap")
    return best


# ================================================================================================
# machine, rows, Markdown
# ================================================================================================
def machine() -> dict[str, Any]:
    import importlib.metadata as md

    info: dict[str, Any] = {}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        models = [ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines()
                  if ln.startswith("model name")]
        info["cpu"] = models[0] if models else platform.processor()
    except OSError:
        info["cpu"] = platform.processor() or platform.machine()
    info["logical_cpus"] = os.cpu_count()
    try:
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        info["usable_cpus"] = os.cpu_count()
    try:
        for ln in Path("/proc/meminfo").read_text().splitlines():
            if ln.startswith("MemTotal"):
                info["ram_gb"] = round(int(ln.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    info["os"] = platform.platform()
    info["python"] = platform.python_version()
    versions: dict[str, str | None] = {}
    for pkg in ("feederopt", "highspy", "clarabel", "cvxpy", "pyscipopt", "numpy", "scipy",
                "polars", "pandapower"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    try:
        import pyscipopt

        versions["SCIP"] = str(pyscipopt.Model().version())
    except Exception:
        versions["SCIP"] = None
    info["versions"] = versions
    try:
        info["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                     capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=REPO,
                               capture_output=True, text=True).stdout
        info["git_dirty_src"] = [ln[3:] for ln in dirty.splitlines() if ln.strip()]
    except OSError:
        info["git"] = None
    return info


def at_limit(r: dict[str, Any]) -> bool:
    """The run stopped at its time limit (or its heuristic MILP did)."""
    return r.get("status") in ("time_limit", "killed") or (
        (r.get("extra") or {}).get("milp_status") == "time_limit")


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Wall time over that of the SCIP run of the same case; ``ratio_kind`` says whether it is
    exact (``=``), an upper bound (``<=``: SCIP stopped at its limit), a lower bound (``>=``:
    this run did) or meaningless (``?``: both did)."""
    scip = {r["case"]: r for r in rows if r["method"] == "misocp"}
    for r in rows:
        s = scip.get(r["case"])
        r["ratio_to_scip"] = None
        r["ratio_kind"] = None
        if s is None or r.get("wall_s") is None or s.get("wall_s") is None:
            continue
        r["ratio_to_scip"] = r["wall_s"] / s["wall_s"]
        if r is s:
            r["ratio_kind"] = "="
        else:
            r["ratio_kind"] = {(False, False): "=", (False, True): "<=", (True, False): ">=",
                               (True, True): "?"}[(at_limit(r), at_limit(s))]


def _f(x: Any, spec: str = ".3g", none: str = "–") -> str:
    if x is None:
        return none
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return format(x, spec)


def seconds(x: Any, none: str = "–") -> str:
    """A time or time limit in seconds as the tables and the log write it: whole seconds from
    100 s up (or when whole), else three significant digits, so that a sub-second limit reads
    ``0.3``, not ``0`` (user test ut42_recheck_b #2: "limit 0 s", "backstop 0 s (killed after
    1 s)" for a 0.3 s limit); ``none`` ("–") when missing. The one rule of every script here
    that writes a time (``partition.py``, ``schedule.py``, ``simbench_sweep.py``, ...)."""
    if isinstance(x, int | float) and math.isinf(x):
        return "inf"
    x = _num(x)
    if x is None:
        return none
    return f"{x:.0f}" if abs(x) >= 100 or x.is_integer() else f"{x:.3g}"


def killed_note(wall: float, backstop: float) -> str:
    """The error of a run its parent killed at the ``backstop`` (``1.5 * limit + grace``)."""
    return f"killed after {seconds(wall)} s (backstop {seconds(backstop)} s)"


def cell(x: Any) -> str:
    """A table cell for a value that may be missing (a killed run's ``buses``): "–", as the
    other columns write a missing value, not ``None``."""
    return "–" if x is None else str(x)


def _gap(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    if x == 0:
        return "0 %"
    return f"{100 * x:.2g} %" if x >= 1e-4 else f"{100 * x:.1e} %"


def _obj(x: Any) -> str:
    return "–" if x is None else f"{x:.2f}"


#: The default ``--gap`` (outside ``--growth``).
DEFAULT_GAP = 1e-4


def shows_gap_target(rows: list[dict[str, Any]]) -> bool:
    """Whether :func:`table` has a ``gap target`` column: when some row was solved to another
    gap than :data:`DEFAULT_GAP`, so that its ``optimal`` (proven within that gap, e.g. 3.9 %
    in the growth study's 5 %) is not read as proven to 1e-4."""
    return any((g := _num(r.get("gap_target"))) is not None and g != DEFAULT_GAP for r in rows)


def table(rows: list[dict[str, Any]]) -> list[str]:
    with_target = shows_gap_target(rows)
    head = ("case | buses | method | limit [s] | status | objective [kW] | lower bound [kW] | gap "
            + ("| gap target " if with_target else "")
            + "| wall [s] | solve [s] | build [s] | master [s] | slaves [s] | iter. | peak MB "
            "| t/t_SCIP")
    out = ["| " + head + " |", "|" + "|".join(["---"] * (head.count("|") + 1)) + "|"]
    for r in rows:
        ratio = r.get("ratio_to_scip")
        kind = r.get("ratio_kind")
        if ratio is None:
            ratio_s = "–"
        elif kind == "?":
            ratio_s = "n/a (both at limit)"
        else:
            ratio_s = {"<=": "≤ ", ">=": "≥ "}.get(kind or "", "") + f"{ratio:.3g}"
        status = r.get("status", "?")
        if r["method"] == "lindistflow" and (r.get("extra") or {}).get("milp_status"):
            status += f" (MILP {r['extra']['milp_status']})"
        out.append("| " + " | ".join([
            r["case"], cell(r.get("buses")), r["method"], seconds(r.get("time_limit_s")),
            status, _obj(r.get("objective_kw")), _obj(r.get("lower_bound_kw")),
            _gap(r.get("gap")),
            *([_gap(_num(r.get("gap_target")))] if with_target else []),
            _f(r.get("wall_s"), ".3g"), _f(r.get("solve_s"), ".3g"),
            _f(r.get("build_s"), ".2g"), _f(r.get("master_s"), ".3g"),
            _f(r.get("slave_s"), ".3g"), _f(r.get("iterations"), "d"),
            _f(r.get("peak_mem_mb"), ".0f"), ratio_s,
        ]) + " |")
    return out


def growth(rows: list[dict[str, Any]]) -> list[str]:
    """Benders on the synthetic grids: time against buses and fitted exponents."""
    pts = sorted(
        ((n, r) for r in rows if r["method"] == "benders"
         and (n := synthetic_size(r["case"])) is not None),
        key=lambda p: p[0],
    )
    if not pts:
        return ["No Benders run on the synthetic grids yet."]
    out = ["| buses | gap target | status | wall [s] | relaxation [s] | start heuristics "
           "done [s] | master [s] | slaves [s] | gap | gap at 60 s | t to 1 % gap [s] "
           "| peak MB | load |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, r in pts:
        timings = r.get("timings") or {}
        out.append(f"| {n} | {_gap(r.get('gap_target'))} | {r.get('status')} | "
                   f"{_f(r.get('wall_s'))} | {_f(timings.get('relaxation_s'))} | "
                   f"{_f(start_time(r))} | {_f(r.get('master_s'))} | {_f(r.get('slave_s'))} | "
                   f"{_gap(r.get('gap'))} | {_gap(r.get('gap_at_60s'))} | "
                   f"{_f(time_to_gap(r, 0.01))} | {_f(r.get('peak_mem_mb'), '.0f')} | "
                   f"{_f(r.get('load_avg_1m'), '.1f')} |")
    out.append("")
    for target in sorted({t for _, r in pts if (t := _num(r.get("gap_target"))) is not None}):
        solved = [(n, r["wall_s"]) for n, r in pts if r.get("status") == "optimal"
                  and r.get("wall_s") and _num(r.get("gap_target")) == target]
        out.append(_fit(solved, f"wall time to a proven gap <= {_gap(target)}"))
    to1 = [(n, t) for n, r in pts if (t := time_to_gap(r, 0.01)) is not None]
    out.append(_fit(to1, "solve time to a 1 % gap (from the iteration logs)"))
    relax = [(n, t) for n, r in pts if (t := _num((r.get("timings") or {}).get("relaxation_s")))]
    out.append(_fit(relax, "the continuous relaxation (the first proven bound)"))
    limited = [n for n, r in pts if r.get("status") != "optimal"]
    if limited:
        out.append(f"- Not solved within the limit: {', '.join(str(n) for n in limited)} buses "
                   "(their time is the limit, a lower bound).")
    return out


def start_time(row: dict[str, Any]) -> float | None:
    """Solve time when the start topologies were evaluated (the log's ``start`` record)."""
    for rec in row.get("log") or []:
        if rec.get("note") == "start":
            return _num(rec.get("elapsed_s"))
    return None


def time_to_gap(row: dict[str, Any], target: float) -> float | None:
    """Solve time of the first iteration whose gap is at most ``target``."""
    for rec in row.get("log") or []:
        g = _num(rec.get("gap"))
        if g is not None and g <= target:
            return _num(rec.get("elapsed_s"))
    final = _num(row.get("gap"))
    if row.get("status") == "optimal" and final is not None and final <= target:
        return _num(row.get("solve_s"))
    return None


def _fit(points: list[tuple[int, float]], what: str) -> str:
    """``t ~ n^b`` by least squares on the logarithms."""
    if len(points) < 2:
        return (f"- {what}: fewer than two synthetic grids got there "
                f"({', '.join(str(n) for n, _ in points) or 'none'}), no exponent fitted.")
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(t, 1e-6)) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs)
    pts = ", ".join(f"{n}: {t:.3g} s" for n, t in points)
    return f"- {what}: t ~ n^{b:.2f} (least squares over {pts})."


def short_run(r: dict[str, Any], target_s: float) -> bool:
    """The run had less time than the target allows: if it did not meet the target within
    its limit, it cannot have missed it either (user test ut42_bench #2: a 60 s target judged
    missed from a 20 s run)."""
    lim = _num(r.get("time_limit_s"))
    return lim is not None and lim < target_s


def short_run_note(r: dict[str, Any], target_s: float) -> str:
    if not short_run(r, target_s):
        return "not measured"
    return f"undecided (run limit {_f(r.get('time_limit_s'), 'g')} s < target {target_s:g} s)"


def targets(rows: list[dict[str, Any]]) -> list[str]:
    by = {(r["case"], r["method"]): r for r in rows}
    out = []

    def optimal(r: dict[str, Any] | None) -> bool:
        return bool(r and r.get("status") == "optimal" and (r.get("gap") or 0.0) <= 1e-4)

    def line(ok: bool | None, text: str, undecided: str = "not measured") -> None:
        mark = {True: "met", False: "**missed**", None: undecided}[ok]
        out.append(f"- {text}: {mark}")

    r = by.get(("case33bw", "benders"))
    if r:
        ok = optimal(r) and (r.get("solve_s") or math.inf) <= 0.5
        line(None if not ok and short_run(r, 0.5) else ok,
             f"case33bw proven optimal in <= 0.5 s: status {r.get('status')}, gap "
             f"{_gap(r.get('gap'))}, solve {_f(r.get('solve_s'))} s (wall {_f(r.get('wall_s'))} s)",
             short_run_note(r, 0.5))
        probe = r.get("slave_probe_s")
        if probe:
            ratio = (r.get("solve_s") or math.inf) / probe
            line(ratio <= 100, f"case33bw in <= 100x one slave SOCP of the final topology "
                 f"({probe * 1000:.1f} ms): {ratio:.0f}x")
    else:
        line(None, "case33bw proven optimal in <= 0.5 s")
    for case, limit in PROOF_TARGETS_S.items():
        r = by.get((case, "benders"))
        if r:
            # A proven infeasibility (no radial topology meets the limits) is a proof too.
            proven = optimal(r) or r.get("status") == "infeasible"
            ok = proven and (r.get("solve_s") or math.inf) <= limit
            line(None if not ok and short_run(r, limit) else ok,
                 f"{case} proven optimal in <= {limit:g} s: status {r.get('status')}, gap "
                 f"{_gap(r.get('gap'))}, solve {_f(r.get('solve_s'))} s",
                 short_run_note(r, limit))
        else:
            line(None, f"{case} proven optimal in <= {limit:g} s")
    r = by.get(("synthetic1000", "benders"))
    if r:
        g60 = r.get("gap_at_60s")
        mem = r.get("peak_mem_mb")
        first = next((_num(x.get("elapsed_s")) for x in r.get("log") or []), None)
        g60_s = _gap(g60) if g60 is not None else (
            "none (no iteration had ended" + (f"; the first ended at {first:.0f} s)"
                                              if first is not None else ")"))
        ok = g60 is not None and g60 <= 0.01 and mem is not None and mem <= 2048
        # a run stopped before 60 s decides only the memory half (a peak over 2 GB)
        undecided = not ok and short_run(r, 60.0) and not (mem is not None and mem > 2048)
        line(None if undecided else ok,
             f"synthetic1000 gap <= 1 % within 60 s and <= 2 GB: gap at 60 s {g60_s}, "
             f"final status {r.get('status')} gap {_gap(r.get('gap'))} after "
             f"{_f(r.get('solve_s'))} s, peak {_f(mem, '.0f')} MB", short_run_note(r, 60.0))
    else:
        line(None, "synthetic1000 gap <= 1 % within 60 s, peak memory <= 2 GB")
    # the target is case33bw's (benchmarks/README.md); the column shows the other cases' ratios
    for case in ("case33bw",):
        b, s = by.get((case, "benders")), by.get((case, "misocp"))
        if not (b and s and b.get("wall_s") and s.get("wall_s")):
            continue
        speedup = s["wall_s"] / b["wall_s"]
        scip_done = s.get("status") == "optimal"
        ok: bool | None
        if not optimal(b) and not scip_done:
            ok = None  # neither time is known (the column's "n/a (both at limit)"; ut_api #5)
        elif not optimal(b):
            ok = False
        elif scip_done or speedup >= 14:
            ok = speedup >= 14  # SCIP at its limit: its real time, and the speedup, are larger
        else:
            ok = None
        if not optimal(b) and not scip_done:
            measured = "both stopped at their limits"
        else:
            measured = f"{'' if scip_done else '>= '}{speedup:.2g}x"
        line(ok, f"{case}: Benders >= 14x faster than monolithic SCIP: {measured} (SCIP "
             f"{s.get('status')} in {_f(s['wall_s'])} s, limit {seconds(s.get('time_limit_s'))}"
             f" s; Benders {b.get('status')} in {_f(b['wall_s'])} s)",
             "undecided: both stopped at their limits" if not scip_done and not optimal(b)
             else "undecided: SCIP stopped at its limit, a longer SCIP run would decide")
    return out


def command_line(argv: list[str]) -> str:
    """This session's command as typed (``python benchmarks/run.py`` and its options, quoted
    for a shell), for RESULTS.md's header: the committed table says how it was made (as
    ``simbench_sweep.py`` does); before, the header gave ``python benchmarks/run.py`` whatever
    the options. A ``--note``'s text, which RESULTS.md gives below, is shown as ``'...'``."""
    shown: list[str] = []
    note_value = False
    for a in argv:
        if note_value:
            shown.append("'...'")
        elif a.startswith("--note="):
            shown.append("--note='...'")
        else:
            shown.append(shlex.quote(a))
        note_value = a == "--note" and not note_value
    return shlex.join(["python", "benchmarks/run.py"]) + "".join(f" {a}" for a in shown)


def write_outputs(rows: list[dict[str, Any]], info: dict[str, Any], outdir: Path,
                  notes: list[str]) -> None:
    add_ratios(rows)
    order = {c: i for i, c in enumerate(ALL_CASES)}
    morder = {m: i for i, m in enumerate(ALL_METHODS)}
    rows.sort(key=lambda r: (order.get(r["case"], 99), r["case"], morder.get(r["method"], 9)))
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "results.json").write_text(
        json.dumps({"machine": info, "rows": rows}, indent=1, default=str) + "\n")
    with (outdir / "results.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k) for k in CSV_FIELDS})
    v = info.get("versions", {})
    loads = [r["load_avg_1m"] for r in rows if r.get("load_avg_1m") is not None]
    md = [
        "# Benchmark results",
        "",
        f"Written by `{info.get('command') or 'python benchmarks/run.py'}` on "
        f"{info.get('date')} (git {info.get('git')}"
        + (", with uncommitted changes to " + ", ".join(info["git_dirty_src"])
           if info.get("git_dirty_src") else "") + ")."
        + ("".join(f" Rows kept by `--resume` from an earlier session: `{c}`."
                   for c in info.get("earlier_commands", []))),
        "See `benchmarks/README.md` for the targets and how to run it; raw rows (with every "
        "iteration log) are in `results.json` and `results.csv`.",
        "",
        "## Machine",
        "",
        f"- CPU: {info.get('cpu')}, {info.get('logical_cpus')} logical cores "
        f"({info.get('usable_cpus')} usable)",
        f"- RAM: {info.get('ram_gb')} GB",
        f"- OS: {info.get('os')}",
        f"- Python {info.get('python')}; feederopt {v.get('feederopt')}, HiGHS (highspy) "
        f"{v.get('highspy')}, Clarabel {v.get('clarabel')}, CVXPY {v.get('cvxpy')}, "
        f"SCIP {v.get('SCIP')} (PySCIPOpt {v.get('pyscipopt')}), NumPy {v.get('numpy')}, "
        f"SciPy {v.get('scipy')}, Polars {v.get('polars')}, pandapower {v.get('pandapower')}",
    ]
    starts = sorted(r["started"] for r in rows if r.get("started"))
    if starts:
        md.append(f"- Runs started between {starts[0]} and {starts[-1]}, one at a time")
    if loads:
        md.append(f"- 1-minute load average when the runs started: {min(loads):.2f} to "
                  f"{max(loads):.2f} (per run in `results.csv`, column `load_avg_1m`)")
    for note in notes:
        md += ["", note]
    md += ["", "## Results", "", *table(rows), "",
           "`wall`: the `solve()` call (per-unit conversion, presolve, model building, solving"
           "; no AC check). `solve`: the method's own clock. `build`/`master`/`slaves`: "
           "`Result.timings` (Benders: the slave evaluator and master building, the HiGHS master "
           "solves, the Clarabel slave solves; `misocp` reports the CVXPY model building only, "
           "its compilation happens inside the solve). `peak MB`: the largest resident set of "
           "the run's process (about 300 MB is the interpreter with the libraries loaded). "
           "`t/t_SCIP`: wall time over that of the `misocp` (SCIP) run of the same case in this "
           "session; `≤` when SCIP stopped at its limit (the true ratio is smaller), `≥` when "
           "this run did. `limit`: the time limit given to the run. `lindistflow` is a "
           "heuristic: `feasible` with no bound; `(MILP time_limit)` means its MILP stopped at "
           "the limit. Gaps are relative, objectives are losses in kW."
           + (" `optimal` means proven within the run's `gap target` (the gap it was solved "
              "to), not to 1e-4." if shows_gap_target(rows) else ""), ""]
    errors = [r for r in rows if r.get("error")]
    if errors:
        md += ["Errors:", ""]
        md += [f"- {r['case']} {r['method']}: {r['error']}" for r in errors]
        md.append("")
    md += ["## Growth of Benders with the grid size (synthetic grids)", "", *growth(rows), ""]
    if any(synthetic_size(r["case"]) is None for r in rows):  # not the growth study alone
        md += ["## Targets of issue 13", "", *targets(rows), ""]
    (outdir / "RESULTS.md").write_text("\n".join(md))


#: Run statuses that mean the run measured nothing: ``main`` exits 1 if one of this session's
#: runs ends so (user test ut42_bench #4: every run errored and the exit was 0).
FAILED_STATUSES = ("error", "crashed", "killed")


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """What a row's numbers depend on besides (case, method, time limit): ``--resume`` keeps
    a row only if these agree (user test ut42_bench #6)."""
    return {"gap_target": _num(args.gap), "ac_check": bool(args.ac_check),
            "slave_probe": not args.no_slave_probe}


def row_settings(row: dict[str, Any]) -> dict[str, Any]:
    """:func:`settings` of a stored row. Rows written before the row recorded ``ac_check`` and
    ``slave_probe`` say it by their columns: an AC check leaves ``ac_losses_kw``/``ac_exact``,
    the probe ``slave_probe_s``."""
    return {"gap_target": _num(row.get("gap_target")),
            "ac_check": bool(row.get("ac_check", "ac_losses_kw" in row or "ac_exact" in row)),
            "slave_probe": bool(row.get("slave_probe", "slave_probe_s" in row))}


def describe_settings(s: dict[str, Any]) -> str:
    return (f"gap {s['gap_target']}, AC check {'on' if s['ac_check'] else 'off'}, slave probe "
            f"{'on' if s['slave_probe'] else 'off'}")


def same_settings(row: dict[str, Any], want: dict[str, Any]) -> bool:
    have = row_settings(row)
    keys = ["gap_target", "ac_check"] + (["slave_probe"] if row["method"] == "benders" else [])
    return all(have[k] == want[k] for k in keys)  # the probe times Benders' topology only


def resume_plan(plan: list[tuple[str, str, float]], rows: list[dict[str, Any]],
                want: dict[str, Any]) -> tuple[list[tuple[str, str, float]],
                                               list[dict[str, Any]]]:
    """The runs of ``plan`` still to do, and the stored rows of planned runs that were measured
    with other settings (run again and replaced). A stored row counts as done when its case,
    method and time limit are planned and its :func:`settings` are ``want``'s."""
    done: set[tuple[str, str, Any]] = set()
    stale = []
    planned = set(plan)
    for r in rows:
        key = (r["case"], r["method"], r.get("time_limit_s"))
        if key not in planned:
            continue
        if same_settings(r, want):
            done.add(key)
        else:
            stale.append(r)
    return [p for p in plan if p not in done], stale


def _known_case(name: str) -> bool:
    if name in ALL_CASES or synthetic_size(name) is not None:
        return True
    from feederopt.cases.registry import has_case

    return has_case(name) or Path(name).exists()


def check_options(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse bad options before any worker starts (``p.error``: usage, exit 2). A time limit
    must be positive (0 is not "the default"); a gap of 0 is legitimate (user test
    ut42_bench #4: 0 became the default, unknown cases and negative limits ran workers that
    ended as error rows)."""
    for opt, v in (("--time-limit", args.time_limit), ("--scip-time-limit", args.scip_time_limit)):
        if v is not None and not (math.isfinite(v) and v > 0):
            p.error(f"{opt} must be a positive number of seconds, got {v:g}")
    if args.gap is not None and not (math.isfinite(args.gap) and 0 <= args.gap < 1):
        p.error(f"--gap must be a relative gap in [0, 1), got {args.gap:g}")
    if not (math.isfinite(args.grace) and args.grace >= 0):
        p.error(f"--grace must be a non-negative number of seconds, got {args.grace:g}")
    for opt, names in (("--cases", args.cases), ("--scip-cases", args.scip_cases)):
        try:
            unknown = [c for c in names or [] if not _known_case(c)]
        except ImportError as exc:
            p.error(f"feederopt cannot be imported ({exc}): install it or set PYTHONPATH=src")
        if unknown:
            p.error(f"{opt}: unknown case(s) {', '.join(unknown)} (the benchmark's: "
                    f"{', '.join(ALL_CASES)}; synthetic<n>; or any case of `feederopt cases`)")


# ================================================================================================
# main
# ================================================================================================
def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run: {', '.join(QUICK_CASES)}, 60 s limits")
    p.add_argument("--cases", nargs="+", help=f"cases (default: {' '.join(ALL_CASES)})")
    p.add_argument("--methods", nargs="+", choices=ALL_METHODS, help="methods (default: all)")
    p.add_argument("--time-limit", type=float, help="limit of benders and lindistflow [s] "
                   "(default 600, 60 with --quick)")
    p.add_argument("--scip-time-limit", type=float, help="limit of misocp (SCIP) [s] "
                   "(default 600, 60 with --quick)")
    p.add_argument("--scip-cases", nargs="+", help="run misocp only on these cases "
                   "(default: every case)")
    p.add_argument("--gap", type=float, help="relative gap (default 1e-4; --growth: "
                   f"{GROWTH_GAP})")
    p.add_argument("--grace", type=float, default=120.0,
                   help="a worker is killed after 1.5 x its limit plus this [s] (default 120)")
    p.add_argument("--ac-check", action="store_true", help="include the AC check in the runs")
    p.add_argument("--no-slave-probe", action="store_true",
                   help="skip timing one slave SOCP of Benders' final topology")
    p.add_argument("--resume", action="store_true",
                   help="keep the runs already in results.json measured with the same limit, "
                   "gap, --ac-check and slave probe, and do the rest")
    p.add_argument("--note", action="append", default=[],
                   help="a paragraph for RESULTS.md (repeatable)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: benchmarks/; with --quick benchmarks/quick/, "
                   "so that a smoke run never replaces the reference table)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and exit")
    p.add_argument("--growth", action="store_true",
                   help="the growth study: benders on synthetic grids of "
                   f"{', '.join(map(str, GROWTH_SIZES))} buses to a {GROWTH_GAP * 100:.0f}%% gap "
                   "(unless --gap is given), written to <out>/growth/")
    # worker mode (internal)
    p.add_argument("--worker", nargs=2, metavar=("CASE", "METHOD"), help=argparse.SUPPRESS)
    p.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--slave-probe", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not args.worker:
        check_options(p, args)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        case, method = args.worker
        return worker(case, method,
                      600.0 if args.time_limit is None else args.time_limit,
                      1e-4 if args.gap is None else args.gap,
                      args.ac_check, args.slave_probe, args.result_file)
    if args.out is None:
        # a smoke run on a loaded machine replaced the committed idle-machine table (user
        # test ut_api #3): --quick writes beside it unless --out says otherwise
        args.out = HERE / "quick" if args.quick else HERE
    # the workers run with cwd=REPO: a relative --out must mean the caller's folder, not one
    # under the checkout (user test ut42_bench #3: every worker crashed, exit 0)
    args.out = args.out.resolve()
    # "not given" is None; an explicit 0 (a gap of 0) is passed through (ut42_bench #4)
    if args.growth:
        args.gap = GROWTH_GAP if args.gap is None else args.gap
        args.out = args.out / "growth"
        cases = args.cases or [f"synthetic{n}" for n in GROWTH_SIZES]
        methods = args.methods or ["benders"]
    else:
        args.gap = DEFAULT_GAP if args.gap is None else args.gap
        cases = args.cases or (QUICK_CASES if args.quick else ALL_CASES)
        methods = args.methods or ALL_METHODS
    default_limit = 60.0 if args.quick else 600.0
    limit = default_limit if args.time_limit is None else args.time_limit
    scip_limit = default_limit if args.scip_time_limit is None else args.scip_time_limit
    plan = [(c, m, scip_limit if m == "misocp" else limit) for c in cases for m in methods
            if not (m == "misocp" and args.scip_cases and c not in args.scip_cases)]

    outdir: Path = args.out
    raw = outdir / "results.json"
    rows: list[dict[str, Any]] = []
    old_notes: list[str] = []
    earlier: list[str] = []  # the commands of the sessions whose rows --resume keeps
    if args.resume and raw.exists():
        previous = json.loads(raw.read_text())
        rows = previous.get("rows", [])
        old_notes = previous.get("machine", {}).get("notes", [])
        before = previous.get("machine", {})
        earlier = [*before.get("earlier_commands", []),
                   before.get("command") or "a command not recorded (an older run.py)"]
    todo, stale = resume_plan(plan, rows, settings(args))
    for r in stale:
        print(f"  {r['case']} {r['method']}: the row in {raw} was measured with other "
              f"settings ({describe_settings(row_settings(r))}; now "
              f"{describe_settings(settings(args))}): run again", flush=True)
    print(f"{len(plan)} runs planned (gap {args.gap:g}), {len(plan) - len(todo)} already done",
          flush=True)
    for c, m, lim in todo:
        print(f"  {c:14s} {m:12s} limit {seconds(lim)} s", flush=True)
    if args.dry_run:
        return 0
    info = machine()
    info["date"] = dt.datetime.now().isoformat(timespec="minutes")
    info["command"] = command_line(sys.argv[1:] if argv is None else argv)
    rerun = {(c, m) for c, m, _ in todo}
    kept = [r for r in rows if (r["case"], r["method"]) not in rerun]
    info["earlier_commands"] = list(dict.fromkeys(c for c in earlier if c != info["command"])
                                    ) if kept else []
    notes = list(args.note) or old_notes
    info["notes"] = notes
    failed: list[str] = []
    for case, method, lim in todo:
        print(f"[{dt.datetime.now():%H:%M:%S}] {case} {method} (limit {seconds(lim)} s) ...",
              end=" ", flush=True)
        row = run_one(case, method, lim, args, outdir / "logs")
        if row.get("status") in FAILED_STATUSES:
            failed.append(f"{case} {method}: {row.get('status')} ({row.get('error')})")
        rows = [r for r in rows if (r["case"], r["method"]) != (case, method)] + [row]
        write_outputs(rows, info, outdir, notes)
        print(f"{row.get('status')}  obj {_obj(row.get('objective_kw'))}  gap "
              f"{_gap(row.get('gap'))}  wall {_f(row.get('wall_s'))} s  "
              f"peak {_f(row.get('peak_mem_mb'), '.0f')} MB", flush=True)
    if not todo:
        write_outputs(rows, info, outdir, notes)
    print(f"wrote {outdir / 'RESULTS.md'}", flush=True)
    if failed:  # a session whose runs failed is not a benchmark (ut42_bench #4)
        print(f"{len(failed)} run(s) failed:", *failed, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark of ``feederopt schedule`` (issue 18, seed 004): 24-hour schedules of case33bw
and case69bw with their built-in profiles, on this machine with open solvers (HiGHS).

    python benchmarks/schedule.py --append         # everything (about 40 minutes on 2 cores)
    python benchmarks/schedule.py --only robust --append   # the two robust runs
    python benchmarks/schedule.py --only robust33 --gap 0.01 --append   # one, at 1 %
    python benchmarks/schedule.py --only dsm --hours 3 --time-limit 30 --out /tmp/sched  # smoke

Runs, each in this process, one after the other:

* case33bw deterministic at DSM epsilon 0, 10, 15, 20 % (the seed's cases a-d, Table 2);
* case69bw deterministic at the same epsilons (Table 4; ``--time-limit-69``, default 600 s);
* case33bw robust (C&CG; gamma 10 %, Gamma 4 hours per bus, 4 hours per renewable unit),
  time limit 300 s (the issue's target: within 5 minutes);
* case69bw robust, the same set, time limit 900 s (target: within 15 minutes).

It writes ``RESULTS_schedule.md`` and ``results_schedule.json`` to ``--out`` (default: beside
this file, the committed tables; a smoke run should give ``--out /tmp/...``). ``--hours H``
schedules the first ``H`` hours of the profiles (the robust budgets capped at ``H``) and
``--time-limit S`` replaces every run's limit: a smoke run, not the issue's targets. With
``--append`` the rows are history, oldest first: each row written since this option existed
carries its date, commit, horizon and time limit (older rows have none: the table of
docs/schedule.md, "Robust runs and the speed targets", says which session and code each comes
from).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from run import seconds  # benchmarks/run.py, next to this file

from feederopt.api_schedule import schedule

HERE = Path(__file__).resolve().parent
SEED_33 = {0.0: (0.64, 0.970), 0.1: (0.61, 0.975), 0.15: (0.57, 0.979), 0.2: (0.52, 0.980)}
# the seed's Table 4 (69-bus, cases a-d): losses [MW], V min, V max, open lines, purchase [MWh]
SEED_69 = {0.0: (0.85, 0.962, 1.01, "14, 56, 63, 69, 70", 0.987),
           0.1: (0.83, 0.965, 1.012, "13, 58, 61, 69, 70", 0.966),
           0.15: (0.81, 0.969, 1.013, "13, 18, 56, 61, 69", 0.952),
           0.2: (0.79, 0.972, 1.014, "14, 58, 61, 69, 70", 0.947)}
# the seed's Table 3 (33-bus, case a): robust, then deterministic: losses [MW], V min, V max,
# open lines, purchase [MWh]
SEED_TABLE3 = {"robust": (0.64, 0.970, 1.022, "10, 12, 20, 24, 25", 1.35),
               "deterministic": (0.58, 0.978, 1.022, "7, 13, 20, 24, 32", 1.21)}


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                             capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=HERE,
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return None
    return (out.stdout.strip() + ("+dirty" if dirty else "")) or None


def run(case: str, *, eps: float, robust: bool, time_limit: float,
        gap: float = 1e-3, hours: int = 24) -> dict[str, Any]:
    started = dt.datetime.now().isoformat(timespec="minutes")
    t0 = time.perf_counter()
    kw: dict[str, Any] = {"eps": eps}
    if hours != 24:
        kw["hours"] = hours
    if robust:
        kw.update(gamma=0.1, budget=min(4.0, hours), budget_res=min(4.0, hours))
    res = schedule(case, time_limit_s=time_limit, gap=gap, ac_check=True, **kw)
    wall = time.perf_counter() - t0
    tot = res.worst or res.nominal
    ac_err = max((a.max_v_error_pu for a in res.ac_check if a.converged), default=None)
    return {"case": case, "eps": eps, "tolerance": gap, "method": res.method,
            "date": started, "commit": git_commit(), "hours": hours,
            "time_limit_s": time_limit,
            "status": res.status,
            "objective": res.objective, "lower_bound": res.lower_bound, "gap": res.gap,
            "iterations": len(res.iterations), "wall_s": wall, "losses_mwh": tot.losses_mwh,
            "purchase_mwh": tot.purchase_mwh, "shed_mwh": tot.load_shed_mwh,
            "v_min": tot.v_min_pu, "v_max": tot.v_max_pu, "open_lines": res.open_lines,
            "nominal_cost": res.nominal.cost, "worst_cost": res.worst.cost if res.worst
            else None, "ac_max_v_error": ac_err, "violations": res.violations,
            "notes": res.notes, "log": res.iterations}


#: The header of RESULTS_schedule.md: what its rows are (user test ut42_bench #7).
HISTORY_NOTE = (
    "The rows are appended history (`--append`), oldest first, measured by many versions "
    "of the code. Since session 42 each new row is stamped with its `date` and `commit` "
    "(`+dirty`: uncommitted changes under src/), its hours `h` and its time `limit` [s]; "
    "the older rows (`-`: not recorded; 24 h) are placed by the table of docs/schedule.md, "
    "\"Robust runs and the speed targets\", which says which session and code each comes "
    "from.")


def write(rows: list[dict[str, Any]], out: Path = HERE) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results_schedule.json").write_text(json.dumps(
        {"machine": machine(), "rows": rows}, indent=2, default=str) + "\n")
    lines = ["# Benchmark: `feederopt schedule` (issue 18, seed 004)", "",
             f"Machine: {machine()}. Written by `benchmarks/schedule.py`; HiGHS for every MILP.",
             "", HISTORY_NOTE,
             "", "| date | commit | case | h | limit | method | DSM eps | status | objective [$] "
             "| LB [$] | gap | tol. | it. | "
             "wall [s] | losses [MWh] | purchase [MWh] | shed [MWh] | V min | V max | open "
             "lines | max AC dV [p.u.] |", "|" + "---|" * 21]
    for r in rows:
        lines.append(
            f"| {r.get('date') or '-'} | {r.get('commit') or '-'} | {r['case']} | "
            f"{r.get('hours', '-')} | {_f0(r.get('time_limit_s'))} | "
            f"{r['method']} | {100 * r['eps']:g} % | {r['status']} | "
            f"{r['objective']:.4f} | {r['lower_bound']:.4f} | {r['gap']:.2e} | "
            f"{r.get('tolerance', 1e-3):g} | "
            f"{r['iterations']} | {seconds(r['wall_s'], '-')} | {r['losses_mwh']:.4f} | "
            f"{r['purchase_mwh']:.3f} | {r['shed_mwh']:.3f} | {r['v_min']:.4f} | "
            f"{r['v_max']:.4f} | {', '.join(r['open_lines'])} | "
            f"{_num(r['ac_max_v_error'])} |")
    det = [r for r in rows if r["case"] == "case33bw" and r["method"] == "deterministic"]
    if det:
        lines += ["", "## case33bw, DSM cases a-d beside the seed's Table 2", "",
                  "| eps | seed losses [MW(h)] | ours [MWh] | seed V min | ours V min | "
                  "ours objective [$] |", "|---|---|---|---|---|---|"]
        for r in det:
            s = SEED_33.get(r["eps"], (float("nan"), float("nan")))
            lines.append(f"| {100 * r['eps']:g} % | {s[0]} | {r['losses_mwh']:.4f} | {s[1]} | "
                         f"{r['v_min']:.4f} | {r['objective']:.4f} |")
    det69 = [r for r in rows if r["case"] == "case69bw" and r["method"] == "deterministic"]
    if det69:
        lines += ["", "## case69bw, DSM cases a-d beside the seed's Table 4", "",
                  "| eps | status (gap) | seed losses [MW(h)] | ours [MWh] | seed V min | ours "
                  "V min | seed V max | ours V max | seed open lines | ours | seed purchase "
                  "[MWh] | ours |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in sorted(det69, key=lambda r: r["eps"]):
            s69 = SEED_69.get(r["eps"])
            if s69 is None:
                continue
            lines.append(f"| {100 * r['eps']:g} % | {r['status']} ({r['gap']:.1e}) | "
                         f"{s69[0]} | {r['losses_mwh']:.4f} | {s69[1]} | {r['v_min']:.4f} | "
                         f"{s69[2]} | {r['v_max']:.4f} | {s69[3]} | "
                         f"{', '.join(r['open_lines'])} | {s69[4]} | "
                         f"{r['purchase_mwh']:.3f} |")
    a_det = [r for r in det if r["eps"] == 0.0]
    a_rob = [r for r in rows if r["case"] == "case33bw" and r["method"] != "deterministic"
             and r["eps"] == 0.0]
    if a_det and a_rob:
        lines += ["", "## case33bw case a, robust against deterministic, beside the seed's "
                  "Table 3", "", "Ours: the robust row is the last robust run's worst case "
                  "found at its schedule, the deterministic row the forecast's optimum.", "",
                  "| | seed losses [MW(h)] | ours [MWh] | seed V min | ours | seed V max | "
                  "ours | seed open lines | ours | seed purchase [MWh] | ours |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, r in (("robust", a_rob[-1]), ("deterministic", a_det[-1])):
            s3 = SEED_TABLE3[name]
            lines.append(f"| {name} | {s3[0]} | {r['losses_mwh']:.4f} | {s3[1]} | "
                         f"{r['v_min']:.4f} | {s3[2]} | {r['v_max']:.4f} | {s3[3]} | "
                         f"{', '.join(r['open_lines'])} | {s3[4]} | {r['purchase_mwh']:.3f} |")
    rob = [r for r in rows if r["method"] != "deterministic"]
    if rob:
        lines += ["", "## Robust runs: targets (33-bus <= 300 s, 69-bus <= 900 s)", ""]
        for r in rob:
            target = 300 if r["case"] == "case33bw" else 900
            ok = r["status"] == "optimal" and r["wall_s"] <= target
            tol = r.get("tolerance", 1e-3)  # rows before the option ran at 1e-3
            smoke = r.get("hours", 24) != 24
            verdict = (f"a {r['hours']} h smoke run, no target" if smoke else
                       f"target {'met' if ok else 'NOT met'} at this tolerance")
            lines.append(f"* {r['case']} (C&CG tolerance {tol:g}): {r['status']} in "
                         f"{seconds(r['wall_s'])} s, gap {r['gap']:.2e} after {r['iterations']} "
                         f"iterations: {verdict}. "
                         f"Notes: {'; '.join(r['notes']) or '-'}")
    (out / "RESULTS_schedule.md").write_text("\n".join(lines) + "\n")


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


def _f0(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, " \
           f"Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("all", "dsm", "dsm69", "robust", "robust33",
                                       "robust69"), default="all")
    ap.add_argument("--time-limit-69", type=float, default=600.0,
                    help="Seconds per deterministic case69bw run (dsm69; default 600).")
    ap.add_argument("--eps", default="0,0.1,0.15,0.2",
                    help="DSM shares of the dsm69 runs (default the seed's four cases).")
    ap.add_argument("--gap", type=float, default=1e-3,
                    help="C&CG tolerance of the robust runs (default 1e-3, the targets').")
    ap.add_argument("--append", action="store_true",
                    help="Keep the rows of results_schedule.json and add the new ones.")
    ap.add_argument("--hours", type=int, default=24,
                    help="Hours to schedule (1-24; default 24, the targets'): a smoke run.")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="Seconds per run, replacing every run's own limit (a smoke run).")
    ap.add_argument("--out", type=Path, default=HERE,
                    help="Folder of RESULTS_schedule.md and results_schedule.json (default: "
                    "this folder, the committed tables; smoke runs: --out /tmp/...).")
    args = ap.parse_args()
    if not 1 <= args.hours <= 24:
        ap.error(f"--hours must be within 1..24, got {args.hours}")
    if args.time_limit is not None and not args.time_limit > 0:
        ap.error(f"--time-limit must be a positive number of seconds, got {args.time_limit:g}")
    out: Path = args.out.resolve()
    rows: list[dict[str, Any]] = []
    old = out / "results_schedule.json"
    if args.append and old.is_file():
        rows = json.loads(old.read_text())["rows"]

    def add(case: str, eps: float, robust: bool, limit: float, gap: float = 1e-3) -> None:
        rows.append(run(case, eps=eps, robust=robust, gap=gap, hours=args.hours,
                        time_limit=limit if args.time_limit is None else args.time_limit))
        write(rows, out)

    if args.only == "robust33":
        add("case33bw", 0.0, True, 300, args.gap)
    if args.only == "robust69":
        add("case69bw", 0.0, True, 900, args.gap)
    if args.only in ("all", "dsm"):
        for eps in (0.0, 0.1, 0.15, 0.2):
            add("case33bw", eps, False, 300)
    if args.only in ("all", "dsm69"):
        for eps in (float(e) for e in args.eps.split(",")):
            add("case69bw", eps, False, args.time_limit_69)
    if args.only in ("all", "robust"):
        add("case33bw", 0.0, True, 300, args.gap)
        add("case69bw", 0.0, True, 900, args.gap)


if __name__ == "__main__":
    main()

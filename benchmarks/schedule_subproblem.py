"""The exact worst-case subproblem of the robust 24 h schedule (issue 18, seed 004), three ways,
at the deterministic optimum's first stage of case33bw (built-in profiles and devices; gamma 10 %,
Gamma 4 hours per bus and per renewable unit, DSM off):

* ``highs-bigm``: feederopt's own MILP, the big-M/McCormick linearisation of the dual
  (``algorithms.ccg.worst_case``), on HiGHS;
* ``scip-bigm``: the same MILP, written by HiGHS to MPS, on SCIP (PySCIPOpt);
* ``scip-kkt``: the KKT form, which needs no bound on the multipliers: primal rows
  ``A u + B xi (<=|=) r0``, dual rows ``A^T pi = c`` with ``pi <= 0`` on the inequality
  rows, complementarity of each inequality row's slack and multiplier as an SOS1 pair, and the
  objective ``max c^T u`` (the primal value, equal to the dual's at a KKT point; the
  relaxation without the pairs is unbounded, since the loss variables ``lp``, ``lq`` are bounded
  below only, so the objective is capped by a valid upper bound, ``--cap``: the policy
  bound's value, section "Speed" of docs/schedule.md).

    python benchmarks/schedule_subproblem.py                 # 3 h and 24 h, about 15 minutes
    python benchmarks/schedule_subproblem.py --hours 3 --limit 60

Each prints the incumbent (a worst case found), the proven bound and the time; the table goes
to ``RESULTS_schedule_subproblem.md`` beside this file. Only on an idle machine: the point is
how far each bound is from the incumbent after the same time.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from run import seconds  # benchmarks/run.py, next to this file

import feederopt.algorithms.ccg as ccg
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.blocks import Block, Group
from feederopt.formulations.schedule import UNCERTAIN, ScheduleData, budget_block
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data

HERE = Path(__file__).parent
#: the policy bound at this first stage (docs/schedule.md, "Speed": 15.4182 $ for 24 hours);
#: for other horizons ``--cap`` is twice the incumbent of the HiGHS run unless given
POLICY_BOUND_24H = 15.42


def instance(hours: int) -> tuple[ScheduleData, dict[str, np.ndarray], float]:
    net, dev, prof = schedule_inputs("case33bw", hours=hours)
    budget = min(4.0, float(hours))
    st = ScheduleSettings(hours=hours, gamma=0.1, budget=budget, budget_res=budget)
    d = build_schedule_data(net, dev, prof, st)
    sol = ccg.solve_deterministic(d, gap=1e-6, time_limit_s=600)
    return d, {"y": sol.closed[0], "z": sol.z}, sol.objective


def highs_bigm(d: ScheduleData, x: dict[str, np.ndarray], limit: float) -> dict[str, Any]:
    wc = ccg.worst_case(d, x, time_limit_s=limit)
    return {"value": wc.value, "bound": wc.bound, "t": wc.solve_s,
            "status": "optimal" if wc.optimal else "time limit"}


def scip_bigm(d: ScheduleData, x: dict[str, np.ndarray], limit: float) -> dict[str, Any]:
    from pyscipopt import Model

    path = Path(tempfile.mkdtemp()) / "worst_case.mps"

    class Writer(ccg.HighsModel):
        def solve(self):  # type: ignore[no-untyped-def]
            self.h.writeModel(str(path))
            raise _Written

    real = ccg.HighsModel
    ccg.HighsModel = Writer  # type: ignore[misc]
    try:
        ccg.worst_case(d, x)
    except _Written:
        pass
    finally:
        ccg.HighsModel = real  # type: ignore[misc]
    m = Model()
    m.hideOutput()
    m.readProblem(str(path))
    m.setParam("limits/time", limit)
    m.optimize()
    # the MILP minimises the negated dual objective
    return {"value": -m.getObjVal() if m.getNSols() else None, "bound": -m.getDualbound(),
            "t": m.getSolvingTime(), "status": m.getStatus()}


class _Written(Exception):
    pass


def scip_kkt(d: ScheduleData, x: dict[str, np.ndarray], limit: float,
             cap: float) -> dict[str, Any]:
    from pyscipopt import Model, quicksum

    flat = ccg._flatten(d, x)
    a = flat.a.tocsr()
    nr, nu = a.shape
    m = Model()
    m.hideOutput()
    m.setParam("limits/time", limit)
    xi = {g: [m.addVar(f"{g}{i}", vtype="B") for i in range(flat.bxi[g].shape[1])]
          for g in UNCERTAIN}
    tmp = Block()
    for g in UNCERTAIN:
        tmp.add_group(Group.new(g, flat.bxi[g].shape[1], 0.0, 1.0, integer=True))
    budget_block(d, tmp)
    for rows in tmp.rows:
        mats = {g: sp.csr_matrix(t) for g, t in rows.terms.items()}
        for i in range(rows.m):
            m.addCons(quicksum(float(v) * xi[g][j] for g, t in mats.items()
                               for j, v in _row(t, i)) <= float(rows.rhs[i]))
    u = [m.addVar(f"u{j}", lb=None) for j in range(nu)]
    # q = -pi >= 0 on the inequality rows, pi free on the equality rows
    pi = [m.addVar(f"p{i}", lb=None) if flat.eq[i] else m.addVar(f"q{i}", lb=0.0)
          for i in range(nr)]
    sign = np.where(flat.eq, 1.0, -1.0)
    at = a.T.tocsr()
    for j in range(nu):
        m.addCons(quicksum(float(v * sign[i]) * pi[i] for i, v in _row(at, j))
                  == float(flat.c[j]))
    b = {g: flat.bxi[g].tocsr() for g in UNCERTAIN}
    pairs = 0
    for i in range(nr):
        lhs = (quicksum(float(v) * u[j] for j, v in _row(a, i))
               + quicksum(float(v) * xi[g][j] for g in UNCERTAIN for j, v in _row(b[g], i)))
        if flat.eq[i]:
            m.addCons(lhs == float(flat.r0[i]))
        else:
            s = m.addVar(f"s{i}", lb=0.0)
            m.addCons(lhs + s == float(flat.r0[i]))
            m.addConsSOS1([s, pi[i]])
            pairs += 1
    cost = quicksum(float(flat.c[j]) * u[j] for j in range(nu) if flat.c[j] != 0)
    m.addCons(cost <= cap)
    m.setObjective(cost, "maximize")
    m.optimize()
    return {"value": m.getObjVal() if m.getNSols() else None, "bound": m.getDualbound(),
            "t": m.getSolvingTime(), "status": m.getStatus(), "sos1": pairs}


def _row(mat: sp.csr_matrix, i: int) -> zip[tuple[Any, Any]]:
    s, e = mat.indptr[i], mat.indptr[i + 1]
    return zip(mat.indices[s:e], mat.data[s:e], strict=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=int, nargs="*", default=[3, 24])
    ap.add_argument("--limit", type=float, default=None,
                    help="seconds per solve (default 60 for 3 h, 300 for 24 h)")
    ap.add_argument("--cap", type=float, default=None)
    args = ap.parse_args()
    lines = ["# The worst-case subproblem of the robust schedule, three ways", "",
             f"Machine: {platform.machine()}, {platform.python_version()}; "
             "case33bw, its deterministic optimum's first stage, gamma 10 %, Gamma 4/4 h.", "",
             "| hours | method | status | worst case found [$] | bound [$] | time [s] | note |",
             "|---|---|---|---|---|---|---|"]
    for hours in args.hours:
        limit = args.limit or (60.0 if hours <= 6 else 300.0)
        d, x, det = instance(hours)
        print(f"{hours} h: deterministic optimum {det:.4f} $", flush=True)
        res = {"highs-bigm": highs_bigm(d, x, limit), "scip-bigm": scip_bigm(d, x, limit)}
        best = max(r["value"] for r in res.values() if r["value"] is not None)
        cap = args.cap or (POLICY_BOUND_24H if hours == 24 else 2 * best)
        res["scip-kkt"] = scip_kkt(d, x, limit, cap)
        for name, r in res.items():
            note = f"{r['sos1']} SOS1 pairs, objective capped at {cap:.4g} $" \
                if "sos1" in r else ""
            value = "none" if r["value"] is None else f"{r['value']:.4f}"
            row = (f"| {hours} | {name} | {r['status']} | {value} | {r['bound']:.4f} | "
                   f"{seconds(r['t'])} | {note} |")
            print(row, flush=True)
            lines.append(row)
    (HERE / "RESULTS_schedule_subproblem.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"{seconds(time.perf_counter() - started)} s")

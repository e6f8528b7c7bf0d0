"""Schedule budgets are whole hours, and a renewable budget needs renewables (user test
ut36_sched, tests/data/ut36_sched).

(1) ``--robust-budget 0.5 --gamma 0.1`` ran C&CG on binary realisations, where a budget of
half an hour admits none but the forecast: "optimal" at the forecast's 189.04 $, while the
budget set's extreme points (+-0.5 in one hour per uncertain bus) cost 191.12 $ at the best
topology (brute force below); 1.5 gave what 1 gives, and ``check`` drew ``k`` from 0..0.
Fractional budgets are now refused (exit 2, naming ``--robust-budget`` / ``budget``), also with
``--aggregate``, for the renewable budget, and in ``check`` of a result made before. The hint's
equivalent (below one hour: budget 1 with gamma scaled) is checked against the brute force.

(2) ``--robust-budget 1,2`` on a feeder without PV or wind ran as if the 2 were not there; it
is refused like ``--gamma`` without a load budget.

The truth is the brute force: its own LinDistFlow LP per hour (scipy's HiGHS; the tester's
``brute_tiny.py`` made smaller), min over the 4 radial topologies of the max over every
extreme point of the budget set. The hours are independent given the topology (no storage),
so each hour's LP is solved once per deviation pattern."""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.optimize import linprog
from typer.testing import CliRunner

from feederopt.api_schedule import check_schedule_result, schedule
from feederopt.cli import app
from feederopt.errors import InputError

DATA = Path(__file__).parent / "data" / "ut36_sched"
FILES = {"profiles": str(DATA / "profiles.csv"), "devices": str(DATA / "dev")}
CLI = [str(DATA / "tiny5.m"), "--profiles", FILES["profiles"], "--devices", FILES["devices"],
       "--hours", "3", "--no-ac-check", "--time-limit", "60", "--uncertain-buses", "3,5"]

# ----- the brute force ------------------------------------------------------------------------
# branches (from, to, r, x) in p.u. on 10 MVA; loads [MW, MVAr]; hourly factors; prices [$/MWh]
BR = ((1, 2, 0.056154, 0.037437), (2, 3, 0.149745, 0.112308), (3, 4, 0.112308, 0.093591),
      (4, 5, 0.168462, 0.131025), (2, 5, 0.131025, 0.093591))
P0 = {2: 0.3, 3: 0.4, 4: 0.35, 5: 0.3}
Q0 = {2: 0.1, 3: 0.12, 4: 0.1, 5: 0.1}
F = {2: (0.8, 1.0, 0.9), 3: (0.85, 1.0, 0.95), 4: (0.7, 1.0, 0.9), 5: (0.9, 0.95, 1.0)}
PRICE = (40.0, 55.0, 60.0)
TANGENTS = (0.05, 0.15, 0.4, 1.0)  # the schedule's default points below the flow bound [MW]
# columns: P 0-4, Q 5-9, v (bus 1..5) 10-14, ps 15, qs 16, pg 17, qg 18, shed (bus 2..5) 19-22,
# loss of P 23-27, loss of Q 28-32
NV = 33


@functools.cache
def _hour_cost(open_branch: int, h: int, dev: tuple[tuple[int, float], ...]) -> float:
    """LinDistFlow LP of hour ``h`` with branch ``open_branch`` open, load of bus ``b`` times
    ``1 + d`` for ``(b, d)`` in ``dev``: purchase at the hour's price, losses at 50 $/MWh by
    tangents ``r (2 s F - s^2)``, DG (bus 4, 0.3 MW, 0.2 MVAr) at 48 $/MWh, curtailment at 500
    $/MWh (at the load's power factor), v^2 within 0.81..1.21."""
    m = dict(dev)
    pd = {b: P0[b] * F[b][h] * (1 + m.get(b, 0.0)) for b in P0}
    qd = {b: Q0[b] * F[b][h] * (1 + m.get(b, 0.0)) for b in P0}
    c = np.zeros(NV)
    c[15], c[17], c[19:23], c[23:33] = PRICE[h], 48.0, 500.0, 50.0
    a_eq: list[np.ndarray] = []
    b_eq: list[float] = []
    a_ub: list[np.ndarray] = []
    b_ub: list[float] = []
    for n in range(1, 6):  # injections - outflows + inflows = load, P and Q
        rp, rq = np.zeros(NV), np.zeros(NV)
        for i, (a, b, _, _) in enumerate(BR):
            if a == n:
                rp[i], rq[5 + i] = -1.0, -1.0
            if b == n:
                rp[i], rq[5 + i] = 1.0, 1.0
        if n == 1:
            rp[15], rq[16] = 1.0, 1.0
        if n == 4:
            rp[17], rq[18] = 1.0, 1.0
        if n in P0:
            rp[17 + n], rq[17 + n] = 1.0, Q0[n] / P0[n]
        a_eq += [rp, rq]
        b_eq += [pd.get(n, 0.0), qd.get(n, 0.0)]
    for i, (a, b, r, x) in enumerate(BR):
        if i == open_branch:
            continue
        r, x = r / 10.0, x / 10.0  # to MW on 1 MVA: the loss r P^2 in MW
        row = np.zeros(NV)  # v_b = v_a - 2 (r P + x Q)
        row[9 + b], row[9 + a], row[i], row[5 + i] = 1.0, -1.0, 2 * r, 2 * x
        a_eq.append(row)
        b_eq.append(0.0)
        for s in (*TANGENTS, *(-t for t in TANGENTS)):
            for col, loss in ((i, 23 + i), (5 + i, 28 + i)):
                row = np.zeros(NV)
                row[col], row[loss] = 2 * r * s, -1.0
                a_ub.append(row)
                b_ub.append(r * s * s)
    bounds: list[tuple[float | None, float | None]] = (
        [(None, None)] * 10 + [(1.0, 1.0)] + [(0.81, 1.21)] * 4
        + [(0, None), (None, None), (0, 0.3), (0, 0.2)]
        + [(0, pd[b]) for b in (2, 3, 4, 5)] + [(0, None)] * 10)
    bounds[open_branch] = bounds[5 + open_branch] = (0.0, 0.0)
    res = linprog(c, A_ub=np.array(a_ub), b_ub=b_ub, A_eq=np.array(a_eq), b_eq=b_eq,
                  bounds=bounds, method="highs")
    assert res.status == 0
    return float(res.fun)


def _robust_optimum(gamma: float, size: float) -> float:
    """min over the radial topologies of the max over the budget set with budget ``size <= 1``
    hour at buses 3 and 5 (extreme points: per bus the forecast or +-``size`` in one hour)."""
    options = [None, *((h, s) for h in range(3) for s in (1.0, -1.0))]
    best = np.inf
    for open_branch in (1, 2, 3, 4):  # opening 1-2 cuts every load off
        worst = max(
            sum(_hour_cost(open_branch, h, tuple(
                (b, c[1] * size * gamma) for b, c in ((3, c3), (5, c5)) if c and c[0] == h))
                for h in range(3))
            for c3, c5 in itertools.product(options, repeat=2))
        best = min(best, worst)
    return best


# ----- (1) fractional budgets -----------------------------------------------------------------
def _refused(args: list[str]) -> str:
    r = CliRunner().invoke(app, ["schedule", *CLI, *args])
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output
    return " ".join(r.output.split())


def test_a_fractional_load_budget_is_refused_not_floored() -> None:
    forecast = _robust_optimum(0.1, 0.0)
    half = _robust_optimum(0.1, 0.5)
    # the half hour matters: its worst case costs 2 $ more than the forecast (189.04 $), which
    # the floored budget reported as "optimal"
    assert half > forecast + 2.0
    out = _refused(["--robust-budget", "0.5", "--gamma", "0.1"])
    assert "--robust-budget" in out and "whole number of hours" in out
    assert "--robust-budget 1 --gamma 0.05" in out  # the hint's equivalent set
    out = _refused(["--robust-budget", "1.5", "--gamma", "0.1"])  # before: what 1 gives
    assert "is 1.5" in out and "--robust-budget 2" in out
    out = _refused(["--robust-budget", "1,0.5", "--gamma", "0.1"])  # the renewable budget
    # named as the command line spells it, not with Python's keyword beside (smalls42 #3)
    assert "--robust-budget, the renewable budget GAMMA_RES, is 0.5" in out
    assert "budget_res (--robust-budget)" not in out
    assert "--robust-budget GAMMA,1" in out  # the hint's whole hours


def test_the_hints_budget_of_one_hour_is_the_fractional_set() -> None:
    """Below one hour, budget b with gamma g is the set of budget 1 with gamma b g: the
    schedule at budget 1, gamma 0.05 is the brute-force optimum over the set of budget 0.5,
    gamma 0.1 (191.12 $)."""
    res = schedule(str(DATA / "tiny5.m"), **FILES, hours=3, ac_check=False, time_limit_s=60,
                   gap=1e-5, budget=1.0, gamma=0.05, uncertain_buses=("3", "5"))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(_robust_optimum(0.1, 0.5), rel=1e-5)


@pytest.mark.parametrize("changes, field", [
    ({"budget": 0.5, "gamma": 0.1}, "budget"),
    ({"budget": 2.25, "gamma": 0.1}, "budget"),
    ({"budget": 1.0, "gamma": 0.1, "budget_res": 0.5}, "budget_res"),
])
def test_the_api_refuses_fractional_budgets(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as exc:
        schedule(str(DATA / "tiny5.m"), **FILES, hours=3, ac_check=False, **changes)
    assert [p.field for p in exc.value.problems] == [field]
    assert "whole number of hours" in exc.value.problems[0].message


def test_check_refuses_a_result_made_with_a_fractional_budget(tmp_path: Path) -> None:
    """A result written before the refusal (its samples drew k from 0..floor(0.5) = 0 hours):
    ``check`` refuses it, naming the setting, rather than sampling the forecast alone."""
    res = schedule(str(DATA / "tiny5.m"), **FILES, hours=3, ac_check=False, time_limit_s=60,
                   budget=1.0, gamma=0.1, uncertain_buses=("3", "5"), deterministic=True)
    doc = res.to_dict()
    doc["settings"]["budget"] = 0.5  # as the run before the fix recorded it
    with pytest.raises(InputError) as exc:
        check_schedule_result(doc, samples=5)
    (p,) = exc.value.problems
    assert p.field == "settings.budget" and "schedule again" in p.hint
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    r = CliRunner().invoke(app, ["check", str(path), "--samples", "5"])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert "settings.budget" in r.output


# ----- (2) a renewable budget without renewables ----------------------------------------------
def test_a_renewable_budget_without_renewables_is_refused() -> None:
    out = _refused(["--robust-budget", "1,2", "--gamma", "0.1"])
    assert "--robust-budget, the renewable budget GAMMA_RES, is 2" in out
    assert "PV or wind" in out and "budget_res (--robust-budget)" not in out
    # the hint names the load budget alone as each caller writes it (recheck_c E: it said
    # "--robust-budget GAMMA; budget_res=0" to both)
    assert "give the load budget alone (--robust-budget GAMMA)" in out
    assert "budget_res=0" not in out
    with pytest.raises(InputError) as exc:
        schedule(str(DATA / "tiny5.m"), **FILES, hours=3, ac_check=False, budget=1.0,
                 gamma=0.1, budget_res=2.0)
    assert [p.field for p in exc.value.problems] == ["budget_res"]
    (p,) = exc.value.problems
    assert p.hint.endswith("give the load budget alone (budget_res=0)"), p.hint
    # from Python the setting is its keyword, no flag in the message (smalls42 #3: it read
    # "budget_res (--robust-budget), the renewable budget GAMMA_RES, is 2")
    assert p.message.startswith("budget_res, the renewable budget GAMMA_RES, is 2"), p.message
    assert "--" not in p.message + p.hint, (p.message, p.hint)


def test_a_renewable_budget_on_units_that_cannot_fall_short_is_refused(tmp_path: Path) -> None:
    """A PV unit with deviation 0 never falls short (``p_hat (1 - 0 xr)``): the renewable
    budget acts on nothing."""
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "dg.csv").write_text((DATA / "dev" / "dg.csv").read_text())
    prof = tmp_path / "profiles.csv"
    prof.write_text((DATA / "profiles.csv").read_text()
                    + "".join(f"{h},PV3,{v}\n" for h, v in enumerate((0.2, 0.6, 0.4))))
    (dev / "pv.csv").write_text("id,bus,p_max_mw,deviation\nPV3,3,0.2,0\n")
    with pytest.raises(InputError) as exc:
        schedule(str(DATA / "tiny5.m"), profiles=str(prof), devices=str(dev), hours=3,
                 ac_check=False, budget_res=1.0)
    (p,) = exc.value.problems
    assert p.field == "budget_res" and p.ids == ("PV3",) and "fall short" in p.message


def test_a_load_budget_beside_the_aggregate_band_is_refused() -> None:
    """With --aggregate every bus may deviate in every hour (the band bounds the hour's
    total), so a load number in --robust-budget acted on nothing: docs/schedule.md's own
    example `--robust-budget 4 --aggregate 0.95,1.05` ran the same schedule as `--aggregate`
    alone. It is refused like the other options that would act on nothing."""
    out = _refused(["--robust-budget", "2", "--aggregate", "0.95,1.05", "--gamma", "0.1"])
    assert "aggregate" in out and "act on nothing" in out and "0,GAMMA_RES" in out
    with pytest.raises(InputError) as exc:
        schedule(str(DATA / "tiny5.m"), **FILES, hours=3, ac_check=False, budget=2.0,
                 gamma=0.1, budget_kind="aggregate", deterministic=True)
    assert any(p.field == "budget" and "aggregate" in p.message for p in exc.value.problems)

"""``feederopt schedule``: the hourly substation purchase price (the reserved profile element
``price``, absolute $/MWh per hour, instead of the one ``c_buy`` for the whole day).

Before, the purchase price was one scalar ``c_buy`` (default 50 $/MWh) for the day: a profile
row ``price`` was an unknown element (exit 2), and ``ScheduleData.c_buy`` as an array broke
the objective (``np.full``) and the policy bound. Every test here fails on that code (checked
on 4be7265). The note on a price above the curtailment price ``c_shed`` (the tests at the end)
was added later: they fail on b08a844, except the case at a price equal to c_shed (no note).

Truth, independent of the package's model code:

* the purchase cost is the hand sum ``sum_h price_h P_sub,h`` of the result's own series, and
  the objective's decomposition ``sum_h price_h ps_h + c_loss (PWL losses) + c_shed (shed)``;
* a price rise at one hour makes the schedule buy less at that hour (storage shifts the
  purchase to the cheap hours), the direction the economics dictates;
* the deterministic optimum equals an LP written here from the pandapower net's own data
  (LinDistFlow, the storage, the tangent losses; scipy's ``linprog``) at the topology the
  schedule returns, and the smallest such LP over every radial topology of the feeder
  (brute force over its six);
* the robust policy bound with hourly prices is at least the second-stage LP's value at every
  extreme point of a two-hour budget set (brute force, ``extreme_points`` + ``evaluate``). With
  the substation absorber priced at the scalar ``c_buy`` (50 $/MWh) instead of the hour's
  price, the bound fell below the brute-force worst case (checked by hand once: 1480.26 against
  the brute force's 1617.28 $ at 50 and 400 $/MWh; with the hour's price both are 1617.28 $,
  the substation being the only absorber).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from typer.testing import CliRunner

pp = pytest.importorskip("pandapower")

from feederopt.algorithms.ccg import (  # noqa: E402
    closed_by_hour,
    evaluate,
    extreme_points,
    solve_deterministic,
    solve_extensive,
)
from feederopt.algorithms.policy_bound import policy_bound  # noqa: E402
from feederopt.api_schedule import schedule, schedule_inputs  # noqa: E402
from feederopt.cli.app import app  # noqa: E402
from feederopt.errors import InputError, ProblemKind  # noqa: E402
from feederopt.formulations.schedule import nominal  # noqa: E402
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data  # noqa: E402
from netbuild import TIE7_LINES, tie7_pandapower  # noqa: E402

FACTORS = (0.8, 0.9, 1.0)  # the loads' profile per hour
LINES = TIE7_LINES  # line k joins these buses
ETA_CH, ETA_DIS, E_MAX, P_MAX, SOC0 = 0.9, 0.95, 1.0, 0.5, 0.5  # the storage at bus 5
HIGH = (50.0, 50.0, 300.0)  # $/MWh: dear at hour 2
FLAT = (50.0, 50.0, 50.0)
DEAR1 = (50.0, 400.0, 50.0)  # the robust tests' (two hours): dear at hour 1
ROBUST: dict[str, Any] = {"gamma": 0.3, "budget": 1.0, "uncertain_buses": ("3", "6")}


def _net() -> Any:
    """A 20 kV feeder (3 km cables, one tie: the loop 1-2-3-6-5-4), 3.6-4.05 MW of load."""
    return tie7_pandapower()


def _rows(prices: tuple[float, ...] | None, hours: int = 3) -> list[str]:
    rows = [f"{h},load:{i},{f}" for h, f in enumerate(FACTORS[:hours]) for i in range(6)]
    if prices is not None:
        rows += [f"{h},price,{p}" for h, p in enumerate(prices)]
    return rows


@pytest.fixture(scope="module")
def feeder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The net, a storage unit (1 MWh, 0.5 MW, eta 0.9/0.95: a cycle loses energy, so at a
    flat price it stays idle) and the profile tables of the tests."""
    tmp = tmp_path_factory.mktemp("price")
    pp.to_json(_net(), str(tmp / "net.json"))
    dev = tmp / "dev"
    dev.mkdir()
    (dev / "ess.csv").write_text("id,bus,e_max_mwh,p_max_mw,eta_ch,eta_dis,soc0\n"
                                 f"S5,5,{E_MAX},{P_MAX},{ETA_CH},{ETA_DIS},{SOC0}\n")
    for name, prices in (("high", HIGH), ("flat", FLAT), ("dear1", DEAR1)):
        (tmp / f"{name}.csv").write_text("\n".join(["time,element,value", *_rows(prices)])
                                         + "\n")
    return tmp


def _run(feeder: Path, name: str, **kw: Any) -> dict[str, Any]:
    res = schedule(str(feeder / "net.json"), profiles=feeder / f"{name}.csv",
                   devices=feeder / "dev", hours=3, ac_check=False, time_limit_s=120,
                   gap=1e-6, **kw)
    return json.loads(json.dumps(res.to_dict()))  # the result as a user reads it


@pytest.fixture(scope="module")
def high(feeder: Path) -> dict[str, Any]:
    return _run(feeder, "high")


@pytest.fixture(scope="module")
def flat(feeder: Path) -> dict[str, Any]:
    return _run(feeder, "flat")


# ----- results -------------------------------------------------------------------------------
def test_purchase_cost_is_the_hand_sum(high: dict[str, Any]) -> None:
    """The series carry each hour's price and ``price x substation P``; the totals their sum;
    the objective is that sum plus the priced losses and curtailment."""
    s = high["series"]
    assert s["price_per_mwh"] == list(HIGH)
    ps = np.array(s["substation_p_mw"])
    assert ps.min() > 1.0  # the substation buys every hour
    hand = np.array(HIGH) * ps
    assert s["purchase_cost"] == pytest.approx(hand.tolist(), abs=1e-6)
    assert high["nominal"]["purchase_cost"] == pytest.approx(float(hand.sum()), abs=1e-6)
    st = high["settings"]
    rest = st["c_loss"] * high["nominal"]["losses_pwl_mwh"] + st["c_shed"] * (
        high["nominal"]["load_shed_mwh"] + high["nominal"]["ev_unmet_mwh"])
    assert high["objective"] == pytest.approx(float(hand.sum()) + rest, rel=1e-9)
    # at the scalar c_buy (50 $/MWh every hour) the hand sum would be far off
    assert float(hand.sum()) > 50.0 * ps.sum() + 100.0
    assert any("hourly purchase price" in n for n in high["notes"])


def test_a_dear_hour_buys_less(high: dict[str, Any], flat: dict[str, Any]) -> None:
    """At a flat price a storage cycle only loses energy, so the storage stays idle and the
    purchase follows the load; with the price at 300 $/MWh in hour 2 the storage charges in the
    cheap hours and discharges in the dear one: less is bought in hour 2, more before."""
    f, h = np.array(flat["series"]["substation_p_mw"]), np.array(high["series"]["substation_p_mw"])
    assert h[2] < f[2] - 0.4  # measured: 3.55 against 4.05 MW (objective 1443.07 $)
    assert h[:2].sum() > f[:2].sum() + 0.4
    assert high["series"]["ess_discharge_mw"]["S5"][2] > 0.4
    assert max(flat["series"]["ess_discharge_mw"]["S5"]) < 1e-6


# ----- the deterministic optimum against an LP built here ------------------------------------
@functools.cache
def _lp_inputs(feeder: Path) -> tuple[Any, Any]:
    """The pandapower net and the model's data (voltage band, tangent points) that the LPs
    read, once per feeder folder: reading the net's JSON takes pandapower 1.3 s, and the test
    builds eight LPs (read twice each, that was 20 s of its 23)."""
    net = pp.from_json(str(feeder / "net.json"))
    inputs = schedule_inputs(str(feeder / "net.json"), feeder / "high.csv", feeder / "dev", 3)
    return net, build_schedule_data(*inputs, ScheduleSettings(hours=3))


def _own_lp(feeder: Path, prices: tuple[float, ...], open_line: int) -> float:
    """The deterministic schedule's LP with ``line:open_line`` open, from the pandapower net
    (impedances on a 1 MVA base) and the documented model: LinDistFlow, ``ps >= 0`` at the
    substation, the storage (``soc_h = soc_{h-1} + eta_ch pch - eta_dis pdis``, ``0 <= soc <=
    E``, ending at least at its start; charge and discharge not both, checked on the answer),
    curtailment at ``c_shed``, the losses ``lp >= r (2 a P - a^2)`` at the model's tangent
    points ``+-a``, the cables' charging at 1 p.u. The voltage band and the tangent points are
    the model's data."""
    net, d = _lp_inputs(feeder)
    st = ScheduleSettings()
    H, n = 3, 7
    zb = 20.0 ** 2  # ohm on a 1 MVA base at 20 kV
    closed = [k for k in range(len(LINES)) if k != open_line]
    r = {k: float(net.line.r_ohm_per_km[k] * net.line.length_km[k]) / zb for k in closed}
    x = {k: float(net.line.x_ohm_per_km[k] * net.line.length_km[k]) / zb for k in closed}
    pd = np.zeros((H, n))
    qd = np.zeros((H, n))
    for i in net.load.index:
        pd[:, int(net.load.bus[i])] += float(net.load.p_mw[i]) * np.array(FACTORS)
        qd[:, int(net.load.bus[i])] += float(net.load.q_mvar[i]) * np.array(FACTORS)
    cols: dict[tuple[Any, ...], int] = {}

    def var(*key: Any) -> int:
        return cols.setdefault(key, len(cols))

    for h in range(H):
        var("ps", h), var("qs", h), var("pch", h), var("pdis", h), var("soc", h)
        for k in closed:
            var("P", h, k), var("Q", h, k), var("lp", h, k), var("lq", h, k)
        for b in range(n):
            var("v", h, b), var("pr", h, b)
    N = len(cols)
    eq: list[tuple[dict[int, float], float]] = []
    le: list[tuple[dict[int, float], float]] = []
    # the cables' shunts at 1 p.u. (pandapower's pi model: j omega C l, half at each end of a
    # closed line; a line opened by its switch at its first bus stays energised from the
    # other and loads it with its input admittance y/2 + 1/(z + 2/y))
    draw_p, inject_q = np.zeros(n), np.zeros(n)
    for k, (a, c) in enumerate(LINES):
        length = float(net.line.length_km[k])
        y = 1j * 2 * np.pi * 50.0 * float(net.line.c_nf_per_km[k]) * 1e-9 * length * zb
        if k == open_line:
            z = complex(float(net.line.r_ohm_per_km[k]), float(net.line.x_ohm_per_km[k]))
            y_in = y / 2 + 1 / (z * length / zb + 2 / y)
            draw_p[c] += y_in.real
            inject_q[c] += y_in.imag
        else:
            inject_q[a] += y.imag / 2
            inject_q[c] += y.imag / 2
    for h in range(H):
        for b in range(n):  # inflow - outflow + injections = demand
            row: dict[int, float] = {cols[("pr", h, b)]: 1.0}
            qrow: dict[int, float] = {cols[("pr", h, b)]: qd[h, b] / pd[h, b] if pd[h, b] else 0}
            if b == 0:
                row[cols[("ps", h)]] = 1.0
                qrow[cols[("qs", h)]] = 1.0
            if b == 5:
                row[cols[("pdis", h)]] = 1.0
                row[cols[("pch", h)]] = -1.0
            for k in closed:
                a, c = LINES[k]
                sign = 1.0 if c == b else -1.0 if a == b else 0.0
                if sign:
                    row[cols[("P", h, k)]] = sign
                    qrow[cols[("Q", h, k)]] = sign
            eq.append((row, pd[h, b] + draw_p[b]))
            eq.append((qrow, qd[h, b] - inject_q[b]))
        for k in closed:  # v_t = v_f - 2 (r P + x Q)
            a, c = LINES[k]
            eq.append(({cols[("v", h, c)]: 1.0, cols[("v", h, a)]: -1.0,
                        cols[("P", h, k)]: 2 * r[k], cols[("Q", h, k)]: 2 * x[k]}, 0.0))
            for a_t in d.tangents:
                for sgn in (1.0, -1.0):
                    for flow, loss in (("P", "lp"), ("Q", "lq")):
                        le.append(({cols[(flow, h, k)]: 2 * sgn * a_t * r[k],
                                    cols[(loss, h, k)]: -1.0}, r[k] * a_t * a_t))
        prev = {cols[("soc", h - 1)]: -1.0} if h else {}
        eq.append(({cols[("soc", h)]: 1.0, **prev, cols[("pch", h)]: -ETA_CH,
                    cols[("pdis", h)]: ETA_DIS}, 0.0 if h else SOC0 * E_MAX))
    cost = np.zeros(N)
    lb, ub = np.zeros(N), np.full(N, np.inf)
    for key, j in cols.items():
        kind, h = key[0], key[1]
        if kind == "ps":
            cost[j], ub[j] = prices[h], st.ps_max_mw
        elif kind == "qs":
            lb[j], ub[j] = -st.ps_max_mw, st.ps_max_mw
        elif kind in ("pch", "pdis"):
            ub[j] = P_MAX
        elif kind == "soc":
            lb[j], ub[j] = (SOC0 * E_MAX if h == H - 1 else 0.0), E_MAX
        elif kind in ("P", "Q"):
            lb[j] = -np.inf
        elif kind in ("lp", "lq"):
            cost[j] = st.c_loss
        elif kind == "v":
            b = key[2]
            lb[j], ub[j] = (1.0, 1.0) if b == 0 else (d.v_min2[b], d.v_max2[b])
        elif kind == "pr":
            cost[j], ub[j] = st.c_shed, pd[h, key[2]]

    def mat(rows: list[tuple[dict[int, float], float]]) -> tuple[sp.csr_matrix, np.ndarray]:
        a = sp.lil_matrix((len(rows), N))
        for i, (row, _) in enumerate(rows):
            for j, v in row.items():
                a[i, j] = v
        return a.tocsr(), np.array([rhs for _, rhs in rows])

    a_eq, b_eq = mat(eq)
    a_ub, b_ub = mat(le)
    lp = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                 bounds=list(zip(lb, ub, strict=True)), method="highs")
    assert lp.status == 0, lp.message
    both = [min(lp.x[cols[("pch", h)]], lp.x[cols[("pdis", h)]]) for h in range(H)]
    assert max(both) < 1e-7  # a feasible storage mode in every hour: the MILP's optimum too
    return float(lp.fun)


def test_deterministic_optimum_equals_own_lp(feeder: Path, high: dict[str, Any]) -> None:
    """The schedule's objective is the LP's at its own topology, and the least LP over every
    radial topology (open one line of the loop; line 0 is a bridge)."""
    (opened,) = high["open_lines"]
    k = int(opened.split(":")[1])
    assert _own_lp(feeder, HIGH, k) == pytest.approx(high["objective"], rel=1e-7)
    best = min(_own_lp(feeder, HIGH, j) for j in range(1, len(LINES)))
    assert best == pytest.approx(high["objective"], rel=1e-7)
    # and the prices matter: the LP at a flat 50 $/MWh is far from it
    assert _own_lp(feeder, FLAT, k) < high["objective"] - 100.0


# ----- the robust bound --------------------------------------------------------------------
@functools.cache
def _robust_data(feeder: Path) -> Any:
    """The two-hour robust instance's data, read once per feeder folder (two tests use it;
    the data is frozen: a test changes it by ``dataclasses.replace``)."""
    inputs = schedule_inputs(str(feeder / "net.json"), feeder / "dear1.csv", feeder / "dev", 2)
    return build_schedule_data(*inputs, ScheduleSettings(hours=2, **ROBUST))


def test_policy_bound_with_hourly_prices_above_brute_force(feeder: Path) -> None:
    """Two hours at 50 and 400 $/MWh (the profile's), load deviations of 30 % at buses 3 and 6
    for one hour each: the policy bound at the deterministic first stage is at least the
    second-stage LP's value at each of the 25 extreme points of the budget set."""
    d = _robust_data(feeder)
    assert d.buy_price().tolist() == [50.0, 400.0]
    det = solve_deterministic(d, gap=1e-7)
    x = {"y": det.closed[0], "z": det.z}
    points = extreme_points(d)
    assert len(points) == 25
    values = [evaluate(d, x, p)[0] for p in points]
    q0, y0 = evaluate(d, x, nominal(d))
    pb = policy_bound(d, x, closed_by_hour(d, x), y0, q0)
    assert pb.value is not None, pb.reason
    assert max(values) - 1e-9 <= pb.value <= 1.05 * max(values)
    assert max(values) > q0 + 50.0  # the dear hour's deviations matter
    # the scalar keeps working: a float, and an array of H equal prices, give the same LP
    flat = dataclasses.replace(d, c_buy=80.0)
    same = dataclasses.replace(d, c_buy=np.full(2, 80.0))
    assert evaluate(flat, x, points[3])[0] == pytest.approx(evaluate(same, x, points[3])[0],
                                                            rel=1e-12)
    with pytest.raises(ValueError, match="one per hour"):
        dataclasses.replace(d, c_buy=np.ones(3)).buy_price()


def test_robust_schedule_with_prices_against_brute_force(feeder: Path) -> None:
    """The robust run (C&CG) with the profile's prices: its objective is at least the largest
    LP value over the extreme points at its first stage, which is at least the robust optimum
    of the brute-force MILP over every extreme point (``solve_extensive``), and within the
    run's gap of that optimum."""
    res = schedule(str(feeder / "net.json"), profiles=feeder / "dear1.csv",
                   devices=feeder / "dev", hours=2, ac_check=False, time_limit_s=120,
                   gap=1e-4, **ROBUST)
    assert res.method != "deterministic" and res.status == "optimal"
    assert res.series.price_per_mwh == [50.0, 400.0]
    d = _robust_data(feeder)
    y = np.array([0.0 if f"line:{k}" in res.open_lines else 1.0 for k in range(len(LINES))])
    x = {"y": y, "z": np.array(res.ess_discharge_mode["S5"], float)}
    brute = max(evaluate(d, x, p)[0] for p in extreme_points(d))
    ext = solve_extensive(d, gap=1e-7).objective
    assert ext - 1e-6 <= brute <= res.objective + 1e-6
    assert res.objective <= ext * (1 + 2e-4) + 1e-6


# ----- bad price rows ----------------------------------------------------------------------
@pytest.mark.parametrize(("rows", "words", "named"), [
    (["0,price,50", "2,price,60"], "missing hour", "price: hour 1"),
    (["0,price,50", "1,price,nan", "2,price,60"], "not a number", "price@1"),
    (["0,price,50", "1,price,55", "1,price,56", "2,price,60"], "more than one value",
     "price@1"),
    (["0,price,50", "1,price,55", "2,price,-5"], "negative purchase price", "price@2"),
])
def test_bad_price_rows_exit_2(feeder: Path, tmp_path: Path, rows: list[str], words: str,
                               named: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(["time,element,value", *_rows(None), *rows]) + "\n")
    r = CliRunner().invoke(app, ["schedule", str(feeder / "net.json"), "--profiles", str(path),
                                 "--devices", str(feeder / "dev"), "--hours", "3",
                                 "--no-ac-check", "--time-limit", "60"])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert words in text and named in text
    with pytest.raises(InputError) as err:
        schedule_inputs(str(feeder / "net.json"), path, feeder / "dev", 3)
    (p,) = err.value.problems
    assert p.kind is ProblemKind.BAD_TIMESERIES
    if "negative" in words:  # the hint says why
        assert "$/MWh" in p.hint and "marginal value of demand" in p.hint


def test_price_id_collision_is_refused(feeder: Path, tmp_path: Path) -> None:
    """A device named ``price`` beside a ``price`` element: refused (its rows would be read as
    prices); without the element the device id is fine."""
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "ess.csv").write_text("id,bus,e_max_mwh,p_max_mw,eta_ch,eta_dis,soc0\n"
                                 "price,5,1.0,0.5,0.9,0.95,0.5\n")
    with pytest.raises(InputError) as err:
        schedule_inputs(str(feeder / "net.json"), feeder / "high.csv", dev, 3)
    (p,) = err.value.problems
    assert p.kind is ProblemKind.DUPLICATE_ID and p.ids == ("price",) and "reserved" in p.message
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(["time,element,value", *_rows(None)]) + "\n")
    _, _, prof = schedule_inputs(str(feeder / "net.json"), plain, dev, 3)
    assert "price" not in prof.elements
    r = CliRunner().invoke(app, ["schedule", str(feeder / "net.json"), "--profiles",
                                 str(feeder / "high.csv"), "--devices", str(dev), "--hours",
                                 "3", "--no-ac-check"])
    assert r.exit_code == 2 and "reserved" in " ".join(r.output.split())


def test_radial_topologies_of_the_feeder() -> None:
    """The brute force's premise: opening any one line of the loop (lines 1-6) leaves a
    spanning tree, and line 0 is the only bridge."""
    import networkx as nx

    for k in range(len(LINES)):
        g = nx.Graph([e for j, e in enumerate(LINES) if j != k])
        assert (g.number_of_nodes() == 7 and nx.is_tree(g)) == (k != 0)


def test_console_and_json_show_the_purchase_cost(feeder: Path, tmp_path: Path) -> None:
    """The console's totals give the purchase cost in $ (the hand sum of the JSON's series), and
    the JSON carries the prices and the hourly costs."""
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["schedule", str(feeder / "net.json"), "--profiles",
                                 str(feeder / "high.csv"), "--devices", str(feeder / "dev"),
                                 "--hours", "3", "--no-ac-check", "--gap", "1e-6", "--json",
                                 str(out)], env={"COLUMNS": "200"})  # no wrapped cells
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    s = doc["series"]
    assert s["price_per_mwh"] == list(HIGH)
    hand = sum(p * q for p, q in zip(HIGH, s["substation_p_mw"], strict=True))
    assert sum(s["purchase_cost"]) == pytest.approx(hand, abs=1e-6)
    text = " ".join(r.output.split())
    assert f"purchase cost (each hour's price) │ {hand:,.4f} $" in text, text


def test_hourly_plot_draws_a_varying_price(high: dict[str, Any],
                                           flat: dict[str, Any]) -> None:
    """The substation panel carries the hourly price on its own axis when it varies (the
    profile's values, drawn as steps), and no price axis at one flat price. The documents
    are the module's two runs of these profiles (the JSON as a user reads it), not two more
    solves."""
    from feederopt.report.schedule import hourly_figure

    def price_lines(doc: dict[str, Any]) -> list[Any]:
        import matplotlib.pyplot as plt

        fig = hourly_figure(doc)
        lines = [ln for ax in fig.axes for ln in ax.get_lines()
                 if ln.get_label().startswith("price")]
        plt.close(fig)  # pyplot keeps every figure it made until closed
        return lines

    (line,) = price_lines(high)
    assert list(line.get_ydata()[:3]) == list(HIGH)  # the steps over hours 0..2
    assert price_lines(flat) == []


C_SHED = 500.0  # the curtailment price's default ($/MWh, ScheduleSettings.c_shed)


@pytest.mark.parametrize(("prices", "over"), [((50.0, 600.0, 50.0), [1]),
                                              ((50.0, C_SHED, 50.0), [])])
def test_price_above_curtailment_is_noted(feeder: Path, tmp_path: Path,
                                          prices: tuple[float, ...], over: list[int]) -> None:
    """A purchase price above c_shed makes curtailment the cheaper supply: the console and the
    JSON's notes name those hours (and no note at a price equal to c_shed), and the schedule
    indeed sheds there. Truth: without devices the substation is the only source, so at
    600 $/MWh every MW of the hour's load (the net's loads times their profile, summed here) is
    shed and nothing is bought; at 50 $/MWh nothing is shed."""
    table = tmp_path / "prices.csv"
    table.write_text("\n".join(["time,element,value", *_rows(prices)]) + "\n")
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["schedule", str(feeder / "net.json"), "--profiles", str(table),
                                 "--hours", "3", "--no-ac-check", "--gap", "1e-6", "--json",
                                 str(out)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    doc = json.loads(out.read_text())
    noted = [n for n in doc["notes"] if "exceeds the curtailment price" in n]
    if not over:
        assert not noted and "exceeds the curtailment price" not in text
        return
    (note,) = noted
    for h in range(3):
        assert (f"hour(s) {h} ({prices[h]:g} $/MWh)" in note) == (h in over)
    assert f"c_shed {C_SHED:g} $/MWh" in note and "sheds the load" in note
    assert note in text  # printed by the CLI
    net = _net()
    load = [float(net.load.p_mw.sum()) * f for f in FACTORS]
    s = doc["series"]
    for h in range(3):
        shed = load[h] if h in over else 0.0
        assert s["load_shed_mw"][h] == pytest.approx(shed, abs=1e-6)
        # the open tie's energised end draws a little (its charging current's losses)
        assert s["substation_p_mw"][h] == pytest.approx(load[h] - shed + s["shunt_p_mw"][h],
                                                        rel=0.02, abs=1e-9)



def test_scalar_purchase_price_above_curtailment_is_noted() -> None:
    """Without a price element, a c_buy above c_shed is noted for every hour (API settings;
    the CLI's --buy-price); at c_shed, or with hourly prices at most c_shed, no note."""
    from feederopt.network.timeseries import Profiles
    from feederopt.problems.schedule import price_notes

    loads = Profiles(3, ["load:0"], np.ones((3, 1)))
    (note,) = price_notes(loads, ScheduleSettings(hours=3, c_buy=600.0))
    assert "c_buy 600 $/MWh exceeds the curtailment price c_shed 500 $/MWh in every hour" in note
    assert price_notes(loads, ScheduleSettings(hours=3, c_buy=C_SHED)) == []
    prices = Profiles(3, ["price"], np.array([[50.0], [C_SHED], [0.0]]))
    assert not any("c_shed" in n for n in price_notes(prices, ScheduleSettings(hours=3)))


def test_price_options_act_on_the_schedule(feeder: Path, tmp_path: Path) -> None:
    """--buy-price, --shed-price (and the other price options) set the settings' prices: with
    no devices the substation is the only source, so at --shed-price 40 below --buy-price 70
    every MW of each hour's load (the net's loads times their profile, summed here) is shed and
    nothing is bought, the objective being 40 $/MWh times that load; at --shed-price 500 nothing
    is shed and the purchase cost is 70 $/MWh times the purchase, by hand."""
    table = tmp_path / "loads.csv"
    table.write_text("\n".join(["time,element,value", *_rows(None)]) + "\n")
    net = _net()
    load = [float(net.load.p_mw.sum()) * f for f in FACTORS]

    def run(*opts: str) -> dict[str, Any]:
        out = tmp_path / f"r{len(list(tmp_path.iterdir()))}.json"
        r = CliRunner().invoke(app, ["schedule", str(feeder / "net.json"), "--profiles",
                                     str(table), "--hours", "3", "--no-ac-check", "--gap",
                                     "1e-6", "--json", str(out), *opts])
        assert r.exit_code == 0, r.output
        return dict(json.loads(out.read_text()))

    shed = run("--buy-price", "70", "--shed-price", "40", "--loss-price", "0")
    assert shed["series"]["load_shed_mw"] == pytest.approx(load, abs=1e-6)
    # only what the open tie's energised end draws (its charging current's losses) is bought
    assert np.allclose(shed["series"]["substation_p_mw"], shed["series"]["shunt_p_mw"],
                       atol=1e-9)
    assert shed["objective"] == pytest.approx(
        40.0 * sum(load) + 70.0 * sum(shed["series"]["shunt_p_mw"]), rel=1e-6)
    buy = run("--buy-price", "70", "--shed-price", "500")
    s = buy["series"]
    assert max(s["load_shed_mw"]) == pytest.approx(0.0, abs=1e-6)
    assert s["price_per_mwh"] == [70.0] * 3
    assert sum(s["purchase_cost"]) == pytest.approx(70.0 * sum(s["substation_p_mw"]), rel=1e-9)


@pytest.mark.parametrize(("opt", "value"), [("--shed-price", "-1"), ("--loss-price", "nan"),
                                            ("--buy-price", "inf"), ("--spill-price", "-0.5")])
def test_bad_price_options_exit_2(feeder: Path, opt: str, value: str) -> None:
    """A negative, NaN or infinite price is refused before the solve, naming the option."""
    r = CliRunner().invoke(app, ["schedule", str(feeder / "net.json"), "--profiles",
                                 str(feeder / "flat.csv"), "--hours", "3", "--no-ac-check",
                                 opt, value])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    # The CLI names the flag alone since smalls41 (option_ref; Python says the keyword).
    assert f"{opt} is {value}" in text and "must be >= 0 and finite" in text, text
    assert f"(hint: e.g. {opt} " in text, text  # an example of the option (nits #2)

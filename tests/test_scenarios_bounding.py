"""``generate_scenarios(bounding=True)`` / ``feederopt scenarios --bounding``: the two bounding
futures of the generator's own ranges, ``peak`` and ``valley``, beside the drawn scenarios.

Every expected value here is recomputed from the network's loads and the documented ranges
(the docstring's recipe, re-implemented in :func:`_recipe`), never copied from the
generator's output."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.network import Network

TAN_HP = math.tan(math.acos(0.95))


@pytest.fixture(scope="module")
def net() -> Network:
    return feederopt.load("case33bw")


def _loads(net: Network) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    ld = net.loads.filter(pl.col("in_service"))
    return ([str(x) for x in ld["id"]], [str(x) for x in ld["bus"]],
            ld["p_mw"].cast(pl.Float64).to_numpy(), ld["q_mvar"].cast(pl.Float64).to_numpy())


def _bus_loads(net: Network) -> dict[str, float]:
    """Each load bus's nominal p [MW], in the order of its first load."""
    out: dict[str, float] = {}
    for _, b, p, _ in zip(*_loads(net), strict=True):
        out[b] = out.get(b, 0.0) + float(p)
    return {b: p for b, p in out.items() if p > 0}


def _recipe(net: Network, count: int, seed: int, *, pv_share: float = 0.3,
            ev_share: float = 0.2, hp_share: float = 0.1, growth: float = 0.2,
            noise: float = 0.05) -> list[tuple[str, str, str, str, float, float, float]]:
    """The drawn scenarios by the docstring of generate_scenarios, with its default sizes:
    per scenario g ~ U(0, growth), e_k ~ U(-noise, noise) per load, a capacity factor cf ~
    U(0.6, 1.0), then per technology (pv, ev, hp) a level ~ U(0, share), round(level * B)
    hosts without replacement among the load buses and one size per host."""
    rng = np.random.default_rng(seed)
    ids, _, p0, q0 = _loads(net)
    bus_p = _bus_loads(net)
    hosts = list(bus_p)
    sizes = {"pv": (0.5, 1.5), "ev": (0.1, 0.4), "hp": (0.1, 0.3)}
    rows = []
    for s in range(count):
        name = f"s{s:0{len(str(count - 1))}d}"
        g = rng.uniform(min(0.0, growth), max(0.0, growth))
        e = rng.uniform(-noise, noise, size=len(ids))
        rows += [(name, "load", lid, "load", p * (1 + g) * (1 + ek), q * (1 + g) * (1 + ek),
                  1 / count) for lid, p, q, ek in zip(ids, p0, q0, e, strict=True)]
        cf = rng.uniform(0.6, 1.0)
        for der, share in (("pv", pv_share), ("ev", ev_share), ("hp", hp_share)):
            k = round(rng.uniform(0.0, share) * len(hosts))
            chosen = sorted(rng.choice(len(hosts), size=k, replace=False)) if k else []
            r = rng.uniform(*sizes[der], size=len(chosen))
            for i, ri in zip(chosen, r, strict=True):
                c = ri * bus_p[hosts[i]]
                p, q = {"pv": (-c * cf, 0.0), "ev": (c, 0.0), "hp": (c, c * TAN_HP)}[der]
                rows.append((name, "bus", hosts[i], der, p, q, 1 / count))
    return rows


def _assert_rows(table: pl.DataFrame, rows: list[tuple[Any, ...]]) -> None:
    got = table.select("scenario", "kind", "element", "der", "p_mw", "q_mvar",
                       "weight").rows()
    assert [r[:4] for r in got] == [r[:4] for r in rows]
    for a, b in zip(got, rows, strict=True):
        assert a[4:] == pytest.approx(b[4:], rel=1e-12, abs=1e-15), (a, b)


def test_without_bounding_the_table_is_the_documented_draws(net: Network) -> None:
    table = feederopt.generate_scenarios(net, count=4, seed=7)
    _assert_rows(table, _recipe(net, 4, 7))
    assert set(table["scenario"]) == {"s0", "s1", "s2", "s3"}


def test_bounding_keeps_the_draws_and_shares_the_weight(net: Network) -> None:
    table = feederopt.generate_scenarios(net, count=4, seed=7, bounding=True,
                                         bounding_weight=0.05)
    drawn = table.filter(~pl.col("scenario").is_in(["peak", "valley"]))
    # the same rows as the seed's draws, at (1 - 2 x 0.05) / 4 each
    _assert_rows(drawn, [(*r[:6], 0.9 / 4) for r in _recipe(net, 4, 7)])
    bound = table.filter(pl.col("scenario").is_in(["peak", "valley"]))
    assert bound["weight"].to_list() == pytest.approx([0.05] * bound.height)
    # the bounding scenarios come after the drawn ones
    assert table["scenario"].to_list()[-bound.height:] == bound["scenario"].to_list()
    per = table.group_by("scenario").agg(pl.col("weight").first())
    assert per["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    default = feederopt.generate_scenarios(net, count=4, seed=7, bounding=True)
    assert set(default.filter(pl.col("scenario") == "peak")["weight"]) == {0.01}


def _net_p(table: pl.DataFrame, col: str = "p_mw") -> dict[str, float]:
    """Total net demand per scenario (every load has a row, so the rows' sum)."""
    return dict(table.group_by("scenario").agg(pl.col(col).sum()).rows())


@pytest.mark.parametrize("kw", [
    {},
    {"growth": -0.3, "noise": 0.2, "pv_share": 0.6, "ev_share": 0.45, "hp_share": 0.33},
    {"growth": 0.5, "noise": 0.1, "pv_share": 1.0, "ev_share": 0.05},
])
def test_peak_and_valley_bound_every_draw(net: Network, kw: dict[str, float]) -> None:
    growth, noise = kw.get("growth", 0.2), kw.get("noise", 0.05)
    shares = {d: kw.get(f"{d}_share", s) for d, s in (("pv", 0.3), ("ev", 0.2), ("hp", 0.1))}
    ids, _, p0, q0 = _loads(net)
    assert (q0 >= 0).all()  # the premise of the q bound (docstring: where q_k^0 >= 0)
    bus_p = _bus_loads(net)
    big = sorted(bus_p.values(), reverse=True)

    def top(share: float) -> float:  # the round(share x B) largest buses' nominal load
        return sum(big[:round(share * len(big))])

    g_hi, g_lo = max(0.0, growth), min(0.0, growth)
    # recomputed from the network's loads and the ranges (default sizes and capacity factor)
    peak_total = (p0.sum() * (1 + g_hi) * (1 + noise) + 0.4 * top(shares["ev"])
                  + 0.3 * top(shares["hp"]))
    valley_total = p0.sum() * (1 + g_lo) * (1 - noise) - 1.5 * 1.0 * top(shares["pv"])
    for seed in range(4):
        table = feederopt.generate_scenarios(net, count=25, seed=seed, bounding=True, **kw)
        totals = _net_p(table)
        assert totals["peak"] == pytest.approx(peak_total, rel=1e-12)
        assert totals["valley"] == pytest.approx(valley_total, rel=1e-12)
        drawn = {s: v for s, v in totals.items() if s not in ("peak", "valley")}
        assert len(drawn) == 25
        assert max(drawn.values()) <= peak_total + 1e-12
        assert min(drawn.values()) >= valley_total - 1e-12
        q = _net_p(table, "q_mvar")
        assert max(v for s, v in q.items() if s in drawn) <= q["peak"] + 1e-12
        assert min(v for s, v in q.items() if s in drawn) >= q["valley"] - 1e-12
        # every load at the top (bottom) of its range, at or above (below) every draw
        loads = table.filter(pl.col("kind") == "load").pivot(
            on="scenario", index="element", values="p_mw")
        loads = loads.join(pl.DataFrame({"element": ids, "p0": p0}), on="element")
        assert loads.height == len(ids)
        np.testing.assert_allclose(loads["peak"], loads["p0"] * (1 + g_hi) * (1 + noise),
                                   rtol=1e-12)
        np.testing.assert_allclose(loads["valley"], loads["p0"] * (1 + g_lo) * (1 - noise),
                                   rtol=1e-12)
        m = loads.select(sorted(drawn)).to_numpy()
        assert (m <= loads["peak"].to_numpy()[:, None] + 1e-15).all()
        assert (m >= loads["valley"].to_numpy()[:, None] - 1e-15).all()


def test_the_hosts_are_the_largest_load_buses(net: Network) -> None:
    table = feederopt.generate_scenarios(net, count=1, seed=0, bounding=True, pv_share=0.3,
                                         ev_share=0.2, hp_share=0.1)
    bus_p = _bus_loads(net)
    for scen, der, share, size in (("peak", "ev", 0.2, 0.4), ("peak", "hp", 0.1, 0.3),
                                   ("valley", "pv", 0.3, 1.5)):
        rows = table.filter((pl.col("scenario") == scen) & (pl.col("der") == der))
        hosts = set(rows["element"])
        assert len(hosts) == rows.height == round(share * len(bus_p))  # 6, 3, 10 of 32
        least_host = min(bus_p[b] for b in hosts)
        assert all(p <= least_host for b, p in bus_p.items() if b not in hosts)
        sign = -1.0 if der == "pv" else 1.0  # PV at capacity factor 1.0, the range's top
        for b, p, q in rows.select("element", "p_mw", "q_mvar").rows():
            assert p == pytest.approx(sign * size * bus_p[b], rel=1e-12)
            assert q == pytest.approx(p * TAN_HP if der == "hp" else 0.0, rel=1e-12)
    # no PV at the peak, no EV or heat pump in the valley
    assert set(table.filter(pl.col("scenario") == "peak")["der"]) == {"load", "ev", "hp"}
    assert set(table.filter(pl.col("scenario") == "valley")["der"]) == {"load", "pv"}


def test_at_full_shares_every_bus_is_bounded(net: Network) -> None:
    """With every share 1 every load bus hosts each technology in the bounding scenarios, so
    the net demand is bounded bus by bus, not only in total."""
    table = feederopt.generate_scenarios(net, count=30, seed=5, bounding=True, pv_share=1.0,
                                         ev_share=1.0, hp_share=1.0, growth=0.4, noise=0.1)
    ids, buses, _, _ = _loads(net)
    at = dict(zip(ids, buses, strict=True))  # a load row's bus; a bus row names its bus
    per_bus = table.with_columns(pl.when(pl.col("kind") == "load").then(
        pl.col("element").replace_strict(at, default=None)).otherwise(pl.col("element"))
        .alias("bus")).group_by("scenario", "bus").agg(pl.col("p_mw").sum()).pivot(
        on="scenario", index="bus", values="p_mw").fill_null(0.0)
    drawn = [c for c in per_bus.columns if c.startswith("s")]
    m = per_bus.select(drawn).to_numpy()
    assert (m <= per_bus["peak"].to_numpy()[:, None] + 1e-12).all()
    assert (m >= per_bus["valley"].to_numpy()[:, None] - 1e-12).all()


def test_growth_fixed_bounds_at_the_fixed_growth(net: Network) -> None:
    table = feederopt.generate_scenarios(net, count=3, seed=1, bounding=True, growth=-0.2,
                                         growth_fixed=True, noise=0.0, pv_share=0.0,
                                         ev_share=0.0, hp_share=0.0)
    totals = _net_p(table)
    nominal = _loads(net)[2].sum()
    for s in ("s0", "s1", "s2", "peak", "valley"):
        assert totals[s] == pytest.approx(0.8 * nominal, rel=1e-12)


@pytest.mark.parametrize(("kw", "fields"), [
    ({"bounding_weight": 0.02}, ["bounding_weight"]),             # no bounding scenario
    ({"bounding": True, "bounding_weight": 0.5}, ["bounding_weight"]),  # drawn ones at 0
    ({"bounding": True, "bounding_weight": 0.0}, ["bounding_weight"]),
    ({"bounding": True, "bounding_weight": -0.1}, ["bounding_weight"]),
    ({"bounding": True, "bounding_weight": math.nan}, ["bounding_weight"]),
    ({"bounding": True, "bounding_weight": "0.1"}, ["bounding_weight"]),
    ({"bounding": True, "bounding_weight": True}, ["bounding_weight"]),
    ({"bounding": "yes"}, ["bounding"]),
    ({"bounding": 1, "count": 0}, ["bounding", "count"]),
])
def test_bad_bounding_arguments_are_typed_problems(net: Network, kw: dict[str, Any],
                                                   fields: list[str]) -> None:
    with pytest.raises(InputError) as exc:
        feederopt.generate_scenarios(net, **{"count": 2, **kw})
    assert sorted(p.field or "" for p in exc.value.problems) == fields
    assert all(p.kind.value == "bad_scenario" for p in exc.value.problems)


@pytest.mark.parametrize(("args", "said"), [
    (["--bounding-weight", "0.02"], "--bounding-weight is given without --bounding"),
    (["--bounding", "--bounding-weight", "0.6"], "--bounding-weight is 0.6"),
    (["--bounding", "--load-shapes", "daily"],
     "--bounding do(es) not apply with --load-shapes"),
])
def test_cli_refuses_bad_bounding_options(tmp_path: Path, args: list[str], said: str) -> None:
    out = tmp_path / "s.csv"
    res = CliRunner().invoke(app, ["scenarios", "case33bw", "--out", str(out), "-n", "2",
                                   *args], env={"COLUMNS": "240"})
    assert res.exit_code == 2, res.output
    assert said in " ".join(res.output.split())
    assert "Traceback" not in res.output and not out.exists()


def test_solve_runs_on_a_bounding_file(tmp_path: Path) -> None:
    runner = CliRunner()
    scen, js = tmp_path / "scen.csv", tmp_path / "r.json"
    res = runner.invoke(app, ["scenarios", "case33bw", "--out", str(scen), "-n", "2",
                              "--seed", "3", "--bounding"], env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output
    assert "bounding peak and valley (weight 0.01 each)" in " ".join(res.output.split())
    res = runner.invoke(app, ["solve", "case33bw", "--scenarios", str(scen), "--no-ac-check",
                              "--workers", "1", "--time-limit", "5", "--json", str(js)],
                        env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output
    doc = json.loads(js.read_text())
    weights = {r["scenario"]: r["weight"] for r in doc["scenarios"]}
    assert weights == pytest.approx({"s0": 0.49, "s1": 0.49, "peak": 0.01, "valley": 0.01})
    # the weights as written sum to 1: no note that they were normalised
    assert not any("weights summed" in n for n in doc.get("notes", []))

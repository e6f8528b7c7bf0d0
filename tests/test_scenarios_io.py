"""Scenario files: the long format, its meaning, its validation (typed problems, exit 2), and the
seeded generator."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.scenarios import (
    generate_scenarios,
    load_scenarios,
    read_scenario_table,
    resolve_scenarios,
    write_scenarios,
)
from netbuild import tiny

runner = CliRunner()


@pytest.fixture(scope="module")
def net():
    return tiny().check()


def table(rows: list[tuple], kind: bool = False) -> pl.DataFrame:
    cols = ["scenario", "element", "p_mw", "q_mvar", "weight"]
    if kind:
        cols = ["scenario", "kind", "element", "p_mw", "q_mvar", "weight"]
    return pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])


def problems_of(net, df) -> list:
    with pytest.raises(InputError) as exc:
        resolve_scenarios(net, df)
    assert all(p.kind is ProblemKind.BAD_SCENARIO for p in exc.value.problems)
    return list(exc.value.problems)


def test_meaning_load_rows_replace_bus_rows_add(net) -> None:
    # Tiny: loads La@a 0.2, Lb@b 0.3, Lc@c 0.25, Ld@d 0.1 MW. Bus ids are a..d, s.
    df = table([
        ("one", "Lb", 0.5, 0.2, 3.0),     # replaces Lb's 0.3 MW
        ("one", "c", -0.4, 0.0, 3.0),     # PV at bus c: adds -0.4 MW
        ("one", "c", 0.1, 0.05, 3.0),     # an EV at c: adds up
        ("two", "La", 0.0, 0.0, 1.0),
    ])
    s = resolve_scenarios(net, df)
    assert s.names == ["one", "two"]
    np.testing.assert_allclose(s.weights, [0.75, 0.25])  # normalised
    buses = s.bus_ids
    p1 = dict(zip(buses, s.p_mw[0], strict=True))
    assert p1 == pytest.approx({"s": 0.0, "a": 0.2, "b": 0.5, "c": 0.25 - 0.4 + 0.1, "d": 0.1})
    q1 = dict(zip(buses, s.q_mvar[0], strict=True))
    assert q1["b"] == pytest.approx(0.2) and q1["c"] == pytest.approx(0.1 + 0.05)
    p2 = dict(zip(buses, s.p_mw[1], strict=True))
    assert p2 == pytest.approx({"s": 0.0, "a": 0.0, "b": 0.3, "c": 0.25, "d": 0.1})
    assert s.has_injection


def test_load_ids_resolve_before_bus_ids_and_kind_decides() -> None:
    # A load whose id is also a bus id: with kind=load the load, with kind=bus the bus
    # (without a kind such a row is ambiguous: test_uncertain_verdict).
    from netbuild import tiny_tables

    tabs = tiny_tables()
    tabs["loads"] = tabs["loads"].with_columns(pl.Series("id", ["b", "Lb", "Lc", "Ld"]))
    net2 = tiny(**{"loads": tabs["loads"]}).check()  # load "b" sits at bus a
    s = resolve_scenarios(net2, table([("x", "load", "b", 1.0, 0.0, 1.0)], kind=True))
    p = dict(zip(s.bus_ids, s.p_mw[0], strict=True))
    assert p["a"] == pytest.approx(1.0) and p["b"] == pytest.approx(0.3)
    s = resolve_scenarios(net2, table([("x", "bus", "b", 1.0, 0.0, 1.0)], kind=True))
    p = dict(zip(s.bus_ids, s.p_mw[0], strict=True))
    assert p["a"] == pytest.approx(0.2) and p["b"] == pytest.approx(1.3)


def test_validation_problems(net) -> None:
    probs = problems_of(net, table([
        ("a", "nope", 0.1, 0.0, 1.0),        # unknown id
        ("a", "La", float("nan"), 0.0, 1.0),  # NaN
        ("b", "La", 0.1, 0.0, 0.0),          # zero weight
        ("c", "La", 0.1, 0.0, -1.0),         # negative weight
        ("d", "La", 0.1, 0.0, 1.0),
        ("d", "La", 0.2, 0.0, 1.0),          # a load twice in one scenario
        ("e", "Lb", 0.1, 0.0, 1.0),
        ("e", "a", 0.1, 0.0, 2.0),           # two weights in one scenario
    ]))
    text = "\n".join(str(p) for p in probs)
    assert "unknown element" in text and "nope" in text
    assert "NaN" in text
    assert "weights must be positive" in text and "[b, c]" in text
    assert "appears twice" in text and "d/La" in text
    assert "different weights" in text and "[e]" in text
    probs = problems_of(net, table([("x", "bad", "La", 0.1, 0.0, 1.0)], kind=True))
    assert "kind must be" in str(probs[0])
    probs = problems_of(net, pl.DataFrame({"scenario": ["a"], "element": ["La"]}))
    assert "missing column" in str(probs[0])


def test_round_trip_parquet_and_csv(net, tmp_path) -> None:
    df = generate_scenarios(net, count=5, pv_share=0.8, seed=3)
    ref = resolve_scenarios(net, df)
    for name in ("s.parquet", "s.csv"):
        path = write_scenarios(df, tmp_path / name)
        got = load_scenarios(net, path)
        assert got.names == ref.names
        np.testing.assert_allclose(got.p_mw, ref.p_mw, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got.q_mvar, ref.q_mvar, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got.weights, np.full(5, 0.2))
    with pytest.raises(InputError):
        read_scenario_table(tmp_path / "missing.csv")


def test_generator_is_seeded_and_has_der(net) -> None:
    a = generate_scenarios(net, count=20, pv_share=0.9, ev_share=0.5, hp_share=0.5, seed=7)
    b = generate_scenarios(net, count=20, pv_share=0.9, ev_share=0.5, hp_share=0.5, seed=7)
    c = generate_scenarios(net, count=20, pv_share=0.9, ev_share=0.5, hp_share=0.5, seed=8)
    assert a.equals(b) and not a.equals(c)
    assert set(a["der"].unique()) == {"load", "pv", "ev", "hp"}
    assert (a.filter(pl.col("der") == "pv")["p_mw"] < 0).all()
    s = resolve_scenarios(net, a)
    assert s.count == 20 and s.has_injection  # PV larger than the local load at some bus
    # Growth: every load row lies within (1 + growth)(1 +- noise) of its nominal value.
    nominal = dict(zip(net.loads["id"].to_list(), net.loads["p_mw"].to_list(), strict=True))
    rows = a.filter(pl.col("kind") == "load")
    ratio = np.array([p / nominal[e] for e, p in zip(rows["element"], rows["p_mw"],
                                                       strict=True)])
    assert ratio.min() >= 0.95 - 1e-12 and ratio.max() <= 1.2 * 1.05 + 1e-12


def test_cli_scenarios_and_bad_file_exit_2(tmp_path) -> None:
    out = tmp_path / "s.csv"
    res = runner.invoke(app, ["scenarios", "case33bw", "--out", str(out), "--count", "3",
                              "--pv-share", "0.5", "--seed", "1"])
    assert res.exit_code == 0, res.output
    df = pl.read_csv(out)
    assert set(df.columns) >= {"scenario", "kind", "element", "p_mw", "q_mvar", "weight"}
    assert df["scenario"].n_unique() == 3
    res = runner.invoke(app, ["scenarios", "case33bw", "--out", str(out)])
    assert res.exit_code == 2  # exists
    bad = tmp_path / "bad.csv"
    bad.write_text("scenario,element,p_mw,q_mvar,weight\na,999,0.1,0.0,1\n")
    res = runner.invoke(app, ["solve", "case33bw", "--scenarios", str(bad), "-q"])
    assert res.exit_code == 2
    assert "bad_scenario" in res.output and "999" in res.output


def test_a_kindless_row_naming_an_out_of_service_load_is_that_load() -> None:
    """Without ``kind`` an element is looked up among the load ids first. A load out of service
    is still a load id: the row is refused ("load(s) out of service"), as the three-phase
    reader does, instead of becoming a net demand at the bus of the same id (case33bw's loads
    and buses share their ids), which the balanced reader did silently."""
    from netbuild import tiny_tables

    tabs = tiny_tables()
    tabs["loads"] = tabs["loads"].with_columns(
        pl.Series("id", ["b", "Lb", "Lc", "Ld"]),
        pl.Series("in_service", [False, True, True, True]))
    net2 = tiny(**{"loads": tabs["loads"]}).check()  # load "b" (at bus a) out of service
    probs = problems_of(net2, table([("x", "b", 1.0, 0.0, 1.0)]))
    assert [p.message for p in probs] == ["load(s) out of service"] and probs[0].ids == ("b",)
    s = resolve_scenarios(net2, table([("x", "bus", "b", 1.0, 0.0, 1.0)], kind=True))
    p = dict(zip(s.bus_ids, s.p_mw[0], strict=True))
    assert p["b"] == pytest.approx(1.3)  # kind=bus still adds at bus b

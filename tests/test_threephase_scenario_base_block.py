"""A three-phase scenario run's base case and its ``scenarios.parquet`` (defect tphscen).

``feederopt solve FEEDER.dss --scenarios FILE`` checks its answer by OpenDSS in every scenario,
but had no ``base`` block (the plain three-phase solve's verdict on the user's own switch
states, :func:`feederopt.validation.base_case.opendss_base_case`) and wrote no per-scenario
table into ``--out DIR``, as the balanced ``solve --scenarios --out`` does
(``scenarios.parquet``, :mod:`feederopt.results.uncertain_tables`).

The feeder is the 12.47 kV ring of ``tests/test_threephase_voltage_limits.py`` (``s1`` open in
the file) with three scenarios: ``nominal`` (the file's loads), ``a2_heavy`` (the single-phase
load a2 at 1400 kW) and ``light``. The truth is opendssdirect's own solve of the unchanged
script with each scenario's loads written into it (no feederopt code): the base topology puts
``a2.1`` at 0.9189 p.u. in ``a2_heavy``, below ``--v-min 0.92``, while ``s2`` open keeps every
scenario within 0.92-1.1 p.u. (measured: s1 116.8/182.1/57.0 kW, s2 94.4/121.4/44.0 kW).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from opendss_plain import plain_solution
from test_threephase_scenarios import _script
from test_threephase_voltage_limits import FEEDER

ENV = {"COLUMNS": "400"}
V_BASE = 12470 / math.sqrt(3)
V_MIN = 0.92
PHASE = {"1": "a", "2": "b", "3": "c"}
#: name: (weight, {load: (kW, kvar)}); the file's scenario rows in MW
SCENARIOS: dict[str, tuple[float, dict[str, tuple[float, float]]]] = {
    "nominal": (0.5, {"a1": (800.0, 160.0)}),
    "a2_heavy": (0.2, {"a2": (1400.0, 280.0)}),
    "light": (0.3, {"x": (600.0, 120.0), "a1": (400.0, 80.0)}),
}


def _files(tmp_path: Path) -> tuple[Path, Path]:
    feeder = tmp_path / "ring.dss"
    feeder.write_text(FEEDER)
    csv = tmp_path / "scen.csv"
    csv.write_text("scenario,kind,element,p_mw,q_mvar,weight\n" + "".join(
        f"{name},load,{ld},{p / 1000:g},{q / 1000:g},{w:g}\n"
        for name, (w, loads) in SCENARIOS.items() for ld, (p, q) in loads.items()))
    return feeder, csv


def _truth(tmp_path: Path, switch: str) -> dict[str, tuple[float, dict[str, float]]]:
    """Per scenario, opendssdirect's losses [kW] and node voltages [p.u.] (``bus.a``) of the
    script with ``switch`` open (``s1``: the file as it is) and the scenario's loads."""
    out = {}
    for name, (_, loads) in SCENARIOS.items():
        source, volts, load_kw = plain_solution(_script(switch, loads, {}), tmp_path)
        vm = {}
        for node, v in volts.items():
            bus, ph = node.rsplit(".", 1)
            vm[f"{bus}.{PHASE[ph]}"] = abs(v) / V_BASE
        out[name] = (source.real - sum(load_kw.values()), vm)
    return out


def _row(text: str, label: str) -> str:
    assert label in text, text
    return text.split(label, 1)[1].split("│")[1].strip()


def test_scenario_run_has_the_base_block_and_the_scenario_table(tmp_path: Path) -> None:
    feeder, csv = _files(tmp_path)
    base = _truth(tmp_path, "s1")
    answer = _truth(tmp_path, "s2")
    weight = {n: w for n, (w, _) in SCENARIOS.items()}
    # the premise, by OpenDSS alone: the base topology breaks v_min in a2_heavy only, s2 none
    low = {n: min(vm.values()) for n, (_, vm) in base.items()}
    assert low["a2_heavy"] < V_MIN and low["nominal"] > V_MIN and low["light"] > V_MIN
    assert all(min(vm.values()) > V_MIN for _, vm in answer.values())

    out, js = tmp_path / "out", tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(feeder), "--scenarios", str(csv), "--v-min",
                                   str(V_MIN), "--json", str(js), "--out", str(out)], env=ENV)
    assert "Traceback" not in res.output, res.output
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    doc = json.loads(js.read_text())
    assert doc["open_switches"] == ["s2"]

    # --- the base block against opendssdirect's solve of the unchanged feeder per scenario
    b = doc["base"]
    assert b["engine"] == "OpenDSS" and b["open_switches"] == ["s1"] and b["converged"]
    expected = sum(weight[n] * loss for n, (loss, _) in base.items())
    assert b["losses_kw"] == pytest.approx(expected, rel=1e-3)
    nodes = {(n, k): v for n, (_, vm) in base.items() for k, v in vm.items()}
    (worst_s, worst_node) = min(nodes, key=lambda k: nodes[k])
    assert (b["min_voltage_scenario"], b["min_voltage_bus"]) == (worst_s, worst_node) \
        == ("a2_heavy", "a2.a")
    assert b["min_voltage_pu"] == pytest.approx(nodes[worst_s, worst_node], abs=1e-4)
    assert b["max_voltage_pu"] == pytest.approx(max(nodes.values()), abs=1e-4)
    assert b["within_limits"] is False and b["rating_limits"]["within"] is True
    below = {d["id"]: d for d in b["voltage_limits"]["below_v_min"]}
    broken = {k for (_, k), v in nodes.items() if v < V_MIN}
    assert set(below) == broken and "a2.a" in broken
    for node, d in below.items():  # each node at its worst scenario
        s = min(SCENARIOS, key=lambda n: base[n][1][node])
        assert d["scenario"] == s and d["rating"] == V_MIN
        assert d["value"] == pytest.approx(base[s][1][node], abs=1e-4)
    assert b["scenarios_breaking"] == ["a2_heavy"]
    per = {r["scenario"]: r for r in b["per_scenario"]}
    assert list(per) == list(SCENARIOS)
    for n, (loss, vm) in base.items():
        assert per[n]["weight"] == pytest.approx(weight[n])
        assert per[n]["losses_kw"] == pytest.approx(loss, rel=1e-3)
        assert per[n]["min_voltage_pu"] == pytest.approx(min(vm.values()), abs=1e-4)
        assert per[n]["within_limits"] is (min(vm.values()) >= V_MIN)

    # --- the console's rows, as a plain three-phase solve prints them
    row = _row(text, "base case vs limits (OpenDSS)")
    assert row.startswith("puts bus(es) below v_min: a2.a at "
                          f"{nodes['a2_heavy', 'a2.a']:.4f} < 0.9200 p.u. (scenario a2_heavy)")
    assert _row(text, "base case expected losses (OpenDSS)") == f"{b['losses_kw']:.3f} kW"
    after = sum(weight[n] * loss for n, (loss, _) in answer.items())
    reduction = float(_row(text, "loss reduction vs base case").removesuffix(" %"))
    assert reduction == pytest.approx(100 * (expected - after) / expected, abs=0.02)

    # --- scenarios.parquet: one row per scenario of the input file, the JSON's rows
    table = pl.read_parquet(out / "scenarios.parquet")
    rows = doc["scenarios"]["per_scenario"]
    assert table.height == len(rows) == pl.read_csv(csv)["scenario"].n_unique() == 3
    for got, want in zip(table.iter_rows(named=True), rows, strict=True):
        for key, value in got.items():
            if key == "broken":  # the console's "within" column: nothing broken
                assert value == []
            elif isinstance(value, float):
                assert value == pytest.approx(want[key], rel=1e-12), key
            else:
                assert value == want.get(key), key
    assert table["opendss_losses_kw"].to_list() == pytest.approx(
        [answer[n][0] for n in SCENARIOS], rel=1e-3)
    assert table["opendss_base_within_voltage_limits"].to_list() == [True, False, True]

    # --- the report shows the base verdict, written and rebuilt
    rebuilt = tmp_path / "rebuilt.html"
    res = CliRunner().invoke(app, ["report", str(out), "--out", str(rebuilt)], env=ENV)
    assert res.exit_code == 0, res.output
    for page in ((out / "report.html").read_text(), rebuilt.read_text()):
        assert "base case vs limits (OpenDSS)" in page
        assert f"a2.a at {nodes['a2_heavy', 'a2.a']:.4f} &lt; 0.9200 p.u. (scenario a2_heavy)" \
            in page


def test_scenario_table_never_overwrites_a_file_of_the_user(tmp_path: Path) -> None:
    """A result folder (of a plain run) holding the user's own scenarios.parquet: the scenario
    run's ``--out --force`` is refused before solving, and the file is left as it was."""
    feeder, csv = _files(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["solve", str(feeder), "--no-ac-check", "--out", str(out)],
                             env=ENV)
    assert res.exit_code == 0, res.output
    mine = out / "scenarios.parquet"
    mine.write_bytes(b"the user's own")
    res = CliRunner().invoke(app, ["solve", str(feeder), "--scenarios", str(csv), "--out",
                                   str(out), "--force"], env=ENV)
    assert "Traceback" not in res.output, res.output
    assert res.exit_code == 2, res.output
    assert "scenarios.parquet" in res.output
    assert mine.read_bytes() == b"the user's own"

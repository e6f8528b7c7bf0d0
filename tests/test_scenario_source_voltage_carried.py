"""A scenario file's source voltage (``source`` rows, ``vm_pu``) carried everywhere a user looks
(fix-srcv):

1. the result records each scenario's source voltage: result.json's ``scenarios[].
   source_vm_pu`` (bus id -> p.u.), ``scenarios.parquet``'s ``source_bus``/``source_vm_pu``,
   the report's scenario table, and they survive ``load_result`` + ``save``;
2. ``feederopt check`` of such a result draws each sample in one scenario by weight, at its
   loads and its source voltage (each corner per scenario), or at ``--source-vm``;
3. ``--robust`` with a scenario file is refused (exit 2), saying why the source rows would not
   apply and what to do.

Truth: pandapower's own ``runpp`` of the 9-bus feeder with the result's lines out of service and
the ext_grid's ``vm_pu`` set by hand (1.03 from the file's row, 1.0 the net's own, 1.05 given);
and a hand bound: with ``--v-min 0.98`` every sample in +-10 % fails at 1.0 p.u. (the lower
corner's V min is below 0.98 in pandapower) and passes at 1.03 (the upper corner's is above),
so the AC-feasible samples are exactly those drawn at 1.03. Before, the JSON had no source
voltage and the check held every sample at the net's 1.0 p.u. (0 AC-feasible)."""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from netbuild import nine_bus_pandapower

pp = pytest.importorskip("pandapower")

runner = CliRunner()
VM_HI = 1.03  # the "hi" scenario's source row; "lo" has none: the net's 1.0
SCENARIOS = pl.DataFrame({
    "scenario": ["hi", "hi", "lo"], "kind": ["source", "load", "load"],
    "element": ["0", "load:1", "load:1"], "p_mw": [None, 1.0, 0.5],
    "q_mvar": [None, 0.3, 0.2], "weight": [0.5, 0.5, 0.5], "vm_pu": [VM_HI, None, None]},
    schema_overrides={"p_mw": pl.Float64, "q_mvar": pl.Float64, "vm_pu": pl.Float64})

#: Each scenario's load 1 (the file's rows) times a corner's factor.
LOAD1 = {"hi": lambda f: (1.0 * f, 0.3 * f), "lo": lambda f: (0.5 * f, 0.2 * f)}


def runpp(net: Any, open_ids: list[str], vm_pu: float, factor: float = 1.0,
          load1: tuple[float, float] | None = None) -> Any:
    """pandapower's power flow of ``net`` with the lines ``open_ids`` out of service, every
    load times ``factor`` (load 1 at ``load1`` when given) and the ext_grid at ``vm_pu``."""
    net = copy.deepcopy(net)
    net.switch["closed"] = True
    opened = {int(b.split(":")[1]) for b in open_ids}
    net.line["in_service"] = [i not in opened for i in net.line.index]
    net.load[["p_mw", "q_mvar"]] *= factor
    if load1 is not None:
        net.load.loc[1, ["p_mw", "q_mvar"]] = load1
    net.ext_grid["vm_pu"] = vm_pu
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False, tolerance_mva=1e-10)
    return net


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, str]:
    tmp = tmp_path_factory.mktemp("srcv")
    net = nine_bus_pandapower()
    assert float(net.ext_grid.vm_pu.iloc[0]) == 1.0  # the "lo" scenario's, by hand
    pp.to_json(net, str(tmp / "net9.json"))
    SCENARIOS.write_csv(tmp / "sc.csv")
    out = tmp / "sc"
    res = runner.invoke(app, ["solve", str(tmp / "net9.json"), "--scenarios",
                              str(tmp / "sc.csv"), "--workers", "1", "--out", str(out),
                              "--report"])
    assert res.exit_code == 0, res.output
    return net, out, res.output


def test_result_records_each_scenarios_source_voltage(solved, tmp_path) -> None:
    net, out, console = solved
    assert "source V" in console  # the console's scenario table has the column
    doc = json.loads((out / "result.json").read_text())
    assert doc["stochastic"]["source_rows"] is True
    rows = {r["scenario"]: r for r in doc["scenarios"]}
    assert rows["hi"]["source_vm_pu"] == {"0": VM_HI}  # the file's row
    assert rows["lo"]["source_vm_pu"] == {"0": 1.0}  # the net's ext_grid, no row
    # each scenario's AC power flow is pandapower's at that source voltage
    opened = [b["id"] for b in doc["open_branches"]]
    for name, vm, load1 in (("hi", VM_HI, (1.0, 0.3)), ("lo", 1.0, (0.5, 0.2))):
        truth = runpp(net, opened, vm, load1=load1).res_bus.vm_pu
        assert rows[name]["ac"]["max_voltage_pu"] == pytest.approx(vm, abs=1e-9)
        assert rows[name]["ac"]["min_voltage_pu"] == pytest.approx(truth.min(), abs=1e-7)
    # the folder's table, the report, and a result read back and saved again
    table = pl.read_parquet(out / "scenarios.parquet")
    assert table.select("scenario", "source_bus", "source_vm_pu").to_dicts() == [
        {"scenario": "hi", "source_bus": ["0"], "source_vm_pu": [VM_HI]},
        {"scenario": "lo", "source_bus": ["0"], "source_vm_pu": [1.0]}]
    html = (out / "report.html").read_text()
    head = re.findall(r'<th scope="col">(.*?)</th>', html)
    col = head.index("source V [p.u.]") - head.index("scenario")
    for name, shown in (("hi", "1.0300"), ("lo", "1.0000")):
        cells = re.findall(r"<td[^>]*>(.*?)</td>",
                           re.search(rf"<tr><td>{name}</td>(.*?)</tr>", html, re.S).group(1))
        assert cells[col - 1] == shown
    back = feederopt.load_result(out)
    again = feederopt.save(back, tmp_path / "again", report=False)
    assert json.loads((again / "result.json").read_text())["scenarios"] == doc["scenarios"]
    assert pl.read_parquet(again / "scenarios.parquet").equals(table)


def test_check_holds_each_sample_at_a_scenarios_source_voltage(solved) -> None:
    net, out, _ = solved
    doc = json.loads((out / "result.json").read_text())
    opened = [b["id"] for b in doc["open_branches"]]
    x, v_min = 0.1, 0.98
    # the hand bound: at 1.0 p.u. the lightest loads in the box of scenario lo break v_min,
    # at 1.03 the heaviest of scenario hi keep it (each sample is drawn in one scenario, at
    # its loads and its source voltage: fix-scengen)
    assert runpp(net, opened, 1.0, 1 - x, LOAD1["lo"](1 - x)).res_bus.vm_pu.min() < v_min
    assert runpp(net, opened, VM_HI, 1 + x, LOAD1["hi"](1 + x)).res_bus.vm_pu.min() > v_min
    mc = feederopt.check_result(out, samples=12, uncertainty=x, seed=3, v_min=v_min)
    sv = mc.source_voltage
    assert sv["how"] == "scenarios"
    at = {s["source_vm_pu"]["0"]: s["samples"] for s in sv["settings"]}
    assert set(at) == {VM_HI, 1.0} and at[VM_HI] > 0 and at[1.0] > 0
    assert at[VM_HI] + at[1.0] == mc.samples == 12
    assert mc.feasible_ac == at[VM_HI]  # exactly the samples held at 1.03
    # each corner of each scenario at its loads and source voltage, as pandapower at that
    # ext_grid vm_pu
    assert len(mc.corners) == 4
    for c in mc.corners:
        vm = c["source_vm_pu"]["0"]
        assert vm == (VM_HI if c["scenario"] == "hi" else 1.0)
        truth = runpp(net, opened, vm, c["factor"],
                      LOAD1[c["scenario"]](c["factor"])).res_bus.vm_pu
        assert c["min_voltage_pu"] == pytest.approx(truth.min(), abs=1e-7)
        assert c["max_voltage_pu"] == pytest.approx(vm, abs=1e-9)
    assert mc.corners_breaking_limits == ["lower at scenario lo", "upper at scenario lo"]


def test_check_source_vm_holds_every_sample_there(solved, tmp_path) -> None:
    net, out, _ = solved
    doc = json.loads((out / "result.json").read_text())
    opened = [b["id"] for b in doc["open_branches"]]
    res = runner.invoke(app, ["check", str(out), "-u", "0.1", "-n", "3", "--source-vm", "1.05",
                              "--json", str(tmp_path / "c.json")], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "source voltage" in res.output and "1.0500 p.u. at bus 0" in res.output
    got = json.loads((tmp_path / "c.json").read_text())
    assert got["source_voltage"]["how"] == "given"
    for c in got["corners"]:  # each scenario's loads, every one at the given 1.05
        truth = runpp(net, opened, 1.05, c["factor"],
                      LOAD1[c["scenario"]](c["factor"])).res_bus.vm_pu
        assert c["min_voltage_pu"] == pytest.approx(truth.min(), abs=1e-7)
    # out of range: a typed problem naming the option, exit 2, no traceback
    bad = runner.invoke(app, ["check", str(out), "-u", "0.1", "-n", "3", "--source-vm", "103"])
    assert bad.exit_code == 2, bad.output
    assert "--source-vm 103 p.u. is outside the allowed range 0.8 - 1.2" in " ".join(
        bad.output.split()) and "Traceback" not in bad.output


def test_robust_with_a_scenario_file_says_why_and_what_to_do(tmp_path) -> None:
    SCENARIOS.write_csv(tmp_path / "sc.csv")
    res = runner.invoke(app, ["solve", "case33bw", "--scenarios", str(tmp_path / "sc.csv"),
                              "--robust", "0.1"])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "exclude each other" in text and "Traceback" not in text
    assert "source rows (vm_pu) would not apply" in text
    # a robust run over a band of source voltages is --source-vm-band (before, the hint
    # could only say "set it in the network")
    assert "--source-vm VM" in text and "--source-vm-band 1.00:1.05" in text
    with pytest.raises(feederopt.InputError) as err:
        feederopt.solve("case33bw", scenarios=str(tmp_path / "sc.csv"), robust=0.1)
    assert "source_vm=VM" in str(err.value)
    assert "source_vm_band=(1.0, 1.05)" in str(err.value)

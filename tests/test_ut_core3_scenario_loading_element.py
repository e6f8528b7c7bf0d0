"""Scenario and robust runs name the branch of the AC check's largest loading, per scenario
and overall, in the API, the JSON, the console and the report (user test ut_core3 #1), as a
single solve's ``ac_check.max_loading_element`` does.

Independent truth: pandapower's own ``runpp`` in the test on the hand-built net of
tests/test_holds.py (a 110/20 kV transformer and two feeders), with the switches set to the
answer's topology and the loads scaled to each scenario's; the most loaded element is the
argmax of ``res_line.loading_percent`` and ``res_trafo.loading_percent``.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from test_holds import LOADS_MW, _net, _opened

SCALES = {"light": 0.6, "heavy": 1.4}


def _table(net: Any) -> pl.DataFrame:
    rows = []
    for name, k in SCALES.items():
        for idx, p in zip(net.load.index, LOADS_MW, strict=True):
            rows.append({"scenario": name, "kind": "load", "element": f"load:{idx}",
                         "p_mw": k * p, "q_mvar": k * 0.3 * p, "weight": 1.0})
    return pl.DataFrame(rows)


def _pandapower_top(opened: frozenset[int], scale: float) -> tuple[float, str]:
    """pandapower's most loaded line or transformer [% of its rating] and its id, with the
    lines ``opened`` switched off and the loads scaled."""
    n = copy.deepcopy(_net())
    n.switch["closed"] = [int(e) not in opened for e in n.switch["element"]]
    n.load["p_mw"] *= scale
    n.load["q_mvar"] *= scale
    pp.runpp(n, numba=False)
    cands = [(float(v), f"line:{k}") for k, v in n.res_line.loading_percent.items()]
    cands += [(float(v), f"trafo:{k}") for k, v in n.res_trafo.loading_percent.items()]
    return max(cands)


@pytest.fixture(scope="module")
def stochastic() -> Any:
    net = _net()
    return feederopt.solve(net, scenarios=_table(net), time_limit=60, workers=1)


def test_each_scenario_names_its_most_loaded_branch(stochastic: Any) -> None:
    opened = _opened(stochastic)
    rows = {s.scenario: s.ac for s in stochastic.uncertain.scenarios}
    assert set(rows) == set(SCALES)
    for name, scale in SCALES.items():
        loading, element = _pandapower_top(opened, scale)
        assert rows[name].max_loading_element == element
        assert rows[name].max_loading_percent == pytest.approx(loading, rel=1e-4)
    # overall: the heavier scenario's, as pandapower says
    top = stochastic.uncertain.ac_max_loading
    loading, element = _pandapower_top(opened, SCALES["heavy"])
    assert top[1] == element and top[2] == "heavy"
    assert top[0] == pytest.approx(loading, rel=1e-4)
    doc = stochastic.to_dict()
    js = {s["scenario"]: s["ac"] for s in doc["scenarios"]}
    assert js["heavy"]["max_loading_element"] == element
    assert doc["stochastic"]["ac_max_loading_element"] == element
    assert doc["stochastic"]["ac_max_loading_scenario"] == "heavy"
    assert doc["stochastic"]["ac_max_loading_percent"] == pytest.approx(loading, rel=1e-4)


def test_robust_names_the_worst_extreme_points_most_loaded_branch() -> None:
    result = feederopt.solve(_net(), robust=0.05, time_limit=60, workers=1)
    ac = result.uncertain.worst_vertex_ac
    # the worst extreme point of this passive feeder: every load at 105 %
    loading, element = _pandapower_top(_opened(result), 1.05)
    assert ac.max_loading_element == element
    assert ac.max_loading_percent == pytest.approx(loading, rel=1e-4)
    assert (result.to_dict()["robust_summary"]["worst_vertex_ac"]["max_loading_element"]
            == element)


def test_cli_console_json_and_report_name_the_branch(tmp_path: Path) -> None:
    net = _net()
    pp.to_json(net, str(tmp_path / "net.json"))
    _table(net).write_csv(tmp_path / "sc.csv")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["solve", str(tmp_path / "net.json"), "--scenarios",
                                   str(tmp_path / "sc.csv"), "--workers", "1", "--out",
                                   str(out)], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "result.json").read_text())
    opened = frozenset(int(b["id"].split(":")[1]) for b in doc["open_branches"])
    loading, element = _pandapower_top(opened, SCALES["heavy"])
    assert f"largest AC loading over the scenarios: {loading:.2f} % of its rating ({element}, " \
           "scenario heavy)" in " ".join(res.output.split())
    assert f"{loading:.2f} % {element}" in res.output
    res = CliRunner().invoke(app, ["report", str(out)])
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text()
    assert "AC max loading at" in html
    assert f"<td>{element}</td>" in html
    assert f"{element}, heavy" in html

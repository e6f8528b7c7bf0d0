"""Three-winding transformers in the AC check and in scenario files (user test ut40_realg5).

#1: a 110/20/10 kV trafo3w whose 20 kV winding is rated 8 MVA, loaded by pandapower's power
flow to ~150 %: the AC check, ``info``'s base-case verdict and the branch table ignored
``res_trafo3w`` ("within limits (AC): True", null AC columns on the winding rows). The truth is
pandapower's own ``runpp`` of the same net, run here. The rating of the 20 kV winding at its
own voltage is its nameplate, ``8 MVA / (sqrt(3) 20 kV) = 0.2309 kA`` (hand calculation).

#2: a scenario bus row at the trafo3w's internal star point ``trafo3w:0`` (a bus the reader
adds, not the user's) was solved, then the AC check crashed on it (exit 1); it is a
``bad_scenario`` problem, exit 2.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api import load, solve
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.scenarios import resolve_scenarios
from feederopt.network.limits import operating_limits
from feederopt.validation.ac import ac_power_flow
from feederopt.validation.ac_limits import limits_verdict

runner = CliRunner()


def _grid() -> pp.pandapowerNet:
    """110/20/10 kV trafo3w (the 63/25/38 MVA standard type with its mv winding at 8 MVA), an
    MV ring of four buses with one open tie, two loads at the 10 kV bus."""
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110)
    mv0 = pp.create_bus(net, 20)
    lv = pp.create_bus(net, 10)
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer3w(net, hv, mv0, lv, std_type="63/25/38 MVA 110/20/10 kV")
    net.trafo3w.loc[0, "sn_mv_mva"] = 8.0
    mv = [pp.create_bus(net, 20) for _ in range(3)]
    for a, b, closed in ((mv0, mv[0], True), (mv[0], mv[1], True), (mv0, mv[2], True),
                         (mv[1], mv[2], False)):
        line = pp.create_line(net, a, b, 1.0, "NA2XS2Y 1x185 RM/25 12/20 kV")
        pp.create_switch(net, a, line, "l", closed=closed)
    for b, p in zip(mv, (4.0, 4.0, 3.5), strict=True):
        pp.create_load(net, b, p_mw=p, q_mvar=1.0)
    pp.create_load(net, lv, p_mw=2.0, q_mvar=0.5)
    return net


def _pandapower(net: pp.pandapowerNet) -> pp.pandapowerNet:
    own = copy.deepcopy(net)
    pp.runpp(own)
    return own


def test_ac_verdict_names_the_trafo3w_winding_at_pandapowers_loading() -> None:
    net = _grid()
    truth = _pandapower(net).res_trafo3w.iloc[0]
    assert truth["loading_percent"] > 140  # the grid is what the test is about
    network = load(net)
    verdict = limits_verdict(network, ac_power_flow(network))
    assert verdict["within_limits"] is False
    ratings = verdict["rating_limits"]
    assert ratings["max_loading_element"] == "trafo3w:0:mv"
    assert ratings["max_loading_percent"] == pytest.approx(truth["loading_percent"], rel=1e-6)
    worst = ratings["over_rating"][0]
    assert worst["id"] == "trafo3w:0:mv"
    assert worst["loading_percent"] == pytest.approx(truth["loading_percent"], rel=1e-6)
    # in kA at the winding's own 20 kV: pandapower's current and the nameplate rating
    assert worst["value"] == pytest.approx(truth["i_mv_ka"], rel=1e-6)
    assert worst["rating"] == pytest.approx(8.0 / (math.sqrt(3.0) * 20.0), rel=1e-9)


def test_info_gives_each_winding_at_its_own_voltage() -> None:
    rows = {t["id"]: t for t in operating_limits(load(_grid()))["transformers"]}
    for side, vn, sn in (("hv", 110.0, 63.0), ("mv", 20.0, 8.0), ("lv", 10.0, 38.0)):
        row = rows[f"trafo3w:0:{side}"]
        # each winding's terminal (its hv bus for the hv winding, else its own bus); the
        # star point (at the hv rated kV) has no current of the user's
        own = "hv" if side == "hv" else "lv"
        star = "lv" if side == "hv" else "hv"
        assert row[f"vn_{own}_kv"] == pytest.approx(vn)
        assert row[f"i_max_{own}_ka"] == pytest.approx(sn / (math.sqrt(3.0) * vn), rel=1e-9)
        assert row[f"{star}_bus"] == "trafo3w:0" and row[f"i_max_{star}_ka"] is None
        assert row[f"vn_{star}_kv"] == pytest.approx(110.0)
        assert row["rating_mva"] == pytest.approx(sn, rel=1e-9)


def test_branch_table_ac_columns_of_the_windings_are_pandapowers() -> None:
    net = _grid()
    result = solve(net, time_limit=20)
    assert result.ac_check is not None and result.ac_check.within_limits is False
    truth = _pandapower(result.to_pandapower(net)).res_trafo3w.iloc[0]
    rows = {r["id"]: r for r in result.branches.filter(
        pl.col("id").str.starts_with("trafo3w:0")).iter_rows(named=True)}
    for side in ("hv", "mv", "lv"):
        assert rows[f"trafo3w:0:{side}"]["i_ac_ka"] == pytest.approx(truth[f"i_{side}_ka"],
                                                                     rel=1e-6)
    assert rows["trafo3w:0:hv"]["p_from_ac_mw"] == pytest.approx(truth["p_hv_mw"], rel=1e-6)
    assert max(r["loading_ac_percent"] for r in rows.values()) == pytest.approx(
        truth["loading_percent"], rel=1e-6)
    # the model's current of the mv winding is at its 20 kV terminal too
    assert rows["trafo3w:0:mv"]["i_ka"] == pytest.approx(truth["i_mv_ka"], rel=1e-3)


def test_scenario_bus_row_at_the_star_point_is_refused() -> None:
    network = load(_grid())
    table = pl.DataFrame({"scenario": ["a"], "kind": ["bus"], "element": ["trafo3w:0"],
                          "p_mw": [1.0], "q_mvar": [0.0], "weight": [1.0]})
    with pytest.raises(InputError) as err:
        resolve_scenarios(network, table)
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.BAD_SCENARIO
    assert "trafo3w:0" in problem.ids
    assert "star point" in problem.message and "row 1" in problem.message


def test_cli_scenario_row_at_the_star_point_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "t3w.json"
    pp.to_json(_grid(), str(src))
    scen = tmp_path / "s.csv"
    scen.write_text("scenario,kind,element,p_mw,q_mvar,weight\na,bus,trafo3w:0,1,0,1\n")
    res = runner.invoke(app, ["solve", str(src), "--scenarios", str(scen), "--time-limit", "5",
                              "--no-ac-check"])
    assert res.exit_code == 2, res.output
    assert "bad_scenario" in res.output and "star point" in res.output
    assert "Traceback" not in res.output

"""SimBench study cases as scenarios (user test ut42_journey #2): one scenario per study case,
its loads and sgens scaled and its source voltage ``Slack_vm`` carried by a ``source`` row into
the scenario slaves and the scenario's AC check.

Truth: pandapower's power flow of simbench's own study-case net (``simbench.
get_absolute_values`` applied to the loads, sgens AND the ext_grid's ``vm_pu``) with the
returned topology's switches. Before the source row existed, every scenario was solved and
checked at the net's own 1.025 p.u. (SimBench's LV rural1 moves it to 0.965 in hL and 1.055 in
lW), so the scenario's AC figures were another power flow's.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from test_pandapower_fidelity import _pp_losses_kw

sb = pytest.importorskip("simbench")
pp = pytest.importorskip("pandapower")

CODE = "1-LV-rural1--0-sw"


def _simbench_case(net, case: str):
    """simbench's own study case of ``net``: every (element, column) of
    get_absolute_values(net, profiles_instead_of_study_cases=False) at row ``case``."""
    out = copy.deepcopy(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = sb.get_absolute_values(out, profiles_instead_of_study_cases=False)
    for (element, column), table in values.items():
        out[element].loc[table.columns, column] = table.loc[case].to_numpy()
    return out


@pytest.fixture(scope="module")
def raw():
    return sb.get_simbench_net(CODE)


@pytest.fixture(scope="module")
def net(raw):
    return feederopt.load(copy.deepcopy(raw))


@pytest.fixture(scope="module")
def solved(net):
    table = feederopt.study_case_scenarios(f"simbench:{CODE}", ["hL", "lW"])
    result = feederopt.solve(net, scenarios=table, time_limit=60)
    return table, result


def test_table_rows_are_simbench_study_cases(solved, raw):
    table, _ = solved
    for case in ("hL", "lW"):
        rows = table.filter(pl.col("scenario") == case)
        src = rows.filter(pl.col("kind") == "source")
        assert src["vm_pu"].to_list() == [pytest.approx(raw.loadcases.at[case, "Slack_vm"])]
        loads = rows.filter(pl.col("kind") == "load")
        mine = dict(zip(loads["element"], loads["p_mw"], strict=True))
        for i in raw.load.index:
            assert mine[f"load:{i}"] == pytest.approx(
                raw.load.at[i, "p_mw"] * raw.loadcases.at[case, "pload"])
    assert table["weight"].unique().to_list() == [0.5]


def test_scenario_ac_is_runpp_of_simbench_study_case(solved, raw):
    _, result = solved
    assert result.uncertain is not None
    mine = result.to_pandapower(raw)  # the returned topology's switches
    for row in result.uncertain.scenarios:
        truth = _simbench_case(mine, row.scenario)
        assert float(truth.ext_grid.vm_pu.iloc[0]) != pytest.approx(1.025)  # moved: can fail
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(truth)
        ac = row.ac
        assert ac is not None and ac.converged
        assert ac.losses_kw == pytest.approx(_pp_losses_kw(truth), rel=1e-6)
        vm = truth.res_bus.vm_pu.to_numpy()
        assert ac.max_voltage_pu == pytest.approx(float(np.nanmax(vm)), abs=1e-7)
        assert ac.min_voltage_pu == pytest.approx(float(np.nanmin(vm)), abs=1e-7)
        # the slave's model holds the root at the case's voltage, and is close to AC
        assert row.outcome.max_voltage_pu == pytest.approx(float(np.nanmax(vm)), abs=2e-3)


SOURCE = "42"  # the LV grid's ext_grid bus


def _table(vm, element=SOURCE, kind="source", p=None):
    return pl.DataFrame({"scenario": ["a", "a"], "kind": ["load", kind],
                         "element": ["load:0", element], "p_mw": [0.001, p],
                         "q_mvar": [0.0, None], "weight": [1.0, 1.0], "vm_pu": [None, vm]},
                        schema_overrides={"p_mw": pl.Float64, "q_mvar": pl.Float64,
                                          "vm_pu": pl.Float64})


@pytest.mark.parametrize(("table", "field", "words"), [
    (_table(1.5), "vm_pu", "0.8 - 1.2"),
    (_table(None), "vm_pu", "0.8 - 1.2"),
    (_table(1.0, element="1"), "element", "not a source"),
    (_table(1.0, p=0.5), "p_mw", "only the voltage"),
    (_table(1.0, kind="bus", p=0.0), "vm_pu", "not source rows"),
])
def test_bad_source_rows_are_typed_problems(table, field, words, net):
    with pytest.raises(InputError) as err:
        feederopt.resolve_scenarios(net, table)
    problems = [p for p in err.value.problems if p.field == field]
    assert problems and problems[0].kind is ProblemKind.BAD_SCENARIO
    assert words in problems[0].message


def test_source_row_sets_the_source_voltage(net):
    assert net.buses.filter(pl.col("is_source"))["id"].to_list() == [SOURCE]
    sset = feederopt.resolve_scenarios(net, _table(1.04))
    assert sset.source_vm_pu is not None
    j = sset.bus_ids.index(SOURCE)
    assert sset.source_vm_pu[0, j] == 1.04
    assert np.isnan(np.delete(sset.source_vm_pu[0], j)).all()


def test_cli_study_cases_refuses_bad_input(tmp_path):
    runner = CliRunner()
    out = tmp_path / "s.parquet"
    for args, words in (
            (["simbench:" + CODE, "--study-cases", "hL,xx"], "not a study case"),
            (["simbench:" + CODE, "--study-cases", "hL,lW", "--weights", "1"], "weight"),
            (["simbench:" + CODE, "--study-cases", "hL", "--count", "5"], "--count"),
            (["case33bw", "--study-cases", "hL"], "simbench:<code>")):
        res = runner.invoke(app, ["scenarios", *args, "--out", str(out)])
        assert res.exit_code == 2, res.output
        assert words in res.output
        assert "Traceback" not in res.output


def test_n1_in_study_cases_says_no_n1_analysis(raw, tmp_path):
    """User test ut42_docs #1: ``--study-cases n1,hL`` took n1 silently where ``@n1`` says
    that only its loadcase factors are taken. The truth: SimBench's own loadcases table, where
    n1's factors equal hL's on this grid."""
    table = raw["loadcases"]
    assert bool((table.loc["n1"] == table.loc["hL"]).all())
    out = tmp_path / "n1.csv"
    res = CliRunner().invoke(app, ["scenarios", f"simbench:{CODE}", "--study-cases", "n1,hL",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "does no (n-1) analysis" in text and "the same as hL's on this grid" in text
    with pytest.warns(feederopt.FeederoptWarning, match="does no"):
        feederopt.study_case_scenarios(f"simbench:{CODE}", ["n1"])
    # and a grid named with its study case is told to drop it
    res = CliRunner().invoke(app, ["scenarios", f"simbench:{CODE}@hL", "--study-cases", "hL,lW",
                                   "--out", str(tmp_path / "e.csv")])
    assert res.exit_code == 2
    assert "drop '@hL'" in " ".join(res.output.split())


def test_study_case_generation_rows_are_labelled_as_a_change_not_an_output(raw) -> None:
    """A study case's sgen change is written as a ``bus`` row (positive draws): the grid's own
    sgen output at that bus less the case's. Its ``der`` was ``generator``, whose ``p_mw`` is an
    output (positive injects), so a planner summing the generator rows read hL's switched-off
    PV as +0.16 MW of generation (ut46_scen #2). Truth: simbench's own hL net's sgens against
    the grid's as built, per bus (simbench's own net of the module, built once: it takes
    seconds)."""
    net = copy.deepcopy(raw)
    ref = _simbench_case(net, "hL")
    own = net.sgen[net.sgen["in_service"]].groupby("bus")["p_mw"].sum()
    case = ref.sgen[ref.sgen["in_service"]].groupby("bus")["p_mw"].sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = feederopt.study_case_scenarios(f"simbench:{CODE}", ["hL"])
    rows = table.filter(pl.col("kind") == "bus")
    assert rows.height > 0
    assert set(rows["der"].to_list()) == {"generator_change"}
    for bus, p in zip(rows["element"].to_list(), rows["p_mw"].to_list(), strict=True):
        b = int(bus)
        assert p == pytest.approx(float(own.get(b, 0.0)) - float(case.get(b, 0.0)), abs=1e-12)

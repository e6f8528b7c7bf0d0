"""``simbench:<code>@<case>`` on a combined grid (user test ut46_simb #1): SimBench's net
keeps the study-case factors of its LOWEST voltage level only
(``simbench.networks.loadcases.filter_loadcases_df``), so ``1-MVLV-urban-all-0-sw@hL`` put
LV's Slack_vm 0.965 on the 110 kV source, silently. The source now takes the Slack_vm of the
level it feeds (the code's upper level), each load and sgen the factors of its bus's level,
and the console says so; when SimBench's data hold no such row, its value stays, with a note
naming the level it belongs to and the source's kV.

The truth: SimBench's own per-level table (``StudyCases.csv`` of the complete data set, read
here with pandas), applied by hand to ``simbench.get_simbench_net``'s net, and pandapower's
``runpp`` of that net. ``1-HVMV-urban-all-0-sw`` (1,791 buses, loads in seconds) stands for the
huge MVLV-all grids: its source is at 220 kV, its lowest level MV.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from feederopt.cases import simbench as fsb
from feederopt.cli import app

sb = pytest.importorskip("simbench")
CODE = "1-HVMV-urban-all-0-sw"
HV, MV = 3, 5  # simbench.get_voltlvl's levels


def _table() -> pd.DataFrame:
    path = os.path.join(sb.complete_data_path(0), "StudyCases.csv")
    return pd.read_csv(path, sep=";").set_index(["voltLvl", "Study Case"])


def _truth(case: str):
    """SimBench's net with each load scaled by its bus level's pload/qload, each sgen by its
    level's factor for its type, and the source at HV's Slack_vm, all read from the table."""
    table = _table()
    net = sb.get_simbench_net(CODE)
    level = sb.get_voltlvl(net.bus.vn_kv.loc[net.load.bus].to_numpy())
    f = table.xs(case, level="Study Case")
    net.load["p_mw"] = net.load.p_mw.to_numpy() * f.loc[level, "pload"].to_numpy()
    net.load["q_mvar"] = net.load.q_mvar.to_numpy() * f.loc[level, "qload"].to_numpy()
    glevel = sb.get_voltlvl(net.sgen.bus.map(net.bus.vn_kv).to_numpy())
    kind = np.where(net.sgen.type.str.contains("Wind|WP").fillna(False), "Wind_p",
                    np.where(net.sgen.type.str.contains("PV").fillna(False), "PV_p", "RES_p"))
    net.sgen["p_mw"] = net.sgen.p_mw.to_numpy() * np.array(
        [f.loc[lv, k] for lv, k in zip(glevel, kind, strict=True)])
    net.ext_grid["vm_pu"] = f.loc[HV, "Slack_vm"]
    return net, table


def test_source_takes_its_levels_slack_and_elements_their_levels_factors() -> None:
    truth, table = _truth("lW")
    net = sb.get_simbench_net(CODE)
    assert set(net.bus.vn_kv.loc[net.ext_grid.bus]) == {220.0}
    # SimBench's own net holds MV's factors only, and they differ from HV's here
    assert net.loadcases.loc["lW", "Slack_vm"] == table.loc[(MV, "lW"), "Slack_vm"]
    assert table.loc[(HV, "lW"), "Slack_vm"] != table.loc[(MV, "lW"), "Slack_vm"]
    assert table.loc[(HV, "lW"), "pload"] != table.loc[(MV, "lW"), "pload"]
    notes: list[str] = []
    mine = fsb.apply_study_case(net, "lW", code=CODE, notes=notes)
    np.testing.assert_allclose(mine.ext_grid.vm_pu, table.loc[(HV, "lW"), "Slack_vm"])
    np.testing.assert_allclose(mine.load.p_mw, truth.load.p_mw)
    np.testing.assert_allclose(mine.load.q_mvar, truth.load.q_mvar)
    np.testing.assert_allclose(mine.sgen.p_mw, truth.sgen.p_mw)
    (note,) = notes
    assert "(220 kV) takes HV's Slack_vm 1.025" in note and "only MV's (1.015)" in note


def test_info_is_runpp_with_the_sources_level() -> None:
    import pandapower as pp

    truth, _ = _truth("hL")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(truth)
    vm = truth.res_bus.vm_pu[truth.bus.in_service].dropna()
    out = CliRunner().invoke(app, ["info", f"simbench:{CODE}@hL", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["base_min_voltage_pu"] == pytest.approx(float(vm.min()), abs=1e-6)
    assert doc["base_max_voltage_pu"] == pytest.approx(float(vm.max()), abs=1e-6)
    assert any("the source (220 kV) takes HV's Slack_vm 1.025" in w for w in doc["warnings"])


def test_without_the_levels_row_simbenchs_value_stays_and_is_named(monkeypatch) -> None:
    net = sb.get_simbench_net(CODE)
    monkeypatch.setattr(fsb, "study_case_table", lambda code: None)
    notes: list[str] = []
    mine = fsb.apply_study_case(net, "hL", code=CODE, notes=notes)
    np.testing.assert_allclose(mine.ext_grid.vm_pu, net.loadcases.loc["hL", "Slack_vm"])
    assert notes == [
        "@hL: the source (220 kV) takes Slack_vm 1.035, SimBench's value of the MV level (its "
        "net.loadcases holds no other); SimBench's data hold no HV row for hL, the level the "
        "source feeds"]


def test_single_level_grid_is_simbenchs_unchanged() -> None:
    net = sb.get_simbench_net("1-MV-rural--0-sw")
    notes: list[str] = []
    mine = fsb.apply_study_case(net, "hL", code="1-MV-rural--0-sw", notes=notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = sb.get_absolute_values(net, profiles_instead_of_study_cases=False)
    np.testing.assert_allclose(mine.ext_grid.vm_pu, values[("ext_grid", "vm_pu")].loc["hL"])
    np.testing.assert_allclose(mine.load.p_mw, values[("load", "p_mw")].loc["hL"])
    assert notes == []

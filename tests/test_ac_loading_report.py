"""ut_core2 #6: a deterministic solve reports the AC check's largest line/transformer loading
(in % of the rating, and which branch) in the console, the JSON's ``ac_check`` and the report,
and lists the out-of-service branches as open. The loading is checked against pandapower's
own ``res_line.loading_percent`` of the user's net with the reported switch states (computed
here, not copied from feederopt)."""

from __future__ import annotations

import copy
import json

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

#: Lines given a closed switch (switchable), the tie lines given an open one, the tie taken
#: out of service (its switch removed: a tie held open the pandapower way, as in ut_core2).
SWITCHED = (6, 8, 13, 27, 31)
TIES = (32, 33, 34, 35)
HELD_OUT = 36


def _net() -> pp.pandapowerNet:
    """case33bw with switches on five lines and four ties, the fifth tie out of service,
    ratings of 0.25 kA, so that loadings are a few tens of %, and charging where switched."""
    net = pn.case33bw()
    net.line["max_i_ka"] = 0.25
    for k in (*SWITCHED, *TIES):
        net.line.at[k, "in_service"] = True
        pp.create_switch(net, int(net.line.at[k, "from_bus"]), k, et="l",
                         closed=k not in TIES)
    net.line.at[HELD_OUT, "in_service"] = False
    # cable-like charging on the switched lines: one opened (at its from end) stays charged from
    # its to end, and pandapower reports its current and loading
    net.line.loc[[*SWITCHED, *TIES], "c_nf_per_km"] = 300.0
    return net


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, dict, str, object]:
    net = _net()
    folder = tmp_path_factory.mktemp("loading")
    path = folder / "net.json"
    pp.to_json(net, str(path))
    out = folder / "res"
    res = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "60", "--out", str(out),
                                   "--report", "--quiet"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "result.json").read_text())
    # the console: printed by a second run without --quiet
    console = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "60"])
    assert console.exit_code == 0, console.output
    return net, doc, console.output, out


def _pandapower_loading(net: pp.pandapowerNet, doc: dict) -> tuple[float, str]:
    """pandapower's largest line loading with the result's open branches opened at their
    switches (the tie out of service stays out)."""
    net = copy.deepcopy(net)
    opened = {b["id"] for b in doc["open_branches"]}
    for k, sw in net.switch.iterrows():
        if sw["et"] == "l":
            net.switch.at[k, "closed"] = f"line:{int(sw['element'])}" not in opened
    pp.runpp(net)
    lp = net.res_line["loading_percent"]
    k = int(lp.idxmax())
    return float(lp.max()), f"line:{k}"


def test_ac_check_loading_is_pandapowers(solved: tuple) -> None:
    net, doc, _, _ = solved
    ac = doc["ac_check"]
    expected, element = _pandapower_loading(net, doc)
    assert 10.0 < expected < 100.0  # a loading worth reporting, within the ratings
    assert ac["max_loading_percent"] == pytest.approx(expected, rel=1e-9)
    assert ac["max_loading_element"] == element


def test_branches_table_has_pandapower_loading(solved: tuple) -> None:
    import polars as pl

    net, doc, _, out = solved
    branches = pl.read_parquet(out / "branches.parquet")
    net = copy.deepcopy(net)
    opened = {b["id"] for b in doc["open_branches"]}
    for k, sw in net.switch.iterrows():
        net.switch.at[k, "closed"] = f"line:{int(sw['element'])}" not in opened
    pp.runpp(net)
    n_open = 0
    for row in branches.iter_rows(named=True):
        k = int(row["id"].split(":")[1])
        # every line, open ones included: a tie opened by its switch at the from end stays
        # charged from the to end, and the table gives pandapower's values (it gave NaN and
        # 0 kA: user test ut_out #1)
        assert row["loading_ac_percent"] == pytest.approx(
            float(net.res_line.at[k, "loading_percent"]), rel=1e-9, abs=1e-9)
        assert row["i_ac_ka"] == pytest.approx(
            float(net.res_line.at[k, "i_from_ka"]), rel=1e-9, abs=1e-12)
        assert row["p_from_ac_mw"] == pytest.approx(
            float(net.res_line.at[k, "p_from_mw"]), rel=1e-9, abs=1e-12)
        if not row["closed"]:
            n_open += 1
            assert float(net.res_line.at[k, "loading_percent"]) > 0.0
    assert n_open == len(doc["open_branches"]) > 0


def test_written_tables_hold_no_nan(solved: tuple) -> None:
    """A quantity that does not exist is null in every table written, never NaN: Polars
    orders NaN above every number, so ``> 100`` filters picked those rows (ut_out #1)."""
    import polars as pl

    _, _, _, out = solved
    tables = sorted(out.glob("*.parquet"))
    assert {"buses.parquet", "branches.parquet", "switches.parquet"} <= {
        t.name for t in tables}
    for table in tables:
        df = pl.read_parquet(table)
        for name, dtype in df.schema.items():
            if dtype.is_float():
                assert not df[name].is_nan().any(), f"{table.name}.{name} holds NaN"


def test_console_and_report_show_loading_and_out_of_service(solved: tuple) -> None:
    net, doc, output, out = solved
    ac = doc["ac_check"]
    assert f"{ac['max_loading_percent']:.2f} % of its rating ({ac['max_loading_element']})" \
        in output
    assert doc["out_of_service_branches"] == [
        {"id": f"line:{HELD_OUT}", "from_bus": str(net.line.at[HELD_OUT, "from_bus"]),
         "to_bus": str(net.line.at[HELD_OUT, "to_bus"])}]
    assert "out of service (open, not switched)" in output
    assert f"line:{HELD_OUT}" in output.split("out of service (open, not switched)")[1]
    html = (out / "report.html").read_text()
    assert "largest loading (AC, true)" in html
    assert f"{ac['max_loading_percent']:.2f} % of its rating" in html
    assert f"line:{HELD_OUT} (" in html.split("out of service (open, not switched)")[1]


def test_plot_draws_out_of_service_branch(solved: tuple) -> None:
    import polars as pl

    from feederopt.report.plot import grid_figure

    _, doc, _, out = solved
    buses = pl.read_parquet(out / "buses.parquet")
    branches = pl.read_parquet(out / "branches.parquet")
    ax = grid_figure(buses, branches, None, out_of_service=doc["out_of_service_branches"]).axes[0]
    labels = [t.get_text() for t in ax.texts]
    assert f"line:{HELD_OUT}" in labels
    assert "out of service (open)" in [h.get_label() for h in ax.get_legend().legend_handles]

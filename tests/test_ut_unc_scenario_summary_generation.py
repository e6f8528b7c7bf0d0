"""``feederopt scenarios`` on a network with generation of its own says what its net-demand
summary leaves out (user test ut_unc, finding 4).

On SimBench's 1-MV-rural--0-sw (96 loads, 17.256 MW; 102 sgens, 25.565 MW) the summary read
"net demand per scenario: 15.980 - 20.625 MW (nominal 17.256 MW); 4 scenario(s) with reverse
power at some bus": the loads and the scenarios' DER only, although the grid's own PV and wind
reverse the flow at many buses in every scenario. The summary now names the network's
generation and gives the net demand and the reverse-power count with it.

Independent truth: pandas sums of the written scenario table and of the pandapower net's load
and sgen tables (every load has a row in every generated scenario, so a scenario's net demand
is the sum of its rows less the sgens).
"""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pandas as pd
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()


def test_summary_names_the_networks_generation(tmp_path: Path) -> None:
    net = pn.case33bw()
    pp.create_sgen(net, 17, p_mw=3.0)  # a 3 MW PV park at the end of the main feeder
    pp.create_sgen(net, 5, p_mw=1.0)
    src = tmp_path / "net.json"
    pp.to_json(net, str(src))
    out_csv = tmp_path / "s.csv"
    res = runner.invoke(app, ["scenarios", str(src), "--out", str(out_csv), "--count", "6",
                              "--seed", "4", "--pv-share", "0"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())

    table = pd.read_csv(out_csv)
    load_bus = {f"load:{i}": int(b) for i, b in net.load["bus"].items()}
    table["bus"] = [load_bus[e] if k == "load" else int(e)
                    for k, e in zip(table["kind"], table["element"], strict=True)]
    assert (table.groupby("scenario")["kind"].apply(lambda k: (k == "load").sum()) == 32).all()
    per_bus = table.groupby(["scenario", "bus"])["p_mw"].sum().unstack(fill_value=0.0)
    sgen = net.sgen.groupby("bus")["p_mw"].sum().reindex(per_bus.columns, fill_value=0.0)
    gross = per_bus.sum(axis=1)
    net_demand = (per_bus - sgen).sum(axis=1)
    reverse = int(((per_bus - sgen) < 0).any(axis=1).sum())
    assert reverse == 6  # 3 MW at bus 17 is far above its load: reverse in every scenario

    assert (f"(loads and the scenarios' DER): {gross.min():.3f} - {gross.max():.3f} MW "
            "(nominal 3.715 MW)") in text
    assert (f"the network's own generation, 2 unit(s) with 4.000 MW at their set points "
            f"(p_mw), comes on top: with it {net_demand.min():.3f} - {net_demand.max():.3f} MW "
            f"net, {reverse} scenario(s) with reverse power at some bus") in text


def test_no_generation_no_extra_line(tmp_path: Path) -> None:
    res = runner.invoke(app, ["scenarios", "case33bw", "--out", str(tmp_path / "s.csv"),
                              "--count", "2"])
    assert res.exit_code == 0, res.output
    assert "own generation" not in res.output


def test_generation_by_bus_counts_live_units_at_their_set_points() -> None:
    """generation_by_bus (the summary's figures, in io): in-service units with a non-zero
    p_mw summed per bus; an out-of-service unit and a 0 MW unit are neither counted nor
    added, and a unit at a bus left out of the bus list adds nothing."""
    import feederopt
    from feederopt.io.scenarios import generation_by_bus

    net = pn.case33bw()
    pp.create_sgen(net, 17, p_mw=3.0)
    pp.create_sgen(net, 17, p_mw=0.5)
    pp.create_sgen(net, 5, p_mw=1.0)
    pp.create_sgen(net, 5, p_mw=2.0, in_service=False)
    pp.create_sgen(net, 9, p_mw=0.0)
    pp.create_sgen(net, 30, p_mw=0.7)
    fo = feederopt.load(net)
    bus17, bus5, bus30 = (fo.generators.filter(fo.generators["p_mw"] == p)["bus"].cast(str)[0]
                          for p in (3.0, 1.0, 0.7))
    buses = [str(b) for b in fo.buses["id"].to_list() if str(b) != bus30]
    at = {b: j for j, b in enumerate(buses)}
    units, per_bus = generation_by_bus(fo, buses)
    assert units == 4  # 3.0, 0.5, 1.0 and 0.7 MW; not the out-of-service or 0 MW ones
    assert per_bus.sum() == 4.5
    assert per_bus[at[bus17]] == 3.5 and per_bus[at[bus5]] == 1.0

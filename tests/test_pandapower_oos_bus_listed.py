"""Every branch to an out-of-service bus is accounted for in a result (user test
ut34_realgrid #4).

With bus 6 out of service, reached by the closed line 4 and the open tie line 5, the result
listed neither: not among the open branches, nor the out-of-service ones, nor in a note (line
4 only in the reader's note as charged). Now each such line, transformer and bus-bus switch is
among ``out_of_service_branches`` with its state, so that every switch of the net shows in the
result. The truth is the pandapower net itself (which elements touch an out-of-service bus,
which switches exist) and pandapower's ``runpp`` (line 4 draws its charging power at bus 5,
the tie carries nothing).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandapower as pp
import polars as pl
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()


def feeder() -> pp.pandapowerNet:
    """A 20/0.4 kV transformer feeding buses 1-6 over six switched lines, the tie line 5 (4-6)
    open; bus 6 (with a load) out of service. Besides, a second transformer from bus 0 to the
    out-of-service 0.4 kV bus 7, switched at bus 0, and a closed bus-bus switch 3-6."""
    n = pp.create_empty_network()
    hv = pp.create_bus(n, 20.0)
    b = [pp.create_bus(n, 0.4) for _ in range(6)]
    pp.create_ext_grid(n, hv, vm_pu=1.0)
    pp.create_transformer(n, hv, b[0], "0.4 MVA 20/0.4 kV")
    for x, y in [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (3, 5)]:
        line = pp.create_line(n, b[x], b[y], 0.15, "NAYY 4x150 SE")
        pp.create_switch(n, b[x], line, "l", closed=not (x == 3 and y == 5))
    for i in range(1, 6):
        pp.create_load(n, b[i], p_mw=0.04, q_mvar=0.01)
    spare = pp.create_bus(n, 0.4, in_service=False)
    t = pp.create_transformer(n, hv, spare, "0.25 MVA 20/0.4 kV")
    pp.create_switch(n, hv, t, "t", closed=True)
    pp.create_switch(n, b[2], b[5], "b", closed=True)
    n.bus.loc[b[5], "in_service"] = False
    return n


def test_every_branch_to_an_out_of_service_bus_is_listed_with_its_state(tmp_path: Path):
    net = feeder()
    dead = set(net.bus.index[~net.bus.in_service])
    touching = ({f"line:{i}" for i, r in net.line.iterrows()
                 if {r.from_bus, r.to_bus} & dead}
                | {f"trafo:{i}" for i, r in net.trafo.iterrows() if {r.hv_bus, r.lv_bus} & dead}
                | {f"switch:{i}" for i, r in net.switch.iterrows()
                   if r.et == "b" and {r.bus, r.element} & dead})
    assert touching == {"line:4", "line:5", "trafo:1", "switch:7"}
    pp.runpp(net, numba=False)
    assert net.res_line.at[4, "q_from_mvar"] != 0  # line 4 charged from bus 5
    assert net.res_line.at[5, "p_from_mw"] == 0 and net.res_line.at[5, "q_from_mvar"] == 0
    assert net.res_trafo.at[1, "p_hv_mw"] == 0  # the transformer to bus 7 is out

    src = tmp_path / "net.json"
    pp.to_json(net, str(src))
    doc = tmp_path / "r.json"
    out = runner.invoke(app, ["solve", str(src), "--json", str(doc), "--force",
                              "--time-limit", "20"])
    assert out.exit_code == 0, out.output
    r = json.loads(doc.read_text())
    listed = {row["id"]: row for row in r["out_of_service_branches"]}
    assert touching <= set(listed)
    assert listed["line:4"]["state"].startswith("bus 6 out of service; charged from bus 5")
    assert listed["line:5"]["state"].startswith("bus 6 out of service; open at bus 4")
    assert listed["trafo:1"]["state"].startswith("bus 7 out of service")
    assert listed["switch:7"]["state"].startswith("bus 6 out of service")
    # every switch of the net shows in the result: in the switches' operated_by or here
    shown = " ".join(str(row.get("operated_by")) for row in r["out_of_service_branches"])
    folder = tmp_path / "o"
    out = runner.invoke(app, ["solve", str(src), "--out", str(folder), "--time-limit", "20"])
    assert out.exit_code == 0, out.output
    switches = pl.read_parquet(folder / "switches.parquet")
    shown += " " + " ".join(str(x) for x in switches["operated_by"].to_list())
    named = {int(k) for k in re.findall(r"switch (\d+)", shown)}
    assert named == set(net.switch.index)
    # and a note names them
    assert any("line:4" in n and "line:5" in n and "out-of-service branches" in n
               for n in r["notes"])

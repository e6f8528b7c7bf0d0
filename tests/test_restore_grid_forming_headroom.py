"""The restore AC check's grid-forming DG in an island is the one with headroom (user test
ut40_recheck_d): CIGRE MV with placeholder ratings, its substation feeders cut off
(``line:0``, ``line:10``), backup DGs of 2,000 kW at buses 5 and 10. The lossless model
dispatches one of them to its full size; made the island's slack, that one needed 2,010.75 kW in
AC ("backup DG over its size"), though the other had over 800 kW of room.

Truth: pandapower's own power flow of the restored operation (the result's closed lines and
shed, the DG with room as an ext_grid at the model's voltage, the other at the model's P and Q):
every DG within its size, so the check must not report one over it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

SIZE_KW = 2000.0


def _net() -> pp.pandapowerNet:
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    net.line["max_i_ka"] = 99999.0  # placeholder ratings (as pandapower's case33bw has)
    return net


def _pandapower_dg_kw(doc: dict, forming: str) -> dict[str, float]:
    """Each DG's P [kW] in pandapower's power flow of the restored operation, ``forming`` the
    island's ext_grid, the other DGs fixed at the model's P and Q."""
    op = doc["operation"]
    net = _net()
    closed = {int(x.split(":")[1]) for x in op["closed_lines"] if x.startswith("line:")}
    net.line["in_service"] = net.line.index.isin(closed)
    net.switch.loc[net.switch.et == "l", "closed"] = True
    for k, v in op["shed_per_load_kw"].items():
        i = int(k.split(":")[1])
        p = float(net.load.p_mw[i])
        if p > 0:
            f = 1 - v / 1e3 / p
            net.load.loc[i, ["p_mw", "q_mvar"]] = [p * f, float(net.load.q_mvar[i]) * f]
    out = {}
    for b, p in op["dg_output_kw"].items():
        if b != forming:
            pp.create_sgen(net, int(b), p_mw=p / 1e3,
                           q_mvar=op["dg_output_kvar"].get(b, 0.0) / 1e3)
            out[b] = p
    pp.create_ext_grid(net, int(forming), vm_pu=op["voltage_pu"].get(forming, 1.0))
    net.ext_grid = net.ext_grid.iloc[[-1]]  # the island's only source: the DG
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    out[forming] = float(net.res_ext_grid.p_mw.iloc[-1]) * 1e3
    return out


@pytest.mark.filterwarnings("ignore")
def test_the_grid_forming_dg_is_the_one_with_room(tmp_path: Path) -> None:
    src = tmp_path / "cigre.json"
    pp.to_json(_net(), str(src))
    out = tmp_path / "r.json"
    res = CliRunner(env={"COLUMNS": "400"}).invoke(
        app, ["restore", str(src), "--broken", "line:0,line:10", "--dg-sites", "5,10",
              "--dg-size", str(SIZE_KW), "--time-limit", "50", "--json", str(out), "-q"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    dg = doc["operation"]["dg_output_kw"]
    full = [b for b, p in dg.items() if p > SIZE_KW - 1e-3]
    assert full, dg  # the premise: the model dispatches a DG to its full size
    room = max(dg, key=lambda b: (SIZE_KW - dg[b], dg[b]))
    truth = _pandapower_dg_kw(doc, room)
    assert all(p <= SIZE_KW * (1 + 1e-6) for p in truth.values()), truth
    ac = doc["ac_check"]
    assert list(ac["dg_island_kw"]) == [room]
    assert ac["dg_island_kw"][room] == pytest.approx(truth[room], rel=1e-4)
    assert not ac["dg_over_size"], ac

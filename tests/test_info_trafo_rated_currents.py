"""``feederopt info``'s transformer table gives each side's rated current, as pandapower rates
the trafo, whatever the buses' kV.

pandapower's current-based trafo loading (``results_branch._get_trafo_results``) is
``i vn sqrt(3) / sn_mva`` at each side with the trafo's rated ``vn_hv_kv`` and ``vn_lv_kv``: 100 %
at ``sn_mva / (sqrt(3) vn_hv_kv)`` on the hv side and ``sn_mva / (sqrt(3) vn_lv_kv)`` on the lv
side. The table showed one "vn [kV]" (the hv bus's) beside one "i_max [kA]" referred to it, so a
0.63 MVA 20/0.4 kV trafo on a 0.41 kV bus read 0.01864 kA and 0.6458 MVA. The truth here is the
nameplate the test writes, computed in the test."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

SN, HV, LV = 0.63, 20.0, 0.4


def _net(path: Path) -> None:
    """A 20 kV source and three 0.63 MVA 20/0.4 kV trafos: to a 0.4 kV bus, to a 0.41 kV bus
    (its rated lv voltage is not its bus's) and to a 0.41 kV bus two tap steps off neutral."""
    net = pp.create_empty_network()
    mv = pp.create_bus(net, vn_kv=HV)
    pp.create_ext_grid(net, mv)
    for lv_kv, tap in ((0.4, 0), (0.41, 0), (0.41, 2)):
        lv = pp.create_bus(net, vn_kv=lv_kv)
        t = pp.create_transformer(net, mv, lv, std_type="0.63 MVA 20/0.4 kV")
        net.trafo.at[t, "tap_pos"] = tap
        pp.create_load(net, lv, p_mw=0.1, q_mvar=0.02)
    assert (net.trafo["sn_mva"] == SN).all() and (net.trafo["vn_lv_kv"] == LV).all()
    pp.to_json(net, str(path))


def _rows(output: str) -> dict[str, dict[str, str]]:
    """The transformer table's rows by id, each a dict of its cells by column name."""
    lines = output.splitlines()
    header = next(line for line in lines if "rating [MVA]" in line)
    names = [c.strip() for c in re.split(r"[┃│]", header)[1:-1]]
    rows = {}
    for line in lines:
        cells = [c.strip() for c in re.split(r"[┃│]", line)[1:-1]]
        if cells and cells[0].startswith("trafo:"):
            rows[cells[0]] = dict(zip(names, cells, strict=True))
    return rows


def test_info_gives_the_rated_current_at_each_side(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    _net(path)
    i_hv, i_lv = SN / (math.sqrt(3.0) * HV), SN / (math.sqrt(3.0) * LV)
    runner = CliRunner(env={"COLUMNS": "250"})
    res = runner.invoke(app, ["info", str(path)])
    assert res.exit_code == 0, res.output
    assert "transformer ratings [MVA]" in res.output and f"3 of 3 transformers: {SN:g} MVA" \
        in res.output
    rows = _rows(res.output)
    assert set(rows) == {"trafo:0", "trafo:1", "trafo:2"}
    for tid, row in rows.items():
        assert row["kV hv/lv"] == f"{HV:g}/{LV:g}", row  # the rated kV, not the bus's 0.41
        assert float(row["i_max hv [kA]"]) == pytest.approx(i_hv, rel=1e-3), (tid, row)
        assert float(row["i_max lv [kA]"]) == pytest.approx(i_lv, rel=1e-3), (tid, row)
        assert float(row["rating [MVA]"]) == pytest.approx(SN, rel=1e-3), (tid, row)
        assert row["s_max [MVA]"] == f"{SN:g} (as i_max)", row
    res = runner.invoke(app, ["info", str(path), "--json"])
    assert res.exit_code == 0, res.output
    limits = json.loads(res.output)["limits"]
    for tr in limits["transformers"]:
        assert (tr["hv_bus"], tr["vn_hv_kv"], tr["vn_lv_kv"], tr["vn_rated"]) == (
            "0", HV, LV, True)
        assert tr["i_max_hv_ka"] == pytest.approx(i_hv, rel=1e-12)
        assert tr["i_max_lv_ka"] == pytest.approx(i_lv, rel=1e-12)
        assert tr["rating_mva"] == pytest.approx(SN, rel=1e-12)
    # the summary's range of current ratings has the same figures (each at its hv side)
    assert limits["branch_ratings"]["i_max_ka"] == {"count": 3, "min": pytest.approx(i_hv),
                                                    "max": pytest.approx(i_hv)}

"""``info``'s transformer table shows a pandapower trafo's rating under s_max (user test
ut51_journey #3).

A pandapower trafo's ``sn_mva`` is held as a current at its hv side (``i_max_ka``), so the
table's s_max column read "-" next to a rating of 25 MVA, as if ``sn_mva`` had not been read.
The truth is the user's own net: each trafo's ``sn_mva`` as the test writes it."""

from __future__ import annotations

import re
from pathlib import Path

import pandapower as pp
from typer.testing import CliRunner

from feederopt.cli import app


def _net() -> pp.pandapowerNet:
    """A 110 kV source and two transformers of different ratings (25 and 16 MVA) to 20 kV
    feeders joined by an open tie line."""
    net = pp.create_empty_network()
    hv = pp.create_bus(net, vn_kv=110.0)
    mv = [pp.create_bus(net, vn_kv=20.0) for _ in range(4)]
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    pp.create_transformer(net, hv, mv[0], std_type="25 MVA 110/20 kV")
    pp.create_transformer_from_parameters(net, hv, mv[2], sn_mva=16.0, vn_hv_kv=110.0,
                                          vn_lv_kv=20.0, vkr_percent=0.4, vk_percent=12.0,
                                          pfe_kw=10.0, i0_percent=0.05)
    std = "NA2XS2Y 1x95 RM/25 12/20 kV"
    pp.create_line(net, mv[0], mv[1], length_km=2.0, std_type=std)
    pp.create_line(net, mv[2], mv[3], length_km=2.0, std_type=std)
    tie = pp.create_line(net, mv[1], mv[3], length_km=1.0, std_type=std)
    pp.create_switch(net, mv[1], tie, et="l", closed=False)
    for bus in (mv[1], mv[3]):
        pp.create_load(net, bus, p_mw=2.0, q_mvar=0.5)
    return net


def test_info_shows_each_trafos_sn_mva_under_s_max(tmp_path: Path) -> None:
    net = _net()
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    # rich takes its width from COLUMNS (terminal_width is click's alone): without it, 80 columns
    # wrapped the header "s_max [MVA]" in CI
    res = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["info", str(path)])
    assert res.exit_code == 0, res.output
    header = next(line for line in res.output.splitlines() if "s_max [MVA]" in line)
    names = [c.strip() for c in re.split(r"[┃│]", header)[1:-1]]
    for idx, sn in net.trafo["sn_mva"].items():
        row = next(line for line in res.output.splitlines() if f"trafo:{idx} " in line)
        cells = dict(zip(names, (c.strip() for c in re.split(r"[┃│]", row)[1:-1]),
                         strict=True))
        assert cells["s_max [MVA]"] == f"{sn:g} (as i_max)", row
        assert cells["rating [MVA]"] == f"{sn:g}", row

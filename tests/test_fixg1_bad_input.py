"""ut_bad defects 1 and 6: networks that ``solve`` refuses are refused (or flagged) by ``info``
too, with a typed problem naming the component, exit code 2 and no traceback."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io import write_folder
from netbuild import tiny, tiny_tables

runner = CliRunner()


def test_info_lists_a_loop_of_branches_that_cannot_open(tmp_path: Path) -> None:
    # every branch fixed and the tie s-c closed: the loop s-a-b-c-s cannot open, by hand
    br = tiny_tables()["branches"].with_columns(pl.lit(False).alias("switchable"),
                                                 pl.lit(False).alias("normally_open"))
    folder = write_folder(tiny(branches=br), tmp_path / "loop")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    solved = runner.invoke(app, ["solve", str(folder), "-q"])
    assert solved.exit_code == 2 and "not_radial" in solved.output, solved.output
    for args in (["info", str(folder)], ["info", str(folder), "--json"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert "not_radial" in res.output and "problems: none" not in res.output
        for branch in ("l1", "l2", "l3", "tie1"):  # the loop, named branch by branch
            assert branch in res.output
        assert "Traceback" not in res.output
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # the same feeder with the tie normally open is fine
    ok = write_folder(tiny(), tmp_path / "ok")
    res = runner.invoke(app, ["info", str(ok)])
    assert res.exit_code == 0 and "problems: none" in res.output, res.output


def _trafo_net(vn_lv_kv: float, path: Path) -> Path:
    """ext_grid at 110 kV, a 110/``vn_lv_kv`` kV trafo onto a 20 kV bus, a line and a load."""
    import pandapower as pp

    net = pp.create_empty_network()
    hv, lv, end = (pp.create_bus(net, vn_kv=v) for v in (110.0, 20.0, 20.0))
    pp.create_ext_grid(net, hv)
    pp.create_transformer_from_parameters(net, hv, lv, sn_mva=25.0, vn_hv_kv=110.0,
                                          vn_lv_kv=vn_lv_kv, vkr_percent=0.4, vk_percent=12.0,
                                          pfe_kw=0.0, i0_percent=0.0)
    pp.create_line_from_parameters(net, lv, end, length_km=2.0, r_ohm_per_km=0.2,
                                   x_ohm_per_km=0.1, c_nf_per_km=0.0, max_i_ka=0.4)
    pp.create_load(net, end, p_mw=1.0, q_mvar=0.2)
    pp.to_json(net, str(path))
    return path


def test_a_trafo_rated_far_off_its_bus_voltage_is_refused(tmp_path: Path) -> None:
    # 0.4 kV against 20 kV: 98 % off, beyond pandapower diagnostic's 30 % tolerance
    src = _trafo_net(0.4, tmp_path / "mismatch.json")
    before = src.read_bytes()
    for args in (["info", str(src)], ["solve", str(src), "--json", str(tmp_path / "r.json"),
                                      "--time-limit", "20"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert "trafo:0" in res.output and "vn_lv_kv" in res.output
        assert "0.4 kV" in res.output and "20 kV" in res.output and "hint" in res.output
        assert "Traceback" not in res.output and "slave" not in res.output
    assert src.read_bytes() == before and not (tmp_path / "r.json").exists()


def test_a_slightly_off_nominal_trafo_is_a_note_not_a_problem(tmp_path: Path) -> None:
    # 24 kV on a 20 kV bus: 20 % off, pandapower solves it; feederopt warns and goes on
    res = runner.invoke(app, ["info", str(_trafo_net(24.0, tmp_path / "off.json"))])
    assert res.exit_code == 0, res.output
    assert "problems: none" in res.output and "off-nominal" in res.output
    assert "vn_lv_kv 24 kV" in res.output
    # 21 kV (5 %) is an ordinary off-nominal ratio: no note
    res = runner.invoke(app, ["info", str(_trafo_net(21.0, tmp_path / "ok.json"))])
    assert res.exit_code == 0 and "off-nominal" not in res.output, res.output

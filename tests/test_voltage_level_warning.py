"""A line or switch whose end buses have different nominal voltages (a user's tie from a 20 kV
bus to a 0.4 kV bus in a table folder) was accepted silently: the per-unit model puts each end
on its own base (a transformer of ratio vn_f / vn_t in the model), the user's power flow does
something else, and the AC check then disagreed with the model. A small difference (5..10 %) is
a warning that names the branch and both voltages; two voltage levels (more than 10 % apart)
are an error since user test ut47_ppgrid #1 (cigre MV with bus 5 at 0.4 kV was solved and
bus 6 blamed, while pandapower's runpp does not converge and its diagnostic names lines 3, 4);
transformers and equal levels stay silent."""

from __future__ import annotations

import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import Severity
from feederopt.network import InputError
from feederopt.network.validate import validate
from netbuild import tiny, tiny_tables


def _level_problems(net) -> list:
    return [p for p in validate(net) if "voltage" in p.message and "line(s)/switch(es) join"
            in p.message]


def test_a_tie_across_voltage_levels_is_an_error() -> None:
    buses = tiny_tables()["buses"].with_columns(
        vn_kv=pl.Series([12.66, 12.66, 12.66, 12.66, 0.4]))  # bus d at 0.4 kV behind switch sw1
    (w,) = _level_problems(tiny(buses=buses))
    assert w.severity is Severity.ERROR and w.ids == ("sw1",)
    assert "12.66 kV" in w.message and "0.4 kV" in w.message and "transformer" in w.message


def test_a_small_difference_is_a_warning() -> None:
    # 12.66 against 13.5 kV: 6.2 % apart (|12.66 - 13.5| / 13.5), one level mislabelled
    buses = tiny_tables()["buses"].with_columns(
        vn_kv=pl.Series([12.66, 12.66, 12.66, 12.66, 13.5]))
    (w,) = _level_problems(tiny(buses=buses))
    assert w.severity is Severity.WARNING and w.ids == ("sw1",)
    assert "12.66 kV" in w.message and "13.5 kV" in w.message


def test_a_transformer_or_one_level_is_silent() -> None:
    assert not _level_problems(tiny())
    t = tiny_tables()
    buses = t["buses"].with_columns(vn_kv=pl.Series([12.66, 12.66, 12.66, 12.66, 0.4]))
    branches = t["branches"].with_columns(
        kind=pl.Series(["line", "line", "line", "transformer", "line"]))
    assert not _level_problems(tiny(buses=buses, branches=branches))


def _cigre_with_a_04kv_bus() -> pp.pandapowerNet:
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    net.bus.loc[5, "vn_kv"] = 0.4
    return net


def test_the_users_cigre_bus_at_04kv_is_refused_naming_pandapowers_lines() -> None:
    net = _cigre_with_a_04kv_bus()
    # the truth: pandapower's own diagnostic names the lines joining two voltage levels
    truth = pp.diagnostic(net, report_style=None)["different_voltage_levels_connected"]
    lines = sorted(truth["lines"])
    with pytest.raises(InputError) as exc:
        load(net)
    (p,) = [p for p in exc.value.problems if "voltage levels" in p.message]
    assert p.severity is Severity.ERROR
    assert sorted(p.ids) == [f"line:{i}" for i in lines]
    assert "bus 5 at 0.4 kV" in p.message and "20 kV" in p.message
    assert "bus 5 is on each of them" in p.message and "vn_kv" in p.hint


def test_the_cli_exits_2_on_it(tmp_path) -> None:
    path = tmp_path / "bad_vn_mismatch.json"
    pp.to_json(_cigre_with_a_04kv_bus(), str(path))
    out = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "30"])
    assert out.exit_code == 2, out.output
    assert "line:3" in out.output and "line:4" in out.output and "0.4 kV" in out.output

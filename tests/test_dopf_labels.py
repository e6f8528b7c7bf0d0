"""How the DOPF names its settings (user test ut_dopfres #6): a flexible load's reduction reads
"reduced by 400.0 kW" (not "-400.0 kW"), a controllable shunt that absorbs reactive power
(pandapower's positive ``q_mvar``) is a reactor (not a "capacitor" at "-0 kvar"), and an empty
``--controls`` is a typed problem instead of a distribution OPF that sets nothing.

Reference: the settings that ``to_pandapower`` writes into the net (the load's ``p_mw`` before
and after) and pandapower's own sign convention (``res_shunt.q_mvar`` > 0: consumed)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io.pandapower import from_pandapower
from netbuild import flexible_ld_a6, two_feeder_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")
runner = CliRunner()


def test_a_used_flexible_load_reads_reduced_by() -> None:
    net = two_feeder_pandapower(oltc=True, dg=True)
    ld = flexible_ld_a6(net, -0.01)  # almost free: used
    result = feederopt.solve(net, controls="flex", time_limit=30)
    (flex,) = [d for d in result.dopf.devices if d["kind"] == "flexible_load"]
    written = result.to_pandapower(net)
    cut_kw = 1000 * float(net.load.at[ld, "p_mw"] - written.load.at[ld, "p_mw"])
    assert cut_kw > 1.0
    assert flex["setting"] == f"reduced by {cut_kw:.1f} kW"


def test_an_absorbing_shunt_is_a_reactor(tmp_path: Path) -> None:
    net = two_feeder_pandapower(oltc=True)
    sh = int(net.shunt.index[net.shunt.name == "CAP_A5"][0])
    net.shunt.at[sh, "q_mvar"] = -float(net.shunt.at[sh, "q_mvar"])  # now consumes
    net.shunt.at[sh, "step"] = 1
    pp.runpp(net)
    assert net.res_shunt.at[sh, "q_mvar"] > 0  # pandapower: consumed, i.e. a reactor
    result = feederopt.solve(from_pandapower(net), controls="caps", time_limit=30)
    (bank,) = [d for d in result.dopf.devices if d["id"] == f"shunt:{sh}"]
    assert bank["kind"] == "reactor"
    assert "-0" not in bank["setting"] and "-" not in bank["setting"].split(":")[1]
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    res = runner.invoke(app, ["info", str(path)])
    assert res.exit_code == 0 and "1 switched reactor" in res.output
    assert "0 capacitor banks" in res.output


@pytest.mark.parametrize("value", ["", " , "])
def test_empty_controls_is_a_typed_problem(value: str, tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    pp.to_json(two_feeder_pandapower(oltc=True, dg=True), str(path))
    res = runner.invoke(app, ["solve", str(path), "--controls", value, "--time-limit", "10"])
    assert res.exit_code == 2, res.output
    assert "controls" in res.output and "names no control" in res.output

"""The DOPF's AC-OPF polish on a pandapower net with a voltage-controlling ``gen`` (user test
ut33_dopf #2).

pandapower's OPF refused every net with a ``gen`` ("These columns are missing in gen:
['min_p_mw' 'max_p_mw']", logged straight onto the console, then KeyError "OPF parameters are
not set correctly"); the JSON said ``ac_opf.converged`` false and the console nothing. The polish
now gives a gen the parameters of what the model holds it to (p fixed at ``p_mw``, its bus at
``vm_pu``) and says when it fails, and why, without pandapower's stray log lines.

Reference: pandapower's ``runpp`` on the user's net with the polished set-points written into
it (``result.to_pandapower``, then the polish's ``gen_p_mw``/``gen_q_mvar``): its losses are
the polish's, the gen's p is its ``p_mw`` and its bus sits at its ``vm_pu``.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from netbuild import two_feeder_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")
runner = CliRunner()
ENV = {"COLUMNS": "240"}


def _net() -> pp.pandapowerNet:
    """ut_dopf's two feeders with the free controllable sgen DG_B4 and a 0.5 MW gen holding
    bus B2 at 1.02 p.u."""
    net = two_feeder_pandapower(dg=True)
    net.poly_cost["cp1_eur_per_mw"] = 0.0
    net.poly_cost["cp0_eur"] = 0.0
    b2 = int(net.bus.index[net.bus.name == "B2"][0])
    pp.create_gen(net, b2, p_mw=0.5, vm_pu=1.02, name="G_B2", min_q_mvar=-1.0, max_q_mvar=1.0)
    return net


def test_the_polish_runs_with_a_gen_and_agrees_with_runpp(tmp_path: Path) -> None:
    pp_net = _net()
    path = tmp_path / "net.json"
    pp.to_json(pp_net, str(path))
    res = runner.invoke(app, ["solve", str(path), "--time-limit", "60", "--json",
                              str(tmp_path / "r.json")], env=ENV)
    assert res.exit_code == 0, res.output
    assert "These columns are missing" not in res.output  # no stray pandapower log lines
    assert "polish" not in res.output  # no failure to report
    polish = json.loads((tmp_path / "r.json").read_text())["ac_opf"]
    assert polish["converged"], polish["message"]
    assert polish["gen_p_mw"]["sgen:0"] > 0.1  # the free DG runs
    # runpp on the user's net at the polished set-points gives the polish's losses.
    result = feederopt.solve(feederopt.load(pp_net), time_limit=60)
    again = result.dopf.ac_opf
    assert again is not None and again["converged"]
    check = result.to_pandapower(pp_net)
    check.sgen.at[0, "p_mw"] = again["gen_p_mw"]["sgen:0"]
    check.sgen.at[0, "q_mvar"] = again["gen_q_mvar"]["sgen:0"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(check, numba=False)
    losses = 1000 * float(check.res_line.pl_mw.sum() + check.res_trafo.pl_mw.sum())
    assert again["losses_kw"] == pytest.approx(losses, rel=1e-4)
    gen_bus = int(check.gen.bus.iloc[0])
    assert float(check.res_bus.vm_pu[gen_bus]) == pytest.approx(1.02, abs=1e-6)
    assert float(check.res_gen.p_mw.iloc[0]) == pytest.approx(0.5, abs=1e-9)
    # The polish cannot beat the SOCP relaxation's point by more than its tolerance.
    assert again["losses_kw"] >= again["socp_losses_kw"] - 1e-2


def test_a_failed_polish_is_said_with_its_reason(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(net: Any, **_: Any) -> None:
        logging.getLogger("pandapower.opf.validate_opf_input").error(
            "These columns are missing in gen: ['min_p_mw' 'max_p_mw']")
        raise KeyError("OPF parameters are not set correctly. See error log.")

    monkeypatch.setattr(pp, "runopp", refuse)
    path = tmp_path / "net.json"
    pp.to_json(_net(), str(path))
    res = runner.invoke(app, ["solve", str(path), "--time-limit", "60", "--json",
                              str(tmp_path / "r.json")], env=ENV)
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "the AC-OPF polish of the generators' set-points failed" in out
    assert "OPF parameters are not set correctly" in out
    assert "pandapower: These columns are missing in gen" in out  # the reason, once
    assert out.count("These columns are missing in gen") == 1
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["ac_opf"]["converged"] is False
    assert any("AC-OPF polish" in n for n in data["notes"])

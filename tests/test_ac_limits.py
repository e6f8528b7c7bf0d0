"""The AC check holds the AC operating point to the model's limits (user test ut_research #1).

pandapower's case33bw with v_max 1.05 and three 2.5 MW PV units (buses 17, 32, 24): power flows
back towards the source and the SOCP relaxation is not exact, so the model's voltages (held to
1.05) are lower than the true ones. The expected violations come from pandapower's own
``runpp`` of the user's net with the open lines taken out of service by hand, not from
feederopt's AC check.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.network.perunit import to_per_unit
from feederopt.results.mapping import _ac_check, ac_limit_violations
from feederopt.results.result import AC_LIMIT_TOLERANCE
from feederopt.validation.ac import ac_power_flow
from netbuild import pv33_pandapower as pv33

runner = CliRunner()
TOL_V = AC_LIMIT_TOLERANCE["voltage_pu"]


def pp_voltages(net: pp.pandapowerNet, open_lines: list[int]) -> dict[int, float]:
    """pandapower's bus voltages with exactly ``open_lines`` out of service."""
    net = copy.deepcopy(net)
    net.line["in_service"] = True
    net.line.loc[open_lines, "in_service"] = False
    pp.runpp(net, numba=False)
    return {int(b): float(v) for b, v in net.res_bus["vm_pu"].items()}


def test_solve_reports_ac_voltages_above_v_max(tmp_path: Path) -> None:
    net = pv33()
    src = tmp_path / "pv33.json"
    pp.to_json(net, str(src))
    folder = tmp_path / "r"
    res = runner.invoke(app, ["solve", str(src), "--time-limit", "4", "--out", str(folder),
                              "--report"])
    doc = json.loads((folder / "result.json").read_text())
    open_lines = [int(b["id"].split(":")[1]) for b in doc["open_branches"]]
    vm = pp_voltages(net, open_lines)
    above = {b: v for b, v in vm.items() if v > 1.05 + TOL_V}
    assert above, "the fixture must break v_max in AC (else this test shows nothing)"
    ac = doc["ac_check"]
    got = {int(d["id"]): d for d in ac["limit_violations"]}  # ids come back as strings
    assert set(got) == set(above)
    for b, v in above.items():
        assert got[b]["limit"] == "v_max" and got[b]["rating"] == 1.05
        assert got[b]["value"] == pytest.approx(v, abs=1e-6)
        assert got[b]["amount"] == pytest.approx(v - 1.05, abs=1e-6)
    assert ac["within_limits"] is False and doc["within_limits"] is False
    # the band the answer is held to, from the pandapower net's min_vm_pu/max_vm_pu
    assert doc["settings"]["v_max_pu"] == 1.05 and doc["settings"]["v_min_pu"] == 0.9
    assert res.exit_code == 4, res.output
    worst = max(above, key=lambda b: above[b])
    assert "breaks the limits" in res.output and f"bus {worst}:" in res.output
    html = (folder / "report.html").read_text()
    assert "breaks the limits at" in html and f"{above[worst]:.4f}"[:6] in html
    # the iteration log as the summary gives them: bounds in kW, the gap in % (#6)
    assert "lower bound [kW]" in html and "gap [%]" in html


def test_current_ratings_against_pandapower() -> None:
    """A rating below the base case's current on two lines: the AC check names exactly the
    lines whose pandapower current exceeds their max_i_ka, with their loading."""
    net = pn.case33bw()
    net.line.loc[[0, 1], "max_i_ka"] = [0.15, 0.25]  # pandapower: 0.2 kA on line 0
    pp.runpp(net, numba=False)
    over = {f"line:{i}": float(net.res_line.at[i, "i_ka"]) for i in net.line.index
            if net.line.at[i, "in_service"]
            and net.res_line.at[i, "i_ka"] > net.line.at[i, "max_i_ka"] * 1.001}
    assert over == {"line:0": pytest.approx(over["line:0"])}  # 0.25 kA holds on line 1
    fn = load(net)
    found = ac_limit_violations(to_per_unit(fn), ac_power_flow(fn), fn.bus_id_out)
    currents = [d for d in found if d["limit"] == "i_max"]
    assert [d["id"] for d in currents] == list(over)
    d = currents[0]
    assert d["value"] == pytest.approx(over["line:0"], rel=1e-6)
    assert d["loading_percent"] == pytest.approx(100 * over["line:0"] / 0.15, rel=1e-6)
    # pandapower's v_min of this net is 0.9: its base case is above it at every bus
    assert not [d for d in found if d["component"] == "buses"]


def test_ac_losses_below_the_bound_get_a_note() -> None:
    """A lower bound above the AC losses of the checked point is flagged; one below is not."""
    fn = load(pv33())
    pu = to_per_unit(fn)
    ac = ac_power_flow(fn)
    closed = np.asarray(ac.closed, bool)
    v = np.full(pu.n_bus, math.nan)
    above = _ac_check(pu, {}, v, math.nan, closed, ac, compare=False,
                      lower_bound_kw=ac.losses_kw + 1.0)
    below = _ac_check(pu, {}, v, math.nan, closed, ac, compare=False,
                      lower_bound_kw=ac.losses_kw - 1.0)
    assert any("below the lower bound" in w and "not exact" in w for w in above.warnings)
    assert not any("below the lower bound" in w for w in below.warnings)
    assert above.within_limits is False  # the base case is above 1.05 (pandapower: 1.11)

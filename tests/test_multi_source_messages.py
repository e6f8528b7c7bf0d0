"""Messages on grids with two sources (user test ut32_multi netC, netC_fixed).

* netC: two ext_grids at 1.00 and 1.03 p.u. joined by a closed bus-bus coupler. pandapower
  cannot run that base case at all (two set-points on one bus), and the solve's warning said
  "its losses (nan kW) are a meshed operating point's ...; the loss reduction compares with
  it". It now says that the base case's AC power flow could not be run.
* netC_fixed: a plain line joins the sources: "(1 branches)" is now "(1 branch)".
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

BIG = "NA2XS2Y 1x185 RM/25 12/20 kV"
SMALL = "NA2XS2Y 1x95 RM/25 12/20 kV"


def _net(coupler: bool) -> pp.pandapowerNet:
    """/tmp/ut32_multi/build.py's netC (``coupler``) or netC_fixed."""
    net = pp.create_empty_network(sn_mva=1.0)
    for i in range(15):
        pp.create_bus(net, 20.0, name=f"b{i}", min_vm_pu=0.94, max_vm_pu=1.06)
    pp.create_ext_grid(net, 0, vm_pu=1.00, name="EG0")
    pp.create_ext_grid(net, 1, vm_pu=1.03, name="EG1")

    def line(u: int, v: int, km: float, sw: str | None = None, typ: str = BIG) -> None:
        li = pp.create_line(net, u, v, km, typ, name=f"L{u}-{v}")
        if sw is not None:
            pp.create_switch(net, u, li, et="l", closed=sw == "closed", name=f"S{u}-{v}")

    s, o = "closed", "open"
    line(0, 2, 2.0, s), line(2, 3, 2.0), line(3, 4, 2.5, s), line(4, 5, 2.0)
    line(2, 6, 3.0, s), line(6, 7, 2.0)
    line(1, 8, 2.0, s), line(8, 9, 3.0), line(9, 10, 2.0, s), line(8, 11, 2.5)
    line(11, 12, 2.0, s), line(0, 13, 3.0), line(13, 14, 2.0, s)
    line(5, 10, 3.0, o, SMALL), line(7, 12, 2.5, o, SMALL), line(1, 14, 3.0, o, SMALL)
    line(14, 7, 2.0, o, SMALL), line(0, 9, 5.0, o, SMALL)
    rng = np.random.default_rng(2)
    spec = {b: round(float(rng.uniform(0.4, 1.2)), 3) for b in range(2, 15)}
    spec[0], spec[1] = 0.8, 0.5
    for b, p in spec.items():
        pp.create_load(net, b, p_mw=p, q_mvar=0.35 * p, name=f"ld{b}")
    if coupler:
        pp.create_switch(net, 0, 1, et="b", closed=True, name="SRC-COUPLER")
    else:
        pp.create_line(net, 0, 1, 1.0, BIG, name="Lsrc")
    return net


def test_a_base_case_that_pandapower_cannot_run_is_said_so(tmp_path: Path) -> None:
    net = _net(coupler=True)
    with warnings.catch_warnings(), pytest.raises(Exception, match="setpoints"):
        warnings.simplefilter("error")  # pandapower warns, then cannot run it
        pp.runpp(pp.from_json_string(pp.to_json(net)))
    src = tmp_path / "netC.json"
    pp.to_json(net, str(src))
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(src), "--json", str(out), "--time-limit", "60"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert "SRC-COUPLER" in json.dumps(doc["open_branches"])  # the sources are parted
    base = doc["base"]
    assert base["losses_kw"] is None
    assert base["ac_power_flow"] == "could not be run"
    assert "setpoints" in base["ac_message"]
    for text in (base["warning"], " ".join(res.output.split())):
        assert "AC power flow could not be run" in text, text
        assert "no base-case losses to compare with" in text, text
        assert "nan" not in text and "loss reduction" not in text, text


def test_one_fixed_line_between_two_sources_is_one_branch(tmp_path: Path) -> None:
    src = tmp_path / "netC_fixed.json"
    pp.to_json(_net(coupler=False), str(src))
    res = CliRunner().invoke(app, ["solve", str(src)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "not_radial" in text and "Traceback" not in text
    assert "the closed branches join two sources (1 branch) that cannot open" in text, text
    assert "(1 branches)" not in text
    assert "make it switchable or normally open" in text, text

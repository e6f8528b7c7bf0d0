"""ut37_fresh #1: a base case that breaks a limit. grid3's base case loads branch L3 to
102.6 % of its 0.11 kA rating (``feederopt info`` said so); ``feederopt solve`` gave only the
base losses (226.33 kW) beside the answer (277.68 kW) and the report "loss reduction
-22.69 %" with no reason. The result's base case now carries the verdict that ``info`` gives
(``limits_verdict``): ``within_limits`` and what is broken, by id, in the JSON, the console
and the report next to the reduction.

Truth: pandapower's own power flow of the base case, built here from the tables (the lines
from their ohms and kA, the transformer from its impedance at the rating that ``i_max_ka``
gives at 66 kV), its ``loading_percent`` and ``vm_pu`` against the limits."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app

BUSES = """id,vn_kv,v_min_pu,v_max_pu,is_source,v_set_pu
HV,66,0.9,1.1,true,1.02
S,12.66,0.90,1.05,false,
B1,12.66,0.90,1.05,false,
B2,12.66,0.90,1.05,false,
B3,12.66,0.90,1.05,false,
B4,12.66,0.90,1.05,false,
B5,12.66,0.90,1.05,false,
B6,12.66,0.90,1.05,false,
B7,12.66,0.90,1.05,false,
"""
BRANCHES = """id,from_bus,to_bus,r_ohm,x_ohm,kind,switchable,normally_open,i_max_ka
TR,HV,S,4.356,25.77,transformer,false,false,0.08748
L1,S,B1,0.30,0.40,line,false,false,0.4
L2,B1,B2,0.90,0.70,line,true,false,0.3
L3,B2,B3,1.10,0.80,line,true,false,{l3}
L4,B3,B4,0.80,0.60,line,true,false,0.3
L5,B1,B5,0.70,0.90,line,true,false,0.3
L6,B5,B6,1.20,0.90,line,true,false,0.3
L7,B6,B7,0.60,0.50,line,true,false,0.3
T1,B4,B7,1.50,1.00,switch,true,true,0.3
T2,B2,B6,1.00,0.80,switch,true,true,0.3
T3,B3,B7,2.00,1.50,switch,true,true,0.3
"""
LOADS = """id,bus,p_mw,q_mvar
D2,B2,0.6,0.3
D3,B3,0.9,0.4
D4,B4,1.2,0.6
D5,B5,0.3,0.1
D6,B6,0.4,0.2
D7,B7,1.0,0.5
"""


def _folder(root: Path, l3_ka: float = 0.11) -> Path:
    folder = root / "grid3"
    folder.mkdir()
    (folder / "buses.csv").write_text(BUSES)
    (folder / "branches.csv").write_text(BRANCHES.format(l3=l3_ka))
    (folder / "loads.csv").write_text(LOADS)
    return folder


def _pandapower_base(l3_ka: float = 0.11, open_ids: set[str] | None = None,
                     factors: list[float] | None = None) -> pp.pandapowerNet:
    """The base case (T1, T2, T3 open) as pandapower runs it; or the branches ``open_ids``
    open, and each load (file order) times ``factors``."""
    net = pp.create_empty_network(sn_mva=1.0)
    idx = {}
    for line in BUSES.strip().splitlines()[1:]:
        bid, vn, *_rest, src, v_set = line.split(",")
        idx[bid] = pp.create_bus(net, vn_kv=float(vn), name=bid)
        if src == "true":
            pp.create_ext_grid(net, idx[bid], vm_pu=float(v_set))
    for line in BRANCHES.format(l3=l3_ka).strip().splitlines()[1:]:
        bid, f, t, r, x, kind, _sw, normally_open, i_max = line.split(",")
        if (bid in open_ids) if open_ids is not None else normally_open == "true":
            continue
        if kind == "transformer":
            sn = math.sqrt(3) * 66 * float(i_max)  # the rating i_max gives at the 66 kV bus
            zb = 66**2 / sn
            pp.create_transformer_from_parameters(
                net, idx[f], idx[t], sn, 66, 12.66, float(r) / zb * 100,
                math.hypot(float(r), float(x)) / zb * 100, 0, 0, name=bid)
        else:
            pp.create_line_from_parameters(net, idx[f], idx[t], 1.0, float(r), float(x), 0,
                                           float(i_max), name=bid)
    for k, line in enumerate(LOADS.strip().splitlines()[1:]):
        _lid, bus, p, q = line.split(",")
        f = factors[k] if factors is not None else 1.0
        pp.create_load(net, idx[bus], p_mw=float(p) * f, q_mvar=float(q) * f)
    pp.runpp(net, numba=False)
    return net


def _overloaded(net: pp.pandapowerNet) -> dict[str, float]:
    """pandapower's branches over their rating beyond the AC check's 0.1 %: id -> loading."""
    out = {str(n): float(v) for n, v in zip(net.line.name, net.res_line.loading_percent,
                                            strict=True) if v > 100.1}
    out.update({str(n): float(v) for n, v in zip(net.trafo.name,
                                                 net.res_trafo.loading_percent, strict=True)
                if v > 100.1})
    return out


def test_solve_reports_the_base_case_overload(tmp_path: Path) -> None:
    truth = _overloaded(_pandapower_base())
    assert list(truth) == ["L3"] and truth["L3"] == pytest.approx(102.64, abs=0.01)
    result = feederopt.solve(str(_folder(tmp_path)), time_limit=60)
    base = result.to_dict()["base"]
    assert base["within_limits"] is False
    over = base["rating_limits"]["over_rating"]
    assert {d["id"]: d["loading_percent"] for d in over} == pytest.approx(truth, abs=0.01)
    assert base["voltage_limits"]["within"] is True
    # the answer holds the limits and loses more than the base case: the note says why
    assert result.ac_check is not None and result.ac_check.within_limits
    assert result.ac_check.losses_kw > base["losses_kw"]
    note = feederopt.base_limits_note(base, -22.7)
    assert note == ("the base case overloads L3 (102.6 % of its rating): the reduction is "
                    "negative because "
                    "the answer holds the limits")


def test_a_base_case_within_the_limits_says_so(tmp_path: Path) -> None:
    assert _overloaded(_pandapower_base(0.3)) == {}
    base = feederopt.solve(str(_folder(tmp_path, 0.3)), time_limit=60).base
    assert base["within_limits"] is True
    assert feederopt.base_limits_text(base) is None


def test_base_case_voltage_verdict_names_the_buses(tmp_path: Path) -> None:
    """With --v-min 0.94 the base case puts buses below the band: those pandapower puts
    below 0.94 - 1e-4 p.u. (the source's bus, held at its set-point, aside)."""
    net = _pandapower_base()
    low = {str(n) for n, v in zip(net.bus.name, net.res_bus.vm_pu, strict=True)
           if v < 0.94 - 1e-4}
    assert low  # B4 at 0.9358
    result = feederopt.solve(str(_folder(tmp_path)), time_limit=60, v_min=0.94)
    base = result.base
    assert base["within_limits"] is False
    assert {d["id"] for d in base["voltage_limits"]["below_v_min"]} == low
    text = feederopt.base_limits_text(base)
    assert text is not None and "below v_min: B4 at 0.9358 < 0.9400 p.u." in text


def test_console_json_and_report_say_it(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "res"
    res = CliRunner().invoke(app, ["solve", str(folder), "--time-limit", "60", "--out",
                                   str(out), "--report"], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "base case vs limits (AC)" in res.output
    assert "overloads L3 (102.6 % of its rating)" in res.output
    assert ("note: the base case overloads L3 (102.6 % of its rating): the reduction "
            "is negative because "
            "the answer holds the limits") in res.output
    doc = json.loads((out / "result.json").read_text())
    assert doc["base"]["within_limits"] is False
    assert [d["id"] for d in doc["base"]["rating_limits"]["over_rating"]] == ["L3"]
    html = (out / "report.html").read_text()
    assert ("the base case overloads L3 (102.6 % of its rating): the reduction is "
            "negative because the "
            "answer holds the limits") in html


def test_an_infeasible_run_does_not_say_the_answer_holds_the_limits(tmp_path: Path) -> None:
    """With --max-loading 10 no topology holds the limits: L1, the fixed line from S, carries
    all 4.4 MW at 12.66 kV in every topology (>= 0.2 kA of its 0.4 kA, 50 % by hand). The
    note must not say "because the answer holds the limits" (ut37 recheck: the
    example_multivoltage run said it beside "no radial configuration meets the limits")."""
    i_l1 = 4.4 / (math.sqrt(3) * 12.66)  # kA, the active load alone, a lower bound
    assert i_l1 / 0.4 * 100 > 10
    res = CliRunner().invoke(app, ["solve", str(_folder(tmp_path)), "--time-limit", "60",
                                   "--max-loading", "10"], env={"COLUMNS": "300"})
    assert res.exit_code == 3, res.output
    assert "because the answer holds the limits" not in res.output
    assert "no topology holds the limits either (status infeasible)" in res.output

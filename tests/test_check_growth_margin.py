"""``feederopt check RESULT --growth-margin load|generation`` (fix-scengen, user test ut44_growth
#4): the largest uniform factor of every load (or of the PV, the sgens) that the answer's
topology withstands in AC, and the limit that breaks first beyond it.

Truth: a bisection done here with pandapower's own ``runpp`` of the net at the answer's
topology, loads (or sgens) times lambda, each limit held as the AC check holds it (its
tolerances, the rule it states: 1e-4 p.u., 0.1 % of a rating)."""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from netbuild import nine_bus_pandapower

pp = pytest.importorskip("pandapower")
runner = CliRunner()
V_MIN, V_MAX = 0.95, 1.05


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    tmp = tmp_path_factory.mktemp("margin")
    net = nine_bus_pandapower()
    pp.create_sgen(net, 8, p_mw=1.0, q_mvar=0.0, name="pv8")
    pp.to_json(net, str(tmp / "net.json"))
    res = runner.invoke(app, ["solve", str(tmp / "net.json"), "--json", str(tmp / "r.json")])
    assert res.exit_code == 0, res.output
    return net, tmp / "r.json"


def holds(net: Any, opened: set[int], lam: float, of: str, tol_v: float = 1e-4,
          tol_loading: float = 0.1) -> tuple[bool, Any]:
    hand = copy.deepcopy(net)
    hand.switch["closed"] = True
    hand.line["in_service"] = [i not in opened for i in hand.line.index]
    if of == "load":
        hand.load[["p_mw", "q_mvar"]] *= lam
    else:
        hand.sgen[["p_mw", "q_mvar"]] *= lam
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pp.runpp(hand, numba=False, tolerance_mva=1e-10)
        except Exception:
            return False, None
    vm = hand.res_bus.vm_pu.drop(hand.ext_grid.bus)
    ok = bool((vm >= V_MIN - tol_v).all() and (vm <= V_MAX + tol_v).all()
              and (hand.res_line.loading_percent.fillna(0) <= 100 + tol_loading).all())
    return ok, hand


def bisect(net: Any, opened: set[int], of: str, *tols: float) -> tuple[float, float, Any]:
    assert holds(net, opened, 1.0, of, *tols)[0]
    lo, hi = 1.0, 2.0
    while holds(net, opened, hi, of, *tols)[0]:
        lo, hi = hi, 2 * hi
    while hi - lo > 1e-4:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if holds(net, opened, mid, of, *tols)[0] else (lo, mid)
    return lo, hi, holds(net, opened, hi + 2e-3, of, *tols)[1]


@pytest.mark.parametrize("of", ["load", "generation"])
def test_growth_margin_is_a_pandapower_bisection(solved, of) -> None:
    net, result = solved
    doc = json.loads(result.read_text())
    opened = {int(b["id"].split(":")[1]) for b in doc["open_branches"]}
    lo, hi, beyond = bisect(net, opened, of)
    mc = feederopt.check_result(result, samples=1, uncertainty=0.01, v_min=V_MIN,
                                v_max=V_MAX, growth_margin_of=of)
    m = mc.growth_margin
    assert m["bounded"] is True
    # both brackets hold the boundary, the check's within its tolerance of 0.001
    assert m["factor"] <= hi + 1e-9 and m["first_failing_factor"] >= lo - 1e-9
    assert m["first_failing_factor"] - m["factor"] <= 1e-3 + 1e-12
    # the limit that breaks first: pandapower's, just beyond the boundary
    first = m["breaks"][0]
    vm = beyond.res_bus.vm_pu.drop(beyond.ext_grid.bus)
    if first["limit"] == "v_min":
        assert int(first["id"]) == int(vm.idxmin()) and vm.min() < V_MIN
    elif first["limit"] == "v_max":
        assert int(first["id"]) == int(vm.idxmax()) and vm.max() > V_MAX
    else:
        line = int(beyond.res_line.loading_percent.idxmax())
        assert first["id"] == f"line:{line}"
    # the limits themselves (no tolerance; user test ut51_robust #2): pandapower's strict
    # boundary lies in the strict bracket, at or below the one within the tolerance
    s_lo, s_hi, _ = bisect(net, opened, of, 0.0, 0.0)
    assert m["factor_strict"] <= s_hi + 1e-9 and m["first_failing_factor_strict"] >= s_lo - 1e-9
    assert m["first_failing_factor_strict"] - m["factor_strict"] <= 1e-3 + 1e-12
    assert m["factor_strict"] <= m["factor"]
    assert holds(net, opened, m["factor_strict"], of, 0.0, 0.0)[0]
    assert not holds(net, opened, m["first_failing_factor_strict"], of, 0.0, 0.0)[0]
    if of == "generation":
        out = float(net.sgen.p_mw.sum())
        assert m["unit_output_at_factor_strict_mw"] == [pytest.approx(out * m["factor_strict"])]


def test_cli_growth_margin_row_and_refusals(solved, tmp_path) -> None:
    _, result = solved
    res = runner.invoke(app, ["check", str(result), "-u", "0.01", "-n", "1", "--v-min",
                              str(V_MIN), "--v-max", str(V_MAX), "--growth-margin", "load",
                              "--json", str(tmp_path / "c.json")], env={"COLUMNS": "300"})
    assert res.exit_code in (0, 4), res.output
    assert "growth margin (load)" in res.output and "first breaks" in res.output
    got = json.loads((tmp_path / "c.json").read_text())
    assert got["growth_margin"]["of"] == "load" and got["growth_margin"]["factor"] > 1
    bad = runner.invoke(app, ["check", str(result), "-u", "0.01", "--growth-margin", "pv"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_printed_factor_is_rounded_down(solved, tmp_path) -> None:
    """User test ut49_growth #4: 1.5546875 was printed x1.555, at which pandapower broke V min
    by 1.17e-4 p.u. (beyond the 1e-4 tolerance). The console rounds the factor that holds
    down and the one that breaks up (by hand: floor(1554.6875) / 1000 = 1.554, ceil(1555.6640625)
    / 1000 = 1.556); the JSON keeps the exact value. The factors printed are those of the
    limits themselves (``factor_strict``; user test ut51_robust #2: the one within the AC
    check's tolerance broke V min by 7e-6 p.u.), so pandapower holds the limits with no
    tolerance at the first and breaks one at the second."""
    from feederopt.cli.scenarios import growth_margin_text

    text = growth_margin_text({"of": "load", "scaled": "every load", "factor": 1.5546875,
                               "first_failing_factor": 1.5556640625, "tolerance": 1e-3,
                               "converged_at_first_failing": True, "breaks": []})
    assert "up to x1.554 " in text and "at x1.556 " in text
    # on a solved net: the printed factor holds in pandapower, the printed failing one not
    net, result = solved
    opened = {int(b["id"].split(":")[1])
              for b in json.loads(result.read_text())["open_branches"]}
    res = runner.invoke(app, ["check", str(result), "-u", "0.01", "-n", "1", "--v-min",
                              str(V_MIN), "--v-max", str(V_MAX), "--growth-margin", "load",
                              "--json", str(tmp_path / "c.json")], env={"COLUMNS": "400"})
    flat = " ".join(res.output.split())
    got = re.search(r"up to x(\d+\.\d{3}) .*? at x(\d+\.\d{3}) first breaks", flat)
    assert got, flat
    exact = json.loads((tmp_path / "c.json").read_text())["growth_margin"]["factor_strict"]
    assert float(got.group(1)) <= exact
    assert holds(net, opened, float(got.group(1)), "load", 0.0, 0.0)[0]
    assert not holds(net, opened, float(got.group(2)), "load", 0.0, 0.0)[0]

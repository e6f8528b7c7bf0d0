"""ut40_realg5 #1: `feederopt check` printed its upper corner as "AC infeasible, V 0.9130 -
1.0200 p.u." on a band of 0.9-1.1, and neither the console nor the JSON's `corners` said which
limit broke (a line at 113 % of its rating). Each corner now carries the limits its AC power
flow breaks, as the solve's AC check names them, and its largest loading.

Truth: pandapower's own power flow of the user's net (computed here) with the result's switch
states and every load scaled by the corner's factor: the lines over their rating, their
loading, and the most loaded line. The feeder is a small ring (a tie switch) whose lines carry
about 90 % of their rating at the nominal loads, so that every load x1.25 overloads the
feeding line whichever way the ring is opened, while the voltages stay within the band."""

from __future__ import annotations

import copy
import json

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from test_check_corners import solved_result

X = 0.25


def _ring() -> pp.pandapowerNet:
    """20 kV: the source at bus 0, lines 0-1, 1-2, 0-3 and the tie 3-2 (open), 3 MW at each
    of buses 1, 2, 3; 1 km lines rated 0.19 kA (a feeding line at 6 MW: about 91 %)."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=20.0, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in ((0, 1), (1, 2), (0, 3), (3, 2)):
        pp.create_line_from_parameters(net, b[f], b[t], length_km=1.0, r_ohm_per_km=0.1,
                                       x_ohm_per_km=0.1, c_nf_per_km=0.0, max_i_ka=0.19)
    pp.create_switch(net, b[1], 1, et="l", closed=True)
    pp.create_switch(net, b[3], 3, et="l", closed=False)
    for k in (1, 2, 3):
        pp.create_load(net, b[k], p_mw=3.0, q_mvar=0.3)
    return net


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[pp.pandapowerNet, dict, dict,
                                                                str]:
    net = _ring()
    folder = tmp_path_factory.mktemp("corner_limits")
    result = solved_result(net, folder)
    out = folder / "check.json"
    args = ["check", str(result), "--samples", "2", "--uncertainty", str(X)]
    res = CliRunner().invoke(app, [*args, "--json", str(out), "--quiet"])
    # a corner that breaks a limit sets the verdict since session 42 (judged as a sample is;
    # this file's tests hold each corner's figures against pandapower)
    check = json.loads(out.read_text())
    expected = 4 if check["samples_breaking_limits"] or check["corners_breaking_limits"] else 0
    assert res.exit_code == expected, res.output
    console = CliRunner().invoke(app, args, env={"COLUMNS": "250"})  # no wrapped rows
    assert console.exit_code == expected, console.output
    return net, json.loads(result.read_text()), json.loads(out.read_text()), console.output


def _pandapower_at(net: pp.pandapowerNet, doc: dict, factor: float) -> pp.pandapowerNet:
    net = copy.deepcopy(net)
    opened = {b["id"] for b in doc["open_branches"]}
    net.line["in_service"] = [f"line:{k}" not in opened for k in net.line.index]
    net.load["p_mw"] *= factor
    net.load["q_mvar"] *= factor
    pp.runpp(net)
    return net


@pytest.mark.parametrize(("name", "factor"), [("lower", 1 - X), ("upper", 1 + X)])
def test_corner_names_the_ratings_it_breaks(checked: tuple, name: str, factor: float) -> None:
    net, doc, payload, _ = checked
    corner = next(c for c in payload["corners"] if c["corner"] == name)
    pf = _pandapower_at(net, doc, factor)
    loading = pf.res_line["loading_percent"][net.line.index[
        [f"line:{k}" not in {b['id'] for b in doc['open_branches']} for k in net.line.index]]]
    # the voltages hold the band: the ratings alone break the upper corner
    assert pf.res_bus["vm_pu"].min() > 0.9
    over = {f"line:{k}": v for k, v in loading.items() if v > 100.1}  # the AC tolerance
    assert bool(over) is (name == "upper")
    assert corner["feasible_ac"] is (not over)
    named = {d["id"]: d for d in corner["limit_violations"]}
    assert set(named) == set(over)
    for bid, pct in over.items():
        d = named[bid]
        assert d["component"] == "branches" and d["limit"] == "i_max" and d["unit"] == "kA"
        assert d["loading_percent"] == pytest.approx(pct, rel=1e-6)
        assert d["rating"] == pytest.approx(0.19)
        assert d["value"] == pytest.approx(pct / 100.0 * 0.19, rel=1e-6)
    assert corner["max_loading_percent"] == pytest.approx(float(loading.max()), rel=1e-6)
    assert corner["max_loading_element"] == f"line:{int(loading.idxmax())}"


def test_console_names_the_broken_limit(checked: tuple) -> None:
    _, _, payload, output = checked
    upper = next(c for c in payload["corners"] if c["corner"] == "upper")
    worst = upper["limit_violations"][0]
    text = " ".join(output.split())
    assert (f"largest loading {upper['max_loading_percent']:.2f} % of its rating "
            f"({upper['max_loading_element']})") in text
    assert f"worst {worst['id']} at {worst['loading_percent']:.1f} % of its i_max" in text
    assert "corner: every load x1.25: its AC power flow breaks the limits at:" in text
    assert (f"branch {worst['id']}: current rating (i_max) exceeded by "
            f"{worst['amount']:.4g} kA") in text

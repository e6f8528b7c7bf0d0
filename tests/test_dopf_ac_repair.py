"""The AC repair of a DOPF answer (user test of the DOPF, oltc.json): where the SOCP relaxation
is not exact at the optimum's OLTC position (it held bus S at v_max 1.05 by inflating the
transformer's current; the AC power flow put it at 1.0502), the answer is the setting one
position away with the least AC losses within every limit, status ``feasible``.

Reference: pandapower's power flow (``pp.runpp``) of the net built here, at the answer's
topology, at every tap position: the repaired answer is the best one within the limits.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app

LOADS = {"A1": 0.9, "A2": 1.35, "A3": 1.8, "A4": 1.2, "A5": 1.65,
         "B1": 0.75, "B2": 1.5, "B3": 1.05, "B4": 1.95}


def _net() -> pp.pandapowerNet:
    """110/20 kV, 16 MVA transformer with an hv "Ratio" changer -4..4 at 2.5 % (``oltc``),
    two feeders A (5 sections) and B (4) with two open ties; band 0.95..1.05 on the 20 kV
    buses."""
    n = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(n, 110, name="HV")
    s = pp.create_bus(n, 20, name="S", min_vm_pu=0.95, max_vm_pu=1.05)
    pp.create_ext_grid(n, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        n, hv, s, sn_mva=16, vn_hv_kv=110, vn_lv_kv=20, vkr_percent=0.5, vk_percent=10,
        pfe_kw=12, i0_percent=0.1, tap_side="hv", tap_neutral=0, tap_min=-4, tap_max=4,
        tap_step_percent=2.5, tap_pos=0, tap_changer_type="Ratio", oltc=True)
    b = {}
    specs = {"A": [(1.5, 0.16, 0.11), (2.0, 0.16, 0.11), (2.5, 0.25, 0.12), (2.0, 0.32, 0.13),
                   (1.5, 0.32, 0.13)],
             "B": [(2.0, 0.16, 0.11), (3.0, 0.25, 0.12), (2.0, 0.32, 0.13), (2.5, 0.32, 0.13)]}
    for f, secs in specs.items():
        prev = s
        for i, (km, r, x) in enumerate(secs, 1):
            b[f"{f}{i}"] = pp.create_bus(n, 20, name=f"{f}{i}", min_vm_pu=0.95, max_vm_pu=1.05)
            pp.create_line_from_parameters(n, prev, b[f"{f}{i}"], km, r, x, 250, 0.36,
                                           name=f"L{f}{i}")
            prev = b[f"{f}{i}"]
    for nm, x, y, km in (("TIE1", "A5", "B4", 2.0), ("TIE2", "A2", "B2", 3.0)):
        t = pp.create_line_from_parameters(n, b[x], b[y], km, 0.25, 0.12, 250, 0.36, name=nm)
        pp.create_switch(n, b[x], t, et="l", closed=False)
    for ln, bus in (("LA3", "A2"), ("LA5", "A4"), ("LB3", "B2"), ("LA2", "A1"), ("LB2", "B1")):
        li = int(n.line.index[n.line.name == ln][0])
        pp.create_switch(n, b[bus], li, et="l", closed=True)
    for k, v in LOADS.items():
        pp.create_load(n, b[k], p_mw=v, q_mvar=0.4 * v)
    return n


def _brute_force_over_taps(open_lines: set[int]) -> dict[int, tuple[float, bool, float]]:
    """Per tap position: (AC losses [kW], within the band and ratings, max |V| of the 20 kV
    buses) by runpp at the topology that opens ``open_lines``."""
    out = {}
    for pos in range(-4, 5):
        n = _net()
        for i, sw in n.switch.iterrows():
            n.switch.at[i, "closed"] = int(sw["element"]) not in open_lines
        n.trafo.at[0, "tap_pos"] = pos
        pp.runpp(n)
        mv = n.bus.vn_kv == 20
        vm = n.res_bus.vm_pu[mv]
        loss = 1000 * (n.res_line.pl_mw.sum() + n.res_trafo.pl_mw.sum())
        loading = max(n.res_line.loading_percent.max(), n.res_trafo.loading_percent.max())
        ok = bool(vm.min() >= 0.95 - 1e-4 and vm.max() <= 1.05 + 1e-4 and loading <= 100.1)
        out[pos] = (float(loss), ok, float(vm.max()))
    return out


def test_a_dopf_answer_that_breaks_v_max_in_ac_is_repaired_to_the_best_tap() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = feederopt.solve(feederopt.load(_net()), time_limit=120)
    d = result.to_dict()
    open_lines = {int(b["id"].split(":")[1]) for b in d["open_branches"]}
    brute = _brute_force_over_taps(open_lines)
    within = {p: v[0] for p, v in brute.items() if v[1]}
    best = min(within, key=within.__getitem__)
    assert not brute[best - 1][1]  # the next tap down (the SOCP's choice) breaks v_max in AC
    oltc = next(x for x in d["devices"] if x["kind"] == "oltc")
    assert oltc["tap_pos"] == best
    assert d["status"] == "feasible"
    assert d["ac_check"]["within_limits"] is True
    assert d["ac_check"]["losses_kw"] == pytest.approx(within[best], rel=1e-4)
    assert d["lower_bound"] < within[best]
    note = " ".join(d["notes"])
    assert "AC repair" in note and f"tap_pos {best - 1}" in note and f"tap_pos {best}" in note


def test_the_repaired_answer_exits_0_in_solve(tmp_path: Path) -> None:
    path = tmp_path / "oltc.json"
    pp.to_json(_net(), str(path))
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "120", "--json",
                                      str(out)])
    assert result.exit_code == 0, result.output
    assert "AC repair" in result.output
    assert json.loads(out.read_text())["status"] == "feasible"

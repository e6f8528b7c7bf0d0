"""Restoration (``feederopt restore``) on a pandapower net with a transformer tap, existing
generators and a shunt capacitor (user test ut_dopf, finding 1), checked against pandapower's
own power flow (``pp.runpp``).

The net: a 110/20 kV transformer with an hv-side ratio tap (1.25 % per step), two 20 kV feeders
of 6 and 5 buses joined by two switched ties, a 4-step 0.3-Mvar capacitor at A5 and a 0.6-MW PV
sgen at A6; bus limits 0.95..1.05 p.u. The normally open tie TIE2 (``line:12``) is the broken
line, so the restoration has nothing to repair: with everything supplied its voltages are the
base case's, which ``pp.runpp`` gives independently (LinDistFlow is lossless, so its voltages
are a little higher: the tolerance is 0.006 p.u.)."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pytest

import feederopt
from feederopt.api_resilience import restore
from netbuild import TWO_FEEDER_LOADS_MW as LOADS
from netbuild import two_feeder_pandapower


def make(tap_pos: int = 0, cap_step: int = 0, pv_bus: str = "A6", pv_mw: float = 0.6
         ) -> pp.pandapowerNet:
    return two_feeder_pandapower(tap_pos=tap_pos, cap_step=cap_step, pv_bus=pv_bus,
                                 pv_mw=pv_mw)


@pytest.mark.parametrize("tap_pos", [-3, -5])
def test_tap_position_moves_the_voltages_as_pandapower(tap_pos: int) -> None:
    net = make(tap_pos=tap_pos)
    pp.runpp(net, numba=False)
    r = restore(feederopt.load(net), ["line:12"])
    assert r.shed_kw == pytest.approx(0.0, abs=1e-6)  # the AC base case is within the limits
    assert net.res_bus.vm_pu.min() >= 0.95 and net.res_bus.vm_pu.max() <= 1.05
    for bus, v in r.operation.voltage_pu.items():
        ac = float(net.res_bus.vm_pu[int(bus)])
        assert ac - 1e-9 <= v <= ac + 0.006, bus  # lossless LinDistFlow: a little high


def test_neutral_tap_is_below_the_limit_in_pandapower_and_sheds() -> None:
    net = make(tap_pos=0)
    pp.runpp(net, numba=False)
    assert net.res_bus.vm_pu.min() < 0.95  # the AC base case breaks v_min: shedding needed
    shed0 = restore(feederopt.load(net), ["line:12"]).shed_kw
    assert shed0 > 0.0
    assert restore(feederopt.load(make(tap_pos=-5)), ["line:12"]).shed_kw < shed0


def test_pv_and_capacitor_reduce_the_shedding() -> None:
    base = restore(feederopt.load(make(pv_mw=0.0)), ["line:12"]).shed_kw
    pv = restore(feederopt.load(make(pv_bus="B5", pv_mw=2.0)), ["line:12"]).shed_kw
    cap = restore(feederopt.load(make(pv_mw=0.0, cap_step=4)), ["line:12"]).shed_kw
    assert base > 0.0
    assert pv < base - 100.0  # 2 MW at the end of feeder B lifts its voltages
    assert cap < base - 100.0  # 1.2 Mvar at A5


def test_a_generator_in_a_de_energised_part_injects_nothing() -> None:
    """Feeder B cut off (its head LB1 and both ties broken): a PV there cannot supply it
    (no grid-forming source; anti-islanding, docs/resilience.md), so all of B is shed."""
    broken = ["line:6", "line:11", "line:12"]
    without = restore(feederopt.load(make(pv_mw=0.0)), broken)
    with_pv = restore(feederopt.load(make(pv_bus="B4", pv_mw=2.0)), broken)
    feeder_b = 1e3 * sum(v for k, v in LOADS.items() if k.startswith("B"))
    assert with_pv.shed_kw >= feeder_b - 1e-6
    assert with_pv.shed_kw == pytest.approx(without.shed_kw, abs=1e-6)


def test_ac_check_is_pandapower_on_the_restored_operation() -> None:
    """The AC check (user test ut_dopf #2) equals ``pp.runpp`` of the user's own net with the
    restoration applied by hand: lines the model leaves open switched out (by their switch,
    else out of service), every load reduced by its shed kW. LinDistFlow says V_min = 0.95
    (its limit); AC is lower."""
    net = make(tap_pos=0)
    r = restore(feederopt.load(net), ["line:0"])
    ac = r.ac_check
    assert ac is not None and ac["converged"]
    closed = set(r.operation.closed_lines)
    switched = set(net.switch.element[net.switch.et == "l"])
    for i in net.line.index:  # a line with a switch is opened by it (energised from one end)
        net.line.loc[i, "in_service"] = f"line:{i}" in closed or i in switched
    for i in net.switch.index:
        net.switch.loc[i, "closed"] = f"line:{net.switch.element[i]}" in closed
    shed = r.operation.shed_per_load_kw
    for i in net.load.index:
        keep = 1.0 - shed.get(f"load:{i}", 0.0) / (1e3 * net.load.p_mw[i])
        net.load.loc[i, ["p_mw", "q_mvar"]] = [net.load.p_mw[i] * keep,
                                               net.load.q_mvar[i] * keep]
    pp.runpp(net, numba=False)
    vm = net.res_bus.vm_pu.dropna()
    assert ac["min_voltage_pu"] == pytest.approx(vm.min(), abs=1e-6)
    assert ac["max_voltage_pu"] == pytest.approx(vm.max(), abs=1e-6)
    losses = 1e3 * (net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())
    assert ac["losses_kw"] == pytest.approx(losses, rel=1e-6)
    assert ac["model_min_voltage_pu"] == pytest.approx(0.95, abs=1e-6)
    assert vm.min() < 0.95 - 1e-4  # the lossless model is optimistic here
    assert not ac["limits_hold"]
    low = {str(b) for b in vm.index[vm < 0.95 - 1e-6]}
    assert set(ac["low_voltage_buses"]) == low


def test_lines_without_a_switch_stay_closed_and_switching_names_the_switches() -> None:
    """User test ut_dopf #8: LA6 (line:5) and LB5 (line:10) have no switch; they cannot be
    opened, so they are closed in the restoration (the old output listed them as open). The
    tie TIE2 (line:12) feeds feeder A's tail: it is closed by its switch sw_TIE2."""
    r = restore(feederopt.load(make()), ["line:2"], ac_check=False)
    closed = set(r.operation.closed_lines)
    assert {"line:5", "line:10", "line:0", "line:1", "trafo:0"} <= closed
    assert "line:2" not in closed
    ops = {w["branch"]: w for w in r.switching}
    assert ops["line:12"]["action"] == "close"
    assert "sw_TIE2" in ops["line:12"]["operated_by"]


def test_unknown_ids_get_typed_problems_with_the_id_meant() -> None:
    from feederopt.errors import InputError, ProblemKind

    net = feederopt.load(make())
    with pytest.raises(InputError) as err:
        restore(net, ["LA1"])
    p = err.value.problems[0]
    assert p.field == "broken" and "LA1 is line:0" in p.hint
    # several names (user test ut_res #5): the ids to paste, in the order given; the net's
    # own line table says which index each name has
    pp_net = make()
    index = {name: idx for idx, name in zip(pp_net.line.index, pp_net.line["name"],
                                            strict=True)}
    with pytest.raises(InputError) as err:
        restore(net, ["LB1", "LA1"])
    assert f"those are line:{index['LB1']},line:{index['LA1']}" in err.value.problems[0].hint
    with pytest.raises(InputError) as err:
        restore("zhang13", ["2"], dg_sites=["14"])
    kinds = {q.kind for q in err.value.problems}
    assert kinds == {ProblemKind.UNKNOWN_BUS}
    assert "14" in err.value.problems[0].ids
    with pytest.raises(InputError) as err:
        restore("zhang13", ["2"], dg_sites=["1"])  # the source
    assert "source" in err.value.problems[0].message


def test_plan_on_the_tapped_net_agrees_across_methods_and_with_restore(tmp_path: Path) -> None:
    """The planning model with generators, shunt and taps: the extensive form and the
    L-shaped method find the same cost, and each scenario's shed is ``restore``'s with the
    plan's hardened lines repaired and its DG sited."""
    import json

    from feederopt.api_resilience import plan, plan_settings

    path = tmp_path / "s.json"
    path.write_text(json.dumps({"scenarios": [
        {"name": "a", "probability": 0.5, "broken": ["line:0", "line:6"]},
        {"name": "b", "probability": 0.5, "broken": ["line:2", "line:8"]}]}))
    net = feederopt.load(make())
    st = plan_settings(harden_budget=1, dg_budget=1, dg_p_max_kw=1000, dg_q_max_kvar=1000)
    ext = plan(net, scenarios=path, settings=st, measures=False, ac_check=False)
    lsh = plan(net, scenarios=path, settings=st, method="lshaped", measures=False,
               ac_check=False)
    assert ext.status == lsh.status == "optimal"
    assert lsh.expected_total == pytest.approx(ext.expected_total, rel=1e-6)
    for sc in ext.scenarios:
        left = [b for b in sc.broken if b not in ext.hardened]
        shed = restore(net, left, dg_sites=ext.dg_sites, dg_p_max_kw=1000,
                       ac_check=False).shed_kw if left else 0.0
        assert sc.operation.shed_kw == pytest.approx(shed, abs=1e-3), sc.name


def test_cli_restore_prints_the_ac_check_and_json_has_it(tmp_path: Path) -> None:
    """zhang13, lines 2, 11 and 15 broken (the seed's 471.00 kW): the CLI prints the AC check
    with the model's voltages labelled LinDistFlow; the JSON holds the same check, its verdict
    consistent with the violations it lists (the AC values themselves are checked against
    pp.runpp in test_ac_check_is_pandapower_on_the_restored_operation)."""
    import json

    from typer.testing import CliRunner

    from feederopt.cli import app

    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["restore", "zhang13", "--broken", "2,11,15", "--json",
                                   str(out)])
    assert res.exit_code == 0, res.output
    assert "AC check (pandapower" in res.output
    assert "LinDistFlow, lossless" in res.output
    data = json.loads(out.read_text())
    ac = data["ac_check"]
    assert data["shed_kw"] == pytest.approx(471.0, abs=1e-6)
    assert ac["converged"] and ac["losses_kw"] > 0.0  # the lossless model has none
    assert ac["model"] == "LinDistFlow (lossless)"
    assert data["operation"]["voltage_model"] == "LinDistFlow (lossless)"
    holds = not (ac["low_voltage_buses"] or ac["high_voltage_buses"]
                 or ac["overloaded_lines"] or ac["unsupplied_buses"] or ac["dg_over_size"])
    assert ac["limits_hold"] is holds
    assert ac["min_voltage_pu"] <= ac["model_min_voltage_pu"] + 1e-9  # losses only lower V

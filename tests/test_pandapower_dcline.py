"""A pandapower ``dcline`` is two generators in pandapower's power flow
(``pandapower.auxiliary._add_dcline_gens``): p = -p_mw held at ``vm_from_pu`` at the from bus,
p = p_mw (1 - loss_percent/100) - loss_mw held at ``vm_to_pu`` at the to bus. The reader
imports it so (user test ut_pp #1: it was dropped with "1 dcline element(s) are not imported"
and solve said optimal for lines 6 and 7 open, 65.030 kW in the AC check, where lines 5 and 7
give 42.785 kW). Every number is compared with ``pp.runpp`` of nets built here: the base
case's losses, and the best radial topology by brute force over the switch states."""

from __future__ import annotations

import copy
import functools
import itertools

import networkx as nx
import pandapower as pp
import pytest

import feederopt
from feederopt.cli.info import network_info
from feederopt.errors import InputError, ProblemKind
from feederopt.io import from_pandapower
from test_pandapower_fidelity import _pp_losses_kw, _runpp

CABLE = "NA2XS2Y 1x95 RM/25 12/20 kV"
#: the eight lines (from, to, km); lines 2 and 7 open in the base case
SPEC = [(1, 2, 2.0), (2, 3, 2.5), (3, 4, 3.0), (1, 5, 2.0), (5, 6, 2.0), (6, 7, 3.5),
        (4, 7, 2.0), (3, 6, 3.0)]


def base():
    """The user test's 20 kV grid: a 110/20 kV transformer into bus 1, two feeders
    1-2-3-4 and 1-5-6-7 and ties 4-7 (line 6) and 3-6 (line 7), loads on buses 2..7. A fresh
    copy each time (pandapower's create functions take half a second for it; a copy, a few
    ms)."""
    return copy.deepcopy(_built())


@functools.cache
def _built():
    net = pp.create_empty_network(sn_mva=1.0)
    b0 = pp.create_bus(net, 110)
    for _ in range(7):
        pp.create_bus(net, 20)
    pp.create_ext_grid(net, b0, vm_pu=1.0)
    pp.create_transformer(net, b0, 1, "25 MVA 110/20 kV")
    for k, (f, t, km) in enumerate(SPEC):
        li = pp.create_line(net, f, t, km, CABLE)
        pp.create_switch(net, f, li, "l", closed=k not in (2, 7))
    for b, p in zip(range(2, 8), [1.2, 0.9, 1.5, 0.8, 1.1, 1.4], strict=True):
        pp.create_load(net, b, p_mw=p, q_mvar=0.3 * p)
    return net


def dcline_import():
    """A second source behind a dcline: ext_grid on bus 8, dcline 8 -> 7 carrying 3 MW."""
    net = base()
    bx = pp.create_bus(net, 20)
    pp.create_ext_grid(net, bx, vm_pu=1.0)
    pp.create_dcline(net, bx, 7, p_mw=3.0, loss_percent=1.0, loss_mw=0.01, vm_from_pu=1.0,
                     vm_to_pu=1.0)
    return net


def dcline_export():
    """A dcline 4 -> 8 exporting 0.8 MW to an ext_grid on bus 8."""
    net = base()
    bx = pp.create_bus(net, 20)
    pp.create_ext_grid(net, bx, vm_pu=1.0)
    pp.create_dcline(net, 4, bx, p_mw=0.8, loss_percent=1.0, loss_mw=0.01, vm_from_pu=1.0,
                     vm_to_pu=1.0)
    return net


def dcline_inside():
    """A dcline 4 -> 7 inside the grid (0.5 MW) and an empty bus 8."""
    net = base()
    pp.create_bus(net, 20)
    pp.create_dcline(net, 4, 7, p_mw=0.5, loss_percent=1.0, loss_mw=0.01, vm_from_pu=1.0,
                     vm_to_pu=1.0)
    return net


NETS = {"import": dcline_import, "export": dcline_export, "inside": dcline_inside}


def brute_force(net):
    """(losses [kW], open lines) of every radial topology of the eight lines by runpp."""
    out = []
    for opened in itertools.combinations(range(8), 2):
        g = nx.Graph([(f, t) for k, (f, t, _) in enumerate(SPEC) if k not in opened])
        if not (g.number_of_nodes() == 7 and nx.is_tree(g)):
            continue
        n = copy.deepcopy(net)
        n.switch["closed"] = True
        n.switch.loc[list(opened), "closed"] = False
        _runpp(n)
        out.append((_pp_losses_kw(n), opened))
    return sorted(out)


@pytest.mark.parametrize("name", sorted(NETS))
def test_info_base_case_losses_are_pandapowers(name, tmp_path):
    net = NETS[name]()
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    info = network_info(str(path))
    ref = NETS[name]()
    _runpp(ref)
    assert info["base_losses_kw"] == pytest.approx(_pp_losses_kw(ref), rel=1e-9)
    assert info["model"]["exact"]  # the model's own power flow is pandapower's
    assert not any("not imported" in w for w in info["warnings"])
    assert any("dcline:0" in w and "res_dcline.pl_mw" in w for w in info["warnings"])


@pytest.mark.parametrize("name", sorted(NETS))
def test_solve_finds_the_brute_force_best(name):
    best_kw, best_open = brute_force(NETS[name]())[0]
    res = feederopt.solve(NETS[name](), time_limit=60)
    assert res.status == "optimal"
    opened = sorted(int(b["id"].split(":")[1]) for b in res.open_branches)
    assert opened == sorted(best_open)
    assert res.ac_check is not None
    assert res.ac_check.losses_kw == pytest.approx(best_kw, rel=1e-6)
    assert res.lower_bound <= best_kw * (1 + 1e-6)


@pytest.mark.parametrize("case", ["reversed", "q_limits", "out_of_service"])
def test_model_power_flow_is_pandapowers(case):
    """The model's own power flow of the base case is runpp's (losses and voltages) for a
    dcline carrying power the other way (negative p_mw), one with enforced q limits and one
    out of service."""
    net = dcline_inside()
    if case == "reversed":
        net.dcline.loc[0, "p_mw"] = -0.5
    elif case == "q_limits":
        net.user_pf_options = {"enforce_q_lims": True}
        net.dcline.loc[0, ["min_q_to_mvar", "max_q_to_mvar"]] = [-0.05, 0.05]
    else:
        net.dcline.loc[0, "in_service"] = False
    fid = feederopt.model_fidelity(from_pandapower(net))
    ref = copy.deepcopy(net)
    _runpp(ref)
    assert fid.exact
    assert fid.ac_losses_kw == pytest.approx(_pp_losses_kw(ref), rel=1e-9)


def test_a_dcline_end_at_another_voltage_than_a_gen_is_refused():
    net = dcline_inside()
    pp.create_gen(net, 7, p_mw=0.2, vm_pu=1.02)
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    hit = [p for p in err.value.problems if p.kind == ProblemKind.UNSUPPORTED_ELEMENT]
    assert hit and "dcline:0" in hit[0].ids and "gen:0" in hit[0].message

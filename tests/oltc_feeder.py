"""A 110/20 kV pandapower feeder with an on-load tap changer on the hv side (-5..5 at 1.5 %),
one 20 kV line and one load, for the DOPF tests that judge a tap choice by pandapower's own
power flow."""

from __future__ import annotations

import warnings

import pandapower as pp


def oltc_feeder(*, sn_mva: float, length_km: float, p_mw: float, q_mvar: float,
                shunt_q_mvar: float | None = None) -> pp.pandapowerNet:
    """The feeder: bus 0 (110 kV, the ext_grid at 1.0 p.u., no band of its own: pandapower
    fills in 0 and 2), bus 1 (20 kV, the trafo's lv side) and bus 2 (the load), both 20 kV
    buses in 0.95-1.07 p.u.; a shunt of ``shunt_q_mvar`` at bus 1 if given."""
    net = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(net, 110)
    lv = pp.create_bus(net, 20, min_vm_pu=0.95, max_vm_pu=1.07)
    far = pp.create_bus(net, 20, min_vm_pu=0.95, max_vm_pu=1.07)
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net, hv, lv, sn_mva=sn_mva, vn_hv_kv=110, vn_lv_kv=20, vkr_percent=0.5,
        vk_percent=10, pfe_kw=0, i0_percent=0, tap_side="hv", tap_neutral=0, tap_min=-5,
        tap_max=5, tap_step_percent=1.5, tap_pos=0)
    net.trafo["tap_changer_type"] = "Ratio"
    net.trafo["oltc"] = True
    pp.create_line_from_parameters(net, lv, far, length_km, r_ohm_per_km=0.3,
                                   x_ohm_per_km=0.12, c_nf_per_km=0, max_i_ka=1.0)
    pp.create_load(net, far, p_mw=p_mw, q_mvar=q_mvar)
    if shunt_q_mvar is not None:
        pp.create_shunt(net, lv, q_mvar=shunt_q_mvar, p_mw=0.0)
    return net


def runpp_quiet(net: pp.pandapowerNet) -> pp.pandapowerNet:
    """pandapower's Newton-Raphson power flow of ``net`` (in place), its warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    return net

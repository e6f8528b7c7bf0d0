"""How exactly the convex model represents a network: its own power flow against pandapower's.

The SOCP is exact on a radial topology when its relaxation is tight (Farivar & Low, IEEE TPWRS
28(3), 2013); what remains is the modelling of the elements. This module measures it: the exact
power flow of the per-unit model (on a radial topology :func:`feederopt.problems.sweep.sweep`,
the equations the SOCP solves; on a meshed one :func:`bus_injection_flow`, the same pi models
in a bus admittance matrix) against the AC power flow
(:func:`feederopt.validation.ac.ac_power_flow`, for a pandapower input ``pp.runpp`` on the
user's own net), on one topology. Elements the model
cannot represent (ZIP loads, asymmetric ``impedance`` elements, phase shifts in meshed grids,
...) show up as a difference in losses and voltages. Both power flows hold PV buses (a
generator's voltage set-point) by adjusting the generator's reactive injection.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from feederopt.forking import check_not_forked
from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork, to_per_unit
from feederopt.problems.sweep import sweep
from feederopt.validation.ac import AcResult, ac_power_flow

#: Agreement within which the model counts as exact: losses [%] and voltages [p.u.].
LOSSES_TOL_PCT = 0.1
VOLTAGE_TOL_PU = 1e-4
#: A difference beyond which the model is materially wrong (:attr:`ModelFidelity.material`):
#: losses [%] and voltages [p.u.]. Past it the optimiser ranks topologies on numbers that are
#: not the grid's (pandapower's CIGRE MV with its SVC: +11.2 % losses, 0.026 p.u.; a
#: ``tap_dependency_table``: -7.9 %; a three-winding transformer's tap at its star point:
#: +4.2 % and +105 %), and ``feederopt solve`` says so above its AC check (user test
#: ut34_realgrid #2).
MATERIAL_LOSSES_PCT = 1.0
MATERIAL_VOLTAGE_PU = 0.005


#: The reader's notes on elements the model represents as pandapower's power flow does (so
#: they change neither losses nor voltages against it): a merged double circuit, the tie rule,
#: unsupplied buses left out, a dcline's ends, an xward's internal losses (loss bookkeeping,
#: taken out of the comparison: :attr:`ModelFidelity.outside_ac_kw`), ZIP columns that
#: pandapower's power flow does not read, an untyped tap it does not apply, asymmetric elements
#: summed, parallel transformers of one ratio merged, a controllable sgen's OPF limits (the
#: power flow runs it at its set-point). The warning that the model is not exact quotes the
#: other notes only (user test ut43_ppgrid #5: it quoted all of them, 2,000 characters).
EXACT_NOTES = tuple(re.compile(p) for p in (
    r"join buses .* \(a double circuit\): one (switchable )?branch",
    r"out-of-service line\(s\) between in-service buses .* stay out of service",
    r"that no source can reach and that hold no load left out",
    r"dcline\(s\) .* are read as pandapower's power flow takes them",
    r"^xward \d+: the losses in its internal resistance are losses in the model",
    r"in columns that pandapower \S+ power flow does not read",
    r"tap_changer_type (is )?not set.*take no tap step",
    r"are read as balanced \(the sum of their phases\)",
    # parallel transformers of one ratio: an exact pi-model sum (user test ut48_simb #3)
    r"in parallel with the same ratio and never open: one branch",
    # OPF limits: the DOPF's range, not the power flow's (at p_mw; ut48_simb #1)
    r"controllable sgen\(s\) have OPF limits but net\.sgen has no",
    r"are controllable but have no OPF limit",
))


def inexact_notes(notes: list[str] | None) -> list[str]:
    """``notes`` without those on elements the model represents exactly
    (:data:`EXACT_NOTES`)."""
    return [n for n in notes or [] if not any(p.search(n) for p in EXACT_NOTES)]


@dataclass(frozen=True)
class ModelFidelity:
    """The model's power flow against the AC power flow on one topology."""

    measured: bool
    model_losses_kw: float = math.nan
    ac_losses_kw: float = math.nan
    losses_diff_pct: float = math.nan  # (model - AC) / AC [%]
    max_voltage_diff_pu: float = math.nan  # max |V_model - V_ac| over energised buses
    message: str = ""
    #: Model losses [kW] that the AC losses leave out by their bookkeeping: a pandapower
    #: xward's internal resistance, which pandapower books in the xward's power
    #: (``res_xward.p_mw``), not in line or transformer losses. ``losses_diff_pct`` compares
    #: the rest, so that bookkeeping is no power-flow error (user test ut43_ppgrid #6).
    outside_ac_kw: float = 0.0

    @property
    def exact(self) -> bool:
        return self.measured and abs(self.losses_diff_pct) <= LOSSES_TOL_PCT and (
            self.max_voltage_diff_pu <= VOLTAGE_TOL_PU)

    @property
    def material(self) -> bool:
        """Whether the model's power flow is off the AC one by more than
        :data:`MATERIAL_LOSSES_PCT` in losses or :data:`MATERIAL_VOLTAGE_PU` in a voltage."""
        return self.measured and not (abs(self.losses_diff_pct) <= MATERIAL_LOSSES_PCT
                                      and self.max_voltage_diff_pu <= MATERIAL_VOLTAGE_PU)

    def headline(self, notes: list[str] | None = None) -> str | None:
        """The sentence that ``feederopt solve`` puts above its AC check when the difference is
        :attr:`material` (None otherwise): what the optimiser's numbers are worth, and the
        reader's notes, which name the elements it did not model."""
        if not self.material:
            return None
        notes = inexact_notes(notes)
        why = (f" Elements the model leaves out or simplifies (the reader's notes): "
               f"{'; '.join(notes)}." if notes else "")
        return (
            f"the model's power flow of this topology is off pandapower's by "
            f"{self.losses_diff_pct:+.2f} % in losses ({self.model_losses_kw:.3f} kW against "
            f"{self.ac_losses_kw:.3f} kW) and up to {self.max_voltage_diff_pu:.4f} p.u. in "
            f"voltage (beyond {MATERIAL_LOSSES_PCT:g} % or {MATERIAL_VOLTAGE_PU:g} p.u.): the "
            "optimisation ranked topologies on the model's numbers, so its losses, bound and "
            "status are the model's and another topology may be better in AC; the AC check's "
            f"numbers are the grid's.{why}"
        )

    def warning(self, notes: list[str] | None = None) -> str | None:
        """A sentence for the user when the model is not exact (None when it is)."""
        if not self.measured or self.exact:
            return None
        notes = inexact_notes(notes)
        why = f" ({'; '.join(notes)})" if notes else ""
        outside = (f", of which {self.outside_ac_kw:.3f} kW pandapower books outside its "
                   "line and transformer losses (an xward's internal resistance), "
                   f"{self.losses_diff_pct:+.3f} % on the rest" if self.outside_ac_kw else
                   f" ({self.losses_diff_pct:+.3f} %)")
        return (
            "the convex model does not represent every element exactly"
            f"{why}: its power flow gives {self.model_losses_kw:.3f} kW of losses against "
            f"{self.ac_losses_kw:.3f} kW in the AC power flow{outside}, "
            f"voltages differ by up to {self.max_voltage_diff_pu:.2e} p.u."
        )

    def to_dict(self) -> dict[str, float | bool | str | None]:
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "measured": self.measured,
            "model_losses_kw": num(self.model_losses_kw),
            "ac_losses_kw": num(self.ac_losses_kw),
            "losses_diff_pct": num(self.losses_diff_pct),
            "max_voltage_diff_pu": num(self.max_voltage_diff_pu),
            "exact": self.exact,
            "material": self.material,
            "outside_ac_kw": num(self.outside_ac_kw),
            "message": self.message,
        }


def model_fidelity(
    network: Network,
    closed: np.ndarray | None = None,
    *,
    pu: PerUnitNetwork | None = None,
    ac: AcResult | None = None,
) -> ModelFidelity:
    """Compare the model's radial power flow with the AC power flow for the branch states
    ``closed`` (in-service branches in table order; default: the base case). ``ac`` reuses an AC
    power flow of the same states. Not measured when the topology is not radial or either power
    flow fails."""
    check_not_forked("feederopt.model_fidelity")
    pu = pu if pu is not None else to_per_unit(network)
    state = pu.initial_closed() if closed is None else np.asarray(closed, dtype=bool)
    result = sweep(pu, state, tol=1e-12, max_iter=200)
    outside = 0.0
    if result is not None and result.converged:
        losses, vm = result.losses, np.sqrt(np.clip(result.v, 0, None))
        if result.l_branch is not None and network.meta.get("source_format") == "pandapower":
            xward = np.array([b.startswith("xward:") for b in pu.branch_ids], dtype=bool)
            outside = float(np.sum(pu.r[xward] * result.l_branch[xward]))
    else:
        flow = bus_injection_flow(pu, state)
        if flow is None:
            return ModelFidelity(False, message="the model's power flow did not converge")
        losses, vm = flow
    ac = ac if ac is not None else ac_power_flow(network, state)
    if not ac.converged:
        return ModelFidelity(False, message="the AC power flow did not converge")
    model_kw = losses * pu.s_base_mva * 1e3
    outside_kw = outside * pu.s_base_mva * 1e3
    both = np.isfinite(ac.vm_pu) & np.isfinite(vm)
    dv = float(np.max(np.abs(vm[both] - ac.vm_pu[both]))) if both.any() else math.nan
    return ModelFidelity(True, model_kw, ac.losses_kw,
                         losses_diff_pct(model_kw - outside_kw, ac.losses_kw), dv,
                         outside_ac_kw=outside_kw)


def losses_diff_pct(model_kw: float, ac_kw: float) -> float:
    """``(model - AC) / AC`` in %; 0 when both are zero to within 1e-9 kW (a grid without load
    has no losses: the model is not wrong there), infinite when only the AC losses are."""
    if abs(model_kw - ac_kw) <= 1e-9:
        return 0.0
    return (model_kw - ac_kw) / ac_kw * 100 if ac_kw else math.copysign(math.inf,
                                                                          model_kw - ac_kw)


@np.errstate(all="ignore")  # a diverging iteration ends at a non-finite value, quietly
def bus_injection_flow(pu: PerUnitNetwork, closed: np.ndarray, tol: float = 1e-12,
                       max_iter: int = 1000) -> tuple[float, np.ndarray] | None:
    """The model's power flow on any topology: (losses [p.u.], |V| per bus; NaN where no source
    reaches), or None when it does not converge.

    The bus admittance matrix of MATPOWER's branch model (Zimmerman et al., IEEE TPWRS 26(1),
    2011, eq. (3.3)-(3.4)): ``Y_ff = (y_s + y_from) / tap^2``, ``Y_ft = Y_tf = -y_s / tap``,
    ``Y_tt = y_s + y_to``, plus the bus shunts and the load of branches open at one end;
    ideal (zero-impedance) branches merge their buses. Sources hold ``v_set`` at angle 0 (the
    model has no source angles). The fixed-point iteration of the bus-injection equations,
    ``V_L = Y_LL^-1 (conj(S_L / V_L) - Y_LS V_S)``, converges for distribution grids
    (Teng, "A direct approach for distribution system load flow solutions", IEEE TPWRD 18(3),
    2003). PV buses: after each iteration, the reactive injections that restore their ``|V|``,
    by the linearisation ``d|V_j| / dq_k = Re(conj(V_j) Z_jk (-j) / (|V_j| conj(V_k)))`` with
    ``Z = Y_LL^-1`` (at a q limit the bus turns PQ). Losses are the real power that the
    closed branches take in at both ends, plus what open branches energised at one end
    consume."""
    from scipy.sparse import csc_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import splu

    n = pu.n_bus
    on = np.asarray(closed, dtype=bool)
    ideal = on & (pu.r == 0) & (pu.x == 0)
    _, rep = connected_components(csc_matrix(
        (np.ones(int(ideal.sum())), (pu.f[ideal], pu.t[ideal])), shape=(n, n)), directed=False)
    k = int(rep.max()) + 1 if n else 0
    br = np.flatnonzero(on & ~ideal)
    f, t = rep[pu.f[br]], rep[pu.t[br]]
    ys = 1.0 / (pu.r[br] + 1j * pu.x[br])
    tap = pu.tap[br] if pu.tap.size else np.ones(len(br))
    y_from = (pu.g_from[br] + 1j * pu.b_from[br]) if pu.g_from.size else np.zeros(len(br))
    y_to = (pu.g_to[br] + 1j * pu.b_to[br]) if pu.g_to.size else np.zeros(len(br))
    y_ff, y_ft, y_tt = (ys + y_from) / tap**2, -ys / tap, ys + y_to
    shunt = np.zeros(k, dtype=complex)
    np.add.at(shunt, rep, (pu.p_shunt if pu.p_shunt.size else 0.0) + 1j * pu.q_shunt)
    if pu.g_open_end.size:  # open ends of left-out branches (a loss, added below)
        np.add.at(shunt, rep, pu.g_open_end)
    dang = np.array([j for j in pu.dangling() if not on[j]], dtype=int)
    if len(dang):
        np.add.at(shunt, rep[pu.dangle_bus[dang]], pu.g_dangle[dang] + 1j * pu.b_dangle[dang])
    rows = np.concatenate([f, f, t, t, np.arange(k)])
    cols = np.concatenate([f, t, f, t, np.arange(k)])
    vals = np.concatenate([y_ff, y_ft, y_ft, y_tt, shunt])
    y_bus = csc_matrix((vals, (rows, cols)), shape=(k, k))
    s_inj = np.zeros(k, dtype=complex)
    np.add.at(s_inj, rep, -(pu.p_load + 1j * pu.q_load))
    np.add.at(s_inj, rep[pu.gen_bus], pu.gen_p_set + 1j * pu.gen_q_set)
    src = np.zeros(k, dtype=bool)
    src[rep[pu.is_source]] = True
    v = np.ones(k, dtype=complex)
    v[rep[pu.is_source]] = pu.v_set[pu.is_source]
    # Only the parts of the grid that a source reaches.
    _, comp = connected_components(abs(y_bus) > 0, directed=False)
    live = np.isin(comp, comp[src])
    load = np.flatnonzero(live & ~src)
    srcs = np.flatnonzero(src)
    if len(load):
        y_ll = y_bus[load][:, load].tocsc()
        y_ls = y_bus[load][:, srcs]
        lu = splu(y_ll)
        fixed = y_ls @ v[srcs]
        pv, v_pv, q_pv, q_lo, q_hi = _pv_buses(pu, rep, load)
        z_pv = np.zeros((len(load), len(pv)), dtype=complex)
        if len(pv):
            unit = np.zeros((len(load), len(pv)), dtype=complex)
            unit[pv, np.arange(len(pv))] = 1.0
            z_pv = lu.solve(unit)  # columns of Y_LL^-1 at the PV buses
            v[load[pv]] *= v_pv / np.abs(v[load[pv]])
        for _ in range(max_iter):
            new = lu.solve(np.conj(s_inj[load] / v[load]) - fixed)
            if not np.all(np.isfinite(new)):
                return None
            delta = float(np.max(np.abs(new - v[load])))
            v[load] = new
            if len(pv):
                # d|V_j| / dq_k = Re(conj(V_j) / |V_j| Z_jk (-j) / conj(V_k)): a reactive
                # injection dq at k is the current -j dq / conj(V_k).
                vl = v[load]
                sens = (np.conj(vl[pv])[:, None] / np.abs(vl[pv])[:, None] * z_pv[pv]
                        * (-1j) / np.conj(vl[pv])[None, :]).real
                try:
                    step = np.linalg.solve(sens, v_pv - np.abs(vl[pv]))
                except np.linalg.LinAlgError:  # singular sensitivities: no convergence
                    return None
                q_new = np.clip(q_pv + step, q_lo, q_hi)
                if not np.all(np.isfinite(q_new)):  # max(delta, nan) would read as converged
                    return None
                s_inj[load[pv]] += 1j * (q_new - q_pv)
                delta = max(delta, float(np.max(np.abs(q_new - q_pv))))
                q_pv = q_new
                held = (q_new > q_lo) & (q_new < q_hi)
                if not held.all():  # at a q limit the bus turns PQ
                    pv, v_pv, q_pv, q_lo, q_hi = (a[held] for a in (pv, v_pv, q_pv, q_lo, q_hi))
                    z_pv = z_pv[:, held]
                    delta = np.inf
            if delta < tol:
                break
        else:
            return None
    v[~live] = np.nan
    i_f = y_ff * v[f] + y_ft * v[t]
    i_t = y_ft * v[f] + y_tt * v[t]
    losses = float(np.nansum((v[f] * np.conj(i_f) + v[t] * np.conj(i_t)).real))
    if len(dang):
        vd = np.abs(v[rep[pu.dangle_bus[dang]]]) ** 2
        losses += float(np.nansum(pu.g_dangle[dang] * vd))
    if pu.g_open_end.size:
        losses += float(np.nansum(pu.g_open_end * np.abs(v[rep]) ** 2))
    return losses, np.abs(v[rep])


def _pv_buses(pu: PerUnitNetwork, rep: np.ndarray, load: np.ndarray) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The PV buses of :func:`bus_injection_flow` as positions in ``load`` (merged buses
    ``rep``; one held by a source or fused with one is left out), their set-points, the PV
    generators' reactive set-points and limits summed per bus."""
    buses, v_set, lo, hi = pu.pv_buses()
    pos = {int(b): k for k, b in enumerate(load)}
    keep = np.array([int(b) in pos for b in rep[buses]], dtype=bool)
    pv = np.array([pos[int(b)] for b in rep[buses[keep]]], dtype=int)
    pv, first = np.unique(pv, return_index=True)  # buses fused by ideal switches: the first
    q = np.zeros(len(buses))
    mine = np.isfinite(pu.gen_v_set) & np.isin(pu.gen_bus, buses)
    np.add.at(q, np.searchsorted(buses, pu.gen_bus[mine]), pu.gen_q_set[mine])
    return (pv, v_set[keep][first], q[keep][first], lo[keep][first], hi[keep][first])

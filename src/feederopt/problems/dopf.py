"""The distribution OPF with reconfiguration (Khodr, Matos & Pereira, "Distribution optimal power
flow", IEEE Power Tech 2007; seed 002): one model chooses the switch states and the setting of
every controllable device.

    min   C_loss + C_DG + C_import + C_flex + C_switch             [kW-equivalent]
    s.t.  radiality(y)                                          (formulations.radiality)
          DistFlow(y, P, Q, l, v, pg, qg)                       (formulations.distflow)
          devices(cap, tap, on, flex)                           (formulations.devices)

with, at the loss price ``lambda`` [per MWh] that turns money into kW of losses,

* ``C_loss = sum r l (+ g v)`` [kW];
* ``C_DG = 1000 / lambda (sum_g (c_g p_g + c2_g p_g^2) + sum_g F_g on_g + sum_m F_m)``,
  ``c_g`` the energy cost per MWh, ``c2_g >= 0`` the quadratic cost per MW^2 per hour
  (pandapower's ``poly_cost.cp2_eur_per_mw2``; an epigraph cone,
  :mod:`feederopt.formulations.energy_cost`) and ``F_g`` the fixed cost per hour of a running
  generator (pandapower's ``poly_cost.cp0_eur``); a must-run unit ``m`` (and a generator that
  is no device and always runs: ``always_on_fixed_per_h``) always runs, so its ``F_m`` is a
  constant of the objective (:meth:`DopfProblem.y_cost`), counted as pandapower's OPF counts
  it;
* ``C_import = 1000 / lambda sum_s (c_s ps_s + c2_s ps_s^2 + F_s)``, ``c_s`` the import price
  per MWh of source ``s`` (``buses.import_price_per_mwh``; pandapower's ``ext_grid``
  ``cp1_eur_per_mw``), ``c2_s >= 0`` its quadratic cost (``import_cost_per_mw2_per_h``,
  ``cp2_eur_per_mw2``; an epigraph cone as the DG's) and ``F_s`` its constant cost per hour
  (``import_fixed_cost_per_h``, ``cp0_eur``: a constant of the objective), as ``runopp``
  counts ``cp0 + cp1 p + cp2 p^2`` of the ext_grid's ``p`` in ``res_cost``;
* the reactive costs (pandapower's ``cq1_eur_per_mvar``, ``cq2_eur_per_mvar2``, ``runopp``'s
  sign +1 on the injected ``q``): ``1000 / lambda sum_g (cq_g qg_g + cq2_g qg_g^2)`` in
  ``C_DG`` and ``1000 / lambda sum_s (cq_s qs_s + cq2_s qs_s^2)`` in ``C_import`` (the
  quadratic terms epigraph cones, :mod:`feederopt.formulations.energy_cost`);
* ``C_flex = 1000 / lambda (sum_k pi_k flex_k + sum_j (c_j q_j + c2_j q_j^2 + F_j))``,
  ``pi_k`` the price per MWh of flexibility, ``q_j`` the reactive demand of a load whose q is
  a decision (pandapower's controllable load with ``min/max_q_mvar``) and ``c_j``, ``c2_j``,
  ``F_j`` its cost (its ``poly_cost`` ``cq1``, ``-cq2``, ``-cq0``: ``runopp``'s sign -1 on a
  load's injection ``-q``);
* ``C_switch = sum switch_cost |y - y0|`` [kW per switching action, as in reconfiguration].

The costs in money per hour are the kW-equivalents times ``lambda / 1000`` (:meth:`costs`).
The master's discrete vector is ``y`` (switchable entries) followed by the device binaries
``cap``, ``tap`` and ``on``; the slave is the SOCP for all of them fixed. This module imports no
solver.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from feederopt.formulations.blocks import Block
from feederopt.formulations.devices import (
    add_devices,
    banks_at,
    branch_tap_loss_terms,
    cap_options,
    device_groups,
    tap_options,
)
from feederopt.formulations.distflow import DistFlowOptions, distflow
from feederopt.formulations.energy_cost import (
    add_quadratic_cost,
    import_cost,
    import_cost_lower_bound,
    import_fixed_cost,
    import_quadratic_coefficients,
    import_quadratic_cost,
    quadratic_coefficients,
    quadratic_cost,
    reactive_cost,
    reactive_cost_lower_bound,
    reactive_cost_terms,
)
from feederopt.network.devices import PerUnitDevices
from feederopt.network.perunit import PerUnitNetwork
from feederopt.problems.reconfiguration import RadialityModel, ReconfigurationProblem

#: Loss price [per MWh] when neither the options nor the case give one.
DEFAULT_LOSS_PRICE_PER_MWH = 100.0


def with_free_gen_voltages(pu: PerUnitNetwork, dev: PerUnitDevices) -> PerUnitNetwork:
    """``pu`` with the voltage of every generator of ``dev.gen_v_free`` (a committable unit
    with a set-point: pandapower's ``controllable`` gen) a decision: its set-point dropped, so
    it injects ``pg``, ``qg`` within its limits (pandapower's ``min/max_q_mvar``) and its bus's
    squared voltage lies within ``v_min^2..v_max^2`` like any other bus's, as pandapower's
    ``runopp`` takes a controllable gen (its ``vm_pu`` only the starting point; PYPOWER's OPF,
    Zimmerman et al., IEEE TPWRS 26(1), 2011, bounds a generator bus's ``|V|`` by
    ``VMIN..VMAX`` alone). A bus stays held (:attr:`~feederopt.network.perunit.
    PerUnitNetwork.gen_held`) only where another voltage-controlling generator holds it."""
    free = np.asarray(dev.gen_v_free, dtype=int)
    if not len(free) or not pu.gen_v_set.size:
        return pu
    v_set = pu.gen_v_set.copy()
    v_set[free] = np.nan
    still = np.zeros(pu.n_bus, dtype=bool)
    still[pu.gen_bus[np.isfinite(v_set)]] = True
    return replace(pu, gen_v_set=v_set, gen_held=pu.generator_held() & still)


def dopf_network(pu: PerUnitNetwork, dev: PerUnitDevices) -> PerUnitNetwork:
    """``pu`` as the DOPF formulation needs it: the controllable banks at their largest step in
    the fixed shunts, susceptance and conductance (their base step taken out,
    :func:`~feederopt.formulations.devices.banks_at`), the OLTC sources' set-point ranges
    (see :func:`~feederopt.formulations.devices.add_devices`) and the controllable gens'
    voltages free (:func:`with_free_gen_voltages`)."""
    out = banks_at(pu, dev, dev.cap_max_steps) if dev.n_cap else pu
    out = with_free_gen_voltages(out, dev)
    lo, hi = pu.v_set.copy(), pu.v_set.copy()
    for k in dev.source_taps():
        bus = dev.tap_bus[k]
        lo[bus] = pu.v_set[bus] * float(dev.tap_ratios[k].min())
        hi[bus] = pu.v_set[bus] * float(dev.tap_ratios[k].max())
    if len(dev.source_taps()):
        out = replace(out, v_set_lo=lo, v_set_hi=hi)
    if len(dev.branch_taps()):
        # A transformer OLTC at its lowest ratio (the largest 1/n^2: the widest voltage and
        # flow bounds); add_devices widens the bound on l and writes v_f / n^2 exactly.
        tap = out.tap.copy() if out.tap.size else np.ones(out.n_branch)
        # The rating as given and the rated ratio stay the data's (they do not move with the
        # tap); the series-current limit i_max = i_rating min(1, n / n_rated) does, so it is
        # the loosest over the positions here (the bounds), and add_devices holds each
        # position's own limit (branch_tap_current_limits).
        rated = out.tap_rated.copy() if out.tap_rated.size else tap.copy()
        i_rating = out.i_rating.copy() if out.i_rating.size else out.i_max.copy()
        i_max = out.i_max.copy()
        for k in dev.branch_taps():
            b = dev.tap_branch[k]
            tap[b] = float(dev.tap_ratios[k].min())
            i_max[b] = i_rating[b] * min(1.0, float(dev.tap_ratios[k].max()) / rated[b])
        out = replace(out, tap=tap, tap_rated=rated, i_rating=i_rating, i_max=i_max)
    return out


@dataclass(frozen=True)
class DopfProblem:
    """The DOPF on the per-unit model ``base`` (the network as given) with devices ``dev``."""

    base: PerUnitNetwork
    dev: PerUnitDevices
    radiality: RadialityModel = RadialityModel.PARENT_CHILD
    loss_price_per_mwh: float = DEFAULT_LOSS_PRICE_PER_MWH
    #: The fixed cost per hour of the generators that are no device and always run (a
    #: pandapower ``gen`` with ``cp0_eur``): a constant, as :meth:`must_run_fixed_kw`.
    always_on_fixed_per_h: float = 0.0

    @cached_property
    def pu(self) -> PerUnitNetwork:
        return dopf_network(self.base, self.dev)

    @cached_property
    def recon(self) -> ReconfigurationProblem:
        """The reconfiguration problem on the same model (radiality, switching cost, losses)."""
        return ReconfigurationProblem(self.pu, self.radiality)

    @property
    def scale(self) -> float:
        return 1000.0 * self.base.s_base_mva

    def money_to_kw(self) -> float:
        """kW-equivalent of one unit of money per hour: ``1000 / lambda``."""
        return 1000.0 / self.loss_price_per_mwh

    # ----- blocks -------------------------------------------------------------------------
    def physics_block(self, *, slack: bool = False) -> Block:
        pu = self.pu
        block = add_devices(distflow(pu, DistFlowOptions(slack=slack)), pu, self.dev)
        add_quadratic_cost(block, pu)
        block.objective = self.operating_cost(block)
        return block

    def operating_cost(self, block: Block) -> dict[str, np.ndarray]:
        """The slave's objective [kW-equivalent] by group: losses, DG energy, flexibility."""
        cost = self.recon.loss_cost()
        k = self.money_to_kw()
        pu = self.pu
        for g, c in branch_tap_loss_terms(pu, self.dev).items():
            cost[g] = cost[g] + c * self.scale if g in cost else c * self.scale
        if pu.n_gen and np.any(pu.gen_cost != 0):
            cost["pg"] = pu.gen_cost * k
        if "pg2" in block.groups:
            cost["pg2"] = quadratic_coefficients(pu) * k
        if len(price := import_cost(pu)):
            cost["ps"] = price * k
        if "ps2" in block.groups:
            cost["ps2"] = import_quadratic_coefficients(pu) * k
        if "flex" in block.groups:
            cost["flex"] = self.dev.flex_price * k
        if "flexq" in block.groups:  # c (qb - x) + c2 (qb - x)^2: the constant in y_cost
            dev = self.dev
            cost["flexq"] = -(dev.flex_q_price + 2.0 * dev.flex_q_cost2 * dev.flex_q_base) * k
        if "flexq2" in block.groups:
            cost["flexq2"] = self.dev.flex_q_cost2[self.dev.flex_q_cost2 > 0] * k
        # the reactive costs (pandapower's cq1, cq2 on the injected q: energy_cost)
        for g, c in reactive_cost_terms(pu, block.groups).items():
            cost[g] = c * k
        return cost

    def fixed_cost(self) -> dict[str, np.ndarray]:
        """The master's own cost on the device binaries [kW-equivalent]: the fixed DG cost, and
        the tap-change cost (``tap_cost_kw`` per position away from the neutral ratio)."""
        out: dict[str, np.ndarray] = {}
        dev = self.dev
        if len(dev.gen_commit) and np.any(dev.gen_fixed_cost):
            out["on"] = dev.gen_fixed_cost * self.money_to_kw()
        if dev.n_tap and np.any(dev.tap_cost):
            which, _ = tap_options(dev)
            moved = np.concatenate([np.abs(dev.tap_moves(k)) for k in range(dev.n_tap)])
            out["tap"] = dev.tap_cost[which] * moved
        return out

    def cost_lower_bound(self) -> float:
        """A lower bound of the slave's objective (losses >= 0, DG energy at its cheapest, the
        quadratic cost >= 0, the import at :func:`~feederopt.formulations.energy_cost.
        import_cost_lower_bound`)."""
        pu = self.pu
        c = pu.gen_cost * self.money_to_kw()
        lo = np.minimum(pu.gen_p_min, 0.0)
        lo[self.dev.gen_commit] = np.minimum(lo[self.dev.gen_commit], 0.0)
        dg = float(np.minimum(c * lo, c * np.maximum(pu.gen_p_max, 0.0)).sum())
        # an off unit's q is 0, within its range widened to 0 (reactive_cost_lower_bound)
        widened = replace(pu, gen_q_min=np.minimum(pu.gen_q_min, 0.0),
                          gen_q_max=np.maximum(pu.gen_q_max, 0.0))
        dev = self.dev
        flex_q = 0.0
        if len(dev.flex_q):  # the linear part of flexq's cost at its cheaper end (flexq2 >= 0)
            c = -(dev.flex_q_price + 2.0 * dev.flex_q_cost2 * dev.flex_q_base)
            flex_q = float(np.minimum(c * (dev.flex_q_base - dev.flex_q_hi),
                                      c * (dev.flex_q_base - dev.flex_q_lo)).sum())
        return dg + (import_cost_lower_bound(pu, import_cost(pu))
                     + reactive_cost_lower_bound(widened) + flex_q) * self.money_to_kw()

    def radiality_block(self) -> Block:
        return self.recon.radiality_block()

    def must_run_fixed_kw(self) -> float:
        """The must-run units' fixed cost [kW-equivalent]: ``1000 / lambda sum_m F_m``, a
        constant (they are always on; pandapower's ``runopp`` counts ``cp0_eur`` of every
        unit it runs), with the sources' constant cost ``sum_s F_s`` (an ext_grid's
        ``cp0_eur``, :func:`~feederopt.formulations.energy_cost.import_fixed_cost`)."""
        return (float(np.sum(self.dev.gen_must_run_fixed_cost))
                + self.always_on_fixed_per_h + import_fixed_cost(self.pu)
                + self.flex_q_constant_per_h()) * self.money_to_kw()

    def flex_q_constant_per_h(self) -> float:
        """The constant of the reactive-range loads' cost at ``flexq = 0`` (their data's
        q): ``sum_j c_j qb_j + c2_j qb_j^2 + F_j`` [per hour] (:meth:`operating_cost` prices
        the change ``flexq`` from there)."""
        return self.dev.flex_q_cost(self.dev.flex_q_base)

    def y_cost(self) -> tuple[np.ndarray, float]:
        """The master's cost on ``y`` and the objective's constant [kW-equivalent]: the
        switching cost ``c y + const`` of reconfiguration, with the must-run units' fixed
        cost (:meth:`must_run_fixed_kw`) added to the constant. Every method adds this
        constant to its values and bounds, so the reported objective includes it."""
        c, const = self.recon.y_cost()
        return c, const + self.must_run_fixed_kw()

    def monolithic_block(self) -> Block:
        block = self.physics_block().merge(self.radiality_block())
        c, _ = self.y_cost()
        if np.any(c):
            block.add_objective("y", c)
        for g, c_on in self.fixed_cost().items():
            block.add_objective(g, c_on)
        return block

    def discrete_groups(self) -> list[str]:
        """``y`` and the device binaries of this problem."""
        return ["y", *device_groups(self.physics_block())]

    def base_setting(self) -> dict[str, np.ndarray]:
        """The discrete setting of the data: base topology, base steps, neutral taps, every
        committable generator on."""
        out = {"y": self.base.initial_closed().astype(float)}
        dev = self.dev
        if dev.n_cap:
            bank, step = cap_options(dev)
            out["cap"] = (step == dev.cap_base_step[bank]).astype(float)
        if dev.n_tap:
            which, _ratio = tap_options(dev)
            pos = np.zeros(len(which))
            start = 0
            for k in range(dev.n_tap):
                pos[start + dev.tap_base_position(k)] = 1.0
                start += len(dev.tap_ratios[k])
            out["tap"] = pos
        if len(dev.gen_commit):
            out["on"] = np.ones(len(dev.gen_commit))
        return out

    # ----- reading a solution -------------------------------------------------------------
    def costs(self, point: dict[str, np.ndarray], setting: dict[str, np.ndarray]) -> dict[
            str, float]:
        """The cost terms of a solution, in money per hour and in kW-equivalent: ``switching``
        the branch actions (``switch_cost_kw`` each), ``tap_changes`` the OLTCs' moves
        (``tap_cost_kw`` per position away from the base ratio), each ``kW x lambda / 1000``
        per hour at the loss price ``lambda``; ``total_per_h`` their sum with the losses, DG,
        import and flexibility."""
        lam = self.loss_price_per_mwh
        losses_kw = self.recon.losses_kw(point) + sum(
            float(c @ point[g]) for g, c in branch_tap_loss_terms(self.pu, self.dev).items()
            if g in point) * self.scale
        pu = self.pu
        s = pu.s_base_mva
        pg = np.array(point.get("pg", np.zeros(pu.n_gen)), dtype=float)
        on = setting.get("on")
        if on is not None and len(self.dev.gen_commit) and pg.size:
            # a unit switched off produces nothing: the slave's residue on it (below the
            # 1e-5 p.u. guard; 7.7e-11 $/h on case70da) is no cost, as the device table
            # shows it off at 0 MW
            pg[np.asarray(self.dev.gen_commit)[np.asarray(on) < 0.5]] = 0.0
        qg = np.array(point.get("qg", np.zeros(pu.n_gen)), dtype=float)
        if on is not None and len(self.dev.gen_commit) and qg.size:
            qg[np.asarray(self.dev.gen_commit)[np.asarray(on) < 0.5]] = 0.0
        q_gen, q_src = reactive_cost(pu, qg, point.get("qs"))
        dg_energy = (float(np.sum(pu.gen_cost * pg)) + quadratic_cost(pu, pg) + q_gen
                     if pu.n_gen else 0.0)
        dg_fixed = float(np.sum(self.dev.gen_fixed_cost * setting.get("on", np.zeros(0)))
                         + np.sum(self.dev.gen_must_run_fixed_cost)) + self.always_on_fixed_per_h
        price = import_cost(pu)
        ps = np.asarray(point.get("ps", np.zeros(0)), float)
        imported = (float(price @ ps) if len(price) and ps.size else 0.0) + (
            import_quadratic_cost(pu, ps) + import_fixed_cost(pu)) + q_src
        flex = float(np.sum(self.dev.flex_price * point.get("flex", np.zeros(0))))
        if len(self.dev.flex_q):  # the reactive-range loads' cost at their chosen q
            flex += self.dev.flex_q_cost(self.dev.flex_q_base - np.asarray(
                point.get("flexq", np.zeros(len(self.dev.flex_q))), float))
        c, const = self.recon.y_cost()  # the switching cost alone (y_cost adds the must-run)
        switching_kw = float(c @ setting["y"]) + const
        # the tap changes (tap_cost_kw per position moved) are their own part, not switching,
        # which is the branch actions alone (user test ut46_dopf #3)
        tap_kw = (float(self.fixed_cost()["tap"] @ setting["tap"])
                  if "tap" in setting and "tap" in self.fixed_cost() else 0.0)
        out = {
            "loss_price_per_mwh": lam,
            "losses_kw": losses_kw,
            "losses_per_h": losses_kw * lam / 1000.0,
            "dg_per_h": dg_energy + dg_fixed,
            "import_per_h": imported,
            "flexibility_per_h": flex,
            "flexibility_mw": float(np.sum(point.get("flex", np.zeros(0)))) * s,
            "switching_kw": switching_kw,
            "switching_per_h": switching_kw * lam / 1000.0,
            "tap_changes_kw": tap_kw,
            "tap_changes_per_h": tap_kw * lam / 1000.0,
        }
        out["total_per_h"] = (out["losses_per_h"] + out["dg_per_h"] + out["import_per_h"]
                              + out["flexibility_per_h"] + out["switching_per_h"]
                              + out["tap_changes_per_h"])
        return out

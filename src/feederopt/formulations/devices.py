"""Controllable devices in the DistFlow block: capacitor steps, OLTC taps, DG commitment and
flexible prosumers (the distribution OPF of Khodr, Matos & Pereira, "Distribution optimal power
flow", IEEE Power Tech 2007, seed 002; the devices of its eqs. (8)-(10)).

Every discrete choice is a set of binaries that enter only *linear* rows with constant
coefficients, so that for fixed binaries the block is the SOCP of the slave and, with the
binaries relaxed to [0, 1], the optimal value is a convex function of them (the binaries sit in
the right-hand side of a convex program): the duals of the copy constraints ``z = z_k`` give
valid Benders cuts in every device binary, as for the switch states (Geoffrion 1972).

* **Capacitor bank** ``c`` at bus ``i`` with steps ``s = 0..S_c`` of ``b_c`` [p.u. at 1 p.u.]:
  one-hot binaries ``cap_{c,s}`` (``sum_s cap_{c,s} = 1``) and, for ``s >= 1``, the switched
  squared voltage ``vc_{c,s} = v_i cap_{c,s}`` written exactly for binary ``cap`` (Glover's
  linearisation, Management Sci. 22(4), 1975)::

      vc <= v_i,   vc >= v_i - hi_i (1 - cap),   vc <= hi_i cap,   vc >= 0

  The bank injects ``q = sum_s s b_c vc_{c,s}``, i.e. ``q = b v`` with ``b = s b_c`` (eq. (10)),
  and a lossy bank (pandapower's shunt ``p_mw`` per step, ``g_c`` [p.u. at 1 p.u.]) consumes
  ``p = sum_s s g_c vc_{c,s}``, i.e. ``p = g v`` with ``g = s g_c``: the same switched voltage,
  so P switches with the chosen step exactly as Q does (user test ut36_dopf #1: P held at the
  data's step gave 152.772 kW for a setting whose AC losses are 160.178 kW). What the bank
  consumes is a load, as in pandapower's ``res_shunt``, not a loss.
* **OLTC** at source ``i`` with ratios ``n_k`` (positions ``1 + k step``): one-hot ``tap_{i,k}``
  and ``v_i = sum_k (n_k v_set_i)^2 tap_{i,k}`` (``v`` squared; the source's HV side is held at
  ``v_set``, the MV bus follows the ratio). Taps are integer positions, modelled exactly; the
  positions are those with ``n_k v_set_i`` inside bus ``i``'s own band
  (:func:`feederopt.network.devices.source_tap_ratios`).
* **Transformer OLTC / regulator** on the fixed branch ``(f, t)`` with ratios ``n_k``: the
  same one-hot ``tap_{b,k}`` and the switched squared voltage ``vt_{b,k} = v_f tap_{b,k}``
  (Glover, as for the banks, plus ``sum_k vt_{b,k} = v_f``), so that the voltage that the
  series impedance sees, ``v_f / n^2`` (``v_t = v_f / n^2 - 2 (r P + x Q) + |z|^2 l``, the
  cone ``P^2 + Q^2 <= (v_f / n^2) l``; Farivar & Low 2013 with the ideal transformer at the from
  end), is the linear ``sum_k vt_{b,k} / n_k^2``: exact for integer positions, nothing rounded.
  The from-end shunt of the branch acts on the same expression.
  Its rating holds on both windings at every position: the series current ``I`` (``l =
  |I|^2``) is the lv winding's, rated ``i_r`` (``i_rating``); the ideal transformer at the
  from end passes the same power at ``V_f = n V_f'``, so the hv winding carries ``|I| / n``
  (from-end p.u.), rated ``i_r / n_r`` (``n_r`` the ratio at the rated winding voltages,
  ``tap_rated_ratio``). Both hold when ``|I| <= i_r min(1, n / n_r)`` (pandapower's
  current-based trafo loading, the larger of the two windings'), which with the one-hot
  positions is the linear ``l <= sum_k i_r^2 min(1, n_k / n_r)^2 tap_k``: exact for integer
  positions, not the worst ratio (:func:`branch_tap_current_limits`; user test ut33_dopf #1:
  with the rating of the data's position only, tap_pos -4 (n = 0.94) ran the hv winding at
  103.8 % of its rating).
* **Committable generator** ``g``: a binary ``on_g`` and ``on p_min <= p <= on p_max``,
  ``on q_min <= q <= on q_max`` (eqs. (8), (9)).
* **Flexible prosumer** at bus ``i``: a reduction ``0 <= flex <= share p_load`` of its active
  demand and ``flex q/p`` of its reactive demand (the same power factor); with a reactive
  range ``q_lo..q_hi`` (pandapower's controllable load's ``min/max_q_mvar``) its reactive
  demand is a decision of its own instead, ``q = q_base - flexq`` with ``q_base - q_hi <=
  flexq <= q_base - q_lo``, as pandapower's OPF takes a controllable load (a generator of
  ``-p``, ``-q``; Thurner et al., IEEE TPWRS 33(6), 2018), its cost ``c_q q + c2_q q^2``
  with ``c2_q q^2`` through the epigraph ``flexq2 >= flexq^2`` (rotated cone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, OnOff, Sense, diag, incidence, select
from feederopt.formulations.distflow import effective_ratings
from feederopt.formulations.energy_cost import square_epigraph
from feederopt.network.devices import PerUnitDevices
from feederopt.network.perunit import PerUnitNetwork

#: The device binaries, in the order of a master's discrete vector (after ``y``).
DEVICE_GROUPS = ("cap", "tap", "on")


def cap_options(dev: PerUnitDevices) -> tuple[np.ndarray, np.ndarray]:
    """Per one-hot option of every bank: its bank and its step (``0..max_steps``)."""
    bank = np.repeat(np.arange(dev.n_cap), dev.cap_max_steps + 1)
    step = np.concatenate([np.arange(s + 1) for s in dev.cap_max_steps]) if dev.n_cap else (
        np.zeros(0, dtype=int))
    return bank, step.astype(int)


def tap_options(dev: PerUnitDevices) -> tuple[np.ndarray, np.ndarray]:
    """Per one-hot option of every OLTC: its OLTC and its ratio."""
    sizes = [len(r) for r in dev.tap_ratios]
    which = np.repeat(np.arange(dev.n_tap), sizes)
    ratio = np.concatenate(dev.tap_ratios) if dev.n_tap else np.zeros(0)
    return which, ratio


def cap_max_per_bus(pu: PerUnitNetwork, dev: PerUnitDevices) -> tuple[np.ndarray, np.ndarray]:
    """The controllable banks at their largest step at each bus [p.u. at 1 p.u.]: what they
    consume (``p``, ``max_steps x g_c``) and inject (``q``, ``max_steps x b_c``)."""
    p, q = np.zeros(pu.n_bus), np.zeros(pu.n_bus)
    np.add.at(q, dev.cap_bus, dev.cap_q * dev.cap_max_steps)
    if dev.cap_p.size:
        np.add.at(p, dev.cap_bus, dev.cap_p * dev.cap_max_steps)
    return p, q


def banks_at(pu: PerUnitNetwork, dev: PerUnitDevices, steps: np.ndarray) -> PerUnitNetwork:
    """``pu`` (with the controllable banks at the data's ``step`` in its fixed shunts, as
    :func:`~feederopt.network.perunit.to_per_unit` puts them) with each bank at ``steps``
    instead: both its susceptance (``q_shunt``) and its conductance (``p_shunt``) move, so
    nothing depends on the data's step."""
    delta = np.asarray(steps, float) - dev.cap_base_step
    q_shunt = pu.q_shunt.astype(float).copy()
    np.add.at(q_shunt, dev.cap_bus, dev.cap_q * delta)
    out = replace(pu, q_shunt=q_shunt)
    if dev.cap_p.size and np.any(dev.cap_p):
        p_shunt = (pu.p_shunt.astype(float).copy() if pu.p_shunt.size
                   else np.zeros(pu.n_bus))
        np.add.at(p_shunt, dev.cap_bus, dev.cap_p * delta)
        out = replace(out, p_shunt=p_shunt)
    return out


def _switched_voltage(block: Block, name: str, binary: str, options: np.ndarray, k: int,
                      bus: np.ndarray, hi: np.ndarray) -> None:
    """Group ``name`` = ``v_bus x binary[options]`` for binary values, exactly (Glover 1975):
    ``x <= v``, ``x >= v - hi (1 - b)``, ``x <= hi b``, ``0 <= x`` (``hi`` the bound of ``v``;
    ``k`` the size of the binary group)."""
    n, j = len(hi), len(options)
    block.add_group(Group.new(name, j, 0.0, hi[bus]))
    eye = sp.identity(j, format="csr")
    vb = select(bus, n)
    block.add_rows(f"{name}_le_v", {name: eye, "v": -vb}, Sense.LE, np.zeros(j))
    block.add_rows(f"{name}_ge_v", {name: -eye, "v": vb, binary: select(options, k, hi[bus])},
                   Sense.LE, hi[bus])
    block.add_rows(f"{name}_on", {name: eye, binary: select(options, k, -hi[bus])}, Sense.LE,
                   np.zeros(j))


def _one_hot(block: Block, name: str, owner: np.ndarray, count: int) -> int:
    """Binaries ``name`` (one per option; ``owner`` the device of each) with exactly one option
    per device; returns the number of options."""
    k = len(owner)
    block.add_group(Group.new(name, k, 0.0, 1.0, integer=True))
    block.add_rows(f"{name}_one", {name: sp.csr_matrix(
        (np.ones(k), (owner, np.arange(k))), shape=(count, k))}, Sense.EQ, np.ones(count))
    return k


def add_devices(block: Block, pu: PerUnitNetwork, dev: PerUnitDevices) -> Block:
    """Add the devices to a DistFlow block built on ``pu`` (see the module docstring).

    ``pu`` must already hold the controllable banks at their largest step in ``q_shunt`` and
    ``p_shunt`` (:func:`banks_at`) and
    the OLTC sources' set-point ranges in ``v_set_lo``/``v_set_hi`` (so that the voltage
    bounds and big-M values of :func:`~feederopt.formulations.distflow.distflow` cover every
    setting); this function takes the banks out of the fixed shunts again and adds their
    switched form.
    """
    n = pu.n_bus
    v = block.groups["v"]
    hi = v.ub
    bal_p, bal_q = block.row("balance_p"), block.row("balance_q")

    def add_term(row_terms: dict[str, sp.spmatrix], group: str, a: sp.spmatrix) -> None:
        row_terms[group] = row_terms[group] + a if group in row_terms else sp.csr_matrix(a)

    if dev.n_cap:
        bank, step = cap_options(dev)
        k = _one_hot(block, "cap", bank, dev.n_cap)
        on = np.flatnonzero(step > 0)
        bus = dev.cap_bus[bank[on]]
        _switched_voltage(block, "vcap", "cap", on, k, bus, hi)
        # The banks leave the fixed shunts (pu holds them at their largest step) ...
        p_max, q_max = cap_max_per_bus(pu, dev)
        add_term(bal_q.terms, "v", diag(-q_max, n))
        # ... and inject step x b_c x vc instead.
        add_term(bal_q.terms, "vcap", incidence(n, bus, step[on] * dev.cap_q[bank[on]]))
        if np.any(p_max != 0):  # a lossy bank consumes step x g_c x vc (balance_p: -g v)
            add_term(bal_p.terms, "v", diag(p_max, n))
            add_term(bal_p.terms, "vcap", incidence(n, bus, -step[on] * dev.cap_p[bank[on]]))
    if dev.n_tap:
        which, ratio = tap_options(dev)
        k = _one_hot(block, "tap", which, dev.n_tap)
        src = dev.source_taps()
        if len(src):
            opt = np.flatnonzero(np.isin(which, src))
            row = np.searchsorted(src, which[opt])
            bus = dev.tap_bus[src]
            vset = pu.v_set[dev.tap_bus[which[opt]]]
            block.add_rows("tap_v", {"v": select(bus, n), "tap": -sp.csr_matrix(
                ((ratio[opt] * vset) ** 2, (row, opt)), shape=(len(src), k))}, Sense.EQ,
                np.zeros(len(src)))
        if len(dev.branch_taps()):
            _branch_taps(block, pu, dev, hi, add_term)
    g = dev.gen_commit
    if len(g):
        k = len(g)
        block.add_group(Group.new("on", k, 0.0, 1.0, integer=True))
        eye = sp.identity(k, format="csr")
        for name in ("pg", "qg"):
            grp = block.groups[name]
            lo_g, hi_g = grp.lb[g].copy(), grp.ub[g].copy()
            grp.lb[g] = np.minimum(lo_g, 0.0)
            grp.ub[g] = np.maximum(hi_g, 0.0)
            sel = select(g, grp.size)
            block.add_rows(f"{name}_commit_hi", {name: sel, "on": diag(-hi_g, k)}, Sense.LE,
                           np.zeros(k))
            block.add_rows(f"{name}_commit_lo", {name: -sel, "on": diag(lo_g, k)}, Sense.LE,
                           np.zeros(k))
        del eye
    if len(dev.flex_ids):
        k = len(dev.flex_ids)
        block.add_group(Group.new("flex", k, 0.0, dev.flex_p))
        add_term(bal_p.terms, "flex", incidence(n, dev.flex_bus))
        add_term(bal_q.terms, "flex", incidence(n, dev.flex_bus, dev.flex_q_per_p))
    if len(dev.flex_q):
        # a load's q a decision within its range: flexq = q_base - q (the cut in its
        # reactive consumption, an injection in the balance like flex), the quadratic
        # cost's epigraph flexq2 >= flexq^2 (c2 (q_base - flexq)^2 expanded: DopfProblem)
        m = len(dev.flex_q)
        lo = dev.flex_q_base - dev.flex_q_hi
        hi_q = dev.flex_q_base - dev.flex_q_lo
        block.add_group(Group.new("flexq", m, lo, hi_q))
        add_term(bal_q.terms, "flexq", incidence(n, dev.flex_bus[dev.flex_q]))
        k2 = np.flatnonzero(dev.flex_q_cost2 > 0)
        if len(k2):
            square_epigraph(block, "flexq2", "flexq", m, k2,
                            np.maximum(lo[k2] ** 2, hi_q[k2] ** 2))
    return block


def _branch_tap_options(dev: PerUnitDevices) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per one-hot option of a transformer OLTC: its index among the ``tap`` options, its
    branch and ``1 / n^2``."""
    which, ratio = tap_options(dev)
    opt = np.flatnonzero(np.isin(which, dev.branch_taps()))
    return opt, dev.tap_branch[which[opt]], 1.0 / ratio[opt] ** 2


def branch_tap_current_limits(pu: PerUnitNetwork, dev: PerUnitDevices) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """Per one-hot option of a transformer OLTC: its index among the ``tap`` options, its
    branch and the squared series-current limit at its ratio ``n_k``,
    ``i_r^2 min(1, n_k / n_r)^2`` [p.u.] (``i_r`` the rating as given, ``n_r`` the rated
    ratio; see the module docstring), infinite where the branch has no rating."""
    opt, br, inv2 = _branch_tap_options(dev)
    ratio = 1.0 / np.sqrt(inv2)
    i_rating = pu.i_rating[br] if pu.i_rating.size else pu.i_max[br]
    rated = pu.tap_rated[br] if pu.tap_rated.size else np.ones(len(br))
    with np.errstate(invalid="ignore"):
        limit = (i_rating * np.minimum(1.0, ratio / rated)) ** 2
    return opt, br, limit


def branch_tap_loss_terms(pu: PerUnitNetwork, dev: PerUnitDevices) -> dict[str, np.ndarray]:
    """The correction of the shunt losses [p.u.] of the transformer OLTCs' from ends: the
    conductance acts on ``v_f / n^2 = sum_k vt_k / n_k^2``, not on ``v_f / tap^2`` of ``pu``."""
    if not len(dev.branch_taps()) or not pu.g_from.size:
        return {}
    _opt, br, inv2 = _branch_tap_options(dev)
    g = pu.g_from[br]
    if not np.any(g):
        return {}
    # A switchable branch's shunt acts on its copy w (= v_f / n^2 when closed, 0 open), whose
    # loss term distflow.loss_terms already has: only the fixed branches' move.
    g = np.where(pu.switchable[br], 0.0, g)
    if not np.any(g):
        return {}
    v = np.zeros(pu.n_bus)
    taps = dev.tap_branch[dev.branch_taps()]
    taps = taps[~pu.switchable[taps]]
    np.add.at(v, pu.f[taps], -pu.g_from[taps] * pu.tap2[taps])
    return {"v": v, "vtap": g * inv2}


def _branch_taps(block: Block, pu: PerUnitNetwork, dev: PerUnitDevices, hi: np.ndarray,
                 add_term: Callable[[dict[str, sp.spmatrix], str, sp.spmatrix], None]) -> None:
    """The transformer OLTCs (see the module docstring): ``pu`` holds each at its lowest
    ratio; the terms ``a v_f`` (``a = 1 / tap^2``) of its voltage drop, its cone's copy ``w``
    and its from-end shunt become ``sum_k vt_k / n_k^2``. On a switchable transformer
    (:func:`_switchable_branch_taps`) the drop's big-M rows and the copy's rows take the same
    expression, with their ``M`` over every position."""
    n, m = pu.n_bus, pu.n_branch
    k_all = len(block.groups["tap"].lb)
    opt, br, inv2 = _branch_tap_options(dev)
    j = len(opt)
    fb = pu.f[br]
    _switched_voltage(block, "vtap", "tap", opt, k_all, fb, hi)
    taps = dev.tap_branch[dev.branch_taps()]
    owner = np.searchsorted(taps, br) if np.all(np.diff(taps) > 0) else np.array(
        [int(np.flatnonzero(taps == b)[0]) for b in br])
    block.add_rows("vtap_sum", {"vtap": sp.csr_matrix((np.ones(j), (owner, np.arange(j))),
                                                      shape=(len(taps), j)),
                                "v": -select(pu.f[taps], n)}, Sense.EQ, np.zeros(len(taps)))
    a = pu.tap2
    fixed_tap = taps[~pu.switchable[taps]]
    fixed_opt = ~pu.switchable[br]
    # The voltage drop of a fixed branch (row order: the fixed branches).
    fx = np.flatnonzero(~pu.switchable)
    if len(fixed_tap):
        pos = np.searchsorted(fx, br[fixed_opt])
        drop = block.row("drop_fixed")
        add_term(drop.terms, "v", sp.csr_matrix((-a[fixed_tap], (np.searchsorted(
            fx, fixed_tap), pu.f[fixed_tap])), shape=(len(fx), n)))
        add_term(drop.terms, "vtap", sp.csr_matrix((inv2[fixed_opt], (pos, np.flatnonzero(
            fixed_opt))), shape=(len(fx), j)))
    # The cone's copy: w <= a v_f (row per branch) becomes w <= sum_k vt_k / n_k^2.
    wv = block.row("w_volt")
    add_term(wv.terms, "v", sp.csr_matrix((a[taps], (taps, pu.f[taps])), shape=(m, n)))
    add_term(wv.terms, "vtap", sp.csr_matrix((-inv2, (br, np.arange(j))), shape=(m, j)))
    # The bound on l, (P^2 + Q^2) / (v_min_f / n^2), grows with n^2 (pu: the lowest ratio).
    lo_ratio = np.array([float(dev.tap_ratios[k].min()) for k in dev.branch_taps()])
    hi_ratio = np.array([float(dev.tap_ratios[k].max()) for k in dev.branch_taps()])
    block.groups["l"].ub[taps] *= (hi_ratio / lo_ratio) ** 2
    if np.any(pu.switchable[taps]):
        _switchable_branch_taps(block, pu, taps, hi_ratio, lo_ratio, br, inv2, add_term)
    _branch_tap_ratings(block, pu, dev, k_all)
    # The from-end shunt of a fixed branch acts on v_f / n^2 too (a switchable branch's acts
    # on its copy w, which is v_f / n^2 when closed).
    if len(fixed_tap) and pu.g_from.size and (np.any(pu.g_from[fixed_tap])
                                              or np.any(pu.b_from[fixed_tap])):
        cols = np.flatnonzero(fixed_opt)
        for row_name, coef, sign in (("balance_p", pu.g_from, -1.0),
                                     ("balance_q", pu.b_from, 1.0)):
            row = block.row(row_name)
            add_term(row.terms, "v", sp.csr_matrix(
                (-sign * coef[fixed_tap] * a[fixed_tap], (pu.f[fixed_tap], pu.f[fixed_tap])),
                shape=(n, n)))
            add_term(row.terms, "vtap", sp.csr_matrix(
                (sign * coef[br[cols]] * inv2[cols], (fb[cols], cols)), shape=(n, j)))


def _switchable_branch_taps(block: Block, pu: PerUnitNetwork, taps: np.ndarray,
                            hi_ratio: np.ndarray, lo_ratio: np.ndarray, br: np.ndarray,
                            inv2: np.ndarray,
                            add_term: Callable[[dict[str, sp.spmatrix], str, sp.spmatrix],
                                               None]) -> None:
    """An OLTC on a switchable transformer (a pandapower trafo behind a circuit-breaker
    switch; user test ut40_dopfreal #3): with ``X = sum_k vt_k / n_k^2`` (``= v_f / n^2``
    exactly for integer positions) in place of ``a v_f``, the branch's rows read

        -M^v_dn (1 - y) <= X - v_t - 2 (r P + x Q) + |z|^2 l <= M^v_up (1 - y)
        w <= X - a_min lo_f (1 - y),   w >= X - hi_w (1 - y)  (with a shunt),   w <= hi_w y
        l <= M^l (n_max / n_min)^2 y

    ``M^v_up = a_max hi_f - lo_t`` (``pu`` holds the lowest ratio, ``a_max = 1 / n_min^2``)
    and ``M^v_dn = hi_t - a_min lo_f`` (``a_min = 1 / n_max^2``) span ``X - v_t`` over every
    position and voltage, and ``X >= a_min lo_f`` holds at every position, so an open branch
    (``y = 0``) leaves ``X``, ``v_t`` and ``w = 0`` free of each other: its rows impose
    nothing, whatever position the one-hot ``tap`` takes (the tap then has no effect, and
    ``vt`` is ``v_f tap`` by its own rows, which hold for any ``v_f``). Closed (``y = 1``)
    they are the fixed branch's rows. So the model is exact for binary ``y`` and ``tap``."""
    n, m = pu.n_bus, pu.n_branch
    a = pu.tap2
    v = block.groups["v"]
    lo, hi = v.lb, v.ub
    sw = np.flatnonzero(pu.switchable)
    mine = pu.switchable[taps]
    st = taps[mine]
    a_min = 1.0 / hi_ratio[mine] ** 2
    cols = np.flatnonzero(pu.switchable[br])
    j = len(br)
    row_st = np.searchsorted(sw, st)
    row_cols = np.searchsorted(sw, br[cols])
    k = len(sw)
    for name, sign in (("drop_up", 1.0), ("drop_dn", -1.0)):
        rows = block.row(name)
        add_term(rows.terms, "v", sp.csr_matrix(
            (-sign * a[st], (row_st, pu.f[st])), shape=(k, n)))
        add_term(rows.terms, "vtap", sp.csr_matrix(
            (sign * inv2[cols], (row_cols, cols)), shape=(k, j)))
    # M^v_dn over every position: hi_t - a_min lo_f (pu's a_max gave hi_t - a_max lo_f).
    dn = block.row("drop_dn")
    new = np.maximum(hi[pu.t[st]] - a_min * lo[pu.f[st]], 0.0)
    old = dn.rhs[row_st].copy()
    dn.rhs[row_st] = new
    add_term(dn.terms, "y", sp.csr_matrix((new - old, (row_st, st)), shape=(k, m)))
    # The copy's floor when open: w <= X - a_min lo_f (1 - y) (pu's a_max lo_f would force
    # X >= a_max lo_f, i.e. cut positions off, on an open branch).
    wv = block.row("w_volt")
    new_w = a_min * lo[pu.f[st]]
    old_w = -wv.rhs[st].copy()
    wv.rhs[st] = -new_w
    add_term(wv.terms, "y", sp.csr_matrix((-(new_w - old_w), (st, st)), shape=(m, m)))
    names = {r.name for r in block.rows}
    if "w_floor" in names:
        # w >= X - hi_w (1 - y): the rows of the switchable branches with a shunt, in order.
        floor = block.row("w_floor")
        k_w = np.asarray(sp.csr_matrix(floor.terms["w"]).tocoo().col, int)
        order = np.argsort(sp.csr_matrix(floor.terms["w"]).tocoo().row)
        k_w = k_w[order]
        has = np.isin(st, k_w)
        if has.any():
            r_st = np.searchsorted(k_w, st[has])
            c_has = cols[np.isin(br[cols], k_w)]
            add_term(floor.terms, "v", sp.csr_matrix(
                (-a[st[has]], (r_st, pu.f[st[has]])), shape=(len(k_w), n)))
            add_term(floor.terms, "vtap", sp.csr_matrix(
                (inv2[c_has], (np.searchsorted(k_w, br[c_has]), c_has)), shape=(len(k_w), j)))
    if "l_on" in names:
        # l <= M^l y with M^l at the largest ratio (as the bound on l above).
        l_on = block.row("l_on")
        on = sp.csr_matrix(l_on.terms["l"]).tocoo()
        row_of = dict(zip(on.col.tolist(), on.row.tolist(), strict=True))
        r_l = np.array([row_of[int(b)] for b in st])
        y = sp.csr_matrix(l_on.terms["y"]).tocoo()
        big = np.zeros(l_on.m)
        big[y.row] = y.data
        scale = (hi_ratio[mine] / lo_ratio[mine]) ** 2
        add_term(l_on.terms, "y", sp.csr_matrix(
            (big[r_l] * (scale - 1.0), (r_l, st)), shape=(l_on.m, m)))


def _branch_tap_ratings(block: Block, pu: PerUnitNetwork, dev: PerUnitDevices,
                        k_all: int) -> None:
    """Each transformer OLTC's current rating at its chosen position, ``l <= sum_k c_k tap_k``
    (:func:`branch_tap_current_limits`). ``pu`` holds the loosest ``c_k`` as ``i_max^2``;
    where that row (``current_max``, with its slack in phase 1) exists it becomes
    ``l - sum_k (c_k - i_max^2) tap_k <= i_max^2`` (the same, as ``sum_k tap_k = 1``), else
    a row of its own where some position's limit lies below the bound on ``l``."""
    opt, br, limit = branch_tap_current_limits(pu, dev)
    finite = np.isfinite(limit)
    if not finite.any():
        return
    m = pu.n_branch
    rated, _thermal = effective_ratings(pu)
    row_of = {int(b): r for r, b in enumerate(rated)}
    in_row = np.array([int(b) in row_of for b in br]) & finite
    if in_row.any():
        row = block.row("current_max")
        cols, rows = opt[in_row], np.array([row_of[int(b)] for b in br[in_row]])
        coef = -(limit[in_row] - pu.i_max[br[in_row]] ** 2)
        term = sp.csr_matrix((coef, (rows, cols)), shape=(len(rated), k_all))
        row.terms["tap"] = row.terms["tap"] + term if "tap" in row.terms else term
    l_ub = block.groups["l"].ub
    own = finite & ~in_row
    lone = np.unique(br[own & (limit < l_ub[br])]) if own.any() else np.zeros(0, dtype=int)
    if len(lone):
        sel = np.isin(br, lone) & own
        where = np.searchsorted(lone, br[sel])
        block.add_rows("tap_current_max", {
            "l": select(lone, m),
            "tap": sp.csr_matrix((-limit[sel], (where, opt[sel])), shape=(len(lone), k_all))},
            Sense.LE, np.zeros(len(lone)))


def fixed_device_form(block: Block) -> Block:
    """``block`` (with :func:`add_devices`) as a slave with its device binaries fixed states it:
    every quantity that a binary switches off becomes an on/off bound
    (:class:`~feederopt.formulations.blocks.OnOff`), which the slave's backend states without
    ``M`` for the fixed ``cap``, ``tap``, ``on`` (``(1 - z_hat) x = 0``;
    :class:`~feederopt.solvers.cvxpy_backend.CvxpyModel`), as
    :func:`~feederopt.formulations.distflow.fixed_topology_form` does for the open branches:

    * a bank's switched voltage ``vc <= hi cap`` (``vcap_on``, ``M = hi``, the bound of ``v``;
      at ``cap = 1`` implied by ``vc <= v <= hi``) and a transformer OLTC's ``vt <= hi tap``
      (``vtap_on``) leave the rows; the guard weighs ``vc`` by the power it injects,
      ``step x max(|b_c|, |g_c|)``;
    * a committable generator's ``lo on <= pg <= hi on`` (and ``qg``) stays as rows (at
      ``on = 1`` they are its limits) and gains the on/off bound ``M = hi``, ``M^lo = -lo``.

    With the binaries only in their big-M rows next to the copy rows ``z = z_hat``,
    Clarabel's residue let a device that is off inject up to ``4e-10 M`` p.u. (measured on
    ``example_multivoltage`` with every generator committable: its gas turbine at
    ``p_max`` 10 GW on the 1 MVA base, ``M^P = 1e4``, produced 2.2e-5 p.u. off; two 200 Mvar
    banks at step 0 injected 6.5e-5 p.u.; ``M^P = 1e6``: 3.9e-4 p.u.). The cut stays the big-M
    model's subgradient (:meth:`~feederopt.solvers.cvxpy_backend.CvxpyModel.gradient`)."""
    groups = block.groups
    keep = []
    power = _injection_per_unit(block)
    for rows in block.rows:
        group = rows.name[:-len("_on")]
        binary = {"vcap": "cap", "vtap": "tap"}.get(group)
        if rows.name.endswith("_on") and binary is not None and binary in rows.terms:
            a = sp.csr_matrix(rows.terms[binary])
            cols = np.asarray(sp.csr_matrix(rows.terms[group]).indices, int)
            block.on_off.append(OnOff(rows.name, group, cols, binary, a.indices.copy(),
                                      -a.data.copy(), two_sided=False,
                                      weight=power.get(group)))
        else:
            keep.append(rows)
    block.rows = keep
    if "on" in groups:
        for name in ("pg", "qg"):
            hi, lo = block.row(f"{name}_commit_hi"), block.row(f"{name}_commit_lo")
            cols = np.asarray(sp.csr_matrix(hi.terms[name]).indices, int)
            k = groups["on"].size
            block.on_off.append(OnOff(f"{name}_off", name, cols, "on", np.arange(k),
                                      -sp.csr_matrix(hi.terms["on"]).diagonal(),
                                      two_sided=True,
                                      big_m_lo=-sp.csr_matrix(lo.terms["on"]).diagonal()))
    return block


def _injection_per_unit(block: Block) -> dict[str, np.ndarray]:
    """Per entry of ``vcap``: the largest power [p.u.] that one unit of it injects or
    consumes at a bus (its column in ``balance_p`` and ``balance_q``)."""
    out: dict[str, np.ndarray] = {}
    if "vcap" not in block.groups:
        return out
    w = np.zeros(block.groups["vcap"].size)
    for name in ("balance_p", "balance_q"):
        term = block.row(name).terms.get("vcap")
        if term is not None:
            w = np.maximum(w, np.asarray(abs(sp.csr_matrix(term)).max(axis=0).todense()).ravel())
    out["vcap"] = w
    return out


def device_groups(block: Block) -> list[str]:
    """The device binaries that ``block`` has."""
    return [g for g in DEVICE_GROUPS if g in block.groups]

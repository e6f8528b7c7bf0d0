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

  The bank injects ``q = sum_s s b_c vc_{c,s}``, i.e. ``q = b v`` with ``b = s b_c`` (eq. (10)).
* **OLTC** at source ``i`` with ratios ``n_k`` (positions ``1 + k step``): one-hot ``tap_{i,k}``
  and ``v_i = sum_k (n_k v_set_i)^2 tap_{i,k}`` (``v`` squared; the source's HV side is held at
  ``v_set``, the MV bus follows the ratio). Taps are integer positions, modelled exactly.
* **Committable generator** ``g``: a binary ``on_g`` and ``on p_min <= p <= on p_max``,
  ``on q_min <= q <= on q_max`` (eqs. (8), (9)).
* **Flexible prosumer** at bus ``i``: a reduction ``0 <= flex <= share p_load`` of its active
  demand and ``flex q/p`` of its reactive demand (the same power factor).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, Sense, diag, incidence, select
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


def cap_max_per_bus(pu: PerUnitNetwork, dev: PerUnitDevices) -> np.ndarray:
    """The largest injection of the controllable banks at each bus [p.u. at 1 p.u.]."""
    out = np.zeros(pu.n_bus)
    np.add.at(out, dev.cap_bus, dev.cap_q * dev.cap_max_steps)
    return out


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
        j = len(on)
        block.add_group(Group.new("vcap", j, 0.0, hi[bus]))
        eye = sp.identity(j, format="csr")
        vb = select(bus, n)
        block.add_rows("vcap_le_v", {"vcap": eye, "v": -vb}, Sense.LE, np.zeros(j))
        block.add_rows("vcap_ge_v", {"vcap": -eye, "v": vb, "cap": select(on, k, hi[bus])},
                       Sense.LE, hi[bus])
        block.add_rows("vcap_on", {"vcap": eye, "cap": select(on, k, -hi[bus])}, Sense.LE,
                       np.zeros(j))
        # The banks leave the fixed shunts (pu holds them at their largest step) ...
        add_term(bal_q.terms, "v", diag(-cap_max_per_bus(pu, dev), n))
        # ... and inject step x b_c x vc instead.
        add_term(bal_q.terms, "vcap", incidence(n, bus, step[on] * dev.cap_q[bank[on]]))
    if dev.n_tap:
        which, ratio = tap_options(dev)
        k = _one_hot(block, "tap", which, dev.n_tap)
        bus = dev.tap_bus
        vset = pu.v_set[bus[which]]
        block.add_rows("tap_v", {"v": select(bus, n), "tap": -sp.csr_matrix(
            ((ratio * vset) ** 2, (which, np.arange(k))), shape=(dev.n_tap, k))}, Sense.EQ,
            np.zeros(dev.n_tap))
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
    return block


def device_groups(block: Block) -> list[str]:
    """The device binaries that ``block`` has."""
    return [g for g in DEVICE_GROUPS if g in block.groups]

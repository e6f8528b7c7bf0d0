"""A three-phase network as an OpenDSS script, to solve the model's own circuit with OpenDSS.

:func:`model_script` writes what :class:`~feederopt.network.threephase.ThreePhaseNetwork` holds,
not the file it was read from: the reduced secondaries (:mod:`feederopt.io.opendss_secondary`)
as two-winding 240 V units and single-phase lines, series reactors as lines, transformers'
no-load branches and shunt reactors as shunt ``Reactor`` elements, every transformer at the tap
the model holds (no ``RegControl`` or ``CapControl``: the operating point the model solves).
OpenDSS's exact power flow of that script against its power flow of the original file measures
what the reading leaves out, apart from the error of the linearised model (LinDist3Flow).

Elements, in OpenDSS's terms (OpenDSS manual, "Circuit element reference"):

* the first source is the circuit's ``Vsource`` (``basekv``, ``pu``, ``angle``, ``R1 X1 R0
  X0`` in Ohm); more sources are further ``Vsource`` elements;
* a line: ``rmatrix``/``xmatrix`` of the whole line with ``length=1 units=none``, and its
  shunt susceptance as ``cmatrix`` [nF] at ``frequency`` (the model keeps ``B``); a switch
  without impedance rows ``switch=yes`` (OpenDSS's 1 mOhm), one with them a line of that
  impedance (``switch=yes`` would override its matrices with OpenDSS's switch impedance,
  r1 = x1 = 1 Ohm at length 1), an open one ``enabled=no``; a series capacitor (kind
  ``capacitor``) a line of its impedance, a negative reactance;
* a transformer: two windings with ``%r`` split equally, ``xhl``, the taps;
* a load part: one single-phase load, wye on its phase node or delta across its two, with the
  exponents as the load model (``model=1`` for constant power, ``2`` constant impedance, ``5``
  constant current, else ``model=4`` with ``CVRwatts``/``CVRvars`` = the exponents);
* a capacitor: ``Capacitor`` with its ``kvar`` and ``kV``; a shunt reactor, a no-load branch
  or a capacitor with losses (``p_mw > 0``: one read with a series ``R``/``XL``): a
  ``Reactor`` with ``Z = V^2 / conj(S)`` per branch (``X < 0`` for a capacitor), ``S`` its
  consumption at rated voltage shared by its branches: a grounded wye, or for a delta row a
  delta bank (one branch, ``phases=1 conn=delta``, on two phases);
* a generator, PV system or storage: a ``Generator`` at its base-case output (``model=1``);
  one between two phases (``conn`` delta) a 1-phase ``Generator`` on both phase nodes
  (``bus1=x.2.3``) at the line-line ``kv``; a 3-phase delta one (``phases`` ``"abc"``)
  ``phases=3 conn=delta``. A generator the file has at a ``kV`` that does not match its bus
  (``meta["der_impedance_mode"]``: OpenDSS runs it as an impedance, IEEE 13's
  ``Generator.675``) is written at its solved output as constant power, with a ``!`` comment
  line saying so: the file's unit shares its output by its phases' unbalanced voltages (IEEE
  13mod: 435, 492, 426 kW), the script equally, so its losses differ (59.3 against the file's
  62.4 kW; 62.3 with the file's per-phase output).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl

from feederopt.network.threephase import PHASES, ThreePhaseNetwork


def _nodes(phases: str) -> str:
    return ".".join(str(PHASES.index(c) + 1) for c in phases)


def _matrix(values: np.ndarray) -> str:
    return "[" + " | ".join(" ".join(f"{v:.12g}" for v in row) for row in values) + "]"


def _name(text: str) -> str:
    """An element name OpenDSS accepts (no dots or spaces)."""
    return text.replace(".", "_").replace(" ", "_")


def _load_model(p_exp: float, q_exp: float) -> str:
    if p_exp == 0 and q_exp == 0:
        return "model=1"
    if p_exp == 2 and q_exp == 2:
        return "model=2"
    if p_exp == 1 and q_exp == 1:
        return "model=5"
    return f"model=4 CVRwatts={p_exp:g} CVRvars={q_exp:g}"


def model_script(net: ThreePhaseNetwork, *, open_switches: Iterable[str] | None = None,
                 frequency: float = 60.0, load_options: str = "") -> str:
    """The script of ``net`` (module docstring), solved by its last command. ``open_switches``
    overrides the normally-open switches; ``load_options`` is appended to every load (e.g.
    ``"vminpu=0.88"``, where the original file sets it, since the model has no such limit)."""
    out = ["Clear", f"Set DefaultBaseFrequency={frequency:g}"]
    base = dict(zip(net.buses["id"].to_list(), net.buses["vn_kv"].to_list(), strict=True))
    for k, s in enumerate(net.sources.iter_rows(named=True)):
        head = "New Circuit.model" if k == 0 else f"New Vsource.{_name(s['id'])}"
        out.append(f"{head} bus1={s['bus']} basekv={s['vn_kv']:.12g} pu={s['v_set_pu']:.12g} "
                   f"angle={s['angle_deg']:.12g} R1={s['r1_ohm']:.12g} X1={s['x1_ohm']:.12g} "
                   f"R0={s['r0_ohm']:.12g} X0={s['x0_ohm']:.12g}")
    opened = set(net.lines.filter(pl.col("normally_open"))["id"].to_list()
                 if open_switches is None else open_switches)
    z_of: dict[str, list[dict[str, Any]]] = {}
    for r in net.impedances.iter_rows(named=True):
        z_of.setdefault(r["line"], []).append(r)
    omega = 2 * math.pi * frequency
    for ln in net.lines.iter_rows(named=True):
        ph = ln["phases"]
        n = len(ph)
        ends = f"bus1={ln['from_bus']}.{_nodes(ph)} bus2={ln['to_bus']}.{_nodes(ph)} phases={n}"
        if ln["kind"] == "switch" and ln["id"] not in z_of:
            state = "no" if ln["id"] in opened or not ln["in_service"] else "yes"
            out.append(f"New Line.{_name(ln['id'])} {ends} switch=yes enabled={state}")
            continue
        z = np.zeros((n, n), complex)
        b = np.zeros((n, n))
        for r in z_of.get(ln["id"], []):
            i, j = ph.index(r["row"]), ph.index(r["col"])
            z[i, j] = complex(r["r_ohm"], r["x_ohm"])
            b[i, j] = r["b_us"] * 1e-6
        c_nf = b / omega * 1e9
        enabled = ln["in_service"] and not (ln["switchable"] and ln["id"] in opened)
        # no switch=yes here: OpenDSS then gives the line its switch impedance (1 Ohm per
        # unit length, r1 = x1 = 1) whatever rmatrix/xmatrix say, before or after it
        out.append(f"New Line.{_name(ln['id'])} {ends} length=1 units=none "
                   f"rmatrix={_matrix(z.real)} xmatrix={_matrix(z.imag)} "
                   f"cmatrix={_matrix(c_nf)} enabled={'yes' if enabled else 'no'}")
    for t in net.transformers.iter_rows(named=True):
        out.append(
            f"New Transformer.{_name(t['id'])} phases={t['n_phases']} windings=2 "
            f"buses=[{t['from_bus']}.{t['from_nodes']} {t['to_bus']}.{t['to_nodes']}] "
            f"conns=[{t['conn_from']} {t['conn_to']}] kvs=[{t['kv_from']:.12g} "
            f"{t['kv_to']:.12g}] kvas=[{t['s_kva']:.12g} {t['s_kva']:.12g}] "
            + "".join(f"{prop}={t[key]:.12g} " for key, prop in (
                ("s_norm_kva", "normhkva"), ("s_emerg_kva", "emerghkva"))
                if t.get(key) is not None)
            + f"%rs=[{t['r_pct'] / 2:.12g} {t['r_pct'] / 2:.12g}] xhl={t['x_pct']:.12g} "
            f"taps=[{t['tap_from']:.12g} {t['tap_to']:.12g}] "
            f"enabled={'yes' if t['in_service'] else 'no'}")
    for k, ld in enumerate(net.loads.iter_rows(named=True)):
        ph = ld["phase"]
        conn = "wye" if ld["conn"] == "wye" else "delta"
        out.append(
            f"New Load.{_name(ld['id'])}_{k} phases=1 bus1={ld['bus']}.{_nodes(ph)} "
            f"conn={conn} kv={ld['vn_kv']:.12g} kw={ld['p_mw'] * 1000:.12g} "
            f"kvar={ld['q_mvar'] * 1000:.12g} {_load_model(ld['p_exponent'], ld['q_exponent'])}"
            f" enabled={'yes' if ld['in_service'] else 'no'} {load_options}".rstrip())
    for sh in net.shunts.iter_rows(named=True):
        ph = sh["phases"]
        n = len(ph)
        on = "yes" if sh["in_service"] else "no"
        if sh["kind"] == "capacitor" and sh["p_mw"] == 0:
            # a delta row on two phases is one branch between them: OpenDSS's 1-phase delta
            # (its phases=2 delta would put a second branch from phase 2 to ground)
            n_dss = 1 if sh["conn"] == "delta" and n == 2 else n
            out.append(f"New Capacitor.{_name(sh['id'])} bus1={sh['bus']}.{_nodes(ph)} "
                       f"phases={n_dss} conn={sh['conn']} kvar={sh['q_mvar'] * 1000:.12g} "
                       f"kv={sh['vn_kv']:.12g} enabled={on}")
            continue
        delta = sh["conn"] == "delta" and n > 1
        n_branch = 1 if delta and n == 2 else n  # a delta row on two phases: one branch
        v_ph = sh["vn_kv"] / (math.sqrt(3) if n > 1 and not delta else 1.0) * 1000
        s_ph = complex(sh["p_mw"], -sh["q_mvar"]) * 1e6 / n_branch  # consumed, per branch
        if abs(s_ph) == 0:
            continue
        z = v_ph**2 / s_ph.conjugate()
        out.append(f"New Reactor.{_name(sh['id'])} bus1={sh['bus']}.{_nodes(ph)} "
                   f"phases={n_branch} conn={'delta' if delta else 'wye'} "
                   f"R={z.real:.12g} X={z.imag:.12g} enabled={on}")
    impedance_mode = set(net.meta.get("der_impedance_mode", []))
    for g in net.generators.iter_rows(named=True):
        ph = g["phases"]
        n = len(ph)
        kv = base.get(g["bus"], 0.0) / (1.0 if n > 1 else math.sqrt(3))
        delta = g.get("conn") == "delta"
        if delta and n == 2:  # one unit between two phases, at the line-line kV
            n = 1
        if g["id"] in impedance_mode:
            out.append(f"! {g['id']}: its kV does not match its bus, so OpenDSS runs it as an "
                       "impedance in the file (its output per phase follows the phase's "
                       "voltage); written here as constant power at the total OpenDSS solved "
                       "the file with, shared equally by its phases")
        out.append(f"New Generator.{_name(g['id'])} bus1={g['bus']}.{_nodes(ph)} phases={n} "
                   f"kv={kv:.12g} kw={g['p_mw'] * 1000:.12g} kvar={g['q_mvar'] * 1000:.12g} "
                   + ("conn=delta " if delta else "")
                   + f"model=1 enabled={'yes' if g['in_service'] else 'no'}")
    bases = sorted({round(v, 6) for v in base.values() if v > 0})
    out += [f"Set VoltageBases=[{' '.join(f'{v:g}' for v in bases)}]", "CalcVoltageBases",
            "Set ControlMode=OFF", "Set MaxIterations=100", "Solve"]
    return "\n".join(out) + "\n"

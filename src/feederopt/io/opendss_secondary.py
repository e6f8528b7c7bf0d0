"""Single-phase centre-tapped (split-phase) service transformers and their 120/240 V secondaries,
read as 240 V single-phase equivalents on the primary's phase.

OpenDSS models the standard North-American service connection (IEEE 8500-node feeder,
``LoadXfmrCodes.dss``) as a single-phase three-winding transformer: winding 1 on one primary
phase (7.2 kV), windings 2 and 3 the two 120 V halves of the secondary, ``bus2=X.1.0`` and
``bus3=X.0.2``, so that the secondary's two hot conductors (nodes 1 and 2) are 240 V apart and
the centre tap (node 0) is grounded. The triplex service lines are two-conductor lines on nodes
1 and 2 with the neutral Kron-reduced out, and the loads two 120 V halves (``phases=2
bus1=SX.1.2 kv=0.208``). The three-phase model has phases a, b, c only; the reduction below is
the one EPRI's own ckt5 and ckt7 feeders use for their secondaries: every secondary bus becomes
one 240 V node on the primary winding's phase (its first node for a phase-to-phase winding).

* **the transformer** becomes a two-winding single-phase unit from its primary terminal to the
  240 V winding (kV = kV2 + kV3), with the series impedance that a balanced 240 V load sees
  (Kersting, "Center-tapped transformer and 120/240-V secondary models", IEEE Trans. Ind.
  Appl. 45(2), 2009: with both halves loaded alike, the unit is the two-winding transformer
  with the full-winding impedance). It is computed from OpenDSS's own primitive admittance
  matrix of the unit (:func:`center_tap_equivalent`): with the secondary's hot nodes ``p, q``
  and their admittance block ``Y_SS`` (primary and ground eliminated), a current ``I`` out of
  ``p`` and into ``q`` gives ``V_p - V_q = n V_pri - Z I`` with ``Z = e^T Y_SS^-1 e``,
  ``e = (1, -1)``, and ``n = -e^T Y_SS^-1 Y_SP``. For OpenDSS's star equivalent of a
  three-winding unit with equal kVA ratings this is ``%R = %R1 + (%R2 + %R3) / 4`` and
  ``%X = (X_HL + X_HT) / 2 - X_LT / 4`` (IEEE 8500's units: 1.2 % + j1.7 %).
* **a two-conductor secondary line** (nodes ``p, q`` at both ends) carries ``+I`` and ``-I``
  under a 240 V load, so its 240 V drop is ``(Z_pp + Z_qq - Z_pq - Z_qp) I``: that is the
  equivalent single-phase impedance, and ``(B_pp + B_qq - B_pq - B_qp) / 4`` its charging. A
  one-conductor (120 V) line on ``p`` or ``q`` has ``4 Z`` and ``B / 4`` (referred to 240 V).
* **a load** is the same power on the 240 V node; a 120 V part (a wye phase to the grounded
  centre) is rated at twice its kV, a part across ``p`` and ``q`` at its own kV; the load model
  (exponents) is kept. Generators, PV systems and storage on the secondary keep their output,
  on the 240 V node.

Exact for balanced secondaries (IEEE 8500's loads are two equal halves); a secondary whose
halves are loaded unequally carries a neutral current whose losses the equivalent leaves out.
Only a grounded centre tap (node 0) is read; a secondary that reaches another transformer,
the source or a three-phase line, a capacitor or reactor on it, and a line on other nodes are
typed problems naming the element.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from feederopt.errors import Problem, ProblemKind
from feederopt.network.threephase import PHASES

#: Largest relative difference between OpenDSS's voltage ratio of a centre-tapped unit and
#: (kV2 + kV3) / kV1 (taps applied) before its windings are taken as wired against each other.
RATIO_TOL = 0.05


@dataclass
class CenterTap:
    """A single-phase three-winding transformer with windings 2 and 3 in series on one bus."""

    name: str
    pri_bus: str
    pri_nodes: list[int]  # winding 1's conductors, e.g. [1, 0]
    sec_bus: str
    hot: tuple[int, int]  # the secondary's hot nodes: winding 2's and winding 3's
    phase: str  # the primary phase the secondary is put on
    kv_pri: float
    kv_sec: float  # kV2 + kV3 (240 V)
    kva: float
    tap_pri: float
    tap_sec: float  # (tap2 kV2 + tap3 kV3) / (kV2 + kV3)
    pri_delta: bool
    enabled: bool
    z_ohm: complex = 0j  # the 240 V equivalent series impedance [Ohm, secondary side]
    tap_min: float = 0.9
    tap_max: float = 1.1
    tap_steps: int = 32

    def row(self) -> dict[str, Any]:
        """The two-winding equivalent as a ``transformers`` row."""
        zb = self.kv_sec**2 / (self.kva / 1000.0)
        node = PHASES.index(self.phase) + 1
        return {
            "id": self.name, "from_bus": self.pri_bus, "to_bus": self.sec_bus,
            "from_nodes": ".".join(map(str, _trim(self.pri_nodes))), "to_nodes": str(node),
            "n_phases": 1, "conn_from": "delta" if self.pri_delta else "wye", "conn_to": "wye",
            "kv_from": self.kv_pri, "kv_to": self.kv_sec, "s_kva": self.kva,
            "r_pct": self.z_ohm.real / zb * 100, "x_pct": self.z_ohm.imag / zb * 100,
            "tap_from": self.tap_pri, "tap_to": self.tap_sec, "tap_min": self.tap_min,
            "tap_max": self.tap_max, "tap_steps": self.tap_steps, "is_regulator": False,
            "in_service": self.enabled,
        }


@dataclass
class Secondaries:
    """The centre-tapped units and the secondary buses behind them."""

    units: dict[str, CenterTap] = field(default_factory=dict)
    #: secondary bus -> the unit that feeds it
    bus_unit: dict[str, str] = field(default_factory=dict)
    #: lines on the secondaries
    lines: set[str] = field(default_factory=set)
    #: single-phase three-winding units refused with a problem (not to be refused twice)
    refused: set[str] = field(default_factory=set)

    def unit_of(self, bus: str) -> CenterTap | None:
        name = self.bus_unit.get(bus)
        return self.units[name] if name is not None else None

    def meta(self) -> dict[str, Any]:
        """What the OpenDSS check needs to read the secondaries' voltages and loads: per bus,
        its model phase and its two hot nodes (the half-winding base is the bus base / 2)."""
        return {bus: [self.units[u].phase, *self.units[u].hot]
                for bus, u in sorted(self.bus_unit.items())}


def _trim(nodes: list[int]) -> list[int]:
    out = list(nodes)
    while out and out[-1] == 0:
        out.pop()
    return out


def _node_admittance(dss: Any) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The active element's primitive admittance summed onto its (terminal, node) pairs, with
    ground (node 0) removed; the pairs in order."""
    raw = np.asarray(dss.CktElement.YPrim(), float)
    n = round(math.sqrt(raw.size // 2))
    y = (raw[0::2] + 1j * raw[1::2]).reshape(n, n)
    nc = int(dss.CktElement.NumConductors())
    order = [int(x) for x in dss.CktElement.NodeOrder()]
    keys = [(k // nc, node) for k, node in enumerate(order)]
    # windings 2 and 3 are on one bus: their nodes are the same node
    keys = [(min(t, 1), node) for t, node in keys]
    uniq = [k for k in dict.fromkeys(keys) if k[1] != 0]
    m = np.zeros((n, len(uniq)))
    for i, k in enumerate(keys):
        if k[1] != 0:
            m[i, uniq.index(k)] = 1.0
    return m.T @ y @ m, uniq


def center_tap_equivalent(dss: Any, hot: tuple[int, int]) -> tuple[complex, complex]:
    """``(Z, n)`` of the active centre-tapped unit from OpenDSS's ``YPrim`` (module docstring):
    ``V_p - V_q = n V_w1 - Z I`` for a current ``I`` out of hot node ``p`` and into ``q``,
    ``V_w1`` winding 1's voltage. ``Z`` in Ohm on the secondary side."""
    ymat, keys = _node_admittance(dss)
    sec = [keys.index((1, hot[0])), keys.index((1, hot[1]))]
    pri = [i for i, k in enumerate(keys) if k[0] == 0]
    e = np.array([1.0, -1.0])
    y_ss = ymat[np.ix_(sec, sec)]
    y_sp = ymat[np.ix_(sec, pri)]
    z = complex(e @ np.linalg.solve(y_ss, e))
    gain = -(e @ np.linalg.solve(y_ss, y_sp))  # per primary node
    # winding 1's voltage is V_x (to ground) or V_x - V_y: its gain is the first node's
    return z, complex(gain[0])


def find_center_taps(dss: Any, terminals: Any, problems: list[Problem],
                     refused: set[str]) -> dict[str, CenterTap]:
    """The single-phase three-winding units whose windings 2 and 3 are the two halves of one
    secondary (``X.p.0`` and ``X.0.q``). A unit with windings 2 and 3 on one bus that is not
    such a secondary is a problem (its name added to ``refused``); other three-winding units
    are left to the caller."""
    out: dict[str, CenterTap] = {}
    for tr in dss.Transformers.AllNames() or []:
        if tr == "NONE":
            continue
        dss.Transformers.Name(tr)
        if int(dss.Transformers.NumWindings()) != 3 or int(dss.CktElement.NumPhases()) != 1:
            continue
        terms = terminals()
        (b1, n1), (b2, n2), (b3, n3) = terms
        if b2 != b3 or len(n2) < 2 or len(n3) < 2:
            continue
        kv, kva, delta, tap = [], [], [], []
        for w in (1, 2, 3):
            dss.Transformers.Wdg(w)
            kv.append(float(dss.Transformers.kV()))
            kva.append(float(dss.Transformers.kVA()))
            delta.append(bool(dss.Transformers.IsDelta()))
            tap.append(float(dss.Transformers.Tap()))
        element = f"Transformer.{tr}"
        p, c2 = n2[0], n2[1]
        c3, q = n3[0], n3[1]
        if delta[1] or delta[2] or c2 != c3 or p == q or 0 in (p, q):
            problems.append(Problem(
                ProblemKind.UNSUPPORTED_ELEMENT, "transformers",
                f"{element}: a single-phase three-winding unit whose windings 2 and 3 (nodes "
                f"{n2[:2]} and {n3[:2]} of bus {b2}) are not the two halves of a centre-tapped "
                "secondary", (tr,), "buses",
                "write a centre-tapped unit as OpenDSS's IEEE 8500 does: wye windings 2 and 3 "
                "on X.1.0 and X.0.2"))
            refused.add(tr)
            continue
        if c2 != 0:
            problems.append(Problem(
                ProblemKind.UNSUPPORTED_ELEMENT, "transformers",
                f"{element}: its centre tap is on node {c2} of bus {b2}; only a grounded "
                "centre tap (node 0) is read", (tr,), "buses",
                "ground the centre tap (X.1.0 and X.0.2), as OpenDSS's IEEE 8500 does"))
            refused.add(tr)
            continue
        live = [x for x in n1 if 1 <= x <= 3]
        if not live:
            problems.append(Problem(
                ProblemKind.UNSUPPORTED_ELEMENT, "transformers",
                f"{element}: winding 1 is on no phase node of bus {b1} ({n1})", (tr,),
                "buses", "connect winding 1 to a phase, e.g. bus1=L.1"))
            refused.add(tr)
            continue
        enabled = bool(dss.CktElement.Enabled())
        unit = CenterTap(
            name=tr, pri_bus=b1, pri_nodes=list(n1), sec_bus=b2, hot=(p, q),
            phase=PHASES[live[0] - 1], kv_pri=kv[0], kv_sec=kv[1] + kv[2], kva=kva[0],
            tap_pri=tap[0], tap_sec=(tap[1] * kv[1] + tap[2] * kv[2]) / (kv[1] + kv[2]),
            pri_delta=delta[0], enabled=enabled,
            tap_min=float(dss.Transformers.MinTap()), tap_max=float(dss.Transformers.MaxTap()),
            tap_steps=int(dss.Transformers.NumTaps()),
        )
        if enabled:
            z, gain = center_tap_equivalent(dss, (p, q))
            ideal = unit.kv_sec * unit.tap_sec / (unit.kv_pri * unit.tap_pri)
            if not abs(abs(gain) / ideal - 1) <= RATIO_TOL:
                problems.append(Problem(
                    ProblemKind.UNSUPPORTED_ELEMENT, "transformers",
                    f"{element}: OpenDSS gives {abs(gain) * unit.kv_pri * 1000:.1f} V across "
                    f"nodes {p} and {q} of bus {b2} for {unit.kv_pri:g} kV on winding 1, not "
                    f"{unit.kv_sec * 1000:g} V: windings 2 and 3 oppose each other", (tr,),
                    "buses", "connect winding 2 as X.1.0 and winding 3 as X.0.2"))
                refused.add(tr)
                continue
            unit.z_ohm = z
        else:
            unit.z_ohm = _nameplate_z(tr, kv, kva, dss)
        out[tr] = unit
    return out


def _nameplate_z(tr: str, kv: list[float], kva: list[float], dss: Any) -> complex:
    """The 240 V equivalent impedance of a disabled unit (OpenDSS gives no ``YPrim``), from
    its star equivalent: ``%R1 + (%R2 + %R3) / 4`` and ``(X_HL + X_HT) / 2 - X_LT / 4`` on
    winding 1's kVA (each winding's %R scaled from its own kVA)."""
    r = []
    for w in (1, 2, 3):
        dss.Transformers.Wdg(w)
        r.append(float(dss.Transformers.R()) * kva[0] / kva[w - 1])
    x = (float(dss.Transformers.Xhl()) + float(dss.Transformers.Xht())) / 2 - float(
        dss.Transformers.Xlt()) / 4
    pct = complex(r[0] + (r[1] + r[2]) / 4, x)
    return pct / 100 * (kv[1] + kv[2]) ** 2 / (kva[0] / 1000)


def secondary_regions(units: dict[str, CenterTap], line_ends: dict[str, tuple[str, str]],
                      fixed_buses: dict[str, str], problems: list[Problem],
                      refused: set[str]) -> Secondaries:
    """The buses and lines behind each unit: everything reached from its secondary bus
    through lines. ``line_ends`` gives each line's two buses; ``fixed_buses`` the buses that
    cannot be on a secondary (other transformers' terminals, the source), with the element
    that holds them."""
    adj: dict[str, list[tuple[str, str]]] = {}
    for line, (b1, b2) in line_ends.items():
        adj.setdefault(b1, []).append((line, b2))
        adj.setdefault(b2, []).append((line, b1))
    sec = Secondaries(refused=refused)
    fed_by: dict[str, list[str]] = {}
    for name, unit in units.items():
        fed_by.setdefault(unit.sec_bus, []).append(name)
    for name, unit in units.items():
        seen = {unit.sec_bus}
        lines: set[str] = set()
        stack = [unit.sec_bus]
        clash: str | None = None
        while stack:
            bus = stack.pop()
            if bus in fixed_buses:
                clash = f"bus {bus} ({fixed_buses[bus]})"
                break
            others = [u for u in fed_by.get(bus, []) if u != name]
            if others:
                clash = f"bus {bus}, fed by Transformer.{others[0]} as well"
                break
            for line, other in adj.get(bus, []):
                lines.add(line)
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        if clash is not None:
            problems.append(Problem(
                ProblemKind.UNSUPPORTED_ELEMENT, "transformers",
                f"the secondary of Transformer.{name} (bus {unit.sec_bus}) reaches {clash} "
                "through lines: a centre-tapped secondary is read only as a network of its "
                "own", (name,), "buses",
                "give each centre-tapped unit its own secondary, not tied to other buses"))
            refused.add(name)
            continue
        sec.units[name] = unit
        for bus in seen:
            sec.bus_unit[bus] = name
        sec.lines |= lines
    return sec


def line_equivalent(z: np.ndarray, b: np.ndarray, nodes1: list[int], nodes2: list[int],
                    hot: tuple[int, int]) -> tuple[complex, float] | None:
    """The 240 V equivalent ``(Z [Ohm], B [S])`` of a secondary line with whole-line matrices
    ``z``, ``b`` on the conductors' nodes ``nodes1``/``nodes2``, or None if its conductors are
    not the hot nodes (module docstring)."""
    n = len(nodes1)
    if nodes1 != nodes2 or not set(nodes1) <= set(hot) or len(set(nodes1)) != n:
        return None
    if n == 2:
        return (complex(z[0, 0] + z[1, 1] - z[0, 1] - z[1, 0]),
                float(b[0, 0] + b[1, 1] - b[0, 1] - b[1, 0]) / 4)
    if n == 1:
        return complex(4 * z[0, 0]), float(b[0, 0]) / 4
    return None


def load_parts(nodes: list[int], nph: int, delta: bool, kv: float,
               hot: tuple[int, int]) -> list[float] | None:
    """A secondary load's parts as ``[rated kV across the 240 V equivalent]``, one per part
    (each takes an equal share of the load), or None if it is not on the hot nodes.

    As OpenDSS connects a load (``feederopt.io.opendss._load_parts``): a wye phase conductor to
    the grounded centre is a 120 V part (kV per phase ``kv / sqrt 3`` for 2 phases, ``kv`` for
    1), rated at twice that on 240 V; a 1-phase load whose second conductor is the other hot
    node (wye neutral or delta) is across both, at its own kV; a 1-phase delta load on one node
    is phase to ground (OpenDSS's connection), a 120 V part."""
    phase_nodes = nodes[:nph]
    other = nodes[nph] if len(nodes) > nph else 0
    if not set(phase_nodes) <= set(hot) or len(set(phase_nodes)) != nph:
        return None
    if other in hot and nph == 1 and other != phase_nodes[0]:
        return [kv]
    if other != 0:
        return None
    if delta and nph != 1:
        return None
    v = kv / math.sqrt(3) if nph > 1 else kv
    return [2 * v] * nph

"""OpenDSS loads rated far from the voltage of their connection (``kV=12.47`` on a 7.2 kV node).

OpenDSS draws a load by its model only between ``Vminpu`` and ``Vmaxpu`` (p.u. of the load's
own ``kV``). For a constant-power load (``model=1``) it switches to an impedance outside that
band (OpenDSS's ``Load.pas``, ``DoConstantPQLoad``; checked against OpenDSSDirect.py), with
``v = |V| / kV`` and ``S = kW + j kvar``:

* ``v > Vmaxpu``: a constant impedance drawing ``S`` at ``Vmaxpu``: ``S (v / Vmaxpu)^2``;
* ``Vlowpu < v < Vminpu``: the current magnitude linear in ``v`` between ``|S| / Vminpu`` at
  ``Vminpu`` and ``|S| Vlowpu`` at ``Vlowpu`` (``Vlowpu`` 0.5 by default), so
  ``S v (Vlowpu + (1/Vminpu - Vlowpu)(v - Vlowpu)/(Vminpu - Vlowpu))``;
* ``v <= Vlowpu``: the nominal constant impedance, ``S v^2``.

When the load's voltage ratio ``v0 = V_base / kV`` at 1 p.u. of its bus keeps it outside
the band over the whole usual band of the bus (0.9-1.1 p.u., :data:`BUS_BAND`), the reader
gives the model that law, fitted at ``v0``: the load re-rated at its bus's voltage
(``vn_kv`` times ``v0``), drawing ``S P(v0)`` there with exponent
``n = v0 P'(v0) / P(v0)`` (``p = p0 (|V|/V0)^n``; 2 exactly outside the middle piece, about
2.2 in it). User test ut42_dss3: ``Load.la kV=12.47`` on a 7.2 kV node, 1500 kW nameplate,
drew 481.8 kW in OpenDSS while the model held 1.5 MW of constant power, with a note claiming
the model followed OpenDSS. A constant-impedance load (``model=2``) has no band, so the
model's exponent 2 at its kV is already OpenDSS's law; a ZIP load below its cutoff draws
nothing (zeroed). Any other model or a ratio inside the band is marked in a note as not
followed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The band of a bus's voltage [p.u. of its base] over which a load's ratio must stay outside
#: its Vminpu-Vmaxpu band for the reader to take OpenDSS's impedance law as certain.
BUS_BAND = (0.9, 1.1)
#: A load's kV more than this far (relative) from its connection's voltage is noted.
KV_MISMATCH = 0.1


@dataclass
class RatedKv:
    """A load's kV rating and the rows of the model that stand for it."""

    name: str
    bus: str
    kv: float
    kw: float
    kvar: float
    factor: float  # sqrt(3) when the kV is line to line across the load, else 1
    model: int
    vmin: float
    vmax: float
    vlow: float
    zip_cutoff: float
    enabled: bool
    rows: list[int] = field(default_factory=list)


def constant_power_law(v: float, vmin: float, vmax: float, vlow: float) -> tuple[float, float]:
    """``(P(v)/S, n)``: OpenDSS's draw of a constant-power load at ``v`` p.u. of its kV as a
    fraction of its nameplate (module docstring) and the exponent ``n = v P'(v)/P(v)``."""
    if v > vmax:
        return (v / vmax) ** 2, 2.0
    if v >= vmin:
        return 1.0, 0.0
    if v <= vlow or vlow >= vmin:
        return v * v, 2.0
    slope = (1.0 / vmin - vlow) / (vmin - vlow)
    current = vlow + slope * (v - vlow)
    return v * current, 1.0 + v * slope / current


def rated_kv_loads(loads: list[RatedKv], base_ln: dict[str, float],
                   rows: list[dict[str, Any]], warnings: list[str]) -> None:
    """Compare each enabled load's kV with its bus's (repaired) voltage base ``base_ln``
    [kV line to neutral]; apply OpenDSS's law (module docstring) to ``rows`` where it is
    certain, zero ZIP loads below their cutoff, and note the rest."""
    followed: list[tuple[RatedKv, float, float, float]] = []  # load, v0, P(v0)/S, n
    exact: list[tuple[RatedKv, float]] = []
    not_followed: list[tuple[RatedKv, float]] = []
    zip_off: list[tuple[RatedKv, float]] = []
    for ld in loads:
        base = base_ln.get(ld.bus, 0.0)
        if not (ld.enabled and base > 0 and ld.kv > 0):
            continue
        v0 = base * ld.factor / ld.kv
        if abs(1.0 / v0 - 1.0) <= KV_MISMATCH:
            continue
        if ld.model == 8 and v0 * BUS_BAND[1] < ld.zip_cutoff:
            # user test ut_3ph2 D4: OpenDSS draws nothing from a ZIP load below its cutoff
            zip_off.append((ld, v0))
            for i in ld.rows:
                rows[i]["p_mw"] = rows[i]["q_mvar"] = 0.0
        elif ld.model == 2:
            exact.append((ld, v0))
        elif ld.model == 1 and (v0 * BUS_BAND[1] < ld.vmin or v0 * BUS_BAND[0] > ld.vmax):
            share, n = constant_power_law(v0, ld.vmin, ld.vmax, ld.vlow)
            followed.append((ld, v0, share, n))
            for i in ld.rows:
                rows[i]["p_mw"] *= share
                rows[i]["q_mvar"] *= share
                rows[i]["vn_kv"] *= v0
                rows[i]["p_exponent"] = rows[i]["q_exponent"] = n
        else:
            not_followed.append((ld, v0))
    if not (followed or exact or not_followed or zip_off):
        return

    def named(items: list[Any]) -> str:
        return f"{', '.join(x[0].name for x in items[:6])}{' ...' if len(items) > 6 else ''}"

    def first(ld: RatedKv, v0: float) -> str:
        return (f"Load.{ld.name}: kV={ld.kv:g} across {v0 * ld.kv:.4g} kV, V/kV {v0:.2f} at "
                "1 p.u.")

    # user test ut_3ph #12: IEEE 13's total load read 3876 kW, OpenDSS drew 3589
    if followed:
        ld, v0, share, n = followed[0]
        warnings.append(
            f"{len(followed)} constant-power load(s) have a rated kV far from the voltage of "
            f"their connection, outside their Vminpu-Vmaxpu band at any bus voltage of 0.9-1.1 "
            f"p.u. ({named(followed)}; {first(ld, v0)}): OpenDSS draws them as an impedance "
            "there, and so does the model, each re-rated at its bus's voltage by OpenDSS's "
            f"law (Load.{ld.name}: {share * ld.kw:.4g} of {ld.kw:g} kW at 1 p.u., exponent "
            f"{n:.3g}; docs/threephase.md)")
    if exact:
        ld, v0 = exact[0]
        warnings.append(
            f"{len(exact)} constant-impedance load(s) have a rated kV far from the voltage of "
            f"their connection ({named(exact)}; {first(ld, v0)}): OpenDSS draws "
            f"kW x (V/kV)^2 ({v0 * v0 * ld.kw:.4g} of {ld.kw:g} kW at 1 p.u.), and so does "
            "the model")
    if not_followed:
        ld, v0 = not_followed[0]
        warnings.append(
            f"{len(not_followed)} load(s) have a rated kV far from the voltage of their "
            f"connection ({named(not_followed)}; {first(ld, v0)}, model {ld.model}): OpenDSS "
            f"draws them as an impedance below their Vminpu ({ld.vmin:g}) or above their "
            f"Vmaxpu ({ld.vmax:g}) p.u. of their kV, which the model does not follow (it "
            "holds each by its model at its kV): check the loads' kV against the bus voltage")
    if zip_off:
        ld, v0 = zip_off[0]
        warnings.append(
            f"{len(zip_off)} ZIP load(s) (model 8) sit below their ZIPV cutoff even at 1.1 "
            f"p.u. ({named(zip_off)}; Load.{ld.name}: V/kV {v0:.2f} at 1 p.u., cutoff "
            f"{ld.zip_cutoff:g}): OpenDSS draws nothing from them, and neither does the model "
            "(their kW and kvar are 0 in it)")

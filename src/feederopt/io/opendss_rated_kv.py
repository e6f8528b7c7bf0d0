"""OpenDSS loads rated far from the voltage of their connection (``kV=12.47`` on a 7.2 kV node).

OpenDSS draws a load by its model only between ``Vminpu`` and ``Vmaxpu`` (p.u. of the load's
own ``kV``) and switches to an impedance, or to an interpolated current, outside that band
(DSS C-API's ``Load.pas``: ``DoConstantPQLoad``, ``DoMotorTypeLoad``, ``DoCVRModel``,
``DoConstantILoad``, ``DoFixedQ``, ``DoFixedQZ``, ``DoZIPVModel``; checked against
OpenDSSDirect.py for models 1-8 at ``v`` from 0.25 to 1.6, with default and other
``Vminpu``/``Vmaxpu``/``Vlowpu``). With ``v = |V| / kV`` and the draw as a fraction of the
nameplate ``kW`` (``kvar``), :func:`opendss_draw`:

* ``v <= Vlowpu`` (0.5 by default), every model: the nominal impedance, ``v^2``;
* ``Vlowpu < v <= Vminpu``: constant power (models 1, 3 and 4, P and Q) the current linear in
  ``v`` from ``Vlowpu`` at ``Vlowpu`` to ``1/Vminpu`` at ``Vminpu``:
  ``v (Vlowpu + (1/Vminpu - Vlowpu)(v - Vlowpu)/(Vminpu - Vlowpu))``; constant current
  (model 5) the same line up to 1 at ``Vminpu``: ``v (Vlowpu + (1 - Vlowpu)(v - Vlowpu)/
  (Vminpu - Vlowpu))``; models 6 and 7 ``P = v^2 / Vminpu^2``, ``Q = v^2``;
* ``v > Vmaxpu``: models 1, 3, 4 ``(v / Vmaxpu)^2``; model 5 ``v^2 / Vmaxpu``; models 6 and
  7 ``P = (v / Vmaxpu)^2``, ``Q = v^2``;
* in the band, the model: 1 ``(1, 1)``, 3 ``(1, v^2)``, 4 ``(v^CVRwatts, v^CVRvars)``, 5
  ``(v, v)``, 6 ``(1, 1)``, 7 ``(1, v^2)``;
* model 2 (constant impedance) ``v^2`` at any voltage;
* model 8 (ZIP, ``ZIPV = [Zp Ip Pp Zq Iq Pq cutoff]``): above ``Vlowpu`` each part by its law
  (Z ``v^2``, I as model 5, P as model 1) weighted by its coefficient, times OpenDSS's
  drop-out ``(1 + tanh(500 (v - cutoff))) / 2`` when the cutoff is positive (nothing below
  it); at or below ``Vlowpu`` the impedance ``v^2`` with no drop-out.

The model draws ``p_mw (|V| / vn_kv)^p_exponent`` (and likewise Q). When the load's voltage
ratio ``v0 = V_base / kV`` at 1 p.u. of its bus stays in one piece of OpenDSS's law over the
whole usual band of the bus (0.9-1.1 p.u., :data:`BUS_BAND`): outside ``Vminpu``-``Vmaxpu``
(any model), or inside it for a ZIP load, and on one side of a ZIP load's cutoff, the reader
gives the model that law fitted at ``v0``: the load re-rated at its bus's voltage
(``vn_kv`` times ``v0``), drawing ``kW P(v0)`` there with exponent ``n = v0 P'(v0) / P(v0)``
(``p = p0 (|V|/V0)^n``; 2 exactly for an impedance, about 2.2 in the interpolated piece), and
the same for Q. User test ut42_dss3: ``Load.la kV=12.47`` on a 7.2 kV node, 1500 kW
nameplate, drew 481.8 kW in OpenDSS while the model held 1.5 MW of constant power, with a note
claiming the model followed OpenDSS. Its share ``P(v0)``, ``Q(v0)`` is recorded
(``meta["rerated_loads"]``) so that a daily shape's rows scale the re-rated load
(:mod:`feederopt.io.opendss_shapes`). A constant-impedance load (model 2) and a load of
models 1 and 3-7 inside its band over the whole bus band are already OpenDSS's law at their
kV (its exponents, :func:`feederopt.io.opendss._exponents`), and are noted as such. A ratio
that the bus band carries across ``Vminpu``, ``Vmaxpu`` or a ZIP cutoff is marked in a note
as not followed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

#: The band of a bus's voltage [p.u. of its base] over which a load's ratio must stay in one
#: piece of OpenDSS's law for the reader to take that law as certain.
BUS_BAND = (0.9, 1.1)
#: A load's kV more than this far (relative) from its connection's voltage is noted.
KV_MISMATCH = 0.1
#: The relative step of the numerical log-derivative of OpenDSS's draw (:func:`exponent`).
_STEP = 1e-6


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
    #: ZIPV's seven values (model 8), else empty
    zipv: tuple[float, ...] = ()
    #: CVRwatts, CVRvars (model 4)
    cvr: tuple[float, float] = (1.0, 2.0)


def opendss_draw(ld: RatedKv, v: float) -> tuple[float, float]:
    """``(P(v)/kW, Q(v)/kvar)``: what OpenDSS draws from the load at ``v`` p.u. of its kV as
    fractions of its nameplate (module docstring for the law of each model and its source)."""
    vmin, vmax, vlow = ld.vmin, ld.vmax, ld.vlow
    if v <= vlow:
        return v * v, v * v
    low, high = v <= vmin, v > vmax  # vlow >= vmin leaves no interpolated piece
    span = vmin - vlow
    power = v * (vlow + (1.0 / vmin - vlow) * (v - vlow) / span) if low else 0.0
    current = v * (vlow + (1.0 - vlow) * (v - vlow) / span) if low else 0.0
    if ld.model == 2:
        return v * v, v * v
    if ld.model in (1, 3, 4):
        if low:
            return power, power
        if high:
            return (v / vmax) ** 2, (v / vmax) ** 2
        return {1: (1.0, 1.0), 3: (1.0, v * v)}.get(ld.model, (v ** ld.cvr[0], v ** ld.cvr[1]))
    if ld.model == 5:
        if low:
            return current, current
        return (v * v / vmax, v * v / vmax) if high else (v, v)
    if ld.model in (6, 7):
        if low or high:
            return v * v / (vmin if low else vmax) ** 2, v * v
        return 1.0, 1.0 if ld.model == 6 else v * v
    if ld.model == 8 and len(ld.zipv) >= 7:
        z = ld.zipv
        parts = (v * v, current, power) if low else (
            (v * v, v * v / vmax, (v / vmax) ** 2) if high else (v * v, v, 1.0))
        p = z[0] * parts[0] + z[1] * parts[1] + z[2] * parts[2]
        q = z[3] * parts[0] + z[4] * parts[1] + z[5] * parts[2]
        drop = 0.5 * (1.0 + math.tanh(500.0 * (v - z[6]))) if z[6] > 0 else 1.0
        return p * drop, q * drop
    return v * v, v * v  # OpenDSS draws any other model as an impedance


def exponent(ld: RatedKv, v: float, which: int) -> float:
    """``n = v F'(v) / F(v)`` of :func:`opendss_draw`'s P (``which`` 0) or Q (1) at ``v``, by
    a central difference of ``ln F`` in ``ln v``; 0 where OpenDSS draws nothing."""
    lo, hi = opendss_draw(ld, v * (1 - _STEP))[which], opendss_draw(ld, v * (1 + _STEP))[which]
    if lo <= 0 or hi <= 0:
        return 0.0
    return (math.log(hi) - math.log(lo)) / (math.log1p(_STEP) - math.log1p(-_STEP))


def _pieces(ld: RatedKv, lo: float, hi: float) -> str:
    """Where the ratios ``lo``-``hi`` lie in OpenDSS's law: ``"out"`` (outside the band, or at
    or below Vlowpu, for every ratio), ``"in"`` (inside it), ``"cut"`` (below a ZIP load's
    cutoff, above Vlowpu) or ``"across"`` (the range crosses a band edge or a cutoff)."""
    cut = ld.zipv[6] if ld.model == 8 and len(ld.zipv) >= 7 else 0.0
    if hi <= ld.vlow:
        return "out"  # the nominal impedance, whatever the band or cutoff
    if (cut > 0 and lo <= cut <= hi) or (lo <= ld.vlow < hi and cut > ld.vlow):
        return "across"
    if cut > 0 and hi < cut:
        return "cut"
    if hi <= ld.vmin or lo > ld.vmax:
        return "out"
    return "in" if lo > ld.vmin and hi <= ld.vmax else "across"


def rated_kv_loads(loads: list[RatedKv], base_ln: dict[str, float],
                   rows: list[dict[str, Any]], warnings: list[str]) -> dict[str, list[float]]:
    """Compare each enabled load's kV with its bus's (repaired) voltage base ``base_ln``
    [kV line to neutral]; apply OpenDSS's law (module docstring) to ``rows`` where it is
    certain, and note the rest. Returns the re-rated loads' shares ``[P(v0)/kW,
    Q(v0)/kvar]`` by load id (``meta["rerated_loads"]``)."""
    followed: list[tuple[RatedKv, float, float, float]] = []  # load, v0, P(v0)/kW, n_p
    zip_fit: list[tuple[RatedKv, float, float, float]] = []  # ZIP loads inside their band
    exact: list[tuple[RatedKv, float]] = []
    in_band: list[tuple[RatedKv, float]] = []
    not_followed: list[tuple[RatedKv, float]] = []
    zip_off: list[tuple[RatedKv, float]] = []
    shares: dict[str, list[float]] = {}
    for ld in loads:
        base = base_ln.get(ld.bus, 0.0)
        if not (ld.enabled and base > 0 and ld.kv > 0):
            continue
        v0 = base * ld.factor / ld.kv
        if abs(1.0 / v0 - 1.0) <= KV_MISMATCH:
            continue
        where = _pieces(ld, v0 * BUS_BAND[0], v0 * BUS_BAND[1])
        if ld.model == 2:
            exact.append((ld, v0))
            continue
        if where == "across" or (where == "in" and ld.model not in range(1, 9)):
            not_followed.append((ld, v0))
            continue
        if where == "in" and ld.model != 8:
            in_band.append((ld, v0))  # its exponents at its kV are OpenDSS's law
            continue
        if where == "cut":  # user test ut_3ph2 D4: OpenDSS draws nothing below the cutoff
            p_share = q_share = n_p = n_q = 0.0
            zip_off.append((ld, v0))
        else:
            p_share, q_share = opendss_draw(ld, v0)
            n_p, n_q = exponent(ld, v0, 0), exponent(ld, v0, 1)
            (zip_fit if where == "in" else followed).append((ld, v0, p_share, n_p))
        shares[ld.name] = [p_share, q_share]
        for i in ld.rows:  # from the nameplate: a ZIP load's rows hold kW (Zp + Ip + Pp)
            rows[i]["p_mw"] = ld.kw / 1000 / len(ld.rows) * p_share
            rows[i]["q_mvar"] = ld.kvar / 1000 / len(ld.rows) * q_share
            rows[i]["vn_kv"] *= v0
            rows[i]["p_exponent"], rows[i]["q_exponent"] = n_p, n_q
    _notes(followed, zip_fit, exact, in_band, not_followed, zip_off, warnings)
    return shares


def _notes(followed: list[tuple[RatedKv, float, float, float]],
           zip_fit: list[tuple[RatedKv, float, float, float]],
           exact: list[tuple[RatedKv, float]], in_band: list[tuple[RatedKv, float]],
           not_followed: list[tuple[RatedKv, float]], zip_off: list[tuple[RatedKv, float]],
           warnings: list[str]) -> None:
    def named(items: list[Any]) -> str:
        return f"{', '.join(x[0].name for x in items[:6])}{' ...' if len(items) > 6 else ''}"

    def models(items: list[Any]) -> str:
        found = sorted({x[0].model for x in items})
        return f"model{'s' if len(found) > 1 else ''} {', '.join(map(str, found))}"

    def first(ld: RatedKv, v0: float) -> str:
        return (f"Load.{ld.name}: kV={ld.kv:g} across {v0 * ld.kv:.4g} kV, V/kV {v0:.2f} at "
                "1 p.u.")

    # user test ut_3ph #12: IEEE 13's total load read 3876 kW, OpenDSS drew 3589
    if followed:
        ld, v0, share, n = followed[0]
        warnings.append(
            f"{len(followed)} load(s) ({models(followed)}) have a rated kV far from the voltage "
            f"of their connection, outside their Vminpu-Vmaxpu band at any bus voltage of "
            f"0.9-1.1 p.u. ({named(followed)}; {first(ld, v0)}): OpenDSS draws them as an "
            "impedance there, and so does the model, each re-rated at its bus's voltage by "
            f"OpenDSS's law (Load.{ld.name}: {share * ld.kw:.4g} of {ld.kw:g} kW at 1 p.u., "
            f"exponent {n:.3g}; docs/threephase.md)")
    if zip_fit:
        ld, v0, share, n = zip_fit[0]
        warnings.append(
            f"{len(zip_fit)} ZIP load(s) (model 8) have a rated kV far from the voltage of "
            f"their connection, inside their Vminpu-Vmaxpu band at any bus voltage of 0.9-1.1 "
            f"p.u. ({named(zip_fit)}; {first(ld, v0)}): OpenDSS draws kW (Zp v^2 + Ip v + Pp) "
            "at v = V/kV; the model draws it exactly at 1 p.u. of the bus and by the slope "
            f"there elsewhere, each re-rated at its bus's voltage (Load.{ld.name}: "
            f"{share * ld.kw:.4g} of {ld.kw:g} kW at 1 p.u., exponent {n:.3g})")
    if exact:
        ld, v0 = exact[0]
        warnings.append(
            f"{len(exact)} constant-impedance load(s) have a rated kV far from the voltage of "
            f"their connection ({named(exact)}; {first(ld, v0)}): OpenDSS draws "
            f"kW x (V/kV)^2 ({v0 * v0 * ld.kw:.4g} of {ld.kw:g} kW at 1 p.u.), and so does "
            "the model")
    if in_band:
        ld, v0 = in_band[0]
        warnings.append(
            f"{len(in_band)} load(s) ({models(in_band)}) have a rated kV far from the voltage "
            f"of their connection, inside their Vminpu-Vmaxpu band at any bus voltage of "
            f"0.9-1.1 p.u. ({named(in_band)}; {first(ld, v0)}): OpenDSS draws them by their "
            "model at their kV, and so does the model")
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

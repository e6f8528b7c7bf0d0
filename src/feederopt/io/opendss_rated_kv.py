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
#: The words that mark :func:`_operating_note`
BAND_NOTE = "sit outside their Vminpu-Vmaxpu band in OpenDSS's solution of the file"
#: The columns of a load row that :func:`_at_operating_point` records before re-rating it
BAND_COLUMNS = ("id", "phase", "p_mw", "q_mvar", "vn_kv", "p_exponent", "q_exponent")
#: A row below this voltage [p.u. of its kV] in OpenDSS's solution of the file is dead there
#: (cut off from the source), not re-rated at it (:func:`_at_operating_point`).
DEAD_RATIO = 0.1
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
    #: each row's voltage in OpenDSS's solution of the file [p.u. of the row's rated kV, as
    #: OpenDSS's Load measures it], empty when the file's solve did not converge
    v_op: list[float] = field(default_factory=list)


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
                   rows: list[dict[str, Any]], warnings: list[str],
                   band_rows: list[dict[str, Any]] | None = None) -> dict[str, list[float]]:
    """Compare each enabled load's kV with its bus's (repaired) voltage base ``base_ln``
    [kV line to neutral]; apply OpenDSS's law (module docstring) to ``rows`` where it is
    certain, and at OpenDSS's solution of the file to the rows outside their band there
    (:func:`_at_operating_point`); note the rest. Returns the shares ``[P/kW, Q/kvar]`` by
    load id of the loads re-rated at their bus's voltage (``meta["rerated_loads"]``, which a
    daily shape's rows scale), not of those re-rated at OpenDSS's solution only: a scenario
    (a daily shape's hours among them) runs at other voltages and starts from the file's rows
    (:meth:`~feederopt.network.threephase.ThreePhaseNetwork.nameplate_band_loads`, which
    puts back what ``band_rows`` gets: the rows re-rated at OpenDSS's solution as they were
    before, ``id``, ``phase`` and the five columns, ``meta["band_rerated"]``)."""
    followed: list[tuple[RatedKv, float, float, float]] = []  # load, v0, P(v0)/kW, n_p
    zip_fit: list[tuple[RatedKv, float, float, float]] = []  # ZIP loads inside their band
    exact: list[tuple[RatedKv, float]] = []
    in_band: list[tuple[RatedKv, float]] = []
    not_followed: list[tuple[RatedKv, float]] = []
    zip_off: list[tuple[RatedKv, float]] = []
    shares: dict[str, list[float]] = {}
    band_shares: dict[str, list[float]] = {}  # of the rows re-rated at OpenDSS's solution
    operating: list[Operating] = []  # re-rated at the voltage of OpenDSS's solution
    held: list[tuple[RatedKv, float]] = []  # across a band edge, inside it in that solution
    for ld in loads:
        base = base_ln.get(ld.bus, 0.0)
        if not (ld.enabled and base > 0 and ld.kv > 0):
            continue
        v0 = base * ld.factor / ld.kv
        if abs(1.0 / v0 - 1.0) <= KV_MISMATCH:
            _at_operating_point(ld, v0, rows, operating, band_shares, band_rows)
            continue
        where = _pieces(ld, v0 * BUS_BAND[0], v0 * BUS_BAND[1])
        if ld.model == 2:
            exact.append((ld, v0))
            continue
        if where == "across" or (where == "in" and ld.model not in range(1, 9)):
            if not _at_operating_point(ld, v0, rows, operating, band_shares, band_rows):
                not_followed.append((ld, v0))
            elif ld.name not in band_shares:
                held.append((ld, v0))
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
    if operating:
        warnings.append(_operating_note(operating))
    if held:
        ld, v0 = held[0]
        warnings.append(
            f"{len(held)} load(s) have a rated kV far from the voltage of their connection "
            f"({', '.join(x[0].name for x in held[:6])}{' ...' if len(held) > 6 else ''}; "
            f"Load.{ld.name}: kV={ld.kv:g}, V/kV {v0:.2f} at 1 p.u., model {ld.model}) and sit "
            f"inside their Vminpu-Vmaxpu band ({ld.vmin:g}-{ld.vmax:g} p.u. of their kV) in "
            "OpenDSS's solution of the file, where OpenDSS draws them by their model, and so "
            "does the model; a bus voltage within 0.9-1.1 p.u. would carry them across a band "
            "edge, where OpenDSS draws an impedance and the model keeps their model: check "
            "the loads' kV against the bus voltage")
    return shares


@dataclass
class Operating:
    """A load re-rated at the voltage of OpenDSS's solution of the file
    (:func:`_at_operating_point`)."""

    load: RatedKv
    #: the re-rated rows' voltages [p.u. of the load's kV]
    volts: list[float]
    #: what OpenDSS draws at them, and the load's nameplate, over all its rows [kW]
    drawn_kw: float
    nameplate_kw: float
    #: the fitted law's P against OpenDSS's over the bus band (relative, lowest and highest)
    error: tuple[float, float]


def _fit_error(ld: RatedKv, v: float, v0: float) -> tuple[float, float]:
    """The lowest and highest relative error ``(P_fit(u) - P(u)) / P(u)`` of the law fitted
    at ``v`` (``P(v) (u/v)^n``, ``n`` :func:`exponent` at ``v``) against OpenDSS's
    :func:`opendss_draw` for ``u`` over the bus band (:data:`BUS_BAND` times ``v0``, the load's
    ratio at 1 p.u. of its bus), on a grid of 0.001 p.u. of the bus."""
    share, n = opendss_draw(ld, v)[0], exponent(ld, v, 0)
    lo = hi = 0.0
    steps = round((BUS_BAND[1] - BUS_BAND[0]) / 0.001)
    for k in range(steps + 1):
        u = v0 * (BUS_BAND[0] + k * 0.001)
        true = opendss_draw(ld, u)[0]
        if true > 0:
            err = share * (u / v) ** n / true - 1.0
            lo, hi = min(lo, err), max(hi, err)
    return lo, hi


def _at_operating_point(ld: RatedKv, v0: float, rows: list[dict[str, Any]],
                        operating: list[Operating], shares: dict[str, list[float]],
                        band_rows: list[dict[str, Any]] | None) -> bool:
    """Re-rate each of ``ld``'s rows whose voltage in OpenDSS's solution of the file
    (``ld.v_op``) lies outside its ``Vminpu``-``Vmaxpu`` band (at or below ``Vlowpu`` too;
    not a dead row, below :data:`DEAD_RATIO`):
    OpenDSS draws it there by the impedance or interpolated law of :func:`opendss_draw`, so the
    row draws ``P(v)`` of its nameplate at that voltage (``vn_kv`` times ``v``) with the law's
    exponent there, ``n = v P'(v) / P(v)`` (:func:`exponent`); exact at OpenDSS's operating
    point, and the law's tangent (in ``ln |V|``) around it. Rows inside the band keep their
    model at their kV, which is OpenDSS's law there. A constant-impedance load (model 2) is
    OpenDSS's law at any voltage and is left as it is. Records the load's shares of its
    nameplate in ``shares`` (the band's own, not ``meta["rerated_loads"]``) and an
    :class:`Operating` entry when a row is re-rated. False when the voltages are unknown (the
    file's solve did not converge), True otherwise."""
    if len(ld.v_op) != len(ld.rows) or not ld.rows:
        return False
    if ld.model not in range(1, 9) or ld.model == 2:
        return True
    outside = [(i, v) for i, v in zip(ld.rows, ld.v_op, strict=True)
               if v >= DEAD_RATIO and (v <= ld.vmin or v > ld.vmax)]
    if not outside:
        return True
    per_row = (ld.kw / 1000 / len(ld.rows), ld.kvar / 1000 / len(ld.rows))
    for i, v in outside:
        if band_rows is not None:
            band_rows.append({key: rows[i][key] for key in BAND_COLUMNS})
        p_share, q_share = opendss_draw(ld, v)
        rows[i]["p_mw"], rows[i]["q_mvar"] = per_row[0] * p_share, per_row[1] * q_share
        rows[i]["vn_kv"] *= v
        rows[i]["p_exponent"], rows[i]["q_exponent"] = exponent(ld, v, 0), exponent(ld, v, 1)
    p_now = sum(rows[i]["p_mw"] for i in ld.rows)
    q_now = sum(rows[i]["q_mvar"] for i in ld.rows)
    shares[ld.name] = [p_now / (ld.kw / 1000) if ld.kw else 1.0,
                       q_now / (ld.kvar / 1000) if ld.kvar else 1.0]
    errors = [_fit_error(ld, v, v0) for _, v in outside]
    operating.append(Operating(ld, [v for _, v in outside], 1000 * p_now, ld.kw,
                               (min(e[0] for e in errors), max(e[1] for e in errors))))
    return True


def _operating_note(operating: list[Operating]) -> str:
    """The note of the loads re-rated at OpenDSS's operating point: which, where, what OpenDSS
    draws, and how far the fitted law may depart from OpenDSS's over the bus band."""
    first = operating[0]
    ld, v = first.load, min(first.volts, key=lambda x: min(abs(x - first.load.vmin),
                                                           abs(x - first.load.vmax)))
    side = (f"below its Vminpu {ld.vmin:g}" if v <= ld.vmin
            else f"above its Vmaxpu {ld.vmax:g}")
    names = ", ".join(o.load.name for o in operating[:6]) + (" ..." if len(operating) > 6
                                                             else "")
    lo = min(o.error[0] for o in operating)
    hi = max(o.error[1] for o in operating)
    drawn = sum(o.drawn_kw for o in operating)
    plate = sum(o.nameplate_kw for o in operating)
    found = sorted({o.load.model for o in operating})
    return (
        f"{len(operating)} load(s) (model{'s' if len(found) > 1 else ''} "
        f"{', '.join(map(str, found))}) {BAND_NOTE} ({names}; Load.{ld.name}: {v:.4f} p.u. "
        f"of its kV, {side}): "
        "OpenDSS draws them there as an impedance or an interpolated current, "
        f"{drawn:.6g} kW of their {plate:.6g} kW nameplate, and so does the model: each such "
        "phase re-rated at the voltage OpenDSS solved, with the slope of OpenDSS's law there. "
        "The fitted law is exact at that point only: over 0.9-1.1 p.u. of the bus it draws "
        f"{100 * lo:+.1f} % to {100 * hi:+.1f} % of OpenDSS's P (more: a load below Vminpu "
        "whose voltage rises back into the band after switching; less: one above Vmaxpu whose "
        "voltage falls back); OpenDSS's check of every answer draws OpenDSS's own law "
        "(docs/threephase.md)")


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

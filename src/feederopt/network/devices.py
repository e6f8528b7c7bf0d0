"""The controllable devices of a feeder: their checks and their per-unit model.

Four kinds of device, each a few columns of the existing tables (defaults keep a network
without devices unchanged):

* **capacitor banks** (``shunts.controllable``): the optimiser chooses the step
  ``0..max_steps``; the bank injects ``step x q_mvar_per_step`` and consumes
  ``step x p_mw_per_step`` at 1 p.u. (``q = b v``, ``p = g v`` with ``v = |V|^2``; both at the
  chosen step, not the data's);
* **substation OLTCs** (``buses.tap_min_pu``, ``tap_max_pu``, ``tap_step_pu`` on a source): the
  source holds ``v_set_pu x n`` with the ratio ``n`` at one of the positions
  ``1 + k x step`` inside ``[tap_min_pu, tap_max_pu]`` (integer ``k``) that keep the source
  bus, the OLTC's secondary side, within its own ``v_min_pu..v_max_pu``;
* **transformer OLTCs / voltage regulators** (``branches.tap_controllable`` on a transformer
  branch, fixed or switchable): the ratio ``n`` at one of ``tap_steps`` positions evenly spaced from
  ``tap_min_ratio`` to ``tap_max_ratio``, with ``v_to = v_from / n^2`` (``v = |V|^2``);
* **committable generators** (``generators.committable``): on or off; on, ``p`` and ``q`` lie
  within their limits at ``cost_per_mwh`` plus ``fixed_cost_per_h``; with ``must_run`` the
  unit is committed: always on, dispatched within its limits (pandapower's controllable sgen
  with ``min_p_mw`` > 0: pandapower's OPF has no unit commitment and runs it at
  ``min_p_mw..max_p_mw``);
* **flexible prosumers** (``loads.flex_share`` > 0): the optimiser may reduce the load by up to
  that share of ``p_mw`` (``q_mvar`` at the same power factor) at ``flex_price_per_mwh``.

:func:`device_problems` lists bad device data as typed problems (a step outside its bank, an
OLTC range upside down or without its neutral position or without a position in its bus's
band, a negative cost or price, a NaN or infinite cost, price or tap number, a committable
generator with negative active limits or an infinite ``p_max_mw``, an OLTC on a bus that is
not a source); a device on a missing bus is the generic ``unknown_bus`` problem of
:func:`feederopt.network.validate.validate`. :func:`per_unit_devices` gives the model that the
DOPF formulation (:mod:`feederopt.formulations.devices`) reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind, Severity

if TYPE_CHECKING:
    from feederopt.network.container import Network
    from feederopt.network.perunit import PerUnitNetwork


class Control(StrEnum):
    """What the DOPF may set (``feederopt solve --controls``)."""

    CAPS = "caps"
    TAPS = "taps"
    DG = "dg"
    FLEX = "flex"


ALL_CONTROLS: frozenset[Control] = frozenset(Control)


def _col(df: pl.DataFrame, name: str) -> bool:
    return name in df.columns


def _ids(df: pl.DataFrame, mask: pl.Expr) -> tuple[str, ...]:
    return tuple(str(i) for i in df.filter(mask.fill_null(False))["id"].to_list())


@dataclass(frozen=True)
class DeviceNumber:
    """A numeric device column, for the one rule of :func:`non_finite_device_numbers`: what
    to give instead of a NaN or an infinity (``hint``; ``inf_hint`` for an infinity where it
    differs), whether an infinity is a limit that does not bind (``unbounded``: a generator's
    reactive limit, ``q_min_mvar = -inf``), and the set-point a fixed injection's limits are
    filled from (``filled_from``: a NaN ``p_mw`` fills ``p_min_mw`` and ``p_max_mw`` of a row
    that gives neither, :data:`~feederopt.network.schemas.SET_POINT_RANGES`; it is named once,
    on ``p_mw``)."""

    hint: str
    unbounded: bool = False
    filled_from: str | None = None
    inf_hint: str | None = None


_P_RANGE = ("give {col} as a number in MW, or leave both p_min_mw and p_max_mw empty for a "
            "fixed injection at p_mw")
_P_INF = ("give the generator's active-power range in MW (finite); an unlimited supply is a "
          "source bus (is_source=true in the buses table)")
_Q_RANGE = ("give {col} as a number in MVAr (-inf or inf: no limit), or leave both q_min_mvar "
            "and q_max_mvar empty for a fixed injection at q_mvar")

#: Every numeric device column, per table: a NaN in any of them, or an infinity where
#: ``unbounded`` is not set, is an ``invalid_value`` naming that column
#: (:func:`non_finite_device_numbers`), and the range and sign checks of
#: :func:`device_problems` look at finite values only (Polars orders NaN above every number,
#: so ``NaN > hi`` "inverted" a NaN tap limit; a NaN ``p_mw_per_step`` or ``tap_max_ratio``
#: passed every check and reached the solver as "Problem data contains NaN or Inf", user test
#: ut48_dopf #1 to #4). A null is "not given" (a column's default or an absent range), no
#: number: the required and the paired columns say so by their own checks.
DEVICE_NUMBERS: dict[str, dict[str, DeviceNumber]] = {
    "shunts": {
        "q_mvar_per_step": DeviceNumber("give the reactive power of one step in MVAr"),
        "p_mw_per_step": DeviceNumber("give the active consumption of one step in MW at 1 p.u. "
                                      "(0 for a lossless bank)"),
    },
    "branches": {
        "tap_min_ratio": DeviceNumber("give the lowest tap ratio in p.u., e.g. 0.9 (empty "
                                      "cells: no tap range)"),
        "tap_max_ratio": DeviceNumber("give the highest tap ratio in p.u., e.g. 1.1 (empty "
                                      "cells: no tap range)"),
    },
    "buses": {
        "tap_min_pu": DeviceNumber("give a finite value, e.g. 0.96"),
        "tap_max_pu": DeviceNumber("give a finite value, e.g. 1.04"),
        "tap_step_pu": DeviceNumber("give a finite value, e.g. 0.0125"),
        "tap_cost_kw": DeviceNumber("give a cost >= 0 in kW per position (0: no cost)"),
        "import_price_per_mwh": DeviceNumber("give a finite price per MWh (0: not priced)"),
        "import_cost_per_mw2_per_h": DeviceNumber(
            "give a finite cost >= 0 per MW^2 per hour (0: none)"),
        "import_fixed_cost_per_h": DeviceNumber("give a finite cost per hour (0: none)"),
        "import_q_price_per_mvarh": DeviceNumber("give a finite cost per MVAr h (0: none)"),
        "import_q_cost_per_mvar2_per_h": DeviceNumber(
            "give a finite cost >= 0 per MVAr^2 per hour (0: none)"),
    },
    "generators": {
        "p_mw": DeviceNumber("give every generator a finite set-point in MW"),
        "q_mvar": DeviceNumber("give every generator a finite set-point in MVAr"),
        "p_min_mw": DeviceNumber(_P_RANGE, filled_from="p_mw", inf_hint=_P_INF),
        "p_max_mw": DeviceNumber(_P_RANGE, filled_from="p_mw", inf_hint=_P_INF),
        "q_min_mvar": DeviceNumber(_Q_RANGE, unbounded=True, filled_from="q_mvar"),
        "q_max_mvar": DeviceNumber(_Q_RANGE, unbounded=True, filled_from="q_mvar"),
        "cost_per_mwh": DeviceNumber("give a finite cost per MWh (0: free)"),
        "cost_per_mw2_per_h": DeviceNumber(
            "give a finite cost >= 0 per MW^2 per hour (0: none)"),
        "cost_per_mvarh": DeviceNumber("give a finite cost per MVAr h (0: none)"),
        "cost_per_mvar2_per_h": DeviceNumber(
            "give a finite cost >= 0 per MVAr^2 per hour (0: none)"),
        "fixed_cost_per_h": DeviceNumber("give a finite cost >= 0 per hour (0: none)"),
    },
    "loads": {
        "flex_share": DeviceNumber("give the share in [0, 1], e.g. 0.2 for 20 % of the load "
                                   "(0: not flexible)"),
        "flex_price_per_mwh": DeviceNumber("give a finite price >= 0 per MWh"),
        "flex_q_min_mvar": DeviceNumber("give finite ends in MVAr, or leave both "
                                        "flex_q_min_mvar and flex_q_max_mvar empty (q follows "
                                        "p)"),
        "flex_q_max_mvar": DeviceNumber("give finite ends in MVAr, or leave both "
                                        "flex_q_min_mvar and flex_q_max_mvar empty (q follows "
                                        "p)"),
        "flex_q_price_per_mvarh": DeviceNumber("give a finite number (0: none)"),
        "flex_q_cost_per_mvar2_per_h": DeviceNumber("give a finite number (0: none)"),
        "flex_q_fixed_cost_per_h": DeviceNumber("give a finite number (0: none)"),
    },
}


def sound_number(table: str, col: str) -> pl.Expr:
    """The rows whose ``col`` of ``table`` passes :func:`non_finite_device_numbers`: finite,
    or infinite where :data:`DEVICE_NUMBERS` lets it be unbounded (null: not a number, false);
    the range and sign checks look at these rows only."""
    x = pl.col(col).cast(pl.Float64, strict=False)
    rule = DEVICE_NUMBERS.get(table, {}).get(col)
    return (~x.is_nan() if rule is not None and rule.unbounded else x.is_finite()).fill_null(
        False)


def non_finite_device_numbers(tables: dict[str, pl.DataFrame]) -> list[Problem]:
    """The one rule for the numbers of the devices (:data:`DEVICE_NUMBERS`): per table and
    column, an ``invalid_value`` naming the rows whose value is NaN ("``col`` is NaN (not a
    number)") and one naming those whose value is infinite where no infinity is allowed
    ("``col`` is infinite"). A limit filled from a non-finite set-point is named on the
    set-point alone."""
    out: list[Problem] = []
    for table, columns in DEVICE_NUMBERS.items():
        df = tables.get(table)
        if df is None or not df.height or "id" not in df.columns:
            continue
        for col, rule in columns.items():
            if col not in df.columns:
                continue
            x = pl.col(col).cast(pl.Float64, strict=False)
            same: pl.Expr = pl.lit(False)
            if rule.filled_from is not None and rule.filled_from in df.columns:
                src = pl.col(rule.filled_from).cast(pl.Float64, strict=False)
                same = ~src.is_finite() & ((x == src) | (x.is_nan() & src.is_nan()))
            found = [(x.is_nan(), "NaN (not a number)", rule.hint)]
            if not rule.unbounded:
                found.append((x.is_infinite(), "infinite", rule.inf_hint or rule.hint))
            for bad, said, hint in found:
                ids = _ids(df, bad & ~same.fill_null(False))
                if ids:
                    out.append(Problem(ProblemKind.INVALID_VALUE, table, f"{col} is {said}",
                                       ids=ids, field=col, hint=hint.format(col=col)))
    return out


def device_problems(net: Network) -> list[Problem]:
    """Every problem of the device columns (all at once), as typed problems: first the one
    rule for their numbers (:func:`non_finite_device_numbers`: a NaN or an infinity is
    ``invalid_value`` on its column), then the checks of ranges, signs and positions, which
    look at sound numbers only (:func:`sound_number`), so that a NaN is not also "above
    tap_max_ratio" or an infinity also "negative"."""
    out: list[Problem] = non_finite_device_numbers(net.tables())

    def add(kind: ProblemKind, table: str, ids: tuple[str, ...], field_: str, message: str,
            hint: str) -> None:
        if ids:
            out.append(Problem(kind, table, message, ids=ids, field=field_, hint=hint))

    def ok(table: str, *cols: str) -> pl.Expr:
        """The rows whose ``cols`` are all sound numbers."""
        expr = pl.lit(True)
        for c in cols:
            expr = expr & sound_number(table, c)
        return expr

    sh = net.shunts
    if sh.height and _col(sh, "id") and _col(sh, "step") and _col(sh, "max_steps"):
        # a negative max_steps is reported as such (validate._shunt_problems): every step
        # lies "above" it, a consequence, not a second problem (user test ut50_dopf #5)
        add(ProblemKind.INVALID_VALUE, "shunts",
            _ids(sh, (pl.col("step") > pl.col("max_steps")) & (pl.col("max_steps") >= 0)),
            "step", "the step is outside the bank (above max_steps)",
            "a bank with max_steps N has the steps 0..N")
    b = net.buses
    if b.height and _col(b, "id") and _col(b, "import_cost_per_mw2_per_h"):
        add(ProblemKind.INVALID_VALUE, "buses",
            _ids(b, ok("buses", "import_cost_per_mw2_per_h")
                 & (pl.col("import_cost_per_mw2_per_h") < 0)), "import_cost_per_mw2_per_h",
            "the quadratic import cost is negative: a concave (non-convex) cost, which the "
            "convex model cannot hold", "give a cost >= 0 per MW^2 per hour (0: a linear cost)")
    if b.height and _col(b, "id") and _col(b, "tap_min_pu"):
        lo, hi, st = pl.col("tap_min_pu"), pl.col("tap_max_pu"), pl.col("tap_step_pu")
        given = lo.is_not_null() | hi.is_not_null() | st.is_not_null()
        add(ProblemKind.INVALID_VALUE, "buses",
            _ids(b, given & (lo.is_null() | hi.is_null() | st.is_null())), "tap_min_pu",
            "an OLTC needs tap_min_pu, tap_max_pu and tap_step_pu together",
            "give all three, e.g. 0.96, 1.04 and 0.0125")
        add(ProblemKind.INVALID_VALUE, "buses", _source_band_misses(b), "tap_min_pu",
            "no tap position of the source OLTC holds its bus within the bus's own voltage "
            "band (v_set_pu x ratio outside v_min_pu..v_max_pu at every position)",
            "widen the bus's v_min_pu..v_max_pu or the tap range so that some position "
            "1 + k x tap_step_pu lies in it")
        limits = ok("buses", "tap_min_pu", "tap_max_pu")
        add(ProblemKind.INVERTED_LIMITS, "buses", _ids(b, limits & (lo > hi)), "tap_min_pu",
            "tap_min_pu is above tap_max_pu", "swap the tap limits")
        add(ProblemKind.INVALID_VALUE, "buses",
            _ids(b, limits & (lo <= hi) & ((lo > 1.0) | (hi < 1.0) | (lo <= 0))), "tap_min_pu",
            "the OLTC range must hold the neutral ratio 1.0 and be positive",
            "e.g. tap_min_pu 0.96, tap_max_pu 1.04")
        if _col(b, "tap_cost_kw"):
            add(ProblemKind.INVALID_VALUE, "buses",
                _ids(b, ok("buses", "tap_cost_kw") & (pl.col("tap_cost_kw") < 0)),
                "tap_cost_kw", "the tap-change cost is negative", "give a cost >= 0 in kW")
        add(ProblemKind.INVALID_VALUE, "buses", _ids(b, ok("buses", "tap_step_pu") & (st < 0)),
            "tap_step_pu", "the tap step is negative", "e.g. 0.0125 (1.25 % per position)")
        one = one_position_sources(b.filter(pl.col("is_source").fill_null(False))
                                   if _col(b, "is_source") else b.clear())
        if one:
            out.append(Problem(
                ProblemKind.INVALID_VALUE, "buses", "the source OLTC has only one position "
                "(ratio 1: no other 1 + k x tap_step_pu lies in tap_min_pu..tap_max_pu): held "
                "at ratio 1, not a control", ids=one, field="tap_step_pu",
                hint="give a tap_step_pu that fits the range (e.g. 0.0125 in 0.96..1.04), or "
                     "leave the OLTC's columns empty", severity=Severity.WARNING))
        add(ProblemKind.INVALID_VALUE, "buses", _ids(b, given & ~pl.col("is_source")),
            "tap_min_pu", "an OLTC is modelled at a source (substation) bus only",
            "put the OLTC on the substation's source bus")
    br = net.branches
    if br.height and _col(br, "id") and _col(br, "tap_controllable"):
        oltc = pl.col("tap_controllable").fill_null(False)
        lo, hi, st = pl.col("tap_min_ratio"), pl.col("tap_max_ratio"), pl.col("tap_steps")
        add(ProblemKind.INVALID_VALUE, "branches",
            _ids(br, oltc & (lo.is_null() | hi.is_null() | st.is_null())), "tap_min_ratio",
            "a controllable tap needs tap_min_ratio, tap_max_ratio and tap_steps",
            "give all three, e.g. 0.9, 1.1 and 17")
        # each value on its own column: a tap_min_ratio of 0 or -0.5 was "a controllable tap
        # needs positive ratios and at least 2 positions" on a sound tap_steps 11 (ut48_dopf #4)
        for col, ratio, eg in (("tap_min_ratio", lo, "0.9"), ("tap_max_ratio", hi, "1.1")):
            add(ProblemKind.INVALID_VALUE, "branches",
                _ids(br, oltc & ok("branches", col) & (ratio <= 0)), col,
                f"{col} must be positive (a ratio in p.u.)", f"e.g. {col} {eg}")
        add(ProblemKind.INVERTED_LIMITS, "branches",
            _ids(br, oltc & ok("branches", "tap_min_ratio", "tap_max_ratio") & (hi > 0)
                 & (lo > hi)), "tap_min_ratio",
            "tap_min_ratio is above tap_max_ratio", "swap the tap limits")
        one = one_position_taps(br)
        single = pl.col("id").is_in(list(one))
        add(ProblemKind.INVALID_VALUE, "branches",
            _ids(br, oltc & ((st < 1) | ((st < 2) & ~single))),
            "tap_steps", "a controllable tap needs at least 2 positions",
            "e.g. tap_steps 17 from 0.9 to 1.1")
        if one:
            out.append(Problem(
                ProblemKind.INVALID_VALUE, "branches", "the transformer OLTC has only one "
                "position (tap_min_ratio = tap_max_ratio: every one of its tap_steps is that "
                "ratio): held at tap_ratio, not a control", ids=one, field="tap_min_ratio",
                hint="give tap_min_ratio below tap_max_ratio (e.g. 0.9 and 1.1), or set "
                     "tap_controllable false", severity=Severity.WARNING))
        # the base case's ratio is one of the tap's positions: a tap_ratio outside its range
        # ran the base case at a ratio the tap cannot take and was "was 19; 13 positions
        # down" (user test ut50_dopf #2; pandapower's tap_pos outside tap_min..tap_max is the
        # same problem)
        if _col(br, "tap_ratio"):
            tr = pl.col("tap_ratio")
            add(ProblemKind.INVALID_VALUE, "branches",
                _ids(br, oltc & ok("branches", "tap_min_ratio", "tap_max_ratio", "tap_ratio")
                     & (lo > 0) & (lo <= hi)
                     & ((tr < lo * (1 - 1e-9)) | (tr > hi * (1 + 1e-9)))), "tap_ratio",
                "the tap's ratio tap_ratio (its base-case position) lies outside its range "
                "tap_min_ratio..tap_max_ratio",
                "give a tap_ratio within tap_min_ratio..tap_max_ratio, or widen the range")
        add(ProblemKind.INVALID_VALUE, "branches",
            _ids(br, oltc & (pl.col("kind") != "transformer")),
            "tap_controllable", "a controllable tap sits on a transformer branch",
            "set kind transformer, or drop the tap")
    g = net.generators
    if g.height and _col(g, "id") and _col(g, "cost_per_mw2_per_h"):
        add(ProblemKind.INVALID_VALUE, "generators",
            _ids(g, ok("generators", "cost_per_mw2_per_h") & (pl.col("cost_per_mw2_per_h") < 0)),
            "cost_per_mw2_per_h", "the quadratic energy cost is negative: a concave "
            "(non-convex) cost, which the convex model cannot hold",
            "give a cost >= 0 per MW^2 per hour (0: a linear cost)")
    # the reactive costs (pandapower's cq1, cq2): a convex quadratic one
    for table, frame, quad in (("generators", g, "cost_per_mvar2_per_h"),
                               ("buses", b, "import_q_cost_per_mvar2_per_h")):
        if frame.height and _col(frame, "id") and _col(frame, quad):
            add(ProblemKind.INVALID_VALUE, table,
                _ids(frame, ok(table, quad) & (pl.col(quad) < 0)), quad,
                "the quadratic reactive cost is negative: a concave (non-convex) cost, which "
                "the convex model cannot hold", "give a cost >= 0 per MVAr^2 per hour (0: a "
                "linear cost)")
    if g.height and _col(g, "id") and _col(g, "fixed_cost_per_h"):
        add(ProblemKind.INVALID_VALUE, "generators",
            _ids(g, ok("generators", "fixed_cost_per_h") & (pl.col("fixed_cost_per_h") < 0)),
            "fixed_cost_per_h", "the fixed cost is negative", "give a cost >= 0 per hour")
        add(ProblemKind.INVALID_VALUE, "generators",
            _ids(g, pl.col("committable") & ok("generators", "cost_per_mwh")
                 & (pl.col("cost_per_mwh") < 0)), "cost_per_mwh",
            "a committable generator has a negative energy cost", "give a cost >= 0 per MWh")
    if g.height and _col(g, "id") and _col(g, "committable") and _col(g, "p_min_mw"):
        # A generator produces (the data model has no absorbing generator: p_mw is injected);
        # on, a committable unit runs within p_min_mw..p_max_mw, off at 0. (Off it produces
        # nothing: p <= p_max on, the master's big-M row, needs a finite p_max, which the
        # rule of DEVICE_NUMBERS asks of every generator.)
        add(ProblemKind.INVALID_VALUE, "generators",
            _ids(g, pl.col("committable").fill_null(False)
                 & ok("generators", "p_min_mw", "p_max_mw")
                 & ((pl.col("p_min_mw") < 0) | (pl.col("p_max_mw") < 0))), "p_min_mw",
            "a committable generator has a negative active limit (a generator injects p; "
            "running it would consume power)",
            "give 0 <= p_min_mw <= p_max_mw in MW; a consumer is a load")
    ld = net.loads
    if ld.height and _col(ld, "id") and _col(ld, "flex_share"):
        add(ProblemKind.INVALID_VALUE, "loads",
            _ids(ld, ok("loads", "flex_share")
                 & ((pl.col("flex_share") < 0) | (pl.col("flex_share") > 1))), "flex_share",
            "the flexible share must lie in [0, 1]", "e.g. 0.2 for 20 % of the load")
    if ld.height and _col(ld, "id") and _col(ld, "priority"):
        # the weight of the load's shed power in restore's and plan's objective (sum of
        # priority x shed p): `info` said "problems: none" for a NaN, -1 or inf that restore
        # then refused (user test ut46_iobad #5); a missing value is the default 1.0
        prio = pl.col("priority").cast(pl.Float64, strict=False)
        add(ProblemKind.INVALID_VALUE, "loads", _ids(ld, _not_finite("priority") | (prio < 0)),
            "priority", "priority must be a finite number >= 0 (the weight of the load's shed "
            "power in restore and plan)", "e.g. 1 (the default), 10 for a critical load; "
            "sheddable=false keeps a load supplied")
    if ld.height and _col(ld, "id") and _col(ld, "flex_price_per_mwh"):
        add(ProblemKind.INVALID_VALUE, "loads",
            _ids(ld, ok("loads", "flex_price_per_mwh") & (pl.col("flex_price_per_mwh") < 0)),
            "flex_price_per_mwh", "the flexibility price is negative",
            "give a price >= 0 per MWh")
    if ld.height and _col(ld, "id") and _col(ld, "flex_q_min_mvar") and _col(
            ld, "flex_q_max_mvar"):
        lo, hi = pl.col("flex_q_min_mvar"), pl.col("flex_q_max_mvar")
        add(ProblemKind.INVALID_VALUE, "loads",
            _ids(ld, (lo.is_null() & ok("loads", "flex_q_max_mvar"))
                 | (hi.is_null() & ok("loads", "flex_q_min_mvar"))),
            "flex_q_min_mvar", "a flexible load's reactive range needs both ends",
            "give flex_q_min_mvar and flex_q_max_mvar, or neither (q follows p)")
        add(ProblemKind.INVERTED_LIMITS, "loads",
            _ids(ld, ok("loads", "flex_q_min_mvar", "flex_q_max_mvar") & (lo > hi)),
            "flex_q_min_mvar", "flex_q_min_mvar is above flex_q_max_mvar",
            "give flex_q_min_mvar <= flex_q_max_mvar")
    if ld.height and _col(ld, "id") and _col(ld, "flex_q_cost_per_mvar2_per_h"):
        add(ProblemKind.INVALID_VALUE, "loads",
            _ids(ld, ok("loads", "flex_q_cost_per_mvar2_per_h")
                 & (pl.col("flex_q_cost_per_mvar2_per_h") < 0)), "flex_q_cost_per_mvar2_per_h",
            "the load's quadratic reactive cost is negative: a concave (non-convex) cost, which "
            "the convex model cannot hold", "give a cost >= 0 per MVAr^2 per hour")
    return out


def flexible_loads(loads: pl.DataFrame) -> pl.DataFrame:
    """The in-service flexible loads: a share of ``p_mw`` > 0 to reduce (``flex_share``, on
    a load with ``p_mw`` > 0) or a reactive range (``flex_q_min_mvar``..``flex_q_max_mvar``:
    its q a decision, pandapower's controllable load's ``min/max_q_mvar``)."""
    if not loads.height or "flex_share" not in loads.columns:
        return loads.clear()
    share = pl.col("flex_share").fill_null(0.0) > 0
    p_flex = share & (pl.col("p_mw") > 0)
    if "flex_q_min_mvar" in loads.columns and "flex_q_max_mvar" in loads.columns:
        p_flex = p_flex | (pl.col("flex_q_min_mvar").cast(pl.Float64).is_finite()
                           & pl.col("flex_q_max_mvar").cast(pl.Float64).is_finite()
                           ).fill_null(False)
    return loads.filter(pl.col("in_service") & p_flex)


def load_q_range(ld: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``ld``: its reactive range ``flex_q_min_mvar``, ``flex_q_max_mvar``
    [MVAr], NaN where it has none (its q follows its p)."""
    def col(name: str) -> np.ndarray:
        if name not in ld.columns:
            return np.full(ld.height, np.nan)
        return ld[name].cast(pl.Float64).fill_null(np.nan).to_numpy().astype(float)
    return col("flex_q_min_mvar"), col("flex_q_max_mvar")


def _not_finite(col: str) -> pl.Expr:
    """``col`` holds NaN or +-inf (a missing value is not flagged)."""
    c = pl.col(col).cast(pl.Float64, strict=False)
    return c.is_nan() | c.is_infinite()


def source_tap_ratios(lo: float, hi: float, step: float, v_set: float, v_min: float,
                      v_max: float) -> np.ndarray:
    """The ratios of a source OLTC that keep its own bus within its band: the positions
    ``n = 1 + k step`` in ``[lo, hi]`` (:func:`tap_positions`) with ``v_min <= v_set n <=
    v_max``. The OLTC's secondary side is the source bus itself, whose voltage is
    ``v_set x n``, so a position outside the bus's band is no setting at all (user test
    ut_dopfres #1: the tap range 0.95..1.05 on a bus banded 1.0..1.0 chose 1.05)."""
    ratios = tap_positions(lo, hi, step)
    v = v_set * ratios
    return ratios[(v >= v_min - 1e-9) & (v <= v_max + 1e-9)]


def _source_band_misses(b: pl.DataFrame) -> tuple[str, ...]:
    """The source OLTCs of sound data none of whose positions lies in its bus's band."""
    need = ("tap_min_pu", "tap_max_pu", "tap_step_pu", "v_set_pu", "v_min_pu", "v_max_pu")
    if not all(_col(b, c) for c in need):
        return ()
    out = []
    for r in b.filter(pl.col("tap_min_pu").is_not_null()).iter_rows(named=True):
        vals = [r[c] for c in need]
        if not r.get("is_source") or any(x is None or not math.isfinite(float(x))
                                          for x in vals):
            continue
        lo, hi, st, vs, vmin, vmax = map(float, vals)
        if st <= 0 or lo > hi or lo > 1.0 or hi < 1.0 or lo <= 0 or vs <= 0 or vmin > vmax:
            continue  # reported as such
        if not len(source_tap_ratios(lo, hi, st, vs, vmin, vmax)):
            out.append(str(r["id"]))
    return tuple(out)


def one_position_sources(b: pl.DataFrame) -> tuple[str, ...]:
    """The source OLTCs of sound data with a single position: ``tap_step_pu`` 0, or a step so
    large that no ``1 + k step`` but 1 lies in ``tap_min_pu..tap_max_pu`` (0.5 in 0.96..1.04).
    Such a tap is no control: it is held at ratio 1, with a note (the one rule for a tap range
    with one position, as a folder transformer's ``tap_min_ratio = tap_max_ratio`` and
    pandapower's ``tap_step_percent`` 0 or ``tap_min = tap_max``; user test ut50_dopf #3)."""
    need = ("tap_min_pu", "tap_max_pu", "tap_step_pu")
    if not b.height or not all(_col(b, c) for c in (*need, "id")):
        return ()
    out = []
    for r in b.filter(pl.col("tap_min_pu").is_not_null()).iter_rows(named=True):
        vals = [r[c] for c in need]
        if any(x is None or not math.isfinite(float(x)) for x in vals):
            continue
        lo, hi, st = map(float, vals)
        if st < 0 or lo > hi or lo > 1.0 or hi < 1.0 or lo <= 0:
            continue  # reported as such
        if st == 0 or len(tap_positions(lo, hi, st)) == 1:
            out.append(str(r["id"]))
    return tuple(out)


def one_position_taps(br: pl.DataFrame) -> tuple[str, ...]:
    """The transformer OLTCs (``tap_controllable``) of sound data whose range has a single
    ratio, ``tap_min_ratio = tap_max_ratio`` (to 1e-9 relative): whatever ``tap_steps`` says,
    every position is that ratio, so the tap is held at ``tap_ratio`` with a note
    (:func:`one_position_sources`)."""
    need = ("tap_min_ratio", "tap_max_ratio", "tap_controllable", "id")
    if not br.height or not all(_col(br, c) for c in need):
        return ()
    lo = pl.col("tap_min_ratio").cast(pl.Float64, strict=False)
    hi = pl.col("tap_max_ratio").cast(pl.Float64, strict=False)
    return _ids(br, pl.col("tap_controllable").fill_null(False) & lo.is_finite().fill_null(False)
                & hi.is_finite().fill_null(False) & (lo > 0)
                & ((hi - lo).abs() <= 1e-9 * hi.abs()))


def _g(x: Any) -> str:
    """A number for a person: ``0.3``, ``-1``, ``1.0375`` (no float noise)."""
    return f"{float(x):.6g}" if x is not None else "-"


def device_list(net: Network) -> list[dict[str, object]]:
    """The in-service controllable devices of ``net`` as ``feederopt info`` lists them, in the
    ids that ``feederopt solve`` gives them (``devices`` in its JSON): one dict per device
    with ``id``, ``kind`` (``capacitor``, ``oltc``, ``generator``, ``flexible_load``), ``bus``,
    ``control`` (the ``--controls`` kind that sets it), the data's fields and a readable
    ``range`` and ``base`` (the setting the data give)."""
    out: list[dict[str, object]] = []
    at = net.bus_id_out
    sh = net.shunts
    if sh.height and _col(sh, "controllable"):
        for r in sh.filter(pl.col("in_service") & pl.col("controllable").fill_null(False)
                           ).iter_rows(named=True):
            q = float(r["q_mvar_per_step"]) * 1000
            out.append({"id": str(r["id"]), "kind": "reactor" if q < 0 else "capacitor",
                        "bus": at(str(r["bus"])),
                        "control": Control.CAPS.value, "max_steps": int(r["max_steps"]),
                        "q_kvar_per_step": q, "step": int(r["step"]),
                        "range": f"steps 0..{int(r['max_steps'])} x {_g(abs(q))} kvar"
                                 + (" absorbed" if q < 0 else ""),
                        "base": f"step {int(r['step'])}"})
    b = net.buses
    if b.height and _col(b, "tap_min_pu"):
        held = list(one_position_sources(b))  # no control (a note says so)
        for r in b.filter(pl.col("tap_min_pu").is_not_null() & ~pl.col("id").is_in(held)
                          ).iter_rows(named=True):
            out.append({"id": f"oltc:{r['id']}", "kind": "oltc", "bus": at(str(r["id"])),
                        "control": Control.TAPS.value, "tap_min_pu": r["tap_min_pu"],
                        "tap_max_pu": r["tap_max_pu"], "tap_step_pu": r["tap_step_pu"],
                        "range": f"source ratio {_g(r['tap_min_pu'])}..{_g(r['tap_max_pu'])} "
                                 f"in steps of {_g(r['tap_step_pu'])}",
                        "base": "ratio 1"})
    br = net.branches
    if br.height and _col(br, "tap_controllable"):
        origin = net.origin
        held = list(one_position_taps(br))
        for r in br.filter(pl.col("tap_controllable").fill_null(False) & pl.col("in_service")
                           & ~pl.col("id").is_in(held)).iter_rows(named=True):
            row: dict[str, object] = {
                "id": f"oltc:{r['id']}", "kind": "oltc", "bus": at(str(r["from_bus"])),
                "control": Control.TAPS.value, "branch": str(r["id"]),
                "tap_min_ratio": r["tap_min_ratio"], "tap_max_ratio": r["tap_max_ratio"],
                "tap_steps": r["tap_steps"], "tap_ratio": r["tap_ratio"],
                "range": f"ratio {_g(r['tap_min_ratio'])}..{_g(r['tap_max_ratio'])} in "
                         f"{r['tap_steps']} positions",
                "base": f"ratio {float(r['tap_ratio']):.4f}"}
            tr = getattr(origin, "trafo", None)
            if (tr is not None and r.get("pp_element") == "trafo"
                    and r.get("pp_index") in tr.index):
                t = tr.loc[r["pp_index"]]
                row.update(tap_min=int(t["tap_min"]), tap_max=int(t["tap_max"]),
                           tap_pos=int(t["tap_pos"]) if t["tap_pos"] == t["tap_pos"] else None)
                row["range"] = (f"tap_pos {int(t['tap_min'])}..{int(t['tap_max'])} "
                                f"({row['range']})")
                row["base"] = f"tap_pos {_g(row['tap_pos'])} ({row['base']})"
            out.append(row)
    g = net.generators
    if g.height and _col(g, "committable"):
        for r in g.filter(pl.col("in_service") & pl.col("committable").fill_null(False)
                          ).iter_rows(named=True):
            cost = float(r.get("cost_per_mwh") or 0.0)
            fixed = float(r.get("fixed_cost_per_h") or 0.0)
            quad = float(r.get("cost_per_mw2_per_h") or 0.0)
            # the quadratic term only where there is one (p in MW: c2 p^2 per h)
            quad_text = f" + {_g(quad)} per MW^2 h" if quad else ""
            # the reactive terms only where there are some (q in MVAr, injected)
            cq1 = float(r.get("cost_per_mvarh") or 0.0)
            cq2 = float(r.get("cost_per_mvar2_per_h") or 0.0)
            if cq1 or cq2:
                quad_text += f" + {_g(cq1)} per MVAr h + {_g(cq2)} per MVAr^2 h"
            out.append({"id": str(r["id"]), "kind": "generator", "bus": at(str(r["bus"])),
                        "control": Control.DG.value, "p_min_mw": r["p_min_mw"],
                        "p_max_mw": r["p_max_mw"], "q_min_mvar": r["q_min_mvar"],
                        "q_max_mvar": r["q_max_mvar"], "cost_per_mwh": cost,
                        "cost_per_mw2_per_h": quad, "fixed_cost_per_h": fixed,
                        "cost_per_mvarh": float(r.get("cost_per_mvarh") or 0.0),
                        "cost_per_mvar2_per_h": float(r.get("cost_per_mvar2_per_h") or 0.0),
                        "p_mw": r["p_mw"], "q_mvar": r["q_mvar"],
                        "must_run": bool(r.get("must_run") or False),
                        "range": ("always on (must run): " if r.get("must_run") else "off, or ")
                                 + f"{_g(r['p_min_mw'])}..{_g(r['p_max_mw'])} MW and "
                                 f"{_g(r['q_min_mvar'])}..{_g(r['q_max_mvar'])} MVAr at "
                                 f"{_g(cost)} per MWh{quad_text} + {_g(fixed)} per h",
                        "base": f"{_g(r['p_mw'])} MW, {_g(r['q_mvar'])} MVAr"})
    ld = flexible_loads(net.loads)
    for r in ld.iter_rows(named=True):
        share = float(r["flex_share"] or 0.0) if float(r["p_mw"]) > 0 else 0.0
        price = float(r.get("flex_price_per_mwh") or 0.0)
        text = (f"reduce by up to {_g(share * float(r['p_mw']) * 1000)} kW "
                f"({_g(share * 100)} %) at {_g(price)} per MWh")
        flex_row: dict[str, object] = {
            "id": str(r["id"]), "kind": "flexible_load", "bus": at(str(r["bus"])),
            "control": Control.FLEX.value, "p_mw": r["p_mw"], "flex_share": share,
            "flex_price_per_mwh": price}
        if r.get("flex_q_min_mvar") is not None and r.get("flex_q_max_mvar") is not None:
            cq1 = float(r.get("flex_q_price_per_mvarh") or 0.0)
            cq2 = float(r.get("flex_q_cost_per_mvar2_per_h") or 0.0)
            flex_row.update(q_min_mvar=r["flex_q_min_mvar"], q_max_mvar=r["flex_q_max_mvar"],
                       q_price_per_mvarh=cq1, q_cost_per_mvar2_per_h=cq2)
            text += (f"; q {_g(r['flex_q_min_mvar'])}..{_g(r['flex_q_max_mvar'])} MVAr at "
                     f"{_g(cq1)} per MVAr h + {_g(cq2)} per MVAr^2 h")
        flex_row.update(range=text, base=f"{_g(r['p_mw'])} MW" + (
            f", {_g(r['q_mvar'])} MVAr" if "q_min_mvar" in flex_row else ""))
        out.append(flex_row)
    return out


@dataclass(frozen=True)
class PerUnitDevices:
    """The devices on the per-unit model (indices into the per-unit buses and generators).

    ``cap_q`` is a bank's injection per step at 1 p.u. [p.u.], ``cap_p`` what it consumes per
    step at 1 p.u. [p.u.] (pandapower's lossy bank, ``p_mw`` per step; both switch with the
    chosen step); ``tap_ratios[k]`` the positions
    of OLTC ``k``; ``gen_commit`` the committable generators that may be off (a binary
    ``on`` each); ``gen_must_run`` the committed ones (``must_run``: dispatched within their
    limits, no binary, never off); ``flex_p`` the largest reduction
    of each flexible load [p.u.], ``flex_q_per_p`` its power factor ratio ``q / p``.
    Costs are per hour in the currency of the data (``flex_price`` per p.u. hour).
    """

    cap_ids: list[str] = field(default_factory=list)
    cap_bus: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    cap_q: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cap_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cap_max_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    cap_base_step: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    tap_bus: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    tap_ratios: list[np.ndarray] = field(default_factory=list)
    tap_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))  # kW per position moved
    #: Per OLTC: its transformer branch, or -1 for a source (substation) OLTC.
    tap_branch: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    #: Per OLTC: its base ratio (1 at a source; the branch's tap_ratio on a transformer).
    tap_neutral: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Per OLTC: the ratio step of a source OLTC (its positions are ``1 + k step``), 0 on a
    #: transformer (its positions are counted along ``tap_ratios``).
    tap_step: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gen_commit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    gen_must_run: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    gen_fixed_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per hour, on
    #: Per must-run unit (``gen_must_run``): its fixed cost per hour, paid every hour (it is
    #: always on), a constant of the objective.
    gen_must_run_fixed_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: The committable generators with a voltage set-point (``v_set_pu``: pandapower's
    #: ``controllable`` gen) whose bus voltage the DOPF chooses within the bus's
    #: ``v_min_pu..v_max_pu``, as ``runopp`` does for a controllable gen; the set-point is
    #: only the data's base setting (:func:`feederopt.problems.dopf.with_free_gen_voltages`).
    gen_v_free: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    flex_ids: list[str] = field(default_factory=list)
    flex_bus: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    flex_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flex_q_per_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flex_price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: The flexible loads (indices into ``flex_ids``) whose q is a decision within
    #: ``flex_q_lo..flex_q_hi`` [p.u. consumed] (pandapower's controllable load's
    #: ``min/max_q_mvar``, as ``runopp`` takes it), apart from their p; ``flex_q_base`` their
    #: data's q [p.u.]; their cost ``flex_q_price q + flex_q_cost2 q^2 + flex_q_fixed`` per
    #: hour (per p.u., p.u.^2; pandapower's ``cq1``, ``-cq2``, ``-cq0``: ``runopp``'s sign -1
    #: on a load's injection ``-q``).
    flex_q: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    flex_q_base: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flex_q_lo: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flex_q_hi: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flex_q_price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flex_q_cost2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flex_q_fixed: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def flex_q_cost(self, q: np.ndarray) -> float:
        """``sum_j c_j q_j + c2_j q_j^2 + F_j`` [per hour] of the reactive-range loads at
        their consumed ``q`` [p.u.]."""
        q = np.asarray(q, float)
        return float(np.sum(self.flex_q_price * q + self.flex_q_cost2 * q**2
                            + self.flex_q_fixed)) if len(self.flex_q) else 0.0

    @property
    def n_cap(self) -> int:
        return len(self.cap_ids)

    @property
    def n_tap(self) -> int:
        return len(self.tap_bus)

    def tap_base_position(self, k: int) -> int:
        """The base position of OLTC ``k`` (ratio 1 at a source; nearest the branch's
        ``tap_ratio`` on a transformer)."""
        base = float(self.tap_neutral[k]) if len(self.tap_neutral) else 1.0
        return int(np.argmin(np.abs(self.tap_ratios[k] - base)))

    def tap_moves(self, k: int) -> np.ndarray:
        """Per ratio of OLTC ``k``: the positions it lies from the base, signed (up > 0). A
        source OLTC counts ``k`` of ``1 + k step`` (from ratio 1, also when the bus's band
        leaves ratio 1 out of its positions); a transformer's counts along its positions from
        :meth:`tap_base_position`."""
        ratios = self.tap_ratios[k]
        step = float(self.tap_step[k]) if len(self.tap_step) else 0.0
        if step > 0:
            return np.rint((ratios - 1.0) / step).astype(int)
        return np.arange(len(ratios)) - self.tap_base_position(k)

    def source_taps(self) -> np.ndarray:
        """The OLTCs at source buses."""
        return np.flatnonzero(self.tap_branch < 0) if len(self.tap_branch) else np.arange(
            self.n_tap)

    def branch_taps(self) -> np.ndarray:
        """The OLTCs on transformer branches."""
        return np.flatnonzero(self.tap_branch >= 0)

    def is_empty(self) -> bool:
        return not (self.n_cap or self.n_tap or len(self.gen_commit) or len(self.gen_must_run)
                    or len(self.flex_ids))


def tap_positions(lo: float, hi: float, step: float) -> np.ndarray:
    """The ratios ``1 + k step`` inside ``[lo, hi]`` (integer ``k``), ascending."""
    k_lo = math.ceil((lo - 1.0) / step - 1e-9)
    k_hi = math.floor((hi - 1.0) / step + 1e-9)
    return 1.0 + step * np.arange(k_lo, k_hi + 1)


def per_unit_devices(net: Network, pu: PerUnitNetwork,
                     controls: frozenset[Control] = ALL_CONTROLS) -> PerUnitDevices:
    """The devices of ``net`` that ``controls`` lets the optimiser set, on ``pu``."""
    index = {b: i for i, b in enumerate(pu.bus_ids)}
    s = pu.s_base_mva
    out: dict[str, object] = {}
    sh = net.shunts.filter(pl.col("in_service"))
    if Control.CAPS in controls and sh.height:
        sh = sh.filter(pl.col("controllable"))
        out.update(
            cap_ids=[str(i) for i in sh["id"].to_list()],
            cap_bus=np.array([index[str(b)] for b in sh["bus"].to_list()], dtype=int),
            cap_q=sh["q_mvar_per_step"].cast(pl.Float64).to_numpy() / s,
            cap_p=sh["p_mw_per_step"].cast(pl.Float64).fill_null(0.0).to_numpy() / s,
            cap_max_steps=sh["max_steps"].cast(pl.Int64).to_numpy(),
            cap_base_step=sh["step"].cast(pl.Int64).to_numpy(),
        )
    # a tap with a single position is no control (held: one_position_sources/_taps)
    b = net.buses.filter(pl.col("tap_min_pu").is_not_null()
                         & ~pl.col("id").is_in(list(one_position_sources(net.buses))))
    br = net.branches
    br = br.filter(pl.col("tap_controllable").fill_null(False) & pl.col("in_service")
                   & ~pl.col("id").is_in(list(one_position_taps(br)))) if (
        "tap_controllable" in br.columns) else br.clear()
    br_index = {b_: i for i, b_ in enumerate(pu.branch_ids)}
    br = br.filter(pl.col("id").is_in(list(br_index)))
    if Control.TAPS in controls and (b.height or br.height):
        src_ratios = []
        for r in b.iter_rows(named=True):
            i = index[str(r["id"])]
            src_ratios.append(source_tap_ratios(
                float(r["tap_min_pu"]), float(r["tap_max_pu"]), float(r["tap_step_pu"]),
                float(pu.v_set[i]), float(pu.v_min[i]), float(pu.v_max[i])))
        empty = tuple(str(r["id"]) for r, x in zip(b.iter_rows(named=True), src_ratios,
                                                    strict=True) if not len(x))
        if empty:  # the band of the solve (--v-min/--v-max) misses every position
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "buses", "no tap position of the source OLTC "
                "holds its bus within the voltage band of the solve (v_set_pu x ratio "
                "outside v_min..v_max at every position)", ids=empty, field="tap_min_pu",
                hint="widen the band (--v-min/--v-max or the bus's v_min_pu..v_max_pu) or "
                     "the tap range")])
        out.update(
            tap_bus=np.array([index[str(i)] for i in b["id"].to_list()]
                             + [index[str(i)] for i in br["from_bus"].to_list()], dtype=int),
            tap_cost=np.concatenate([
                b["tap_cost_kw"].cast(pl.Float64).fill_null(0.0).to_numpy(),
                np.zeros(br.height)]),
            tap_ratios=src_ratios
            + [np.linspace(float(r["tap_min_ratio"]), float(r["tap_max_ratio"]),
                           int(r["tap_steps"])) for r in br.iter_rows(named=True)],
            tap_step=np.concatenate([b["tap_step_pu"].cast(pl.Float64).to_numpy(),
                                     np.zeros(br.height)]),
            tap_branch=np.array([-1] * b.height + [br_index[str(i)] for i in br["id"].to_list()],
                                dtype=int),
            tap_neutral=np.concatenate([np.ones(b.height),
                                        br["tap_ratio"].cast(pl.Float64).to_numpy()]),
        )
    if Control.DG in controls and pu.n_gen:
        g = net.generators.filter(pl.col("in_service"))
        committable = g["committable"].to_numpy().astype(bool)
        must = (g["must_run"].fill_null(False).to_numpy().astype(bool) if "must_run" in g.columns
                else np.zeros(g.height, dtype=bool))
        # a committed (must-run) unit has no on/off binary: its pg, qg keep the limits
        commit = np.flatnonzero(committable & ~must)
        must_run = np.flatnonzero(committable & must)
        fixed = g["fixed_cost_per_h"].cast(pl.Float64).to_numpy()
        # a committable unit with a set-point (pandapower's controllable gen): its bus
        # voltage is a decision within the bus's band, as runopp takes it (not on a source)
        pv = (np.isfinite(pu.gen_v_set) & ~pu.is_source[pu.gen_bus] if pu.gen_v_set.size
              else np.zeros(g.height, dtype=bool))
        out.update(gen_commit=commit, gen_must_run=must_run, gen_fixed_cost=fixed[commit],
                   gen_must_run_fixed_cost=fixed[must_run],
                   gen_v_free=np.flatnonzero(committable & pv))
    ld = flexible_loads(net.loads)
    if Control.FLEX in controls and ld.height:
        p = ld["p_mw"].cast(pl.Float64).to_numpy()
        q = ld["q_mvar"].cast(pl.Float64).to_numpy()
        share = np.where(p > 0, ld["flex_share"].cast(pl.Float64).fill_null(0.0).to_numpy(),
                         0.0)
        q_lo, q_hi = load_q_range(ld)
        ranged = np.isfinite(q_lo) & np.isfinite(q_hi)

        def cost(col: str) -> np.ndarray:
            if col not in ld.columns:
                return np.zeros(ld.height)
            return ld[col].cast(pl.Float64).fill_null(0.0).to_numpy().astype(float)

        with np.errstate(divide="ignore", invalid="ignore"):
            q_per_p = np.where(ranged | ~(p > 0), 0.0, q / np.where(p > 0, p, 1.0))
        out.update(
            flex_ids=[str(i) for i in ld["id"].to_list()],
            flex_bus=np.array([index[str(x)] for x in ld["bus"].to_list()], dtype=int),
            flex_p=share * np.maximum(p, 0.0) / s,
            flex_q_per_p=q_per_p,
            flex_price=ld["flex_price_per_mwh"].cast(pl.Float64).to_numpy() * s,
            flex_q=np.flatnonzero(ranged),
            flex_q_base=q[ranged] / s,
            flex_q_lo=q_lo[ranged] / s,
            flex_q_hi=q_hi[ranged] / s,
            flex_q_price=cost("flex_q_price_per_mvarh")[ranged] * s,
            flex_q_cost2=cost("flex_q_cost_per_mvar2_per_h")[ranged] * s * s,
            flex_q_fixed=cost("flex_q_fixed_cost_per_h")[ranged],
        )
    return PerUnitDevices(**out)  # type: ignore[arg-type]


def running_fixed_cost_per_h(net: Network) -> float:
    """The fixed cost per hour [currency] of the committable generators that run whatever the
    reconfiguration decides, in a model that sets no on/off (devices held, :func:`fixed_at_base`,
    as LinDistFlow, ``--fix-devices``, ``--scenarios`` and ``--robust`` hold them): a must-run
    unit, and one whose limits exclude 0 (a set-point ``p_mw`` or ``q_mvar`` other than 0 when
    held; ``p_min_mw`` > 0 when not). ``sum_m F_m``, a constant of the objective, as the DOPF
    counts a must-run unit's (:meth:`~feederopt.problems.dopf.DopfProblem.must_run_fixed_kw`)
    and pandapower's ``runopp`` counts ``cp0_eur`` in ``res_cost``; a unit held at 0, 0 is
    off and costs nothing."""
    return float(sum(running_fixed_costs(net).values()))


def running_fixed_costs(net: Network) -> dict[str, float]:
    """Per generator id, the fixed cost per hour [currency] that
    :func:`running_fixed_cost_per_h` sums: the committable units that run whatever the
    reconfiguration decides and the in-service units that are no device (always on,
    :func:`always_on_fixed_cost_per_h`); a unit with no fixed cost is left out."""
    g = net.generators
    if not g.height or "fixed_cost_per_h" not in g.columns:
        return {}
    must = (pl.col("must_run").fill_null(False) if "must_run" in g.columns else pl.lit(False))
    runs = (must | (pl.col("p_min_mw") > 0) | (pl.col("p_max_mw") < 0)
            | (pl.col("q_min_mvar") > 0) | (pl.col("q_max_mvar") < 0))
    committable = pl.col("committable").fill_null(False)
    on = g.filter(pl.col("in_service") & ((committable & runs) | ~committable))
    return {str(i): float(f) for i, f in zip(
        on["id"].to_list(), on["fixed_cost_per_h"].cast(pl.Float64).fill_null(0.0).to_list(),
        strict=True) if f}


def always_on_fixed_cost_per_h(net: Network) -> float:
    """The fixed cost per hour [currency] of the in-service generators that are no device
    (not ``committable``): they always run (a pandapower ``gen`` with ``poly_cost.cp0_eur``,
    which ``runopp`` counts in ``res_cost`` every hour), a constant of every objective."""
    g = net.generators
    if not g.height or "fixed_cost_per_h" not in g.columns:
        return 0.0
    on = g.filter(pl.col("in_service") & ~pl.col("committable").fill_null(False))
    return float(on["fixed_cost_per_h"].cast(pl.Float64).fill_null(0.0).sum())


def fixed_at_base(net: Network, controls: frozenset[Control]) -> Network:
    """``net`` with the devices that ``controls`` leaves out held at their base settings: a
    committable generator then produces its set-point ``p_mw``, ``q_mvar`` (0, 0 = off by
    default) instead of anything within its limits; banks keep their ``step``, OLTC sources
    their ``v_set_pu`` and flexible loads their full demand without any change here."""
    g = net.generators
    if Control.DG in controls or not g.height or not g["committable"].any():
        return net
    c = pl.col("committable")
    # a voltage-controlling unit (a pandapower gen, v_set_pu given) keeps its q free within
    # its limits: it holds its bus's voltage, as the power flow runs it
    cq = c & (pl.col("v_set_pu").is_null() if "v_set_pu" in g.columns else pl.lit(True))
    # A pandapower controllable gen carries runopp's q limits (min/max_q_mvar, for the DOPF
    # that moves its voltage); held, it holds vm_pu as the net's own runpp does: whatever its
    # q unless that power flow enforces q limits (held_by_generator: a held PV bus, exact,
    # not the PV/PQ hull of pv_hull_rows).
    pp_meta = net.meta.get("pandapower") if isinstance(net.meta, dict) else None
    unlimited = (c & pl.col("v_set_pu").is_not_null() & (pl.col("pp_element") == "gen")
                 if isinstance(pp_meta, dict) and not pp_meta.get("enforce_q_lims", False)
                 and {"v_set_pu", "pp_element"} <= set(g.columns) else pl.lit(False))
    gens = g.with_columns(
        pl.when(c).then(pl.col("p_mw")).otherwise(pl.col("p_min_mw")).alias("p_min_mw"),
        pl.when(c).then(pl.col("p_mw")).otherwise(pl.col("p_max_mw")).alias("p_max_mw"),
        pl.when(cq).then(pl.col("q_mvar")).when(unlimited.fill_null(False)).then(-math.inf)
        .otherwise(pl.col("q_min_mvar")).alias("q_min_mvar"),
        pl.when(cq).then(pl.col("q_mvar")).when(unlimited.fill_null(False)).then(math.inf)
        .otherwise(pl.col("q_max_mvar")).alias("q_max_mvar"),
    )
    return net.replace(generators=gens)


def held_generation(net: Network) -> Network:
    """``net`` with every generator that is not a DOPF device (not ``committable``) held at its
    data set-point: ``p_min_mw = p_max_mw = p_mw``, and ``q_min_mvar = q_max_mvar = q_mvar``
    where it holds no voltage (``v_set_pu`` null); a voltage-controlling unit keeps its
    reactive range (it holds ``v_set_pu`` with ``q`` free within it, as the power flow runs
    it). The option ``fixed_generation`` (``--fixed-generation``): the injections of
    MATPOWER's ``runpf`` (MATPOWER User's Manual 8.1, section 4.1: ``PG`` fixed at a PV bus,
    ``PG + j QG`` at a PQ bus) instead of the default dispatch within
    ``p_min_mw..p_max_mw`` (MATPOWER's ``PMIN..PMAX``, ``QMIN..QMAX``), as ``runopf`` reads
    them. Committable generators are DOPF devices, held by ``fix_devices`` or ``controls``
    without ``dg``."""
    g = net.generators
    if not g.height:
        return net
    free = ~pl.col("committable").fill_null(False) if "committable" in g.columns else pl.lit(True)
    pq = free & (pl.col("v_set_pu").is_null() if "v_set_pu" in g.columns else pl.lit(True))
    gens = g.with_columns(
        pl.when(free).then(pl.col("p_mw")).otherwise(pl.col("p_min_mw")).alias("p_min_mw"),
        pl.when(free).then(pl.col("p_mw")).otherwise(pl.col("p_max_mw")).alias("p_max_mw"),
        pl.when(pq).then(pl.col("q_mvar")).otherwise(pl.col("q_min_mvar")).alias("q_min_mvar"),
        pl.when(pq).then(pl.col("q_mvar")).otherwise(pl.col("q_max_mvar")).alias("q_max_mvar"),
    )
    return net.replace(generators=gens)


def dispatchable_generators(net: Network) -> tuple[str, ...]:
    """The ids of the in-service generators, not DOPF devices (not ``committable``), whose
    ``p`` or (holding no voltage) ``q`` has a range wider than a point: every solve dispatches
    them within ``p_min_mw..p_max_mw`` and ``q_min_mvar..q_max_mvar`` at no cost unless
    ``loss_price_per_mwh`` prices them (:func:`held_generation` holds them)."""
    g = net.generators
    if not g.height:
        return ()
    free = ~pl.col("committable").fill_null(False) if "committable" in g.columns else pl.lit(True)
    on = pl.col("in_service").fill_null(True) if "in_service" in g.columns else pl.lit(True)
    pq = pl.col("v_set_pu").is_null() if "v_set_pu" in g.columns else pl.lit(True)
    wide = (pl.col("p_max_mw") > pl.col("p_min_mw")) | (
        pq & (pl.col("q_max_mvar") > pl.col("q_min_mvar")))
    return _ids(g, free & on & wide)


def committable_generators(net: Network) -> tuple[str, ...]:
    """The ids of the in-service DOPF generator devices (``committable``) of ``net`` whose
    ``p`` or (holding no voltage) ``q`` has a range wider than a point: the DOPF sets them
    (``Control.DG``) and :func:`held_generation` leaves them alone (``fix_devices`` or
    ``controls`` without ``dg`` hold them, :func:`fixed_at_base`)."""
    g = net.generators
    if not g.height or "committable" not in g.columns:
        return ()
    on = pl.col("in_service").fill_null(True) if "in_service" in g.columns else pl.lit(True)
    pq = pl.col("v_set_pu").is_null() if "v_set_pu" in g.columns else pl.lit(True)
    wide = (pl.col("p_max_mw") > pl.col("p_min_mw")) | (
        pq & (pl.col("q_max_mvar") > pl.col("q_min_mvar")))
    return _ids(g, pl.col("committable").fill_null(False) & on & wide)


def pp_tap_pos(trafo: Any, index: int) -> int:
    """pandapower's ``tap_pos`` of the DOPF's OLTC position ``index`` (0 at the lowest ratio,
    ``tap_min_ratio``) of the trafo row ``trafo``: ``tap_min + index`` when
    ``tap_step_percent`` is positive (the ratio rises with the position), ``tap_max - index``
    when it is negative (pandapower's ratio ``1 + (tap_pos - tap_neutral) step / 100`` falls
    as the position rises)."""
    step = trafo.get("tap_step_percent", 1.0)
    if step is not None and float(step) < 0:
        return round(float(trafo["tap_max"])) - index
    return round(float(trafo["tap_min"])) + index

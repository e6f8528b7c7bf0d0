"""User-facing table schemas of a feeder, in SI units with the unit in every column name.

Each table is a Polars DataFrame validated by a Patito model. The schemas are data: every column
has a type, a default and a description with its unit, so that importers, the folder format and
the documentation share one definition (in the spirit of PyPSA's component attribute tables).

Identifiers are strings in every table, and in every result (the tables, ``open_branches``,
``base``, the diagnosis). Importers whose native ids are integers (MATPOWER bus numbers,
pandapower indices) set ``Network.integer_ids``, which the folder format keeps.

Later issues (storage, time series, three-phase) add tables; a table that a network does not
use is simply empty.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import numpy as np
import patito as pt
import polars as pl


class BranchKind(StrEnum):
    """What a branch physically is."""

    LINE = "line"
    SWITCH = "switch"
    TRANSFORMER = "transformer"


class Bus(pt.Model):
    """A node of the feeder."""

    id: str = pt.Field(description="Unique bus id.")
    name: str | None = pt.Field(
        default=None, description="The element's name as its source calls it (pandapower's "
        "name column: 'MV1.101 Bus 14'), carried into the results beside the id; null: none.")
    vn_kv: float = pt.Field(gt=0, description=(
        "Nominal line-to-line voltage [kV]. A line or switch whose two buses are more than "
        "10 % apart (`|vn_f - vn_t| / max`; a 20 kV bus tied to a 0.4 kV one, pandapower's "
        "diagnostic `different_voltage_levels_connected`) is an `invalid_value` error naming "
        "the branch, both buses and their kV (only a transformer joins two levels); 5..10 % "
        "apart is a warning."))
    v_min_pu: float = pt.Field(default=0.9, description="Lower voltage limit [p.u.], not %: "
                               "a value from 20 to 200 is refused as a percentage.")
    v_max_pu: float = pt.Field(default=1.1, description="Upper voltage limit [p.u.], not %: "
                               "a value from 20 to 200 is refused as a percentage.")
    is_source: bool = pt.Field(default=False, description="Slack / substation bus.")
    v_set_pu: float = pt.Field(default=1.0, description="Source voltage set-point [p.u.].")
    source_p_max_mw: float | None = pt.Field(
        default=None, description="Source active-power capacity [MW]; null is unlimited."
    )
    source_s_max_mva: float | None = pt.Field(
        default=None, description="Source apparent-power capacity [MVA]; null is unlimited."
    )
    tap_min_pu: float | None = pt.Field(
        default=None, description="Substation OLTC at this source: lowest ratio [p.u.] (the "
        "source holds v_set_pu x ratio); null: no OLTC.")
    tap_max_pu: float | None = pt.Field(
        default=None, description="Substation OLTC: highest ratio [p.u.].")
    tap_step_pu: float | None = pt.Field(
        default=None, description="Substation OLTC: ratio change per tap position [p.u.]; the "
        "positions are 1 + k x step within tap_min_pu..tap_max_pu; a step of 0, or one that "
        "leaves ratio 1 alone in the range, is one position: held, with a warning.")
    tap_cost_kw: float = pt.Field(
        default=0.0, description="Substation OLTC: cost of each position moved away from the "
        "neutral ratio, in kW of losses (as a branch's switch_cost_kw).")
    import_price_per_mwh: float = pt.Field(
        default=0.0, description="Source: price of the active power it imports [currency per "
        "MWh] (export at the same price, as pandapower's ext_grid poly_cost cp1_eur_per_mw); "
        "priced in the objective with a loss price, as the DG cost is; 0: not priced.")
    import_cost_per_mw2_per_h: float = pt.Field(
        default=0.0, description="Source: quadratic cost of the active power it imports "
        "[currency per MW^2 per hour]: c2 ps^2 per hour, ps the import (pandapower's ext_grid "
        "poly_cost cp2_eur_per_mw2); >= 0 (convex); priced with a loss price; 0: none.")
    import_fixed_cost_per_h: float = pt.Field(
        default=0.0, description="Source: constant cost per hour (pandapower's ext_grid "
        "poly_cost cp0_eur, which runopp counts in res_cost); a constant of the objective "
        "with a loss price; 0: none.")
    import_q_price_per_mvarh: float = pt.Field(
        default=0.0, description="Source: price of the reactive power it injects [currency "
        "per MVAr h]: c_q qs per hour, qs the ext_grid's q (pandapower's ext_grid poly_cost "
        "cq1_eur_per_mvar, sign +1); priced with a loss price; 0: none.")
    import_q_cost_per_mvar2_per_h: float = pt.Field(
        default=0.0, description="Source: quadratic cost of the reactive power it injects "
        "[currency per MVAr^2 per hour]: c2_q qs^2 per hour (pandapower's ext_grid poly_cost "
        "cq2_eur_per_mvar2); >= 0 (convex); priced with a loss price; 0: none.")
    x: float | None = pt.Field(default=None, description="Geographic x / longitude, optional.")
    y: float | None = pt.Field(default=None, description="Geographic y / latitude, optional.")


class Branch(pt.Model):
    """A line, switch or transformer between two buses (pi model, series impedance in Ohm).

    For a transformer, ``r_ohm`` and ``x_ohm`` are referred to the ``from_bus`` voltage level and
    ``tap_ratio`` is the off-nominal ratio on the from side. The shunt admittance is split over
    the two ends as in MATPOWER and pandapower: ``(g_us + j b_us) / 2`` at the from end (behind
    the tap) and ``(g_us + g_asym_us + j (b_us + b_asym_us)) / 2`` at the to end; a transformer's
    magnetising branch (its T model turned into a pi) lands there.
    """

    id: str = pt.Field(description="Unique branch id.")
    name: str | None = pt.Field(
        default=None, description="The element's name as its source calls it (pandapower's "
        "name column: 'MV1.101 Bus 14'), carried into the results beside the id; null: none.")
    from_bus: str = pt.Field(description="Bus id at the from end.")
    to_bus: str = pt.Field(description="Bus id at the to end.")
    r_ohm: float = pt.Field(description="Series resistance [Ohm]; zero only on a switch.")
    x_ohm: float = pt.Field(description="Series reactance [Ohm]; zero only on a switch.")
    b_us: float = pt.Field(default=0.0, description="Total shunt susceptance [uS].")
    g_us: float = pt.Field(default=0.0, description="Total shunt conductance [uS].")
    g_asym_us: float = pt.Field(
        default=0.0, description="Shunt conductance added at the to end only [uS]."
    )
    b_asym_us: float = pt.Field(
        default=0.0, description="Shunt susceptance added at the to end only [uS]."
    )
    i_max_ka: float | None = pt.Field(
        default=None, description="Current rating [kA], read at the from bus's nominal "
        "voltage (vn_kv of from_bus). For a transformer that is the rated power over "
        "sqrt(3) x the from bus's kV, whichever side that is: a 0.63 MVA 20/0.4 kV "
        "transformer from its 20 kV bus is 0.0182 kA, not its 0.4 kV nameplate 0.909 kA "
        "(which reads as 31.5 MVA; a warning names a rating more than 10 times off its "
        "s_max_mva, or the rating its impedance gives at a 6 % short-circuit voltage). "
        "9999 or more, or inf, is a placeholder for no rating (pandapower's 99999): read as "
        "empty, with a note naming the branches, as pandapower's max_i_ka; from 20 up to that "
        "a warning says it looks given in A; NaN, 0 or a negative value is refused, the "
        "message naming the value found (NaN found).")
    s_max_mva: float | None = pt.Field(
        default=None, description="Thermal rating [MVA], not kVA: a warning names a "
        "transformer whose s_max_mva is more than 10 times the rating its impedance gives at a "
        "6 % short-circuit voltage (16000 for a 16 MVA transformer: write 16).")
    kind: Literal["line", "switch", "transformer"] = pt.Field(
        default="line", description="line | switch | transformer."
    )
    switchable: bool = pt.Field(default=False, description="Can the optimiser open it?")
    normally_open: bool = pt.Field(default=False, description="Open in the base case (tie).")
    in_service: bool = pt.Field(default=True, description="False removes the branch entirely.")
    open_end_energised: Literal["from", "to"] | None = pt.Field(
        default=None,
        description="When open, the end that stays connected (its shunts then still load that "
        "bus, as a line whose switch opens at one end only); null: open at both ends.",
    )
    tap_ratio: float = pt.Field(default=1.0, description="Off-nominal tap ratio [p.u.]; on "
                                "an OLTC (tap_controllable) its base-case position, within "
                                "tap_min_ratio..tap_max_ratio.")
    tap_rated_ratio: float | None = pt.Field(
        default=None, description="A transformer's ratio at its rated winding voltages "
        "(untapped) [p.u.], where it differs from tap_ratio: the rating i_max_ka (of the "
        "series, lv-side current) then holds on the hv winding as i_max_ka / tap_rated_ratio "
        "in from-end p.u., so the series current is limited to i_max_ka min(1, tap_ratio / "
        "tap_rated_ratio); null: tap_ratio (the rating binds on both sides alike).")
    tap_min_ratio: float | None = pt.Field(default=None, description="Lowest tap ratio [p.u.].")
    tap_max_ratio: float | None = pt.Field(default=None, description="Highest tap ratio [p.u.].")
    tap_steps: int | None = pt.Field(default=None, description="Number of tap positions.")
    tap_controllable: bool = pt.Field(
        default=False, description="Transformer OLTC / voltage regulator that the DOPF sets: "
        "tap_steps positions evenly spaced from tap_min_ratio to tap_max_ratio; "
        "tap_min_ratio = tap_max_ratio is one position: held, with a warning.")
    switch_cost_kw: float = pt.Field(
        default=0.0, description="Cost of one switching action, in kW of losses (the column "
        "was named switch_cost before; that name is still read).")


class Load(pt.Model):
    """A constant-power load (positive p_mw consumes)."""

    id: str = pt.Field(description="Unique load id.")
    name: str | None = pt.Field(
        default=None, description="The element's name as its source calls it (pandapower's "
        "name column: 'MV1.101 Bus 14'), carried into the results beside the id; null: none.")
    bus: str = pt.Field(description="Bus id.")
    p_mw: float = pt.Field(description="Active power [MW].")
    q_mvar: float = pt.Field(description="Reactive power [MVAr].")
    priority: float = pt.Field(default=1.0, description="Weight of its shed power in the "
                               "shedding cost of restore and plan (>= 0).")
    sheddable: bool = pt.Field(default=True, description="Can restore and plan shed it? "
                               "(false: it must stay supplied)")
    flex_share: float = pt.Field(
        default=0.0, description="Flexible prosumer: share of p_mw and q_mvar (same power "
        "factor) that the optimiser may reduce [0..1].")
    flex_price_per_mwh: float = pt.Field(
        default=0.0, description="Price of that flexibility [currency per MWh reduced].")
    flex_q_min_mvar: float | None = pt.Field(
        default=None, description="Flexible prosumer's reactive range [MVAr] (pandapower's "
        "min_q_mvar of a controllable load): with flex_q_max_mvar, the DOPF chooses its q "
        "within flex_q_min_mvar..flex_q_max_mvar, apart from its p (as runopp does); empty: "
        "its q follows its p at its power factor.")
    flex_q_max_mvar: float | None = pt.Field(
        default=None, description="The top of that range [MVAr] (pandapower's max_q_mvar).")
    flex_q_price_per_mvarh: float = pt.Field(
        default=0.0, description="Cost of the load's reactive power within that range, c_q q "
        "per hour [currency per MVAr h] (pandapower's poly_cost cq1_eur_per_mvar of the "
        "load); any sign; priced with a loss price.")
    flex_q_cost_per_mvar2_per_h: float = pt.Field(
        default=0.0, description="c2_q q^2 per hour [currency per MVAr^2 h] (minus pandapower's "
        "cq2_eur_per_mvar2 of the load: runopp's sign -1); >= 0 (convex).")
    flex_q_fixed_cost_per_h: float = pt.Field(
        default=0.0, description="Constant per hour [currency per h] of a load with a "
        "reactive range (minus pandapower's cq0_eur of the load: runopp's sign -1).")
    in_service: bool = pt.Field(default=True, description="False leaves the row out of the "
                                "network entirely.")


class Generator(pt.Model):
    """A generator or DER. A fixed injection has p_min_mw == p_max_mw.

    A row that gives neither limit of a pair (both columns left out, or both cells empty) is
    a fixed injection at its set-point: ``p_min_mw = p_max_mw = p_mw``, and likewise
    ``q_min_mvar = q_max_mvar = q_mvar`` (:data:`SET_POINT_RANGES`); a limit given alone
    leaves the other at its default 0."""

    id: str = pt.Field(description="Unique generator id.")
    name: str | None = pt.Field(
        default=None, description="The element's name as its source calls it (pandapower's "
        "name column: 'MV1.101 Bus 14'), carried into the results beside the id; null: none.")
    bus: str = pt.Field(description="Bus id.")
    p_mw: float = pt.Field(default=0.0, description="Set-point [MW] (used by the AC check).")
    q_mvar: float = pt.Field(default=0.0, description="Set-point [MVAr].")
    p_min_mw: float = pt.Field(default=0.0, description="Lower active limit [MW]; without "
                               "p_min_mw and p_max_mw a row is fixed at its p_mw.")
    p_max_mw: float = pt.Field(default=0.0, description="Upper active limit [MW]; without "
                               "p_min_mw and p_max_mw a row is fixed at its p_mw.")
    q_min_mvar: float = pt.Field(default=0.0, description="Lower reactive limit [MVAr]; "
                                 "without q_min_mvar and q_max_mvar a row is fixed at its "
                                 "q_mvar.")
    q_max_mvar: float = pt.Field(default=0.0, description="Upper reactive limit [MVAr]; "
                                 "without q_min_mvar and q_max_mvar a row is fixed at its "
                                 "q_mvar.")
    cost_per_mwh: float = pt.Field(default=0.0, description="Linear energy cost [per MWh].")
    cost_per_mw2_per_h: float = pt.Field(
        default=0.0, description="Quadratic energy cost [per MW^2 per hour]: c2 p^2 per hour "
        "(pandapower's poly_cost cp2_eur_per_mw2); >= 0 (convex).")
    cost_per_mvarh: float = pt.Field(
        default=0.0, description="Linear cost of the reactive power it injects [per MVAr h]: "
        "c_q q per hour (pandapower's poly_cost cq1_eur_per_mvar, sign +1); a negative one "
        "rewards reactive output.")
    cost_per_mvar2_per_h: float = pt.Field(
        default=0.0, description="Quadratic cost of the reactive power it injects [per MVAr^2 "
        "per hour]: c2_q q^2 per hour (pandapower's poly_cost cq2_eur_per_mvar2); >= 0 "
        "(convex).")
    v_set_pu: float | None = pt.Field(
        default=None,
        description="Voltage set-point [p.u.] of a voltage-controlling generator (a PV bus, "
        "pandapower's gen): it holds |V| of its bus at this value with q free within "
        "q_min_mvar..q_max_mvar (may be -inf..inf); null: p and q are injections. A "
        "committable one (pandapower's controllable gen) is a DOPF device whose bus voltage "
        "the optimiser chooses within the bus's band (control dg): this is its base setting.",
    )
    can_grid_form: bool = pt.Field(default=False, description="Grid-forming capable.")
    committable: bool = pt.Field(
        default=False, description="The optimiser may switch it on or off (unit commitment); "
        "off, it produces nothing; on, p and q lie within their limits.")
    must_run: bool = pt.Field(
        default=False, description="With committable: the unit is committed (always on): the "
        "optimiser dispatches p and q within their limits but cannot switch it off "
        "(pandapower's controllable sgen with min_p_mw > 0, as pandapower's OPF runs it); "
        "false: it may also be off.")
    fixed_cost_per_h: float = pt.Field(
        default=0.0, description="Cost while switched on [currency per hour] (a must-run "
        "unit's every hour: in the DOPF's DG cost and objective as a constant).")
    in_service: bool = pt.Field(default=True, description="False leaves the row out of the "
                                "network entirely.")


class Shunt(pt.Model):
    """A switched shunt (a constant admittance): it injects ``step * q_mvar_per_step`` and
    consumes ``step * p_mw_per_step`` at 1 p.u. voltage, both proportional to |V|^2."""

    id: str = pt.Field(description="Unique shunt id.")
    name: str | None = pt.Field(
        default=None, description="The element's name as its source calls it (pandapower's "
        "name column: 'MV1.101 Bus 14'), carried into the results beside the id; null: none.")
    bus: str = pt.Field(description="Bus id.")
    q_mvar_per_step: float = pt.Field(description="Reactive injection per step at 1 p.u. [MVAr].")
    p_mw_per_step: float = pt.Field(
        default=0.0, description="Active consumption per step at 1 p.u. [MW]."
    )
    max_steps: int = pt.Field(default=1, ge=0, description="Number of steps available.")
    step: int = pt.Field(default=0, ge=0, description="Step in the base case.")
    controllable: bool = pt.Field(
        default=False, description="The optimiser may choose its step (0..max_steps).")
    open_branch_end: bool = pt.Field(
        default=False, description="The input admittance of a branch open at its far end (a "
        "pandapower line to an out-of-service bus): its consumption is a loss of the network, "
        "as pandapower counts a charged line's in its res_line, not a load.")
    in_service: bool = pt.Field(default=True, description="False leaves the row out of the "
                                "network entirely.")


#: Every table a network holds, in a fixed order, with its schema.
TABLES: dict[str, type[pt.Model]] = {
    "buses": Bus,
    "branches": Branch,
    "loads": Load,
    "generators": Generator,
    "shunts": Shunt,
}


#: The per-km columns of a table folder's branches table and the totals they give
#: (:mod:`feederopt.network.per_km`: total = per-km value x ``length_km``; docs/columns.md).
PER_KM_COLUMNS = {"r_ohm_per_km": "r_ohm", "x_ohm_per_km": "x_ohm",
                  "b_us_per_km": "b_us", "g_us_per_km": "g_us"}
#: The line length column [km] that the per-km columns go with.
LENGTH_COLUMN = "length_km"

#: Columns beyond the schema that importers write and read back (a folder written from a
#: pandapower or MATPOWER network keeps them): where each row came from in pandapower, and
#: MATPOWER's phase shift; and a line's ``length_km`` (docs/columns.md: a folder's per-km
#: impedances go with it; given with the totals alone it is kept as it is, user test
#: ut46_iobad #6 was told it was unknown). Any other column is reported as unknown (a warning).
EXTENSION_COLUMNS: dict[str, tuple[str, ...]] = {
    "branches": ("pp_element", "pp_index", "shift_deg", LENGTH_COLUMN),
    "loads": ("pp_element", "pp_index"),
    "generators": ("pp_element", "pp_index"),
    "shunts": ("pp_element", "pp_index"),
}


def nan_as_null(table: pl.DataFrame) -> pl.DataFrame:
    """``table`` with every NaN of a float column as null: a quantity that does not exist (a
    branch without a rating has no loading, a bus no AC voltage when no AC check ran) is
    missing, and Polars and Parquet say so by null. A NaN is a number to Polars, greater than
    every other: ``filter(pl.col("loading_ac_percent") > 100)`` returned the branches without a
    rating (user tests ut_out #1 for the files, ut33_api #1 for the tables in memory). The one
    rule for every table feederopt gives: a result's tables (:class:`feederopt.results.result.
    Result`) and every table written (:func:`feederopt.io.writing.write_table`); JSON has no
    NaN and writes null already (:func:`~feederopt.results.result.finite_json`). Infinities
    (an unbounded generator limit) are numbers, kept."""
    floats = [c for c, t in table.schema.items() if t.is_float()]
    if not floats:
        return table
    return table.with_columns(pl.col(c).fill_nan(None) for c in floats)


def polars_schema(model: type[pt.Model]) -> dict[str, pl.DataType]:
    """The Polars dtypes of a schema's columns (Literal columns are stored as strings)."""
    out: dict[str, pl.DataType] = {}
    for name, dtype in model.dtypes.items():
        out[name] = pl.String() if isinstance(dtype, pl.Enum) else dtype
    return out


def empty_table(model: type[pt.Model]) -> pl.DataFrame:
    """An empty DataFrame with the schema's columns and dtypes."""
    return pl.DataFrame(schema=polars_schema(model))


#: Columns read under their earlier names: table -> {earlier name: name}.
RENAMED_COLUMNS: dict[str, dict[str, str]] = {"branches": {"switch_cost": "switch_cost_kw"}}


#: Columns whose empty cell means the schema's default, filled when a table is completed (so
#: by every reader): the model read an empty source ``v_set_pu`` as 1.0 while the AC check's
#: pandapower net got NaN and failed (user test ut_edge #2).
#: The voltage band's empty cells likewise: the model took 0.9/1.1, the export NaN limits.
#: A default is otherwise what a column left out means: an empty cell of a Boolean column
#: (``switchable``, ``in_service``) is refused, as one of a required column is
#: (:func:`null_is_refused`), never read as false.
NULL_IS_DEFAULT: dict[type[pt.Model], tuple[str, ...]] = {
    Bus: ("v_set_pu", "v_min_pu", "v_max_pu")}


def null_is_refused(model: type[pt.Model], col: str) -> bool:
    """Is an empty cell (null) in ``col`` an error? In a required column, and in a Boolean
    one: a schema's default is what a column left out means, not an empty cell (only the
    columns of :data:`NULL_IS_DEFAULT` document that, and no
    Boolean is among them). An empty ``switchable`` read as false fixed a tie closed and
    solved "optimal" at 132.45 kW where the optimum, with it open, is 100.67 kW; an empty
    ``in_service`` dropped a load from one model and kept it in another (user test ut36_api
    #2)."""
    if model.model_fields[col].is_required():
        return True
    return polars_schema(model).get(col) == pl.Boolean and col not in NULL_IS_DEFAULT.get(
        model, ())


#: A set-point and the two limits of the range the optimiser dispatches it within, per
#: table: a row that gives neither limit (both columns left out, or both cells empty) is held
#: at its set-point (the limits are filled with it when a table is completed, so by every
#: reader), a fixed injection as the base case and the AC check run it. The limits' defaults
#: 0 clamped such a generator to nothing: a generators.csv of ``id,bus,p_mw,q_mvar`` ran the
#: base case with 2.5 MW of PV (65.98 kW) and solved "optimal" at 277.68 kW with the PV
#: "re-dispatched" to 0 (user test ut37 gendef #1). A limit given alone keeps the other's
#: default; a set-point outside limits given is refused by validation.
SET_POINT_RANGES: dict[type[pt.Model], tuple[tuple[str, str, str], ...]] = {
    Generator: (("p_mw", "p_min_mw", "p_max_mw"), ("q_mvar", "q_min_mvar", "q_max_mvar"))}


def without_limits(model: type[pt.Model], df: pl.DataFrame) -> dict[str, pl.Series]:
    """Per set-point column of :data:`SET_POINT_RANGES` (``p_mw``), the mask of the rows of
    ``df`` that give neither of its limits: both columns left out, or both cells empty."""
    out: dict[str, pl.Series] = {}
    for point, lo, hi in SET_POINT_RANGES.get(model, ()):
        mask = pl.Series(point, [True] * df.height, dtype=pl.Boolean)
        for col in (lo, hi):
            if col in df.columns:
                mask = mask & df[col].is_null()
        out[point] = mask
    return out


def complete_table(model: type[pt.Model], df: pl.DataFrame) -> pl.DataFrame:
    """Add missing optional columns with their defaults and cast every column to its dtype;
    fill the empty cells of :data:`NULL_IS_DEFAULT`'s columns with their defaults, and the
    limits of a row that gives neither of a pair with its set-point
    (:data:`SET_POINT_RANGES`). ``df``
    itself when it is complete already (:func:`is_complete`), so that a network's tables keep
    their identity (:meth:`Network.replace` of an unchanged table, :meth:`Network.check`).

    Columns that the schema does not know are kept at the end, untouched. A missing required
    column is left missing; :func:`feederopt.network.validate.validate` reports it.
    """
    if is_complete(model, df):
        return df
    schema = polars_schema(model)
    defaults = model.defaults
    exprs: list[pl.Expr | pl.Series] = []
    for name, dtype in schema.items():
        if name in df.columns:
            try:
                col = _cast(df[name], dtype)
                if name in NULL_IS_DEFAULT.get(model, ()):
                    col = col.fill_null(defaults[name])
                exprs.append(col.alias(name))
            except (pl.exceptions.PolarsError, TypeError, ValueError):
                # not castable at all (a list in a numeric column): said by cast_failures
                exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif name in defaults or _is_optional(model, name):
            exprs.append(pl.lit(defaults.get(name), dtype=dtype).alias(name))
    extra = [c for c in df.columns if c not in schema]
    if df.height == 0 and not df.columns:
        return empty_table(model)
    out = df.select([*exprs, *[pl.col(c) for c in extra]])
    fixed = without_limits(model, df)
    ranges = [(point, lo, hi) for point, lo, hi in SET_POINT_RANGES.get(model, ())
              if fixed[point].any() and point in out.columns]
    if ranges:
        out = out.with_columns(
            pl.when(pl.lit(fixed[point])).then(pl.col(point)).otherwise(pl.col(col))
            .alias(col) for point, lo, hi in ranges for col in (lo, hi))
    return out


def is_complete(model: type[pt.Model], df: pl.DataFrame) -> bool:
    """Is ``df`` what :func:`complete_table` makes of it: the schema's columns first, in its
    order and of its dtypes, the unknown ones after them, no empty cell in a column of
    :data:`NULL_IS_DEFAULT`, no row without the limits of a set-point
    (:data:`SET_POINT_RANGES`)? (A missing required column is left missing there too.)"""
    schema = polars_schema(model)
    defaults = model.defaults
    wanted = [n for n in schema if n in df.columns or n in defaults or _is_optional(model, n)]
    return (df.columns[:len(wanted)] == wanted
            and all(df.schema[n] == schema[n] for n in wanted)
            and not any(c in schema for c in df.columns[len(wanted):])
            and not any(df[c].null_count() for c in NULL_IS_DEFAULT.get(model, ())
                        if c in df.columns)
            and not any(m.any() for m in without_limits(model, df).values()))


#: The texts a Boolean column takes from a string one (case-insensitive), as the CSV reader
#: reads them; any other text is a failed cast.
BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False}


def cast_failures(model: type[pt.Model], df: pl.DataFrame) -> dict[str, list[int]]:
    """Per column of ``df`` that ``model`` types, the rows whose value does not cast to the
    column's dtype (:func:`complete_table` would make them null, the column's "not given":
    ``i_max_ka = "0.1 kA"`` read as no rating; user test ut_api #1), and whole columns that do
    not cast at all (a list in a numeric column, text in a Boolean one: ``[-1]``)."""
    schema = polars_schema(model)
    out: dict[str, list[int]] = {}
    for name, dtype in schema.items():
        if name not in df.columns:
            continue
        col = df[name]
        try:
            cast = _cast(col, dtype)
        except (pl.exceptions.PolarsError, TypeError, ValueError):
            out[name] = [-1]
            continue
        bad = (col.is_not_null() & cast.is_null()).to_numpy()
        if bad.any():
            out[name] = [int(i) for i in np.flatnonzero(bad)]
    return out


def _cast(col: pl.Series, dtype: pl.DataType) -> pl.Series:
    """``col`` cast to ``dtype`` without failing: a value that does not cast becomes null; a
    string column to Boolean by :data:`BOOL_TEXT`."""
    if dtype == pl.Boolean and col.dtype in (pl.String, pl.Utf8):
        return col.str.strip_chars().str.to_lowercase().replace_strict(
            BOOL_TEXT, default=None, return_dtype=pl.Boolean)
    return col.cast(dtype, strict=False)


def _is_optional(model: type[pt.Model], name: str) -> bool:
    field = model.model_fields[name]
    return not field.is_required()

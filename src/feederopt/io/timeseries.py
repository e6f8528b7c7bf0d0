"""Reading and validating the inputs of a day-ahead schedule: the long profile table
``(time, element, value)`` and the folder of device tables (``dg.csv``, ``ess.csv``, ``pv.csv``,
``wind.csv``, ``ev.csv``; Parquet too). Formats: :mod:`feederopt.network.timeseries`.

Every defect is a typed :class:`~feederopt.errors.Problem` of kind ``BAD_TIMESERIES`` (the CLI
exits with code 2): a missing column, a non-numeric value, an unknown element, a missing hour
(an element without a value at some hour of the horizon), a duplicate ``(time, element)``, a
step that is not one hour, a negative factor, a PV/wind/EV factor above 1, a load or generator
factor that makes its power absurdly large (:func:`huge_profile_problems`), a negative purchase
price (the reserved element ``price``, $/MWh: :data:`~feederopt.network.timeseries.PRICE`), a
load, generator or device id ``price`` beside a ``price`` element (ambiguous); for devices: an
unknown bus, a duplicate id, a negative rating, an efficiency outside ``(0, 1]``, and (kind
``UNKNOWN_COLUMN``) a column the schedule does not read (:func:`known_columns`; in the profile
table, any column but :data:`~feederopt.network.timeseries.PROFILE_COLUMNS`). An id written
as an integral float (a bus ``15.0``, a profile element ``7.0``) is the integer id
(:func:`match_id`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from feederopt.errors import (
    InputError,
    Problem,
    ProblemKind,
    Severity,
    share_hint,
    shown_list,
)
from feederopt.io._common import (
    duplicate_columns,
    is_broken_link,
    match_id,
    missing,
    natural_key,
    not_a_readable_file,
    read_long_table,
)
from feederopt.io.folder import entry_problems, likely_table, misnamed_problems
from feederopt.io.scenarios import load_id_hint
from feederopt.network.container import Network
from feederopt.network.id_hints import meant_ids
from feederopt.network.timeseries import (
    DEVICE_COLUMNS,
    OPTIONAL_COLUMNS,
    PRICE,
    PROFILE_COLUMNS,
    PROFILED,
    DeviceKind,
    Devices,
    Profiles,
    clock_text,
    empty_table,
)
from feederopt.network.validate import LOAD_PU_MAX, MAGNITUDE_BASE_MVA

SUFFIXES = (".csv", ".parquet")
#: A profile table beside the device tables (the built-in cases' layout), which
#: :func:`load_devices` passes over.
PROFILE_FILES = tuple(f"profiles{s}" for s in SUFFIXES)


#: How a message names the device kinds.
_KIND_NAMES = {DeviceKind.DG: "fossil DG", DeviceKind.ESS: "storage (ESS)",
               DeviceKind.PV: "PV", DeviceKind.WIND: "wind", DeviceKind.EV: "EV"}


def _problem(component: str, message: str, ids: tuple[str, ...] = (), field: str | None = None,
             hint: str = "") -> Problem:
    return Problem(ProblemKind.BAD_TIMESERIES, component, message, ids=ids, field=field,
                   hint=hint)


def read_table(path: str | Path, what: str) -> pl.DataFrame:
    """A ``.csv`` (every column read as text) or ``.parquet`` table, columns in lower case."""
    df = read_long_table(path, what)
    return df.rename({c: c.strip().lower() for c in df.columns})


# ----- profiles -----------------------------------------------------------------------------
def _hour_index(col: pl.Series, elements: list[str] | None = None
                ) -> tuple[np.ndarray | None, list[Problem], list[datetime]]:
    """Integer hours 0..; timestamps become hours since the first (with a UTC offset, the
    hours between the instants: a 25-hour day's ``02:00+02:00`` and ``02:00+01:00`` are
    hours 2 and 3), each row's timestamp returned too (empty for hour indices); anything else
    a problem (also timestamps of which some carry a UTC offset and others none: their
    difference is undefined; the problem names the data rows, counted from 1, and their
    ``elements``)."""
    text = col.cast(pl.String).str.strip_chars()
    blank = [i for i, t in enumerate(text.to_list()) if t is None or t == ""]
    if blank:
        # before: "time is neither an hour index nor a timestamp" naming the first valid
        # times, not the row without one (user test ut_s18 #2)
        where = [f"row {i + 1}" + (f" ({elements[i]})" if elements and elements[i] else "")
                 for i in blank]
        return None, [_problem(
            "profiles", f"time is missing in {len(blank)} row(s) (data rows counted from 1)",
            tuple(where[:10]), "time", "give every row its hour index 0..23 or timestamp")], []
    as_float = text.cast(pl.Float64, strict=False)
    if as_float.null_count() == 0:
        vals = as_float.to_numpy()
        if np.any(vals != np.round(vals)):
            bad = sorted({str(v) for v in vals[vals != np.round(vals)]})
            return None, [_problem("profiles", "time is not on whole hours (the step must be one "
                                   "hour)", tuple(bad[:10]), "time",
                                   _sub_hourly_hint(vals, stamps=False)
                                   or "give hour indices 0..23 or timestamps one hour apart")], []
        return vals.astype(int), [], []
    values = [str(t) for t in text.to_list()]
    stamp = [_is_stamp(t) for t in values]
    if not all(stamp):
        return None, [_time_kind_problem(values, as_float.to_numpy(), stamp, elements,
                                         col.dtype == pl.Boolean)], []
    stamps = [datetime.fromisoformat(t) for t in values]
    aware = [s.utcoffset() is not None for s in stamps]
    if any(aware) and not all(aware):
        # before: min() of naive and aware datetimes, a TypeError (user test ut_sched4 #1)
        naive_rows = [i for i, a in enumerate(aware) if not a]
        aware_rows = [i for i, a in enumerate(aware) if a]

        def named(rows: list[int]) -> str:
            return ", ".join(f"row {i + 1}" + (f" ({elements[i]})" if elements else "")
                             for i in rows[:3]) + (" ..." if len(rows) > 3 else "")

        ids = sorted({elements[i] for i in naive_rows} if elements else
                     {str(text[i]) for i in naive_rows[:5]})
        return None, [_problem(
            "profiles", f"timestamps mix time zones: {len(aware_rows)} carry a UTC offset "
            f"({named(aware_rows)}), {len(naive_rows)} none ({named(naive_rows)}); the hours "
            "between them are not defined", tuple(ids[:10]), "time",
            "give every timestamp with its offset (2024-06-01T00:00:00+02:00) or none of them")], []
    t0 = min(stamps)
    hours = np.array([(s - t0) / timedelta(hours=1) for s in stamps])
    if np.any(hours != np.round(hours)):
        bad = sorted({str(s) for s, h in zip(stamps, hours, strict=True) if h != round(h)})
        return None, [_problem("profiles", "timestamps are not one hour apart (the step must "
                               "be one hour)", tuple(bad[:5]), "time",
                               _sub_hourly_hint(hours, stamps=True))], []
    return hours.astype(int), [], stamps


def _trailing_blank_rows(df: pl.DataFrame) -> tuple[int, ...]:
    """The data rows (counted from 1) at the end of ``df`` whose every field is empty or
    blanks (null in Parquet), in order; empty when the last row holds anything."""
    if not df.height or not df.width:
        return ()
    empty = df.select(pl.all_horizontal([
        pl.col(c).cast(pl.String).str.strip_chars().fill_null("") == "" for c in df.columns
    ]).alias("empty"))["empty"].to_list()
    n = 0
    while n < len(empty) and empty[len(empty) - 1 - n]:
        n += 1
    return tuple(range(df.height - n + 1, df.height + 1))


def _wide_hint(spelt: Mapping[str, str], extra: Sequence[str], missing: Sequence[str],
               known: Sequence[str]) -> str:
    """The hint for a wide profile table: a ``time`` column and, for the long form's
    ``element`` and ``value``, one column per element, each named by a known element id
    (``known``: load, generator, PV/wind/EV ids and ``price``; :func:`match_id`, in any
    case), as a spreadsheet lays a day out. Before (user test ut45_sched #5), every element
    column was an "unknown column", with no word on the wide form. Empty otherwise."""
    ids = set(known)
    folded = {i.casefold() for i in ids}
    if "time" not in spelt or "element" not in missing or not extra or not all(
            match_id(c.strip(), ids) is not None or c.strip().casefold() in folded
            for c in extra):
        return ""
    return ("the schedule reads the long form, one row per time and element (columns "
            f"{', '.join(PROFILE_COLUMNS)}; element ids are case-sensitive); pandas: "
            f"df = df.melt(id_vars={spelt['time']!r}, var_name='element', "
            "value_name='value')")


def _sub_hourly_hint(hours: np.ndarray, stamps: bool) -> str:
    """The hint for a table of evenly spaced times less than an hour apart (hours since the
    first, or fractional hour indices): a ``m``-minute table (m divides 60: a SCADA or meter
    export at 15 minutes) whose ``60/m`` values of each hour are to be averaged into the
    hour's one value (the hour's mean power; the hour beginning at ``hh:00``), with the
    pandas lines that do it. Before (user test ut45_sched #4), "timestamps are not one hour
    apart" with no hint. Empty for other times (irregular, or steps of 7 minutes)."""
    uniq = np.unique(hours)
    if len(uniq) < 2:
        return ""
    steps = np.unique(np.round(np.diff(uniq) * 60, 6))
    if len(steps) != 1 or not 0 < steps[0] < 60 or steps[0] != round(steps[0]) \
            or 60 % int(steps[0]):
        return ""
    m = int(steps[0])
    how = ("df['time'] = pd.to_datetime(df['time']); df = df.set_index('time')"
           ".groupby('element')['value'].resample('1h').mean().reset_index()" if stamps else
           "df['time'] = df['time'].astype(float) // 1; df = df.groupby(['time', 'element'], "
           "as_index=False)['value'].mean()")
    return (f"a {m}-minute table: the schedule's step is one hour; average each hour's "
            f"{60 // m} values (hh:00 to hh:{60 - m:02d}) into one row per element and hour "
            f"(pandas: {how})")


def _time_kind_problem(values: list[str], as_float: np.ndarray, stamp: list[bool],
                       elements: list[str] | None, boolean: bool) -> Problem:
    """The problem of a time column that is neither all hour indices nor all timestamps:
    the rows (counted from 1, with their element) whose value is neither an integer hour nor a
    timestamp, ``row 13 (load:2): 'x'``, or, when every value is one of the two, the rows of
    the rarer kind (a column mixing hour indices and timestamps). Before (user test
    ut34_schedule #4), the message listed the first five values that are not timestamps,
    valid hour indices among them (``profiles [0, 0, 0, 0, 0].time``)."""
    hour = [bool(np.isfinite(v) and v == round(v)) for v in as_float]

    def named(rows: list[int]) -> tuple[str, ...]:
        return tuple(f"row {i + 1}" + (f" ({elements[i]})" if elements and elements[i] else "")
                     + f": {values[i]!r}" for i in rows[:10])

    neither = [i for i, (h, t) in enumerate(zip(hour, stamp, strict=True)) if not (h or t)]
    hint = "give every row an hour index 0..23 or every row a timestamp (2024-06-01T00:00)"
    if boolean:
        return _problem("profiles", f"time is a column of booleans (true/false) in all "
                        f"{len(values)} rows, neither hour indices nor timestamps (data rows "
                        "counted from 1)", named(list(range(len(values)))), "time", hint)
    if neither:
        return _problem("profiles", f"time is neither an integer hour nor a timestamp in "
                        f"{len(neither)} row(s) (data rows counted from 1"
                        + (f"; the first 10 of {len(neither)}" if len(neither) > 10 else "")
                        + ")", named(neither), "time", hint)
    hours = [i for i, h in enumerate(hour) if h]
    stamps = [i for i, h in enumerate(hour) if not h]
    rare, kind = (hours, "hour indices") if len(hours) <= len(stamps) else (stamps,
                                                                         "timestamps")
    return _problem("profiles", f"time mixes hour indices ({len(hours)} rows) and timestamps "
                    f"({len(stamps)} rows): the {kind} are in the rows named (data rows "
                    "counted from 1" + (f"; the first 10 of {len(rare)}" if len(rare) > 10
                                        else "") + ")", named(rare), "time", hint)


def _is_stamp(s: str | None) -> bool:
    try:
        datetime.fromisoformat(str(s))
        return True
    except ValueError:
        return False


def profile_problems(df: pl.DataFrame, load_ids: list[str], devices: Devices,
                     hours: int = 24, need_hours: int | None = None,
                     ids_by_name: Mapping[str, Sequence[str]] | None = None,
                     generator_ids: Sequence[str] = (), builtin: str = ""
                     ) -> tuple[Profiles | None, list[Problem]]:
    """Validate a long profile table against the network's loads and generators
    (``generator_ids``) and the devices; every problem at once. Loads without a profile keep
    factor 1; PV, wind and EV units must have one. ``hours`` is the day the times must lie in
    (0..hours-1); ``need_hours`` (default ``hours``) the horizon: every profiled element needs
    a value at each of its first ``need_hours`` hours, and the profiles returned cover those.
    A day of ``hours + 1`` timestamps with their UTC offsets (the change to winter time,
    :func:`_long_day`) runs with an explicit ``need_hours`` (its first hours, the others in
    ``Profiles.left_out``); without one its last hour is outside the day, with a hint. The
    hint of an unknown element (:func:`_element_hint`) gives the ids' form and the id meant by
    a pandapower index (``0`` -> ``load:0``) or by a load's or generator's name (``ids_by_name``,
    :func:`element_ids_by_name`: ``rooftop is the name of sgen:0``). ``builtin``: for a
    table that replaces a built-in case's (``--profiles`` with its built-in devices), where
    that table is (:func:`replaced_table`); the hint of devices without a profile says it
    (user test ut45_sched #3: a table of four rows' elements met "PV, wind and EV units need
    a profile" with no word that the built-in PV, wind and EV rows were no longer read)."""
    problems: list[Problem] = []
    # column names are read in any case and without surrounding blanks; the messages keep
    # the file's own spelling (user test ut45_sched #5: 'pv10' for the file's PV10)
    try:
        duplicate_columns("the profile table", df.columns, "profiles")
    except InputError as exc:
        return None, list(exc.problems)
    spelt = {c.strip().lower(): c for c in df.columns}
    df = df.rename({c: c.strip().lower() for c in df.columns})
    # rows at the end whose every field is empty (``,,``: what a spreadsheet leaves after
    # deleted rows) are left out, and noted (Profiles.blank_rows); before (user test
    # ut45_sched #7), three problems: time missing, element missing, "value is not a number
    # (element@hour:  empty)". Only trailing ones: the row numbers of other messages stay.
    ending = _trailing_blank_rows(df)
    if ending:
        df = df.head(df.height - len(ending))
    # a column the schedule does not read (a unit, a note, a written index) was dropped
    # without a word, where the device tables refuse one (user test ut33_sched #4)
    extra = [spelt[c] for c in df.columns if c not in PROFILE_COLUMNS]
    missing = [c for c in PROFILE_COLUMNS if c not in df.columns]
    wide = _wide_hint(spelt, extra, missing, [*load_ids, *generator_ids, *(
        i for i, k in devices.kind_of().items() if k in PROFILED), PRICE])
    if wide:  # one cause: the wide form (its element columns are no unknown columns)
        return None, [Problem(
            ProblemKind.MISSING_COLUMN, "profiles", f"missing column(s) {', '.join(missing)}: "
            f"the table is wide, {spelt['time']!r} and one column per element ("
            + shown_list([repr(c) for c in extra], 5) + ")", tuple(missing), hint=wide)]
    if extra:
        problems.append(Problem(
            ProblemKind.UNKNOWN_COLUMN, "profiles", "column(s) the schedule does not read: "
            + ", ".join(repr(c) if c else "'' (unnamed: a written index?)" for c in extra),
            tuple(extra), "column", f"the profile table's columns are "
            f"{', '.join(PROFILE_COLUMNS)}: every value a factor of the nominal load or rating "
            "(the element 'price' in $/MWh); remove or rename the others"))
    if missing:
        return None, [*problems, Problem(
            ProblemKind.MISSING_COLUMN, "profiles", f"missing column(s) {', '.join(missing)}",
            tuple(missing), hint=f"the profile table has columns {', '.join(PROFILE_COLUMNS)}")]
    given = df["element"].cast(pl.String).str.strip_chars().to_list()
    # a blank element cell names no load or device (before: AttributeError on None.strip,
    # exit 1; user test ut_s18 #1); it is reported by its row and time, and matches nothing
    elements = [e if e is not None else "" for e in given]
    raw = df["value"].cast(pl.String).str.strip_chars()
    values = raw.cast(pl.Float64, strict=False).to_numpy().astype(float)
    hrs, time_problems, stamps = _hour_index(df["time"], elements)
    problems += time_problems
    blank = [i for i, e in enumerate(elements) if e == ""]
    if blank:
        where = [f"row {i + 1}" + (f" (hour {hrs[i]})" if hrs is not None else "")
                 for i in blank]
        problems.append(_problem(
            "profiles", f"element is missing in {len(blank)} row(s) (data rows counted from 1)",
            tuple(where[:10]), "element", "give every row the id of a load or device"))

    def at(i: int) -> str:  # "element@hour" (the hour when the time column is readable)
        if not elements[i]:  # a row without element: its row (ut45_sched #7: "@" alone)
            return f"row {i + 1}" + (f" (hour {hrs[i]})" if hrs is not None else "")
        return f"{elements[i]}@{hrs[i]}" if hrs is not None else str(elements[i])

    cells = raw.to_list()
    # not a number, then not finite (inf: before, accepted, then numpy warnings and "master
    # ended infeasible"); both echo the cells and give the same hint (before, ut51_sched #3,
    # an inf had neither)
    for flags, kind, number in ((np.isnan(values), "not a number", "a number"),
                                (np.isinf(values), "not finite", "a finite number")):
        if not flags.any():
            continue
        rows = {at(int(i)): cells[int(i)] for i in np.flatnonzero(flags)}
        bad = sorted(rows)
        shown = ", ".join(f"{b} = {rows[b]!r}" if rows[b] else f"{b} empty" for b in bad[:5])
        problems.append(_problem(
            "profiles", f"value is {kind} (element@hour: {shown}"
            + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "") + ")",
            tuple(bad[:10]), "value", f"give every row {number}: a factor of the load's "
            "nominal p_mw and q_mvar (1 for the nominal load) or of a PV, wind or EV unit's "
            f"p_max_mw (0..1), or for {PRICE!r} the purchase price in $/MWh"
            + _number_meant([rows[b] for b in bad])))
    nan = ~np.isfinite(values)
    kinds = devices.kind_of()
    # only loads, the network's generators, PV, wind and EV units and ``price`` take a
    # profile: a fossil DG or storage unit has none, and its rows were read and ignored
    # without a word (user test ut34_schedule #1: ``h,DG1,0.5`` ran, the same dispatch)
    unprofiled_kinds = {i for i, k in kinds.items() if k not in PROFILED}
    network_ids = [*load_ids, *generator_ids]
    known = set(network_ids) | (set(kinds) - unprofiled_kinds) | {PRICE}
    # an integral float (``7.0``: a float column in pandas or Parquet) is the integer id ``7``
    matched = [match_id(e, known | unprofiled_kinds) for e in elements]
    elements = [k if k is not None else e for e, k in zip(elements, matched, strict=True)]
    no_profile = sorted({e for e in elements if e in unprofiled_kinds and e not in known})
    if no_profile:
        what = sorted({_KIND_NAMES[kinds[e]] for e in no_profile})
        problems.append(_problem(
            "profiles", f"a profile row for a {' or '.join(what)} unit, which takes no profile "
            "(its rows would be ignored): only loads and generators of the network, PV, wind "
            f"and EV units and {PRICE!r} take profiles", tuple(no_profile), "element",
            "remove the rows of " + ", ".join(no_profile) + ": a fossil DG is dispatched "
            "within 0..p_max_mw every hour (with --dg-commitment, committed day-ahead) and a "
            "storage unit by its state of charge; give their limits in dg.csv and ess.csv"))
    unknown = sorted({e for e, k in zip(elements, matched, strict=True) if k is None and e})
    profiled_ids = [i for k in PROFILED for i in devices.ids(k)]
    # the ids an unknown element means but for case (pv10 for PV10): named in its hint, and
    # not refused a second time as a unit without a profile (user test ut45_sched #6)
    cased = {m for u in unknown for m in meant_ids(u, [*network_ids, *profiled_ids, PRICE],
                                                  index=False)}
    if unknown:
        problems.append(_problem("profiles", "unknown element (neither a load or generator "
                                 "of the network nor a PV, wind or EV unit nor 'price'; the "
                                 "value matches no id)", tuple(unknown), "element",
                                 "name a load or generator id of the network or a device id "
                                 f"(or {PRICE!r}, the hourly purchase price in $/MWh): "
                                 + _element_hint(unknown, load_ids, generator_ids, ids_by_name,
                                                 profiled_ids)))
    # the reserved element ``price``: an id ``price`` of the network or the devices would make
    # its rows ambiguous (a load's factor or the purchase price?), so both together are refused
    named = sorted(i for i in (*network_ids, *kinds) if i == PRICE)
    if named and PRICE in elements:
        problems.append(Problem(
            ProblemKind.DUPLICATE_ID, "profiles", f"the profile element {PRICE!r} is reserved "
            f"for the hourly purchase price [$/MWh], and a load, generator or device of the "
            f"network is named {PRICE!r} too: its rows would be read as prices", (PRICE,),
            "element", f"rename the load, generator or device {PRICE!r} (its profile rows "
            "with it)"))
    # a device named like a load or generator of the network: one profile row would drive
    # both (user test ut_sched4 #4: PV 'load:0' took load:0's factors), as with 'price'
    clash = sorted(set(network_ids) & set(kinds))
    if clash:
        problems.append(Problem(
            ProblemKind.DUPLICATE_ID, "devices", "a device id is also a load or generator id "
            "of the network: its profile rows would drive both", tuple(clash[:10]), "id",
            "rename the device (and its profile rows): profile elements name loads, "
            "generators and devices in one namespace"))
    is_price = np.array([e == PRICE for e in elements], bool)
    neg_price = sorted({at(int(i)) for i in np.flatnonzero(
        is_price & ~nan & (np.nan_to_num(values) < 0))})
    if neg_price:
        problems.append(_problem(
            "profiles", "negative purchase price (element@hour)", tuple(neg_price[:10]),
            "value", "the price is absolute, in $/MWh, and must be >= 0 (as c_buy): with a "
            "negative price more demand lowers the cost (the schedule is paid to consume, and "
            "fills storage or spills renewables for it), which the robust worst-case search "
            "does not cover (its C&CG subproblem bounds the marginal value of demand by "
            "+-2000 $/MWh and its load deviations are costs); give 0 for hours of free or "
            "negative-priced energy"))
    # each named with its hour, as NaN and duplicates are (ut_sched2 #7: the element alone)
    neg = sorted({at(int(i)) for i in np.flatnonzero(
        ~is_price & ~nan & (np.nan_to_num(values) < 0))})
    if neg:
        problems.append(_problem("profiles", "negative profile value (element@hour"
                                 + (f"; the first 10 of {len(neg)})" if len(neg) > 10 else ")"),
                                 tuple(neg[:10]), "value", "profiles are non-negative factors"))
    above = sorted({at(int(i)) for i in np.flatnonzero(~nan & (np.nan_to_num(values) > 1.0))
                    if kinds.get(elements[i]) in PROFILED})
    if above:  # each with its hour (user test ut_sched3 #6: the element alone)
        problems.append(_problem("profiles", "PV, wind and EV factors are shares of the rating "
                                 "and must be <= 1 (element@hour"
                                 + (f"; the first 10 of {len(above)})" if len(above) > 10
                                    else ")"), tuple(above[:10]), "value"))
    if hrs is None:
        return None, problems
    if (coarse := _coarse_step_problem(hrs, bool(stamps), hours)) is not None:
        return None, [*problems, coarse]
    # a 25-hour day (summer to winter time, timestamps with their UTC offsets): its last hour
    # is hour 24; --hours N (need_hours) schedules its first N hours, the rest noted as left
    # out. Before (user test ut37_errs2 #7), "time outside the day's hours 0..23" even with
    # --hours 24, against "--hours N schedules the first N hours of the profiles".
    long_day = _long_day(stamps, hrs, hours)
    day = hours + 1 if long_day and need_hours is not None and need_hours <= hours else hours
    outside = sorted({f"{elements[i]}@{hrs[i]}" for i in np.flatnonzero((hrs < 0) |
                                                                        (hrs >= day))})
    one_based = _one_based_hint(elements, hrs, stamps)
    if outside:
        problems.append(_problem(
            "profiles", f"time outside the day's hours 0..{day - 1} (element@hour; a profile "
            "table holds the hours of one day, --hours schedules the first of them)",
            tuple(outside[:10]), "time", _long_day_hint(stamps, hours) if long_day
            else one_based))
    names = sorted(set(elements) & known)
    col = {e: i for i, e in enumerate(names)}
    table = np.full((day, len(names)), np.nan)
    seen = np.zeros((day, len(names)), int)
    for e, h, v in zip(elements, hrs, values, strict=True):
        if e in col and 0 <= h < day:
            table[h, col[e]] = v
            seen[h, col[e]] += 1
    dup = [f"{names[j]}@{int(h)}" for j in range(len(names))
           for h in np.flatnonzero(seen[:, j] > 1)]
    if dup:
        twice: dict[str, list[str]] = {d: [] for d in dup}  # element@hour -> its values
        for e, h, r in zip(elements, hrs, raw.to_list(), strict=True):
            if f"{e}@{h}" in twice:
                twice[f"{e}@{h}"].append("empty" if r is None else str(r))
        shown = "; ".join(f"{d} = {', '.join(twice[d][:4])}" for d in dup[:3])
        problems.append(_problem(
            "profiles", f"more than one value for an hour (element@hour: {shown}"
            + (f"; and {len(dup) - 3} more" if len(dup) > 3 else "") + ")",
            tuple(dup[:10]), "time", "keep one row per element and hour: remove the extra "
            "rows (a block pasted twice?), or correct their time (with timestamps: two that "
            "fall in one hour, or a time zone offset that moves one)"))
    need = hours if need_hours is None else need_hours
    # in natural id order (2, 3, ..., 10), not as strings (10, 11, ..., 19 first and loads
    # 2-9 past the first ten shown; user test ut49_sched #4)
    gaps = [f"{names[j]}: hour {int(np.flatnonzero(seen[:need, j] == 0)[0])}"
            for j in sorted(range(len(names)), key=lambda j: natural_key(names[j]))
            if (seen[:need, j] == 0).any()]
    if gaps:
        # a shorter table (12 hours against the default --hours 24): the horizon it covers
        # (user test ut33_sched #6: no hint that --hours 12 would run it)
        covered = seen[:need] > 0
        full = int(np.argmin(covered.all(1))) if not covered.all() else need
        shorter = full > 0 and not covered[full:].any()
        # naive timestamps that skip one hour: a 23-hour day (the change to summer time)
        # written in local time; before (user test ut39_sched #2), "hour 2" with no hint, or
        # for 00:00, 01:00, 03:00 with --hours 3 the advice --hours 2, which drops 03:00
        skipped = _skipped_hour(stamps, hrs)
        hint = (one_based if one_based else
                _skipped_hour_hint(skipped, len(set(hrs.tolist())))
                if skipped is not None and _clock_change_plausible(skipped)
                else _missing_hour_hint(skipped, round((skipped - min(stamps))
                                                           / timedelta(hours=1)))
                if skipped is not None
                else f"the table gives every element the hours 0..{full - 1} only: --hours "
                f"{full} (hours={full} from Python) schedules those" if shorter
                else _empty_hours_hint(np.flatnonzero(~covered.any(1))))
        problems.append(_problem("profiles", f"missing hour(s): every element needs a value at "
                                 f"each of the {need} hours of the horizon", tuple(gaps),
                                 "time", hint))
    unprofiled = [i for i in profiled_ids if i not in col and i not in cased]
    if unprofiled:
        problems.append(_problem(
            "profiles", "PV, wind and EV units need a profile", tuple(unprofiled), "element",
            (f"{builtin}: copy the rows of these units from it into your table"
             if builtin else "give each of them a row (time, element, value) at every hour: "
             "its forecast or availability as a share of p_max_mw (0..1)")))
    if problems:
        return None, problems
    at_hour: dict[int, str] = {}  # each hour's timestamp (the first row's, as all agree)
    for h, t in zip(hrs, stamps, strict=False):
        at_hour.setdefault(int(h), t.isoformat(timespec="seconds" if t.second or t.microsecond
                                               else "minutes"))
    clock = tuple(at_hour[h] for h in range(need)) if stamps else ()
    left_out = tuple(at_hour[h] for h in range(need, day)) if long_day else ()
    return Profiles(need, names, table[:need].copy(), clock, left_out, ending), []


def _element_hint(unknown: Sequence[str], load_ids: Sequence[str],
                  generator_ids: Sequence[str], names: Mapping[str, Sequence[str]] | None,
                  device_ids: Sequence[str] = ()) -> str:
    """The hint of profile elements that name nothing: the id each means but for case
    (``pv10: did you mean PV10?``, a load's, generator's, PV/wind/EV unit's id or ``price``;
    :func:`~feederopt.network.id_hints.meant_ids`: ids are case-sensitive), the id of each
    that is a load's or a
    generator's name (``rooftop is the name of sgen:0``, ``L2 is the name of load:0``; the
    profile names elements by id), the form of the network's load ids with the ``load:N``
    meant by a pandapower index (:func:`~feederopt.io.scenarios.load_id_hint`; ut_sched4 #6),
    its generator ids (user test ut41_sched: a generator's name got the load ids alone) and
    the ids of the PV, wind and EV units that take a profile (``device_ids``; user test
    ut45_sched #6: ``pv10`` got the load ids alone)."""
    every = [*load_ids, *generator_ids, *device_ids, PRICE]
    cased = [f"{u}: did you mean {' or '.join(m)}?" for u in unknown
             if (m := meant_ids(u, every, index=False))]
    by_name = [f"{u} is the name of {' and '.join(names[u])}" for u in unknown
               if names and names.get(u)]
    loads = [i for i in load_ids if i.startswith("load:")] or list(load_ids)
    gens = list(generator_ids)
    parts = [*cased[:5]]
    if by_name:
        parts.append(", ".join(by_name[:5]) + " (the profile names elements by id)")
    # the loads' form (with the load:N meant by a pandapower index), without its own "did
    # you mean" on case, which is above
    parts.append(load_id_hint([u for u in unknown if not meant_ids(u, every, index=False)],
                              loads))
    if gens:
        parts.append(f"its generator ids are {shown_list(gens, 3)}")
    if device_ids:
        parts.append(f"the PV, wind and EV unit ids are {shown_list(list(device_ids), 5)}")
    return "; ".join(parts)


def _one_based_hint(elements: Sequence[str], hrs: np.ndarray, stamps: list[datetime]) -> str:
    """The hint for a table of hour indices numbered from 1: every element (each row's, blank
    ones aside) has exactly the hours ``1..m`` (m >= 2), the same ``m`` for all, as a
    spreadsheet's row numbers or hour-ending labels 1..24 give them. Such a table is read as
    hours 1..24 of a day of 0..23, and was refused with "time outside the day's hours 0..23"
    and "missing hour 0" and no word on the cause (user test ut45_sched #2). Empty otherwise,
    and for timestamps (their hours count from the first, which is hour 0)."""
    if stamps:
        return ""
    by: dict[str, set[int]] = {}
    for e, h in zip(elements, hrs.tolist(), strict=True):
        if e:
            by.setdefault(e, set()).add(int(h))
    sets = list(by.values())
    top = max((max(s) for s in sets), default=0)
    if top < 2 or any(s != set(range(1, top + 1)) for s in sets):
        return ""
    return (f"every element has the hours 1..{top}: numbered from 1? the hours are numbered "
            f"from 0 (hour 0 = 00:00-01:00): number them 0..{top - 1} (subtract 1 from each "
            "time)")


def _long_day(stamps: list[datetime], hrs: np.ndarray, hours: int) -> bool:
    """Whether the timestamps are one local day of ``hours + 1`` hours: each with its UTC
    offset, two offsets (the change from summer to winter time), hours 0..``hours`` and one
    calendar date in local time (27 Oct 2024 in Europe: ``00:00+02:00`` .. ``23:00+01:00``)."""
    return (bool(stamps) and all(t.utcoffset() is not None for t in stamps)
            and len({t.utcoffset() for t in stamps}) > 1 and int(hrs.max()) == hours
            and len({t.date() for t in stamps}) == 1)


def _skipped_hour(stamps: list[datetime], hrs: np.ndarray) -> datetime | None:
    """The one hour that timestamps without a UTC offset skip, or ``None``: the table's hours
    (of all its rows) are ``0..max`` but one, strictly inside. On the day of the change to
    summer time a local clock skips an hour (31 Mar 2024 in Europe: ``01:00`` is followed by
    ``03:00``), so a 23-hour day written in naive local time reads as a day with a hole;
    with UTC offsets the hours are the instants' and nothing is skipped."""
    if not stamps or any(t.utcoffset() is not None for t in stamps):
        return None
    present = set(hrs.tolist())
    top = max(present)
    missing = set(range(top + 1)) - present
    if len(missing) != 1:
        return None
    (gap,) = missing
    return min(stamps) + timedelta(hours=gap)


#: The months in which a clock changes to summer time: March (the EU's last Sunday, the US's
#: second Sunday), April (e.g. Iran before 2022, Morocco), September to November (the southern
#: hemisphere: New Zealand's last Sunday of September, Australia's and Paraguay's first Sunday
#: of October, Brazil's November until 2019).
SUMMER_TIME_MONTHS = frozenset({3, 4, 9, 10, 11})


def _clock_change_plausible(skipped: datetime) -> bool:
    """Whether a naive local clock may skip the hour ``skipped`` for the change to summer
    time: it starts between 01:00 and 03:00 (the EU at 01:00 UTC, 02:00 CET; the US, Australia
    and New Zealand at 02:00 local) in a month of :data:`SUMMER_TIME_MONTHS`. Any other hole
    (user test ut47_sched #2: 07:00 on 1 June) is a plain missing hour."""
    return (skipped.time() >= time(1) and skipped.time() <= time(3)
            and skipped.month in SUMMER_TIME_MONTHS)


def _coarse_step_problem(hrs: np.ndarray, stamps: bool, hours: int) -> Problem | None:
    """The problem of a table whose times are evenly ``k > 1`` hours apart (``k`` the
    greatest common divisor of the steps between its distinct hours, ``hrs``), or None. User
    test ut47_sched #4: time 0, 2, ..., 46 was refused as "outside the day's hours" with the
    hint "the table gives every element the hours 0..0 only: --hours 1"."""
    uniq = np.unique(hrs)
    if len(uniq) < 2:
        return None
    step = int(np.gcd.reduce(np.diff(uniq).astype(int)))
    if step <= 1:
        return None
    shown = ", ".join(str(int(h)) for h in uniq[:4]) + (", ..." if len(uniq) > 4 else "")
    top = int(uniq[-1])
    what = "hours since the first timestamp" if stamps else "time"
    return _problem(
        "profiles", f"time steps are {step} hours apart ({what} "
        f"{shown}{f', {top}' if len(uniq) > 4 else ''}): the schedule needs hourly steps, one "
        f"value per element at each hour 0..{hours - 1}", (), "time",
        f"give every element a row at each hour (resample the table to 1 h: repeat or "
        f"interpolate each value over its {step} hours)")


def _missing_hour_hint(skipped: datetime, hour: int) -> str:
    """The hint for a table whose timestamps leave out the one hour ``hour`` (at
    ``skipped``) where no clock change is plausible (:func:`_clock_change_plausible`)."""
    return (f"the table has no row at {skipped:%Y-%m-%d %H:%M} (hour {hour}) for any element: "
            "add that hour's rows")


def _empty_hours_hint(empty: np.ndarray) -> str:
    """The hint for a table of hour indices with no row at the hours ``empty`` for any
    element (a whole hour left out), as :func:`_missing_hour_hint` gives for timestamps (user
    test ut49_sched #4: with timestamps the hint, with hour indices none); empty if none."""
    if not len(empty):
        return ""
    shown = ", ".join(str(int(h)) for h in empty[:5]) + (", ..." if len(empty) > 5 else "")
    one = len(empty) == 1
    return (f"the table has no row at hour{'' if one else 's'} {shown} for any element: add "
            f"{'that hour' + chr(39) + 's' if one else 'those hours' + chr(39)} rows")


def _skipped_hour_hint(skipped: datetime, hours: int) -> str:
    """The hint for a naive table of ``hours`` hours that skips the hour ``skipped``."""
    return (f"timestamps without UTC offset skip {skipped:%H:%M} on {skipped:%Y-%m-%d}: a "
            f"change to summer time? give UTC offsets, or hour indices 0..{hours - 1}, with "
            f"--hours {hours}")


def _long_day_hint(stamps: list[datetime], hours: int) -> str:
    """The hint for a ``hours + 1``-hour day read with the default horizon: ``--hours``
    ``hours`` schedules its first hours, or the repeated hour (named) is merged into one."""
    wall: dict[str, set[str]] = {}  # local clock time -> the offsets it is given with
    for t in stamps:
        wall.setdefault(t.strftime("%H:%M"), set()).add(t.isoformat(timespec="minutes"))
    twice = sorted(", ".join(sorted(v)) for v in wall.values() if len(v) > 1)
    return (f"a {hours + 1}-hour day (DST): pass --hours {hours} (hours={hours} from Python) "
            f"to schedule its first {hours} hours, or merge the repeated hour"
            + (f" ({'; '.join(twice)})" if twice else "") + " into one row per element")


def profile_notes(profiles: Profiles) -> list[str]:
    """Notes on how the profile table's timestamps were read: which clock time hour 0 is
    (the hours count from the first timestamp, which need not be midnight: before, user test
    ut37_errs2, a table from 06:00 was renumbered 0..23 without a word and its 06:00 called
    "hour 0"), the hours of a 25-hour day that ``--hours`` left out and the empty rows at
    the table's end that were left out (``Profiles.blank_rows``)."""
    out = []
    if profiles.start is not None:
        last = profiles.hours - 1
        out.append(f"the profile table's times are timestamps: hour 0 = "
                   f"{clock_text(profiles.start)}"
                   + (f", hour {last} = {clock_text(profiles.clock[last])}" if last else "")
                   + " (the hours count from the first timestamp)")
    if profiles.blank_rows:
        b = profiles.blank_rows
        out.append(f"the profile table ends with {len(b)} empty row(s) (every field empty, "
                   f"data row{'s' if len(b) > 1 else ''} {b[0]}"
                   + (f"..{b[-1]}" if len(b) > 1 else "") + " counted from 1, as a "
                   "spreadsheet leaves after deleted rows): left out")
    if profiles.left_out:
        n, h = len(profiles.left_out), profiles.hours
        out.append(f"the profile table holds a {h + n}-hour day (DST: the clock repeats an "
                   f"hour); --hours {h} schedules its first {h} hours, so "
                   + ("the last hour was" if n == 1 else f"the last {n} hours were")
                   + " left out: " + ", ".join(clock_text(t) for t in profiles.left_out[:3])
                   + (" ..." if n > 3 else ""))
    return out


def unprofiled_load_notes(profiles: Profiles, network: Network, builtin: str = ""
                          ) -> list[str]:
    """A note naming the in-service loads of ``network`` that the profile table gives no
    profile (each keeps factor 1, its nominal ``p_mw`` and ``q_mvar``, in every hour) when it
    gives one to others: ``31 of 32 loads have a profile; 1 keeps factor 1 ...: 18``. A table
    that profiles most loads and leaves one out has most likely lost its rows (user test
    ut45_sched #1: load 18 ran at its nominal 0.09 MW all day without a word); a table
    without any load (only devices or prices) scales no load, as documented, and is not
    noted. ``builtin``: :func:`replaced_table`, said too, for a table given in place of a
    built-in case's."""
    loads = network.loads
    if "in_service" in loads.columns:
        loads = loads.filter(pl.col("in_service"))
    ids = [str(i) for i in loads["id"].to_list()]
    given = set(profiles.elements)
    without = [i for i in ids if i not in given]
    if not without or len(without) == len(ids):
        return []
    n = len(without)
    return [f"{len(ids) - n} of {len(ids)} loads have a profile; {n} "
            + ("keeps" if n == 1 else "keep") + " factor 1 (the nominal p_mw and q_mvar) in "
            f"every hour: {shown_list(without, 10)} (give their rows if that is not meant"
            + (f"; {builtin}" if builtin else "") + ")"]


def replaced_table(case: str, path: str | Path) -> str:
    """What a profile table given for the built-in case ``case`` does to the case's own one
    at ``path`` (the hints and notes of :func:`profile_problems` and
    :func:`unprofiled_load_notes`)."""
    return (f"--profiles replaces the built-in profile table of {case} entirely (its load, "
            f"PV, wind and EV rows alike); the built-in table is {Path(path).resolve()}")


def load_profiles(source: str | Path | pl.DataFrame, network: Network, devices: Devices,
                  hours: int = 24, need_hours: int | None = None, builtin: str = ""
                  ) -> Profiles:
    """Read and validate a profile table (:func:`profile_problems`, ``builtin`` the text
    of :func:`replaced_table` for a table given in place of a built-in case's);
    :class:`InputError` with every problem found."""
    # columns as the file spells them (profile_problems reads them in any case)
    df = source if isinstance(source, pl.DataFrame) else read_long_table(source,
                                                                         "profile table")
    load_ids = [str(x) for x in network.loads["id"].to_list()]
    # the network's own generators (fixed injections of the schedule) may have a profile too
    generator_ids = [str(x) for x in network.generators["id"].to_list()]
    prof, problems = profile_problems(df, load_ids, devices, hours, need_hours,
                                      element_ids_by_name(network), generator_ids, builtin)
    if problems or prof is None:
        raise InputError(problems)
    huge = huge_profile_problems(prof, network)
    if huge:
        raise InputError(huge)
    return prof


def huge_profile_problems(profiles: Profiles, network: Network) -> list[Problem]:
    """A ``bad_timeseries`` problem (an error) naming each load or generator of the network
    whose profile factor ``f`` at some hour of the horizon makes its power absurdly large:
    ``f * max(|p_mw|, |q_mvar|)`` above the bound the network's own loads are held to
    (:data:`~feederopt.network.validate.LOAD_PU_MAX` p.u. of
    :data:`~feederopt.network.validate.MAGNITUDE_BASE_MVA`, 1e6 MW; the network's "absurdly
    large" rule), or not finite. A factor of 1e300 was only warned about as "written in
    percent or kW?": the model's losses overflowed (a numpy RuntimeWarning with its source
    line) and the run ended "no solution", exit 3 (user test ut42_badin #3). A factor times a
    load of 0 MW is 0 and is not refused."""
    limit = LOAD_PU_MAX * MAGNITUDE_BASE_MVA
    nominal: dict[str, float] = {}
    for table in (network.loads, network.generators):
        if table is None or not table.height:
            continue
        sizes = np.nan_to_num(np.maximum(
            np.abs(np.asarray(table["p_mw"].to_numpy(), float)),
            np.abs(np.asarray(table["q_mvar"].to_numpy(), float))), nan=0.0, posinf=0.0)
        nominal.update(zip((str(i) for i in table["id"].to_list()), sizes.tolist(),
                           strict=True))
    over: list[str] = []
    shown: list[str] = []
    for j, e in enumerate(profiles.elements):
        if e not in nominal:
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            size = profiles.values[:, j] * nominal[e]
        for h in np.flatnonzero(~np.isfinite(size) | (size > limit)):
            over.append(f"{e}@{int(h)}")
            shown.append(f"{e}@{int(h)} = {profiles.values[int(h), j]:g} x {nominal[e]:g} MW")
    if not over:
        return []
    return [Problem(
        ProblemKind.BAD_TIMESERIES, "profiles",
        f"profile factor(s) that make a load's or generator's power absurdly large: above "
        f"{limit:g} MW ({LOAD_PU_MAX:g} p.u. of {MAGNITUDE_BASE_MVA:g} MVA) as factor x "
        f"nominal power (element@hour: {'; '.join(shown[:5])}"
        + (f"; and {len(over) - 5} more" if len(over) > 5 else "") + ")",
        tuple(over[:10]), "value",
        hint="a load's or generator's profile value is a factor of its nominal p_mw and q_mvar "
        "(1 for the nominal power, 0.6 for 60 %): check the value and its unit")]


#: The largest plausible load factor: a load at five times its nominal power all hour. A
#: profile written in percent (60 for 0.6) or in kW is above it; a real day's peak is not.
LOAD_FACTOR_MAX = 5.0

#: The largest plausible device rating as a multiple of the network's nominal load: a unit
#: ten times the whole feeder's demand has no use in a schedule that exports nothing; one
#: written in kW (300 for 0.3 MW) is above it.
DEVICE_RATING_MAX = 10.0


def load_factor_warnings(profiles: Profiles, load_ids: list[str]) -> list[Problem]:
    """A warning (the input is used) naming each load whose factor exceeds
    :data:`LOAD_FACTOR_MAX` at some hour (``element@hour``): factors are shares of the load's
    nominal ``p_mw`` and ``q_mvar``, so such a profile is likely in percent or kW (user test
    ut_sched4 #3: 60..110 ran "optimal" with 97 % of the load curtailed, without a word)."""
    over = [f"{e}@{h}" for j, e in enumerate(profiles.elements) if e in set(load_ids)
            for h in np.flatnonzero(profiles.values[:, j] > LOAD_FACTOR_MAX)]
    if not over:
        return []
    top = float(max(profiles.of(e.split("@")[0]).max() for e in over))
    return [Problem(
        ProblemKind.BAD_TIMESERIES, "profiles", f"load factor(s) above {LOAD_FACTOR_MAX:g} "
        f"(up to {top:g}; element@hour" + (f"; the first 10 of {len(over)})" if len(over) > 10
                                           else ")") + ": written in percent or kW?",
        tuple(over[:10]), "value", severity=Severity.WARNING,
        hint="a load's profile value is a factor of its nominal p_mw and q_mvar: 60 % is "
        f"written 0.6; if {top:g} is in percent, divide the profile by 100")]


def device_rating_warnings(devices: Devices, network: Network) -> list[Problem]:
    """A warning (the input is used) naming each device whose power rating (``p_max_mw``) or
    energy (``e_max_mwh``, ``energy_mwh``) exceeds :data:`DEVICE_RATING_MAX` times the
    network's nominal load (``sum p_mw``; MWh against that load over 24 h), as a table written
    in kW would (user test ut_sched4 #3: a 300 MW DG on a 1.68 MW feeder)."""
    load = float(network.loads.filter(pl.col("in_service"))["p_mw"].sum())
    if load <= 0:
        return []
    out = []
    for kind in DeviceKind:
        table = devices.table(kind)
        for c, ref, unit in (("p_max_mw", load, "MW"), ("e_max_mwh", 24 * load, "MWh"),
                             ("energy_mwh", 24 * load, "MWh")):
            if c not in table.columns or not table.height:
                continue
            vals = np.asarray(table[c].to_numpy(), float)
            big = np.flatnonzero(vals > DEVICE_RATING_MAX * ref)
            if len(big):
                k = int(big[np.argmax(vals[big])])
                out.append(Problem(
                    ProblemKind.INVALID_VALUE, f"devices.{kind.value}",
                    f"rating above {DEVICE_RATING_MAX:g} times the network's nominal load "
                    f"({load:.4g} MW{', over 24 h' if unit == 'MWh' else ''}): "
                    f"{table['id'][int(k)]} {vals[k]:g} {unit}: written in kW?",
                    tuple(str(table["id"][int(i)]) for i in big), c, severity=Severity.WARNING,
                    hint=f"{c} is in {unit}: 300 kW is written 0.3; if {vals[k]:g} is in "
                    f"{'kW' if unit == 'MW' else 'kWh'}, write {vals[k] / 1000:g}"))
    return out


def element_ids_by_name(network: Network) -> dict[str, list[str]]:
    """The names of the network's loads and generators -> the ids that carry each
    (``L2`` -> ``[load:0]``, ``rooftop`` -> ``[sgen:0]``; :meth:`Network.element_names`:
    pandapower's ``net.load.name``, ``net.sgen.name``, ``net.gen.name``,
    ``net.storage.name``, ..., or a table folder's ``name`` column): the ids a profile element
    written as a name means. Names are stripped; an unnamed element has none."""
    out: dict[str, list[str]] = {}
    for table in ("loads", "generators"):
        for i, name in network.element_names(table).items():
            if name.strip():
                out.setdefault(name.strip(), []).append(i)
    return out


def write_profiles(profiles: Profiles, path: str | Path) -> Path:
    """The long table as CSV or Parquet (by suffix)."""
    path = Path(path)
    df = profiles.to_long()
    if path.suffix.lower() == ".parquet":
        df.write_parquet(path)
    else:
        df.write_csv(path)
    return path


# ----- devices ------------------------------------------------------------------------------
def device_problems(kind: DeviceKind, df: pl.DataFrame, bus_ids: set[str]
                    ) -> tuple[pl.DataFrame | None, list[Problem]]:
    """A component table checked and typed: columns, numbers, buses, signs, efficiencies."""
    comp = f"devices.{kind.value}"
    need = ("id", "bus", *DEVICE_COLUMNS[kind])
    optional = OPTIONAL_COLUMNS.get(kind, {})
    allowed = known_columns(kind)
    problems: list[Problem] = []
    # a column the schedule does not read (a misspelt optional one such as pmin_mw, or limits
    # it has no use for such as soc_min) was dropped without a word, its data ignored
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        problems.append(Problem(
            ProblemKind.UNKNOWN_COLUMN, comp, "column(s) the schedule does not read: "
            + ", ".join(repr(c) if c else "'' (unnamed: a written index?)" for c in extra),
            tuple(extra), "column", f"the {kind.value} table's columns are "
            f"{', '.join(need)} (required)"
            + (f" and {', '.join(c for c in allowed if c not in need)} (optional)"
               if len(allowed) > len(need) else "")
            + "; remove or rename the others"))
    missing = [c for c in need if c not in df.columns]
    if missing:
        return None, [*problems, Problem(ProblemKind.MISSING_COLUMN, comp,
                                         f"missing column(s) {', '.join(missing)}",
                                         tuple(missing),
                                         hint=f"{kind.value} needs columns {', '.join(need)}")]
    out = df.with_columns(pl.col("id").cast(pl.String).str.strip_chars(),
                          pl.col("bus").cast(pl.String).str.strip_chars())
    out = out.with_columns([pl.lit(v).alias(c) for c, v in optional.items()
                            if c not in out.columns])
    # a row without an id became the device "None" (one row: scheduled and reported as None;
    # two: duplicate_id [None]; user test ut34_schedule #5): named by its row, and left out of
    # the checks below, which name the devices by id
    no_id = (out["id"].is_null() | (out["id"] == "")).to_list()
    if any(no_id):
        rows = [f"row {i + 1}" for i, e in enumerate(no_id) if e]
        problems.append(_problem(comp, f"missing id in {len(rows)} row(s) of the "
                                 f"{kind.value} table (data rows counted from 1)",
                                 tuple(rows[:10]), "id", "give every device an id, unique "
                                 "across the device tables and the network's loads"))
        out = out.filter(~pl.Series(no_id))
    ids = out["id"].to_list()
    for c in (*DEVICE_COLUMNS[kind], *optional):
        raw = out[c].cast(pl.String).str.strip_chars()
        num = raw.cast(pl.Float64, strict=False)
        what, example = COLUMN_HINTS[c]
        bad = np.flatnonzero(num.is_null().to_numpy())
        if len(bad):
            cells = [raw[int(i)] for i in bad]
            problems.append(_problem(comp, "not a number " + _given(ids, bad, cells),
                                     tuple(ids[i] for i in bad), c,
                                     f"{c} is {what}: write a plain number, e.g. {example}"
                                     + _number_meant(cells)))
            continue
        arr = num.to_numpy().astype(float)
        if not np.isfinite(arr).all():  # "nan" and "inf" read as numbers
            bad = np.flatnonzero(~np.isfinite(arr))
            problems.append(_problem(comp, "not a finite number " + _given(ids, bad, arr),
                                     tuple(ids[i] for i in bad), c,
                                     f"{c} is {what}: give a finite number, e.g. {example}"))
            continue
        out = out.with_columns(num.alias(c))
        if (arr < 0).any():
            bad = np.flatnonzero(arr < 0)
            problems.append(_problem(comp, "negative value " + _given(ids, bad, arr),
                                     tuple(ids[i] for i in bad), c,
                                     f"{c} must be >= 0: it is {what}, e.g. {example}"))
        if c in SHARES and (arr > 1).any():
            bad = np.flatnonzero(arr > 1)
            problems.append(_problem(comp, "a share or efficiency must be within 0..1 "
                                     + _given(ids, bad, arr), tuple(ids[i] for i in bad), c,
                                     _share_hint(c, what, example, float(arr[bad[0]]),
                                                 out, int(bad[0]))))
        if c in ("eta_ch", "eta_dis") and (arr <= 0).any():
            bad = np.flatnonzero(arr <= 0)
            problems.append(_problem(comp, "an efficiency must be positive "
                                     + _given(ids, bad, arr), tuple(ids[i] for i in bad), c,
                                     f"{c} is {what}: e.g. {example}"))
    if kind is DeviceKind.DG and not problems:
        above = np.flatnonzero(out["p_min_mw"].to_numpy() > out["p_max_mw"].to_numpy())
        if len(above):
            problems.append(Problem(ProblemKind.INVERTED_LIMITS, comp,
                                    "minimum output above the rating",
                                    tuple(ids[i] for i in above), "p_min_mw",
                                    "p_min_mw must be <= p_max_mw"))
    # an integral float (15.0: a float column in pandas, Excel or Parquet) is bus 15
    raw_bus = [str(b) for b in out["bus"].to_list()]
    buses = [match_id(b, bus_ids) for b in raw_bus]
    unknown = [(i, b) for i, b, m in zip(ids, raw_bus, buses, strict=True) if m is None]
    if unknown:
        problems.append(Problem(
            ProblemKind.UNKNOWN_BUS, comp, "bus not in the network: the value matches no bus "
            "id (" + ", ".join(f"{i}: {b!r}" for i, b in unknown[:10])
            + (" ..." if len(unknown) > 10 else "") + ")",
            tuple(i for i, _ in unknown), "bus", "give the id of a bus of the network"))
    else:
        out = out.with_columns(pl.Series("bus", buses, dtype=pl.String))
    if kind is DeviceKind.DG and "fuel" not in out.columns:
        out = out.with_columns(pl.lit("unknown").alias("fuel"))
    keep = [*need, *optional, "fuel"] if kind is DeviceKind.DG else [*need, *optional]
    return (None if problems else out.select(keep)), problems


#: What each numeric column of the device tables holds, and an example value, for the hints
#: of its problems (:func:`device_problems`; units: :mod:`feederopt.network.timeseries`).
COLUMN_HINTS: dict[str, tuple[str, str]] = {
    "p_max_mw": ("a power rating in MW", "0.4 for 400 kW"),
    "q_max_mvar": ("a reactive power rating in MVAr", "0.3 for 300 kvar"),
    "cost_per_mwh": ("a generation cost in $/MWh", "60"),
    "p_min_mw": ("the minimum output when committed, in MW", "0.1 for 100 kW"),
    "no_load_cost": ("a cost in $ per committed hour", "5"),
    "e_max_mwh": ("an energy capacity in MWh", "1.5 for 1,500 kWh"),
    "energy_mwh": ("the energy the station must deliver over the day, in MWh",
                   "1.0 for 1,000 kWh"),
    "eta_ch": ("the charging efficiency", "0.95 for 95 %"),
    "eta_dis": ("the discharging efficiency", "0.95 for 95 %"),
    "soc0": ("the state of charge at hours 0 and 24 as a share of e_max_mwh", "0.5 for 50 %"),
    "deviation": ("the share of the forecast that the output may fall short by",
                  "0.2 for 20 %"),
}

#: The device columns that are shares within 0..1 (efficiencies, state of charge, deviation).
SHARES = ("eta_ch", "eta_dis", "soc0", "deviation")


def _share_hint(column: str, what: str, example: str, value: float, table: pl.DataFrame,
                row: int) -> str:
    """The hint of a device's share ``value`` above 1 (:func:`~feederopt.errors.share_hint`):
    a ``soc0`` at or below the unit's ``e_max_mwh`` reads as MWh too (``1.2 MWh of 2 MWh is
    soc0 0.6``: soc0 = E0 / e_max_mwh), and an efficiency that looks like no percentage
    cannot exceed 1 (user test ut41_sched: both were offered 0.012 for 1.2 %)."""
    reading = None
    if column == "soc0" and "e_max_mwh" in table.columns:
        e_max = table["e_max_mwh"].cast(pl.String).cast(pl.Float64, strict=False)[row]
        if e_max is not None and 0 < e_max < np.inf and value <= e_max:
            reading = f"{value:g} MWh of {e_max:g} MWh is soc0 {value / e_max:.4g}"
    otherwise = (f"an efficiency cannot exceed 1 (a unit gives out no more energy than it "
                 f"takes in): e.g. {example}" if column in ("eta_ch", "eta_dis")
                 else f"e.g. {example}")
    return share_hint(value, f"{column} is {what}", reading=reading, otherwise=otherwise)


def _given(ids: list[str], rows: np.ndarray, values: Sequence[object] | np.ndarray) -> str:
    """The values of the devices at ``rows``, as a message echoes them: ``(DG6: '2MW')``, the
    first five; text quoted, an empty cell ``empty``, a number as written (``50``, ``nan``)."""
    def shown(v: object) -> str:
        if v is None or (isinstance(v, str) and not v):
            return "empty"
        return repr(v) if isinstance(v, str) else f"{float(v):g}"  # type: ignore[arg-type]

    picked = [values[int(i)] for i in rows] if len(values) == len(ids) else list(values)
    return ("(" + ", ".join(f"{ids[int(i)]}: {shown(v)}"
                            for i, v in zip(rows[:5], picked[:5], strict=False))
            + (f"; and {len(rows) - 5} more" if len(rows) > 5 else "") + ")")


def _number_meant(cells: list[str | None]) -> str:
    """For a cell that is a number with a unit or a decimal comma (``2MW``, ``1,5``): the
    number the schedule reads instead (``; '2MW' -> 2``); empty otherwise."""
    for cell in cells:
        if not cell:
            continue
        m = _WITH_UNIT.fullmatch(cell)
        if m is not None:
            return f"; {cell!r} -> {m.group(1)} (the unit is in the column name)"
        if re.fullmatch(r"[+-]?\d+,\d+", cell):
            return f"; {cell!r} -> {cell.replace(',', '.')} (a decimal point, not a comma)"
    return ""


#: A number followed by a unit: ``2MW``, ``300 kW``, ``95 %``.
_WITH_UNIT = re.compile(r"([+-]?\d+(?:\.\d*)?)\s*([A-Za-z%$/]+)")


def known_columns(kind: DeviceKind) -> tuple[str, ...]:
    """The columns of a device table that the schedule reads: ``id``, ``bus``, the required
    ones (:data:`~feederopt.network.timeseries.DEVICE_COLUMNS`), the optional ones
    (:data:`~feederopt.network.timeseries.OPTIONAL_COLUMNS`) and, for DG, ``fuel``."""
    cols = ("id", "bus", *DEVICE_COLUMNS[kind], *OPTIONAL_COLUMNS.get(kind, {}))
    return (*cols, "fuel") if kind is DeviceKind.DG else cols


#: Other words for the device tables that a file may be named by, and near misses of them
#: (:func:`~feederopt.io.folder.likely_table`): ``storage.csv`` or ``storge.csv`` for
#: ``ess.csv``, ``solar.csv`` for ``pv.csv``.
DEVICE_ALIASES = {"storage": "ess", "battery": "ess", "batteries": "ess", "bess": "ess",
                  "solar": "pv", "photovoltaic": "pv", "turbine": "wind", "turbines": "wind",
                  "diesel": "dg", "evcs": "ev", "charging": "ev", "chargers": "ev"}


def load_devices(folder: str | Path, network: Network,
                 ignore: tuple[str | Path, ...] = ()) -> Devices:
    """The device tables of a folder (a missing table is an empty one). Any other table
    (``.csv``/``.parquet``) in the folder is a typed problem naming it (a misnamed table would
    otherwise be dropped), except ``profiles.csv``/``.parquet`` and the files in ``ignore``
    (the profile table used beside them); its hint says which table its name looks like
    (:func:`~feederopt.io.folder.likely_table` with :data:`DEVICE_ALIASES`). As in a network
    folder (:mod:`feederopt.io.folder`), a table's name that is no readable file (a broken
    link, a folder) is refused, and so is a file or broken link whose name is a near miss of
    a table the folder lacks (``storge.csv``, ``PV.csv``, ``pv.xlsx``, ``pv.txt``: a typed
    ``unreadable_file`` problem naming it and the name it must have): before, the schedule
    ran without those devices, without a word."""
    folder = Path(folder)
    if not folder.is_dir():
        raise missing(folder, "folder", hint="give the folder of dg/ess/pv/wind/ev tables")
    bus_ids = {str(b) for b in network.buses["id"].to_list()}
    names = [k.value for k in DeviceKind]
    table_files = {f"{n}{s}": f"devices.{n}" for n in names for s in SUFFIXES}
    # a table's name that is a broken link or a folder: refused, not read as no such table
    problems: list[Problem] = entry_problems(folder, table_files)
    skip = {Path(p).resolve() for p in ignore}
    passed = {f.name for f in folder.iterdir() if f.resolve() in skip}
    # the tables, and a profile table beside them (the built-in cases' layout)
    known = {*table_files, *PROFILE_FILES, *passed}
    absent = [n for n in names if not any(os.path.lexists(folder / f"{n}{s}") for s in SUFFIXES)]
    misnamed = misnamed_problems(folder, absent, loose=(), known=known, aliases=DEVICE_ALIASES,
                                 component="devices.")
    problems += misnamed
    claimed = {i for p in misnamed for i in p.ids}
    unknown = [f for f in sorted(folder.iterdir(), key=lambda f: f.name)
               if (f.is_file() or is_broken_link(f)) and f.suffix.lower() in SUFFIXES
               and f.name not in known and str(f) not in claimed]
    if unknown:  # before: ignored without a word (a folder of generators.csv: no devices)
        problems.append(Problem(
            ProblemKind.UNKNOWN_FILE_TYPE, "devices", "not a device table of the schedule",
            tuple(f.name for f in unknown), "file", "the device tables are "
            + ", ".join(f"{k.value}.csv" for k in DeviceKind) + " (or .parquet)"
            + "".join(f"; {d}" for d in _unknown_file_details(folder, unknown))))
    tables: dict[str, pl.DataFrame] = {}
    for kind in DeviceKind:
        files = [folder / f"{kind.value}{s}" for s in SUFFIXES if (folder /
                                                                   f"{kind.value}{s}").is_file()]
        if not files:
            tables[kind.value] = empty_table(kind)
            continue
        df, found = device_problems(kind, read_table(files[0], f"{kind.value} table"), bus_ids)
        problems += found
        tables[kind.value] = df if df is not None else empty_table(kind)
    devices = Devices(**tables)
    ids = [i for k in DeviceKind for i in devices.ids(k)]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        where = {i: [k.value for k in DeviceKind for j in devices.ids(k) if j == i]
                 for i in dup}
        problems.append(Problem(
            ProblemKind.DUPLICATE_ID, "devices", "device ids must be unique across the tables: "
            + "; ".join(f"{i} is in " + ", ".join(
                f"{t} ({where[i].count(t)} rows)" if where[i].count(t) > 1 else t
                for t in dict.fromkeys(where[i])) for i in dup[:5])
            + (f"; and {len(dup) - 5} more" if len(dup) > 5 else ""), tuple(dup), "id",
            "give each device its own id (the profile rows and the results name devices by "
            f"id): rename all but one, e.g. {dup[0] + 'b'!r} for the second {dup[0]}"))
    if problems:
        raise InputError(problems)
    return devices


def _unknown_file_details(folder: Path, unknown: list[Path]) -> list[str]:
    """What each file of a devices folder that is no device table is (a broken link, a
    folder) and which table its name looks like (:func:`~feederopt.io.folder.likely_table`,
    loose, with :data:`DEVICE_ALIASES`): a device table, with the file it is read from, or the
    profile table, which is read from ``--profiles``."""
    names = [k.value for k in DeviceKind]
    details = []
    for f in unknown:
        why = not_a_readable_file(f)
        if why is not None:
            details.append(f"{f.name}: {why}")
        table = likely_table(f.name, names, loose=True, aliases=DEVICE_ALIASES)
        if table is not None:
            read = [folder / f"{table}{s}" for s in SUFFIXES
                    if (folder / f"{table}{s}").is_file()]
            details.append(f"{f.name} looks like the {table} table, read from {read[0].name}"
                           if read else f"{f.name} looks like the {table} table: rename it to "
                           f"{table}{'.parquet' if f.suffix.lower() == '.parquet' else '.csv'}")
        elif likely_table(f.name, ["profiles"], loose=True) is not None:
            details.append(f"{f.name} looks like a profile table: the schedule reads the "
                           "profiles from the file given with --profiles")
    return details


def write_devices(devices: Devices, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for kind in DeviceKind:
        t = devices.table(kind)
        if t.height:
            t.write_csv(folder / f"{kind.value}.csv")
    return folder

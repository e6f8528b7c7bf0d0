"""Line impedances given per kilometre, as GIS exports give them: a branches table with
``length_km`` and ``r_ohm_per_km``, ``x_ohm_per_km`` (and ``b_us_per_km``, ``g_us_per_km``)
instead of, or beside, ``r_ohm``, ``x_ohm`` (``b_us``, ``g_us``).

Each series and shunt value of a line is its per-km value times its length (pandapower's
``create_line_from_parameters``: ``r_ohm = r_ohm_per_km * length_km``, likewise ``x``; the
charging susceptance ``b_us = b_us_per_km * length_km``, which is ``2 pi f c_nf_per_km 1e-3``
times the length in pandapower's terms). User test ut44_gis #21: the columns were ignored and
the hint "did you mean 'r_ohm'?" for ``r_ohm_per_km``, followed, gave a grid with every line
1 km long, silently.

Per row: the total is taken where the row has both the per-km value and a length and no
total; a row with both forms is refused when they differ by more than
:data:`AGREE_REL` (which one holds is not clear), accepted when they agree; a row with a
per-km value but no length, a length that is not a positive finite number, or a per-km
column without a ``length_km`` column is refused. The consumed columns are dropped (a note
says how many rows took their values from them).
"""

from __future__ import annotations

import math

import polars as pl

from feederopt.errors import Problem, ProblemKind
from feederopt.network.schemas import LENGTH_COLUMN, PER_KM_COLUMNS

#: Relative difference from which a row's total and per-km x length disagree (rounding of a
#: 6-digit export stays far below it).
AGREE_REL = 1e-3


def _ids(df: pl.DataFrame, mask: pl.Series) -> tuple[str, ...]:
    if "id" not in df.columns:
        return tuple(f"row {i + 1}" for i, m in enumerate(mask.to_list()) if m)
    return tuple(str(i) for i, m in zip(df["id"].to_list(), mask.to_list(), strict=True) if m)


def _numbers(col: pl.Series) -> pl.Series:
    if col.dtype == pl.String:
        col = col.str.strip_chars()
    return col.cast(pl.Float64, strict=False)


def from_per_km(branches: pl.DataFrame, no_total: dict[str, set[str]] | None = None
                ) -> tuple[pl.DataFrame, list[Problem], list[str]]:
    """``branches`` with ``r_ohm`` (``x_ohm``, ``b_us``, ``g_us``) filled in from the per-km
    columns times ``length_km`` (see the module docstring), the problems of rows that cannot
    be read so, and a note of what was computed. A table without per-km columns is returned
    as it is (``length_km`` alone is kept, a column known to the branches table:
    :data:`~feederopt.network.schemas.EXTENSION_COLUMNS`). ``no_total``, when given, gets per
    total the ids of the rows left without it because their per-km value has no positive
    length (a problem here names them; validation's "no value for 'r_ohm'" on them repeats
    it)."""
    given = [c for c in PER_KM_COLUMNS if c in branches.columns]
    if not given:
        return branches, [], []
    problems: list[Problem] = []
    if LENGTH_COLUMN not in branches.columns:
        return branches, [Problem(
            ProblemKind.INVALID_VALUE, "branches",
            f"{', '.join(given)} given without a {LENGTH_COLUMN} column: a line's impedance is "
            "its per-km value times its length", field=given[0],
            hint=f"add the lines' lengths as {LENGTH_COLUMN} [km], or give the totals "
            f"{', '.join(PER_KM_COLUMNS[c] for c in given)} [Ohm, uS] instead")], []
    length = _numbers(branches[LENGTH_COLUMN])
    out = branches
    filled: dict[str, int] = {}
    for col in given:
        total = PER_KM_COLUMNS[col]
        per_km = _numbers(branches[col])
        has = per_km.is_not_null() & per_km.is_finite().fill_null(False)
        bad_text = branches[col].is_not_null() & per_km.is_null()
        if bad_text.any():
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "branches",
                f"{int(bad_text.sum())} value(s) of {col} are not numbers",
                ids=_ids(branches, bad_text), field=col,
                hint="write numbers with a decimal point, e.g. 0.161"))
        no_length = has & ~(length.is_not_null() & length.is_finite().fill_null(False)
                            & (length > 0).fill_null(False))
        if no_length.any():
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "branches",
                f"{int(no_length.sum())} row(s) give {col} without a positive {LENGTH_COLUMN}",
                ids=_ids(branches, no_length), field=LENGTH_COLUMN,
                hint=f"give the line's length in km, or its total {total} instead of {col}"))
            if no_total is not None:
                unset = no_length & (branches[total].is_null() if total in branches.columns
                                     else pl.Series([True] * branches.height))
                no_total.setdefault(total, set()).update(_ids(branches, unset))
        computed = per_km * length
        usable = has & ~no_length
        if total in branches.columns:
            current = _numbers(branches[total])
            both = usable & current.is_not_null()
            a, b = current.to_list(), computed.to_list()
            differ = pl.Series([bool(w) and not math.isclose(x, y, rel_tol=AGREE_REL,
                                                             abs_tol=1e-12)
                                for w, x, y in zip(both.to_list(), a, b, strict=True)],
                               dtype=pl.Boolean)
            if differ.any():
                k = differ.to_list().index(True)
                problems.append(Problem(
                    ProblemKind.INVALID_VALUE, "branches",
                    f"{int(differ.sum())} row(s) give both {total} and {col} x {LENGTH_COLUMN}, "
                    f"which differ ({_ids(branches, differ)[0]}: {total} {a[k]:g} but "
                    f"{per_km[k]:g} x {length[k]:g} km = {b[k]:.6g}): it is not clear which "
                    "holds", ids=_ids(branches, differ), field=total,
                    hint=f"give one of {total} and {col} per row, or make them agree"))
            take = usable & current.is_null()
            new = pl.select(pl.when(take).then(computed).otherwise(current)).to_series()
        else:
            take = usable
            new = pl.select(pl.when(take).then(computed).otherwise(None)).to_series()
        filled[total] = int(take.sum())
        out = out.with_columns(new.alias(total))
    out = out.drop([*given, LENGTH_COLUMN])
    done = [f"{total} of {n} row(s)" for total, n in filled.items() if n]
    notes = ([f"branches: {', '.join(done)} computed as the per-km value x {LENGTH_COLUMN} "
              f"(columns {', '.join(given)})"] if done else [])
    return out, problems, notes

"""Double circuits: branches that never open and join the same two buses, as one branch.

A radial model cannot hold two closed branches that never open between two buses (they form
a loop), so a double circuit was refused as ``not_radial`` although the power flow is well
defined (user tests ut_balanced #3 for pandapower, ut_io #4 for a table folder). Every reader
merges them here into one branch named after all of them (``L1+L1b``, ``line:3+line:22``),
so that the result names both (and its ``name``, where the circuits have user names,
``Line 3+Line 22``); the one definition of the merge for every reader.

Two pi models between the same buses are one pi model: the series admittances add,
``z = 1 / sum_k 1 / z_k``, and so do the shunts (``b_us``, ``g_us``, split over both ends
alike). The current divides as the admittances, ``I_k = I |z / z_k|``, so the merged branch
reaches the rating of circuit ``k`` at ``I = i_max_k / |z / z_k|``: its rating is the smallest
of these over the rated circuits (``s_max_mva`` likewise). Only plain lines are merged: in
service, closed and not switchable, a finite non-zero impedance, no tap (``tap_ratio`` 1) and
no asymmetric shunt, whose merge is exact; switchable circuits keep their own branches.

A reader may also merge parallel transformers (``transformers``: pandapower, whose SimBench
grids run two identical 110/20 kV units in parallel without a switch, user test ut48_simb #3):
two-port pi models from the same hv bus to the same lv bus with the same off-nominal ratio
``tap_ratio`` (and the same rated ratio and tap range, not a DOPF OLTC) have bus admittance
matrices ``Y_k = [[(y_k + y_from_k) / a^2, -y_k / a], [-y_k / a, y_k + y_to_k]]`` (``a`` the
common ratio, e.g. MATPOWER's ``makeYbus``), linear in the admittances, so their sum is the
pi model of the summed series admittances ``y = sum_k y_k`` and summed end shunts (``b_us``,
``g_us``, ``g_asym_us``, ``b_asym_us`` each linear in them): exact, as for lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind

#: The value a column takes when a row leaves it empty (the schema's defaults).
_DEFAULTS: dict[str, Any] = {"in_service": True, "switchable": False, "normally_open": False,
                             "kind": "line", "tap_ratio": 1.0, "b_us": 0.0, "g_us": 0.0,
                             "g_asym_us": 0.0, "b_asym_us": 0.0}


def _get(row: dict[str, Any], key: str) -> Any:
    value = row.get(key)
    return _DEFAULTS.get(key) if value is None else value


def _number(value: Any) -> float | None:
    """A finite float, or None (null, NaN, infinite or not a number)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def mergeable(row: dict[str, Any]) -> bool:
    """A plain line that never opens (see the module docstring)."""
    return (_plain(row) and not _get(row, "switchable")
            and not _get(row, "normally_open"))


def _plain(row: dict[str, Any]) -> bool:
    """A plain line, switchable or not: in service, a finite non-zero impedance, no tap and
    no asymmetric shunt."""
    r, x = _number(row.get("r_ohm")), _number(row.get("x_ohm"))
    return (r is not None and x is not None and complex(r, x) != 0
            and _get(row, "kind") == "line" and bool(_get(row, "in_service"))
            and _number(_get(row, "tap_ratio")) == 1.0
            and not _number(_get(row, "g_asym_us")) and not _number(_get(row, "b_asym_us"))
            and row.get("from_bus") is not None and row.get("to_bus") is not None
            and row.get("from_bus") != row.get("to_bus"))


#: The columns of a transformer branch that parallel units must share to be one branch: the
#: same orientation (hv bus first), the same ratio and the same rated ratio and tap range.
_TRAFO_SAME = ("from_bus", "to_bus", "tap_ratio", "tap_rated_ratio", "tap_min_ratio",
               "tap_max_ratio", "tap_steps")


def _parallel_trafo(row: dict[str, Any]) -> bool:
    """A transformer that never opens, whose pi model merges exactly with a parallel one of
    the same :data:`_TRAFO_SAME` (see the module docstring): in service, closed and not
    switchable, a finite non-zero impedance, finite shunts, not an OLTC of the DOPF."""
    r, x = _number(row.get("r_ohm")), _number(row.get("x_ohm"))
    return (r is not None and x is not None and complex(r, x) != 0
            and _get(row, "kind") == "transformer" and bool(_get(row, "in_service"))
            and not _get(row, "switchable") and not _get(row, "normally_open")
            and not row.get("tap_controllable")
            and _number(_get(row, "tap_ratio")) is not None
            and all(_number(_get(row, c)) is not None
                    for c in ("b_us", "g_us", "g_asym_us", "b_asym_us"))
            and row.get("from_bus") is not None and row.get("to_bus") is not None
            and row.get("from_bus") != row.get("to_bus"))


def _rating(parts: list[dict[str, Any]], zs: list[complex], z: complex, key: str
            ) -> float | None:
    """The merged branch's rating ``key``: the total at which the first circuit reaches its
    own, ``min_k rating_k / |z / z_k|`` over the rated circuits; None when none is rated."""
    ratings = [abs(v) / abs(z / zk) for r, zk in zip(parts, zs, strict=True)
               if (v := _number(r.get(key))) is not None]
    return min(ratings) if ratings else None


def merge_parallel_branches(rows: list[dict[str, Any]], warnings: list[str], *,
                            eligible: Callable[[dict[str, Any]], bool] = mergeable,
                            noun: str = "branches",
                            problems: list[Problem] | None = None,
                            switched: bool = False,
                            transformers: bool = False) -> list[dict[str, Any]]:
    """``rows`` (branch table rows, as dicts) with each group of :func:`mergeable` (and
    ``eligible``) rows that join the same two buses replaced by one row in the first one's
    place: the id ``a+b``, the parallel impedance and the summed shunts, the rating at which
    the first of them is fully loaded; the other columns the first row's. Rows without an
    id, or whose id is not unique, are not merged (validation names them). A note for each
    group goes to ``warnings`` (``noun`` names the rows: ``lines`` for pandapower).

    A group whose merged id another row has already (a branch ``L1+L1b`` beside the double
    circuit L1, L1b) is not merged: a ``duplicate_id`` problem names the clash, appended to
    ``problems`` (raised as :class:`InputError` when not given). Another name would break the
    mapping of the circuits to their branch, which is read off the merged id
    (:func:`feederopt.network.container.member_map`); before, validation reported ``L1+L1b``
    as an id given twice, which the user never wrote (user test ut_edge #4).

    With ``switched`` (pandapower, whose writer of switch states operates every circuit of a
    merged branch), switchable circuits between the same two buses in the same state (all
    closed or all open) are merged too, into one switchable branch: a double cable with a
    breaker on each circuit is closed or opened as a whole. Two closed circuits between two
    buses form no loop of buses, and the optimiser had to open one of them, which no operator
    does and which cost losses (user test ut43_ppgrid #1). Circuits in different states (one
    open, one closed) keep their own branches.

    With ``transformers``, parallel transformers that never open, from the same hv bus to the
    same lv bus with the same ratio (:func:`_parallel_trafo`), are one branch too (the module
    docstring: exact); its row keeps the first unit's other columns (``pp_element``,
    ``pp_index``), its id names every unit (``trafo:0+trafo:1``)."""
    # a row whose id another row has too is left for validation to refuse (a row pasted
    # twice is no double circuit)
    seen: dict[str, int] = {}
    for r in rows:
        seen[str(r.get("id"))] = seen.get(str(r.get("id")), 0) + 1
    groups: dict[tuple[Any, ...], list[int]] = {}
    for k, r in enumerate(rows):
        if r.get("id") is None or seen[str(r["id"])] != 1 or not eligible(r):
            continue
        if transformers and _parallel_trafo(r):
            # oriented (hv bus first) and keyed by the ratio: only units of one ratio merge
            groups.setdefault(("trafo", *(_get(r, c) for c in _TRAFO_SAME)), []).append(k)
            continue
        if mergeable(r):
            kind = "fixed"
        elif switched and _plain(r) and _get(r, "switchable"):
            kind = "open" if _get(r, "normally_open") else "closed"
        else:
            continue
        if r.get("from_bus") is None or r.get("to_bus") is None \
                or r.get("from_bus") == r.get("to_bus"):
            continue
        a, b = str(r["from_bus"]), str(r["to_bus"])
        groups.setdefault((min(a, b), max(a, b), kind), []).append(k)
    merged: dict[int, dict[str, Any]] = {}
    drop: set[int] = set()
    clashes: list[Problem] = []
    for key, members in groups.items():
        if len(members) < 2:
            continue
        kind = "trafo" if key[0] == "trafo" else str(key[2])
        parts = [rows[k] for k in members]
        name = "+".join(str(r["id"]) for r in parts)
        if name in seen:
            circuits = ", ".join(str(r["id"]) for r in parts)
            clashes.append(Problem(
                ProblemKind.DUPLICATE_ID, "branches",
                f"the double circuit {circuits} (between buses {parts[0]['from_bus']} and "
                f"{parts[0]['to_bus']}, never open) is merged into one branch named {name}, "
                f"which clashes with the branch {name} of the table",
                ids=(name,), field="id",
                hint=f"rename the branch {name} ('+' joins the circuits of a merged double "
                     "circuit)"))
            continue
        zs = [complex(float(r["r_ohm"]), float(r["x_ohm"])) for r in parts]
        z = 1 / sum(1 / zk for zk in zs)
        first = dict(parts[0])
        first.update({
            "id": name, "r_ohm": z.real, "x_ohm": z.imag,
            "b_us": sum(float(_get(r, "b_us")) for r in parts),
            "g_us": sum(float(_get(r, "g_us")) for r in parts),
            # 0 for lines (mergeable); a transformer's end shunts add alike
            "g_asym_us": sum(float(_get(r, "g_asym_us")) for r in parts),
            "b_asym_us": sum(float(_get(r, "b_asym_us")) for r in parts),
            "i_max_ka": _rating(parts, zs, z, "i_max_ka"), "open_end_energised": None})
        if any(r.get("name") for r in parts):  # the circuits' names, as their ids
            first["name"] = "+".join(str(r.get("name") or r["id"]) for r in parts)
        if any(_number(r.get("s_max_mva")) is not None for r in parts):
            first["s_max_mva"] = _rating(parts, zs, z, "s_max_mva")
        merged[members[0]] = first
        drop.update(members[1:])
        if kind == "trafo":
            warnings.append(
                f"transformers {', '.join(str(r['id']) for r in parts)} join buses "
                f"{parts[0]['from_bus']} and {parts[0]['to_bus']} in parallel with the same "
                f"ratio and never open: one branch {first['id']} in the model (their parallel "
                "impedance and summed magnetising admittance, exact; the rating at which the "
                "first of them is fully loaded)")
            continue
        if kind != "fixed":
            warnings.append(
                f"{noun} {', '.join(str(r['id']) for r in parts)} join buses "
                f"{parts[0]['from_bus']} and {parts[0]['to_bus']}, each switchable on its own, "
                f"all {kind} (a double circuit): one switchable branch {first['id']} in the "
                "model, closed or opened as a whole (their parallel impedance, the rating at "
                "which the first of them is fully loaded)")
            continue
        warnings.append(f"{noun} {', '.join(str(r['id']) for r in parts)} join buses "
                        f"{parts[0]['from_bus']} and {parts[0]['to_bus']} and never open (a "
                        f"double circuit): one branch {first['id']} in the model (their "
                        "parallel impedance, the rating at which the first of them is fully "
                        "loaded)")
    if clashes and problems is None:
        raise InputError(clashes)
    if problems is not None:
        problems += clashes
    return [merged.get(k, r) for k, r in enumerate(rows) if k not in drop]




def merge_parallel_table(branches: pl.DataFrame, warnings: list[str],
                         problems: list[Problem] | None = None) -> pl.DataFrame:
    """:func:`merge_parallel_branches` on a branch table (a folder's, MATPOWER's); the table
    itself when it has no double circuit."""
    if not {"id", "from_bus", "to_bus", "r_ohm", "x_ohm"} <= set(branches.columns):
        return branches
    rows = branches.to_dicts()
    merged = merge_parallel_branches(rows, warnings, problems=problems)
    if len(merged) == len(rows):
        return branches
    return pl.DataFrame(merged, schema=branches.schema)

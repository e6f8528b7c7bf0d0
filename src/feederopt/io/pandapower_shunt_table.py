"""A pandapower 3 shunt's step table (``step_dependency_table``), as the reader takes it.

pandapower 3 lets a shunt take its power per step from ``net.shunt_characteristic_table``
(columns ``id_characteristic``, ``step``, ``q_mvar``, ``p_mw``) instead of ``step x q_mvar``:
with ``step_dependency_table=True`` and ``id_characteristic_table=N``, runpp
(``build_bus._calc_shunts_and_add_on_ppc``) takes the row of ``id_characteristic`` N at the
shunt's ``step`` as the shunt's total ``q_mvar`` and ``p_mw`` at its ``vn_kv``: it consumes
``p_table (vn_bus / vn_kv)^2`` and ``q_table (vn_bus / vn_kv)^2`` at 1 p.u., whatever the
shunt's own ``q_mvar``/``p_mw``. Before (user test ut38_realg #1) the reader ignored the table
and took ``step x q_mvar``: a shunt of -0.3 Mvar at step 2 whose table gives -1.5 Mvar was read
as -0.6 Mvar (model losses 150.77 kW against runpp's 145.09 kW, voltages 0.018 p.u. off).

runpp fails where the table cannot give that one row, and so does the reader, with a typed
problem on the shunt (:func:`shunt_table`): ``step_dependency_table`` set without an
``id_characteristic_table`` (runpp raises "Shunts with step_dependency_table True and
id_characteristic_table NA detected"), no ``net.shunt_characteristic_table``, or no row (or
several rows) of that ``id_characteristic`` at the shunt's ``step`` (runpp's merge drops or
repeats the shunt: a ValueError "Length of values ... does not match", or NaN results).

The model's shunt is ``step`` equal steps of ``q_mvar_per_step`` (:mod:`feederopt.network.
schemas`), so a table is taken as (:func:`table_bank`):

* a fixed shunt: its table row at ``step`` split into ``step`` equal parts (the total is the
  table's); at step 0 with a non-zero row, one step of the row's power;
* a ``controllable`` shunt, a bank whose step the DOPF chooses from ``0..max_step``: kept as
  such when its table gives equal steps, one row at each step ``0..max_step`` with
  ``q_k = k q_1`` and ``p_k = k p_1`` (row 0 zero); otherwise it is held at its ``step`` (as
  a fixed shunt) with a note naming it and why: the DOPF's bank has steps of one size, and
  runpp fails at a step without a row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from feederopt.errors import Problem, ProblemKind

#: One row of a shunt's characteristic: (q_mvar, p_mw) as pandapower writes them (consumption).
Row = tuple[float, float]


@dataclass(frozen=True)
class TableBank:
    """A table shunt as the model takes it, in pandapower's units and signs (consumption at
    the shunt's ``vn_kv``): ``step`` steps of ``q_mvar``/``p_mw``, of ``max_steps``."""

    q_mvar: float
    p_mw: float
    step: int
    max_steps: int
    controllable: bool
    note: str = ""


def uses_table(sh: Any) -> bool:
    """pandapower takes the shunt's power from its table: ``step_dependency_table`` is True
    (NaN or missing: False, as runpp)."""
    value = sh.get("step_dependency_table", False)
    try:
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


def shunt_table(net: Any, idx: Any, sh: Any, step: int) -> dict[int, list[Row]] | Problem:
    """The rows of shunt ``idx``'s characteristic by step, or the typed problem on which
    pandapower's power flow fails (see the module's docstring). Only for a shunt that
    :func:`uses_table`."""
    sid = f"shunt:{idx}"
    ref = sh.get("id_characteristic_table")
    try:
        ref_ok = ref is not None and not math.isnan(float(ref))
    except (TypeError, ValueError):
        ref_ok = False
    if not ref_ok:
        return Problem(
            ProblemKind.INVALID_VALUE, "shunts", "step_dependency_table is set but "
            "id_characteristic_table is not (pandapower's power flow refuses it)", ids=(sid,),
            field="id_characteristic_table", hint="give the id_characteristic of the shunt's "
            "rows in net.shunt_characteristic_table, or set step_dependency_table to False "
            "to take step x q_mvar, p_mw")
    table = net.get("shunt_characteristic_table")
    columns = ("id_characteristic", "step", "q_mvar", "p_mw")
    if table is None or not all(c in getattr(table, "columns", ()) for c in columns):
        return Problem(
            ProblemKind.INVALID_VALUE, "shunts", "step_dependency_table is set but the net has "
            "no shunt_characteristic_table with the columns id_characteristic, step, q_mvar, "
            "p_mw (pandapower's power flow fails on it)", ids=(sid,),
            field="step_dependency_table", hint="add net.shunt_characteristic_table, or set "
            "step_dependency_table to False to take step x q_mvar, p_mw")
    rows: dict[int, list[Row]] = {}
    for _, r in table[table["id_characteristic"] == ref].iterrows():
        try:
            k = int(r["step"])
        except (TypeError, ValueError):
            continue
        rows.setdefault(k, []).append((float(r["q_mvar"]), float(r["p_mw"])))
    at = rows.get(step, [])
    if len(at) != 1:
        found = "no row" if not at else f"{len(at)} rows"
        return Problem(
            ProblemKind.INVALID_VALUE, "shunts", f"net.shunt_characteristic_table has {found} "
            f"for id_characteristic {_g(ref)} at the shunt's step {step} (pandapower's power "
            "flow needs exactly one: it fails or gives the shunt NaN)", ids=(sid,),
            field="step", hint="give the table one row (id_characteristic, step, q_mvar, "
            "p_mw) for each step of the shunt, or set its step to one that has a row")
    if not all(math.isfinite(v) for v in at[0]):
        return Problem(
            ProblemKind.INVALID_VALUE, "shunts", f"the row of net.shunt_characteristic_table "
            f"for id_characteristic {_g(ref)} at step {step} has a NaN or infinite q_mvar or "
            "p_mw", ids=(sid,), field="step", hint="give the row finite q_mvar and p_mw")
    return rows


def table_bank(sid: str, rows: dict[int, list[Row]], step: int, max_step: int,
               controllable: bool) -> TableBank:
    """A table shunt's equal steps (see the module's docstring). ``rows`` has exactly one
    finite row at ``step`` (:func:`shunt_table`)."""
    q, p = rows[step][0]
    note = ""
    if controllable:
        bad = _unequal(rows, max_step)
        if not bad:
            q1, p1 = rows[1][0]
            return TableBank(q1, p1, step, max_step, True)
        note = (f"{sid} is controllable but its step table (net.shunt_characteristic_table) "
                f"{bad}: held at its step {step} (q_mvar {_g(q)}, p_mw {_g(p)} from the table, "
                "as pandapower's power flow takes it), the DOPF does not choose its step (its "
                "bank has steps of one size); to let it, give the table a row for each step "
                f"0..{max_step} with q_mvar and p_mw proportional to the step")
    if step >= 1:
        return TableBank(q / step, p / step, step, max(max_step, step), False, note)
    if q == 0 and p == 0:
        return TableBank(0.0, 0.0, 0, max_step, False, note)
    return TableBank(q, p, 1, max(max_step, 1), False, note)


def _unequal(rows: dict[int, list[Row]], max_step: int) -> str:
    """Why a controllable shunt's table is no bank of equal steps ``0..max_step`` ('' if it
    is one)."""
    if max_step < 1:
        return "gives no step above 0 (max_step 0)"
    for k in range(max_step + 1):
        if len(rows.get(k, [])) != 1:
            return (f"has {'no row' if not rows.get(k) else f'{len(rows[k])} rows'} at step "
                    f"{k} (pandapower's power flow fails there)")
    q1, p1 = rows[1][0]
    for k in range(max_step + 1):
        qk, pk = rows[k][0]
        if not (math.isclose(qk, k * q1, rel_tol=1e-6, abs_tol=1e-9)
                and math.isclose(pk, k * p1, rel_tol=1e-6, abs_tol=1e-9)):
            return (f"has unequal steps (step {k}: q_mvar {_g(qk)}, p_mw {_g(pk)}; {k} x step "
                    f"1: {_g(k * q1)}, {_g(k * p1)})")
    return ""


def _g(value: Any) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)

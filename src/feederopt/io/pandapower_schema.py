"""The pandapower columns that :func:`feederopt.io.pandapower.from_pandapower` reads, and a check
that they hold values of the right kind before any is converted.

A pandapower net is a set of pandas DataFrames whose cells can hold anything (a JSON file edited
by hand, a script that wrote a string into a number column). Each column the reader uses is one
of (after pandapower's element tables, "Datastructure and Elements", pandapower 3.x):

* a **reference**: the index of a bus (or, for ``switch.element``, of a bus, line or trafo), a
  finite whole number;
* a **flag**: a boolean (``in_service``, ``closed``; 0 and 1 count);
* a **number**: a real number; NaN is allowed here, the reader and the validation decide what
  it means (a missing rating, or a bad impedance that validation reports);
* a **count**: a finite whole number >= 0 (the steps of a shunt);
* a **text**: a string (``switch.et``, ``trafo.tap_side``).

Required columns must exist when the table has rows; optional ones may be missing. Every table's
index must be unique. :func:`structure_problems` returns every violation as a typed problem
naming the table (``line``, ``trafo``, ...), the element ids (``line:3``), the column and the
values.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from feederopt.errors import Problem, ProblemKind


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # reference | flag | number | count | text
    required: bool = True


def _cols(kind: str, names: str, required: bool = True) -> tuple[Column, ...]:
    return tuple(Column(n, kind, required) for n in names.split())


#: The columns the reader uses, per element table.
TABLE_COLUMNS: dict[str, tuple[Column, ...]] = {
    "bus": (*_cols("number", "vn_kv"), *_cols("flag", "in_service"),
            *_cols("number", "min_vm_pu max_vm_pu", required=False)),
    "ext_grid": (*_cols("reference", "bus"), *_cols("flag", "in_service"),
                 *_cols("number", "vm_pu")),
    "gen": (*_cols("reference", "bus"), *_cols("flag", "in_service"),
            *_cols("number", "vm_pu p_mw"),
            *_cols("number", "q_mvar min_q_mvar max_q_mvar scaling", required=False)),
    "line": (*_cols("reference", "from_bus to_bus"), *_cols("flag", "in_service"),
             *_cols("number", "length_km r_ohm_per_km x_ohm_per_km c_nf_per_km max_i_ka"),
             *_cols("number", "parallel df", required=False)),
    "trafo": (*_cols("reference", "hv_bus lv_bus"), *_cols("flag", "in_service"),
              *_cols("number", "sn_mva vn_hv_kv vn_lv_kv vk_percent vkr_percent pfe_kw "
                     "i0_percent"),
              *_cols("number", "parallel tap_pos tap_neutral tap_step_percent df",
                     required=False),
              *_cols("text", "tap_side", required=False)),
    "switch": (*_cols("reference", "bus element"), *_cols("text", "et"),
               *_cols("flag", "closed"), *_cols("number", "z_ohm in_ka", required=False)),
    "load": (*_cols("reference", "bus"), *_cols("flag", "in_service"),
             *_cols("number", "p_mw q_mvar"),
             *_cols("number", "scaling const_z_percent const_i_percent const_z_p_percent "
                    "const_i_p_percent const_z_q_percent const_i_q_percent", required=False)),
    "sgen": (*_cols("reference", "bus"), *_cols("flag", "in_service"), *_cols("number", "p_mw"),
             *_cols("number", "q_mvar scaling", required=False)),
    "shunt": (*_cols("reference", "bus"), *_cols("flag", "in_service"),
              *_cols("number", "q_mvar"), *_cols("count", "step max_step", required=False)),
}

_HINTS = {
    "reference": "give the index of an existing bus (a whole number)",
    "flag": "write true or false",
    "number": "give a number (NaN where pandapower allows it)",
    "count": "give a whole number >= 0",
    "text": "give a string",
}


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _ok(kind: str, v: Any) -> bool:
    if kind == "number":
        return _is_number(v) or v is None
    if kind == "flag":
        return isinstance(v, bool | np.bool_) or (_is_number(v) and v in (0, 1))
    if kind in ("reference", "count"):
        ok = _is_number(v) and math.isfinite(float(v)) and float(v) == round(float(v))
        return ok and (kind == "reference" or float(v) >= 0)
    return isinstance(v, str) or v is None or (_is_number(v) and math.isnan(float(v)))


#: The name a problem gives a pandapower table where the reader's other problems on its
#: elements name the data model's table: a shunt's are ``shunts [shunt:0]`` everywhere (the
#: structure check said ``shunt [shunt:0]``, the value checks ``shunts [shunt:0]``; user test
#: ut50_dopf #5).
COMPONENT_OF_TABLE = {"shunt": "shunts"}


def structure_problems(net: Any) -> list[Problem]:
    """Every missing column, duplicate index and value of the wrong kind in the element tables
    that the reader uses (see the module docstring)."""
    problems: list[Problem] = []
    for table, columns in TABLE_COLUMNS.items():
        if table not in net:
            continue
        component = COMPONENT_OF_TABLE.get(table, table)
        df = net[table]
        if not isinstance(df, pd.DataFrame):
            problems.append(Problem(ProblemKind.INVALID_VALUE, table,
                                    f"net.{table} is a {type(df).__name__}, not a table",
                                    field=table, hint="save the net with pandapower.to_json"))
            continue
        if not len(df):
            continue
        if not df.index.is_unique:
            dup = sorted({str(i) for i in df.index[df.index.duplicated()]})
            problems.append(Problem(ProblemKind.DUPLICATE_ID, component,
                                    f"{len(dup)} index value(s) occur more than once",
                                    ids=tuple(f"{table}:{i}" for i in dup), field="index",
                                    hint="give every element its own index"))
        for col in columns:
            if col.name not in df.columns:
                if col.required:
                    problems.append(Problem(ProblemKind.MISSING_COLUMN, component,
                                            f"required column '{col.name}' is missing",
                                            field=col.name,
                                            hint=f"add net.{table}.{col.name}"))
                continue
            bad = [(i, v) for i, v in df[col.name].items() if not _ok(col.kind, v)]
            if bad:
                shown = ", ".join(repr(v) for _, v in bad[:5]) + (" ..." if len(bad) > 5 else "")
                problems.append(Problem(ProblemKind.INVALID_VALUE, component,
                                        f"{len(bad)} value(s) are not a {col.kind}: {shown}",
                                        ids=tuple(f"{table}:{i}" for i, _ in bad),
                                        field=col.name, hint=_HINTS[col.kind]))
    return problems

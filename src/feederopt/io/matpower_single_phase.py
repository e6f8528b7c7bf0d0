"""MATPOWER cases given as single-phase equivalents, read as the three-phase feeder.

MATPOWER 8.1's ``case533mt_hi`` and ``case533mt_lo`` (Malmer & Thorin, Lund University 2023)
give "Pd and Qd ... in single-phase MW & MVAr", ``Sbase_1ph = 50/3 MVA`` and line-to-neutral
base voltages (``135/sqrt(3)``, ``12/sqrt(3)`` kV). feederopt's tables hold line-to-line kV and
three-phase MW (:class:`feederopt.network.schemas.Bus`), so read as they ship these feeders
showed 6.93 kV buses, a 15.1 MW load and one phase's losses (user test ut32_pub #1).

The balanced three-phase feeder is the single-phase equivalent with
``V_LL = sqrt(3) V_LN``, ``S_3ph = 3 S_1ph`` and the same impedances in Ohm: its base impedance
``V_LL^2 / S_3ph = (sqrt(3) V_LN)^2 / (3 S_1ph) = V_LN^2 / S_1ph`` is unchanged, so every
per-unit quantity (impedances, loads, voltages, currents) is the same, the power flows and
losses are exactly three times those of the equivalent, and a phase current
``S_3ph / (sqrt(3) V_LL) = S_1ph / V_LN`` is unchanged (ratings in kA stay, in MVA triple).

The MATPOWER reader (:func:`feederopt.io.matpower.read_matpower`) applies it by the file's
content, not its name, so a copy of ``case533mt_hi.m`` saved as ``mycase.m`` is read as the
built-in is (user test ut49_bigrid #1: it came back as one phase, with no note):
:func:`single_phase_reading` converts a file whose ``function mpc = NAME`` line names a known
single-phase equivalent and whose text states the single-phase basis ("single-phase MW"); a
file that states it but is not a known case is read as written, with :data:`UNKNOWN_NOTE`.
"""

from __future__ import annotations

import math
import re

import polars as pl

from feederopt.network.container import Network

#: MATPOWER cases whose data are single-phase equivalents (their header says so).
SINGLE_PHASE_EQUIVALENTS = frozenset({"case533mt_hi", "case533mt_lo"})

SQRT3 = math.sqrt(3.0)

NOTE = ("read as the three-phase feeder: the MATPOWER file gives single-phase MW/MVAr and "
        "line-to-neutral kV (Sbase_1ph = 50/3 MVA), so kV x sqrt(3), MW, MVAr and MVA "
        "ratings x 3, impedances in Ohm unchanged (per-unit values, voltages and currents as "
        "in the file; losses 3 x the file's single-phase losses)")


#: The note on a file that states single-phase MW/MVAr but is not a known case: read as written.
UNKNOWN_NOTE = ("the MATPOWER file says its loads are single-phase MW/MVAr ({statement!r}), "
                "but it is not a case feederopt knows as a single-phase equivalent "
                "({known}); it is read as written, as line-to-line kV and three-phase MW: if "
                "it is the single-phase equivalent of a balanced feeder, the three-phase "
                "feeder has kV x sqrt(3), MW, MVAr and MVA ratings x 3 and 3 x its losses")

#: The header's statement of a single-phase basis (case533mt_hi.m: "Pd and Qd are given in
#: single-phase MW & MVAr here"), in a comment or not.
_STATEMENT = re.compile(r"single[- ]phase\s+(?:MW|MVA|kW|power|load)", re.IGNORECASE)
_FUNCTION_NAME = re.compile(r"^[ \t]*function\s+mpc\s*=\s*(?P<name>[A-Za-z]\w*)", re.M)


def single_phase_reading(text: str) -> tuple[bool, str | None]:
    """How to read a MATPOWER file's text: ``(convert, note)``.

    ``convert`` is true when the file's ``function mpc = NAME`` names one of
    :data:`SINGLE_PHASE_EQUIVALENTS` and its text states the single-phase basis (then
    :func:`three_phase_feeder` applies, and adds :data:`NOTE`); ``note`` is
    :data:`UNKNOWN_NOTE` for a file that states it but is not such a case, else ``None``.
    """
    found = _STATEMENT.search(text)
    if found is None:
        return False, None
    function = _FUNCTION_NAME.search(text)
    if function is not None and function.group("name") in SINGLE_PHASE_EQUIVALENTS:
        return True, None
    line_start = text.rfind("\n", 0, found.start()) + 1
    line_end = text.find("\n", found.end())
    statement = text[line_start:line_end if line_end >= 0 else None].strip(" \t%")
    return False, UNKNOWN_NOTE.format(statement=statement[:120],
                                      known=", ".join(sorted(SINGLE_PHASE_EQUIVALENTS)))


def _scaled(df: pl.DataFrame, columns: tuple[str, ...], k: float) -> pl.DataFrame:
    present = [c for c in columns if c in df.columns]
    return df.with_columns([pl.col(c) * k for c in present]) if present else df


def three_phase_feeder(net: Network) -> Network:
    """The balanced three-phase feeder of the single-phase equivalent ``net`` (see the module
    docstring): kV x sqrt(3); MW, MVAr, MVA x 3; Ohm, uS and kA unchanged."""
    buses = _scaled(net.buses, ("vn_kv",), SQRT3)
    buses = _scaled(buses, ("source_p_max_mw", "source_s_max_mva"), 3.0)
    branches = _scaled(net.branches, ("s_max_mva",), 3.0)
    loads = _scaled(net.loads, ("p_mw", "q_mvar"), 3.0)
    generators = _scaled(net.generators, ("p_mw", "q_mvar", "p_min_mw", "p_max_mw",
                                          "q_min_mvar", "q_max_mvar"), 3.0)
    shunts = _scaled(net.shunts, ("q_mvar_per_step", "p_mw_per_step"), 3.0)
    meta = dict(net.meta)
    if isinstance(meta.get("base_mva"), int | float):
        meta["base_mva"] = 3.0 * float(meta["base_mva"])
    meta["single_phase_equivalent"] = True
    meta["warnings"] = [*meta.get("warnings", []), NOTE]
    return Network(buses=buses, branches=branches, loads=loads, generators=generators,
                   shunts=shunts, name=net.name, integer_ids=net.integer_ids, meta=meta)

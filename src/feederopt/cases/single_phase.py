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
"""

from __future__ import annotations

import math

import polars as pl

from feederopt.network.container import Network

#: MATPOWER cases whose data are single-phase equivalents (their header says so).
SINGLE_PHASE_EQUIVALENTS = frozenset({"case533mt_hi", "case533mt_lo"})

SQRT3 = math.sqrt(3.0)

NOTE = ("read as the three-phase feeder: the MATPOWER file gives single-phase MW/MVAr and "
        "line-to-neutral kV (Sbase_1ph = 50/3 MVA), so kV x sqrt(3), MW, MVAr and MVA "
        "ratings x 3, impedances in Ohm unchanged (per-unit values, voltages and currents as "
        "in the file; losses 3 x the file's single-phase losses)")


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

"""``case70da_khodr``: Das's 70-bus, two-substation feeder (``case70da``) with the devices of
Khodr, Matos & Pereira's case 2 ("Distribution optimal power flow", IEEE Power Tech 2007;
seed 002): capacitor banks at buses 49 and 64, OLTCs at the substations 1 and 70, two 2 MVA
generators at buses 15 and 29, every voltage in [0.96, 1.04] p.u.

The seed gives no costs, no tap step and no generator limits; the assumptions are named in
``data/case70da_khodr/README.md`` and in the constants below.
"""

from __future__ import annotations

import polars as pl

from feederopt.network.container import Network

#: Voltage window of every bus [p.u.] (the seed's case 2).
V_MIN_PU, V_MAX_PU = 0.96, 1.04
#: Capacitor banks: bus -> kvar per step; steps 0..4 give 0, 150, 300, 450, 600 kvar (the seed's
#: 150/300/600 kvar and, in addition, 450 kvar).
CAPACITORS = {"49": 150.0, "64": 150.0}
CAP_STEPS = 4
#: OLTC at each substation: ratio 1 + k x 0.0125 (1.25 % per position) within [0.96, 1.04].
TAP_STEP_PU = 0.0125
#: Generators: bus -> 2 MVA; p in [0, 1.6] MW, q in [-1.2, 1.2] MVAr (the box inside the
#: 2 MVA circle at power factor 0.8).
GENERATORS = ("15", "29")
GEN_P_MAX_MW, GEN_Q_MAX_MVAR = 1.6, 1.2
#: Assumed costs: losses at 100 per MWh; generation at 120 per MWh plus 20 per hour while
#: running ("more economic without them" in the seed).
LOSS_PRICE_PER_MWH = 100.0
DG_COST_PER_MWH = 120.0
DG_FIXED_COST_PER_H = 20.0


def case70da_khodr(base: Network, *, dg_cost_per_mwh: float = DG_COST_PER_MWH,
                   dg_fixed_cost_per_h: float = DG_FIXED_COST_PER_H) -> Network:
    """The case built on ``base`` (``case70da``); the DG costs may be changed."""
    is_src = pl.col("is_source")
    buses = base.buses.with_columns(
        pl.lit(V_MIN_PU).alias("v_min_pu"), pl.lit(V_MAX_PU).alias("v_max_pu"),
        pl.when(is_src).then(V_MIN_PU).otherwise(None).alias("tap_min_pu"),
        pl.when(is_src).then(V_MAX_PU).otherwise(None).alias("tap_max_pu"),
        pl.when(is_src).then(TAP_STEP_PU).otherwise(None).alias("tap_step_pu"),
    )
    shunts = pl.DataFrame({
        "id": [f"cap{b}" for b in CAPACITORS],
        "bus": list(CAPACITORS),
        "q_mvar_per_step": [q / 1000.0 for q in CAPACITORS.values()],
        "max_steps": [CAP_STEPS] * len(CAPACITORS),
        "step": [0] * len(CAPACITORS),
        "controllable": [True] * len(CAPACITORS),
    })
    gens = pl.DataFrame({
        "id": [f"dg{b}" for b in GENERATORS],
        "bus": list(GENERATORS),
        "p_max_mw": [GEN_P_MAX_MW] * len(GENERATORS),
        "q_min_mvar": [-GEN_Q_MAX_MVAR] * len(GENERATORS),
        "q_max_mvar": [GEN_Q_MAX_MVAR] * len(GENERATORS),
        "cost_per_mwh": [dg_cost_per_mwh] * len(GENERATORS),
        "fixed_cost_per_h": [dg_fixed_cost_per_h] * len(GENERATORS),
        "committable": [True] * len(GENERATORS),
    })
    return Network.from_tables(
        buses=buses, branches=base.branches, loads=base.loads, generators=gens, shunts=shunts,
        name="case70da_khodr", integer_ids=base.integer_ids,
        meta={**base.meta, "case": "case70da_khodr", "loss_price_per_mwh": LOSS_PRICE_PER_MWH})

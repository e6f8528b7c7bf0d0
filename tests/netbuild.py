"""A small hand-made feeder for tests, and helpers to break it in one way at a time."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from feederopt.network import Network


def tiny_tables() -> dict[str, pl.DataFrame]:
    """Source s; lines s-a, a-b, b-c; an ideal switch c-d; a normally-open tie s-c."""
    buses = pl.DataFrame(
        {
            "id": ["s", "a", "b", "c", "d"],
            "vn_kv": [12.66] * 5,
            "is_source": [True, False, False, False, False],
        }
    )
    branches = pl.DataFrame(
        {
            "id": ["l1", "l2", "l3", "sw1", "tie1"],
            "from_bus": ["s", "a", "b", "c", "s"],
            "to_bus": ["a", "b", "c", "d", "c"],
            "r_ohm": [0.3, 0.4, 0.5, 0.0, 1.0],
            "x_ohm": [0.2, 0.3, 0.3, 0.0, 0.8],
            "kind": ["line", "line", "line", "switch", "line"],
            "switchable": [False, True, True, True, True],
            "normally_open": [False, False, False, False, True],
        }
    )
    loads = pl.DataFrame(
        {
            "id": ["La", "Lb", "Lc", "Ld"],
            "bus": ["a", "b", "c", "d"],
            "p_mw": [0.2, 0.3, 0.25, 0.1],
            "q_mvar": [0.1, 0.15, 0.1, 0.05],
        }
    )
    return {"buses": buses, "branches": branches, "loads": loads}


def tiny(**tables: pl.DataFrame) -> Network:
    """The tiny feeder, with some of its tables replaced."""
    t = tiny_tables()
    t.update(tables)
    return Network.from_tables(**t, name="tiny")


def set_value(df: pl.DataFrame, row_id: str, column: str, value: object) -> pl.DataFrame:
    """``df`` with ``column`` set to ``value`` in the row whose id is ``row_id``."""
    return df.with_columns(
        pl.when(pl.col("id") == row_id)
        .then(pl.lit(value, dtype=df.schema[column]))
        .otherwise(pl.col(column))
        .alias(column)
    )


def tiny_pandapower_net(open_ids: set[str], tables: dict[str, pl.DataFrame] | None = None,
                        loads: dict[str, tuple[float, float]] | None = None,
                        sgen: tuple[str, float, float] | None = None) -> Any:
    """The tiny feeder (or ``tables`` of its shape) built by hand in pandapower, not by
    feederopt: the branches ``open_ids`` open (a line left out, a bus-bus switch opened), the
    loads of the tables or ``loads`` (load id -> (p_mw, q_mvar)), an optional sgen ``(bus,
    p_mw, q_mvar)``; buses and lines named by their ids, a line rated at its ``i_max_ka`` when
    the tables give one (else 10 kA). Not yet solved."""
    import pandapower as pp

    t = tiny_tables() if tables is None else tables
    net = pp.create_empty_network(sn_mva=1.0)
    idx = {b: pp.create_bus(net, vn_kv=12.66, name=b) for b in t["buses"]["id"].to_list()}
    pp.create_ext_grid(net, idx["s"], vm_pu=1.0)
    for row in t["branches"].iter_rows(named=True):
        a, b = idx[row["from_bus"]], idx[row["to_bus"]]
        if row["kind"] == "switch":
            pp.create_switch(net, a, b, et="b", closed=row["id"] not in open_ids)
        elif row["id"] not in open_ids:
            rating = row.get("i_max_ka")
            pp.create_line_from_parameters(
                net, a, b, length_km=1.0, r_ohm_per_km=row["r_ohm"], x_ohm_per_km=row["x_ohm"],
                c_nf_per_km=0.0, max_i_ka=10.0 if rating is None else rating, name=row["id"])
    bus_of = {r["id"]: r["bus"] for r in t["loads"].iter_rows(named=True)}
    given = loads if loads is not None else {
        r["id"]: (r["p_mw"], r["q_mvar"]) for r in t["loads"].iter_rows(named=True)}
    for load_id, (p, q) in given.items():
        pp.create_load(net, idx[bus_of[load_id]], p_mw=p, q_mvar=q)
    if sgen is not None:
        pp.create_sgen(net, idx[sgen[0]], p_mw=sgen[1], q_mvar=sgen[2])
    return net


def tiny_pandapower_losses_kw(open_ids: set[str],
                              sgen: tuple[str, float, float] | None = None) -> float:
    """pandapower's Newton-Raphson losses [kW] of the tiny feeder with the branches
    ``open_ids`` open and an optional sgen (:func:`tiny_pandapower_net`)."""
    import pandapower as pp

    net = tiny_pandapower_net(open_ids, sgen=sgen)
    pp.runpp(net)
    return float(net.res_line.pl_mw.sum() * 1000.0)


def pandapower_radial_line_sets(net: Any) -> Iterator[tuple[int, ...]]:
    """Every set of pandapower lines whose opening leaves a forest with one tree per source
    and every bus fed (the ext_grids merged into one root; union-find over the closed lines).
    A brute-force yardstick: the tests run pandapower on each of them."""
    lines = list(net.line.index)
    n_bus, n_src = len(net.bus), len(net.ext_grid)
    src = [int(b) for b in net.ext_grid.bus]
    for opened in itertools.combinations(lines, len(lines) - (n_bus - n_src)):
        parent = list(range(n_bus))

        def find(k: int, parent: list[int] = parent) -> int:
            while parent[k] != k:
                k = parent[k]
            return k

        for other in src[1:]:
            parent[other] = src[0]  # the sources merged
        radial = True
        for k in lines:
            if k in opened:
                continue
            ra, rb = find(int(net.line.at[k, "from_bus"])), find(int(net.line.at[k, "to_bus"]))
            if ra == rb:
                radial = False
                break
            parent[ra] = rb
        if radial:
            yield tuple(int(k) for k in opened)


TWO_FEEDER_LOADS_MW = {"A1": 0.8, "A2": 0.9, "A3": 1.0, "A4": 1.1, "A5": 1.2, "A6": 1.3,
                       "B1": 0.7, "B2": 0.8, "B3": 0.9, "B4": 1.0, "B5": 1.2}


def two_feeder_pandapower(tap_pos: int = 0, cap_step: int = 0, pv_bus: str = "A6",
                          pv_mw: float = 0.6, oltc: bool = False, dg: bool = False) -> Any:
    """User test ut_dopf's pandapower net (/tmp/ut_dopf/mknet.py): HV - T1 (110/20 kV, hv-side
    ratio tap -5..5 of 1.25 %; an OLTC with ``oltc``) - MV0, feeder A (A1..A6, 2 km sections)
    and B (B1..B5, 2.5 km), ties TIE1 A6-B5 and TIE2 A3-B3 open (switches sw_TIE1, sw_TIE2),
    sectionalising switches sw_LA4, sw_LB4, sw_LA5 closed; loads ld_<bus> at pf 0.91; a
    4 x 0.3 Mvar bank CAP_A5 (controllable with ``oltc``), a fixed PV sgen PV_<bus>, and with
    ``dg`` a controllable sgen DG_B4 (0..2 MW, -1..1 Mvar, 50 per MWh + 5 per h). Bus limits
    0.95..1.05 p.u."""
    import pandapower as pp

    n = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(n, 110, name="HV")
    mv = pp.create_bus(n, 20, name="MV0", min_vm_pu=0.95, max_vm_pu=1.05)
    pp.create_ext_grid(n, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        n, hv, mv, sn_mva=25, vn_hv_kv=110, vn_lv_kv=20, vkr_percent=0.4, vk_percent=12,
        pfe_kw=0, i0_percent=0, tap_side="hv", tap_neutral=0, tap_min=-5, tap_max=5,
        tap_step_percent=1.25, tap_pos=tap_pos, tap_changer_type="Ratio", name="T1",
        **({"oltc": True} if oltc else {}))
    b = {}
    for feeder, count, km in (("A", 6, 2.0), ("B", 5, 2.5)):
        prev = mv
        for i in range(1, count + 1):
            b[f"{feeder}{i}"] = pp.create_bus(n, 20, name=f"{feeder}{i}", min_vm_pu=0.95,
                                              max_vm_pu=1.05)
            pp.create_line_from_parameters(n, prev, b[f"{feeder}{i}"], km, 0.3, 0.4, 10, 0.4,
                                           name=f"L{feeder}{i}")
            prev = b[f"{feeder}{i}"]
    for name, x, y, km in (("TIE1", "A6", "B5", 1.5), ("TIE2", "A3", "B3", 2.0)):
        t = pp.create_line_from_parameters(n, b[x], b[y], km, 0.3, 0.4, 10, 0.4, name=name)
        pp.create_switch(n, b[x], t, et="l", closed=False, name=f"sw_{name}")
    for ln, bus in (("LA4", "A3"), ("LB4", "B3"), ("LA5", "A4")):
        li = int(n.line.index[n.line.name == ln][0])
        pp.create_switch(n, b[bus], li, et="l", closed=True, name=f"sw_{ln}")
    for k, v in TWO_FEEDER_LOADS_MW.items():
        pp.create_load(n, b[k], p_mw=v, q_mvar=0.45 * v, name=f"ld_{k}")
    pp.create_shunt(n, b["A5"], q_mvar=-0.3, p_mw=0.0, step=cap_step, max_step=4,
                    name="CAP_A5", **({"controllable": True} if oltc else {}))
    if dg:
        g = pp.create_sgen(n, b["B4"], p_mw=0.0, q_mvar=0.0, name="DG_B4", controllable=True,
                           min_p_mw=0.0, max_p_mw=2.0, min_q_mvar=-1.0, max_q_mvar=1.0)
        pp.create_poly_cost(n, g, "sgen", cp1_eur_per_mw=50.0, cp0_eur=5.0)
    pp.create_sgen(n, b[pv_bus], p_mw=pv_mw, q_mvar=0.0, name=f"PV_{pv_bus}")
    return n


def pv33_pandapower() -> Any:
    """pandapower's case33bw with the band 0.9-1.05 p.u. and three 2.5 MW PV sgens at buses
    17, 32 and 24: power flows back to the source, the SOCP relaxation is not exact, and the
    AC voltages of the model's answer rise above 1.05 p.u. (test_ac_limits)."""
    import pandapower as pp
    import pandapower.networks as pn

    net = pn.case33bw()
    net.bus["max_vm_pu"] = 1.05
    net.bus["min_vm_pu"] = 0.9
    for b in (17, 32, 24):
        pp.create_sgen(net, bus=b, p_mw=2.5, q_mvar=0.0)
    return net


def planner_pandapower(capacitor: bool = True, pv_mw: float = 1.0) -> Any:
    """The resilience planner's net of user test ut_res (/tmp/ut_res/mknet.py): 110/20 kV,
    a 25-MVA transformer at tap -2, two 6-bus cable feeders A (buses 2-7, lines 0-5) and B
    (buses 8-13, lines 6-11), normally open ties T36 (line 12, A3-B3) and T66 (line 13,
    A6-B6) with line switches, sectionalising switches only on LA1, LB1, LA4 and LB4, loads
    0.6-1.1 MW (A) and 0.5-1.25 MW (B), a PV of ``pv_mw`` at B5 (bus 12), 0.4 MW of wind at A6
    (bus 7) and a 1-Mvar capacitor at A5 (bus 6) when ``capacitor``."""
    import pandapower as pp

    net = pp.create_empty_network(name="planner_net")
    hv = pp.create_bus(net, 110, name="HV")
    mv = pp.create_bus(net, 20, name="MV")
    pp.create_ext_grid(net, hv, vm_pu=1.02, name="grid")
    t = pp.create_transformer(net, hv, mv, std_type="25 MVA 110/20 kV", name="T1")
    net.trafo.at[t, "tap_pos"] = -2
    a = [pp.create_bus(net, 20, name=f"A{i}") for i in range(1, 7)]
    b = [pp.create_bus(net, 20, name=f"B{i}") for i in range(1, 7)]
    lt = "NA2XS2Y 1x185 RM/25 12/20 kV"
    lines = {}
    for feeder, buses in (("A", a), ("B", b)):
        prev = mv
        for i, bus in enumerate(buses):
            lines[f"L{feeder}{i + 1}"] = pp.create_line(net, prev, bus, 2.0, lt,
                                                        name=f"L{feeder}{i + 1}")
            prev = bus
    lines["T36"] = pp.create_line(net, a[2], b[2], 1.5, lt, name="T36")
    lines["T66"] = pp.create_line(net, a[5], b[5], 1.0, lt, name="T66")
    pp.create_switch(net, a[2], lines["T36"], et="l", closed=False, name="sw_T36")
    pp.create_switch(net, b[5], lines["T66"], et="l", closed=False, name="sw_T66")
    for name, bus in (("LA1", mv), ("LB1", mv), ("LA4", a[2]), ("LB4", b[2])):
        pp.create_switch(net, bus, lines[name], et="l", closed=True, name=f"sw_{name}")
    for i, bus in enumerate(a):
        pp.create_load(net, bus, p_mw=0.6 + 0.1 * i, q_mvar=0.2, name=f"ldA{i + 1}")
    for i, bus in enumerate(b):
        pp.create_load(net, bus, p_mw=0.5 + 0.15 * i, q_mvar=0.15, name=f"ldB{i + 1}")
    pp.create_sgen(net, b[4], p_mw=pv_mw, q_mvar=0.0, name="PV_B5", type="PV")
    pp.create_sgen(net, a[5], p_mw=0.4, q_mvar=0.0, name="WT_A6", type="WP")
    if capacitor:
        pp.create_shunt(net, a[4], q_mvar=-1.0, p_mw=0.0, name="cap_A5")
    return net


#: The 7-bus 20 kV tie feeder of the schedule tests: line k joins these buses (3 km cables),
#: the tie (3, 6) open; a load of ``TIE7_LOADS_MW[i]`` MW (q 0.2 Mvar) at bus i, ``load:i-1``.
TIE7_LINES = [(0, 1), (1, 2), (2, 3), (1, 4), (4, 5), (5, 6), (3, 6)]
TIE7_LOADS_MW = {i: 0.5 + 0.05 * i for i in range(1, 7)}


def tie7_pandapower() -> Any:
    """The 7-bus tie feeder (:data:`TIE7_LINES`, the loop 1-2-3-6-5-4 closed by the open tie
    3-6 with a line switch each), 3.6-4.05 MW of load."""
    import pandapower as pp

    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20) for _ in range(7)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for a, c in TIE7_LINES:
        line = pp.create_line(net, b[a], b[c], 3.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
        pp.create_switch(net, b[a], line, "l", closed=(a, c) != (3, 6))
    for i, p in TIE7_LOADS_MW.items():
        pp.create_load(net, b[i], p_mw=p, q_mvar=0.2)
    return net


#: The 9-bus 20 kV meshed feeder of user test ut39_uncert (``net9.json``): line k joins these
#: buses (k km as in NINE_BUS_KM, 0.4 + j0.35 Ohm/km, rated 0.4 kA), lines 1-9 switchable
#: (pandapower switch k-1), the ties 4-8 and 3-7 open; loads ``load:0``..``load:6`` at buses
#: 2-8 (:data:`NINE_BUS_LOADS`: p MW, q MVAr).
NINE_BUS_LINES = [(0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (7, 8), (4, 8),
                  (3, 7)]
NINE_BUS_KM = [1.0, 2.0, 2.5, 1.5, 2.0, 1.8, 2.2, 1.2, 2.0, 1.5]
NINE_BUS_LOADS = {2: (0.8, 0.3), 3: (1.0, 0.4), 4: (0.6, 0.2), 5: (0.7, 0.25), 6: (0.9, 0.3),
                  7: (0.5, 0.2), 8: (0.8, 0.3)}


def nine_bus_pandapower() -> Any:
    """The 9-bus feeder of user test ut39_uncert (:data:`NINE_BUS_LINES`): 5.3 MW of load, its
    best radial topology at V min 0.974 p.u. (pandapower), so that ``--v-min 0.975`` leaves no
    radial topology within the limits."""
    import pandapower as pp

    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=20.0, name=f"b{i}") for i in range(9)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for k, ((u, v), km) in enumerate(zip(NINE_BUS_LINES, NINE_BUS_KM, strict=True)):
        line = pp.create_line_from_parameters(net, b[u], b[v], length_km=km, r_ohm_per_km=0.4,
                                              x_ohm_per_km=0.35, c_nf_per_km=0.0, max_i_ka=0.4,
                                              name=f"L{u}-{v}")
        if k > 0:
            pp.create_switch(net, b[u], line, et="l", closed=k < 8, name=f"S{u}-{v}")
    for bus, (p, q) in NINE_BUS_LOADS.items():
        pp.create_load(net, b[bus], p_mw=p, q_mvar=q, name=f"ld{bus}")
    return net


def flexible_ld_a6(net: Any, price_per_mwh: float = -1.0) -> int:
    """Make ``two_feeder_pandapower``'s load ld_A6 the only controllable one, down to half its
    1.3 MW (``min_p_mw`` 0.65), at ``-price_per_mwh`` per MWh of reduction (pandapower's
    ``poly_cost`` on a load: a negative ``cp1`` pays for consuming less); returns its index."""
    import pandapower as pp

    net.load["controllable"] = False
    net.load["min_p_mw"] = net.load.p_mw
    net.load["max_p_mw"] = net.load.p_mw
    ld = int(net.load.index[net.load.name == "ld_A6"][0])
    net.load.loc[ld, ["controllable", "min_p_mw"]] = [True, 0.65]
    pp.create_poly_cost(net, ld, "load", cp1_eur_per_mw=price_per_mwh)
    return ld


#: User test ut34_combo's two-source 20 kV net (/tmp/ut34_combo/netbuild.py): line k joins
#: these buses (bus 0 the source S1, bus 11 the lv side S2 of the 110/20 kV OLTC trafo from
#: bus 10, the second source); the lines with a switch and the switch's state.
TWO_SOURCE_LINES = [(0, 1), (1, 2), (2, 3), (3, 4), (11, 5), (5, 6), (6, 7), (7, 8), (4, 8),
                    (2, 6), (3, 7), (8, 9)]
TWO_SOURCE_SWITCHES = {(2, 3): True, (3, 4): False, (5, 6): True, (6, 7): False,
                       (7, 8): True, (4, 8): True, (2, 6): False, (3, 7): True}


def two_source_devices_pandapower(tap_min: int = -4, tap_max: int = 4) -> Any:
    """User test ut34_combo's ``net_dev.json``: two ext_grids at 1.0 p.u. (S1, bus 0; HV,
    bus 10), a 25-MVA 110/20 kV trafo HV-S2 with an OLTC on the hv side (``tap_min`` ..
    ``tap_max`` at 1.5 %, 10 kW iron losses, at the position in range nearest 0), twelve
    NA2XS2Y 1x185 cables (:data:`TWO_SOURCE_LINES`; line ``k`` is ``line:k``), eight of
    them with a line switch (:data:`TWO_SOURCE_SWITCHES`), loads 0.8-2.0 MW, a 1.5 MW PV at
    bus 7 and a controllable 4 x 0.4 Mvar capacitor bank at bus 4 (at step 1)."""
    import pandapower as pp

    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, 110 if k == 10 else 20) for k in range(12)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    pp.create_ext_grid(net, b[10], vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net, b[10], b[11], sn_mva=25, vn_hv_kv=110, vn_lv_kv=20, vkr_percent=0.4,
        vk_percent=12, pfe_kw=10, i0_percent=0.05, tap_side="hv", tap_neutral=0,
        tap_min=tap_min, tap_max=tap_max, tap_step_percent=1.5,
        tap_pos=min(max(0, tap_min), tap_max), tap_changer_type="Ratio")
    net.trafo["oltc"] = True
    km = [2.0, 2.5, 3.0, 2.0, 2.0, 2.5, 3.0, 2.0, 2.5, 3.5, 3.0, 1.5]
    for (f, t), length in zip(TWO_SOURCE_LINES, km, strict=True):
        line = pp.create_line(net, b[f], b[t], length, "NA2XS2Y 1x185 RM/25 12/20 kV")
        if (f, t) in TWO_SOURCE_SWITCHES:
            pp.create_switch(net, b[f], line, et="l", closed=TWO_SOURCE_SWITCHES[(f, t)])
    loads = {1: (1.0, 0.3), 2: (1.5, 0.5), 3: (2.0, 0.6), 4: (1.2, 0.4), 5: (0.8, 0.2),
             6: (1.6, 0.5), 7: (1.4, 0.4), 8: (1.0, 0.3), 9: (0.9, 0.3)}
    for k, (p, q) in loads.items():
        pp.create_load(net, b[k], p_mw=p, q_mvar=q)
    pp.create_sgen(net, b[7], p_mw=1.5, q_mvar=0.0)
    pp.create_shunt(net, b[4], q_mvar=-0.4, p_mw=0.0, step=1, max_step=4)
    net.shunt["controllable"] = True
    return net


#: The five-bus meshed feeder of the restoration tests: (id, from, to); ``e`` a normally-open tie.
FIVE_BUS_BRANCHES = [("a", "1", "2"), ("b", "2", "3"), ("c", "3", "4"), ("d", "2", "5"),
                     ("e", "5", "4")]


def five_bus_net(loads: pl.DataFrame, rating_a: float | None = None,
                 name: str = "five") -> Network:
    """Source 1; lines a (fixed), b, c, d and the tie e, 0.05 + j0.04 Ohm each at 12.66 kV;
    ``rating_a``: an ``s_max_mva`` on line a alone; checked."""
    branches = FIVE_BUS_BRANCHES
    buses = pl.DataFrame({"id": ["1", "2", "3", "4", "5"], "vn_kv": [12.66] * 5,
                          "is_source": [True, False, False, False, False]})
    br = pl.DataFrame({"id": [b[0] for b in branches], "from_bus": [b[1] for b in branches],
                       "to_bus": [b[2] for b in branches], "r_ohm": [0.05] * 5,
                       "x_ohm": [0.04] * 5, "switchable": [False, True, True, True, True],
                       "normally_open": [False, False, False, False, True]})
    if rating_a is not None:
        br = br.with_columns(pl.when(pl.col("id") == "a").then(rating_a).otherwise(None)
                             .cast(pl.Float64).alias("s_max_mva"))
    return Network.from_tables(buses=buses, branches=br, loads=loads, name=name).check()


def costed_pandapower() -> Any:
    """The user's F.json (ut42_recheck_a's mk.py/mk2.py): 6 buses, a controllable sgen
    (30 per MWh + 10 per MW^2 h) and a controllable gen (0.2..1.5 MW, 40 per MWh + 5 per MW^2 h
    + 3 per h), import at 50 per MWh."""
    import pandapower as pp

    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=20, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(6)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0, min_p_mw=-100, max_p_mw=100, min_q_mvar=-100,
                       max_q_mvar=100)
    for f, t, length in ((0, 1, 2.0), (1, 2, 3.0), (2, 3, 2.0), (1, 4, 4.0), (4, 5, 2.0)):
        pp.create_line_from_parameters(net, b[f], b[t], length, r_ohm_per_km=0.4,
                                       x_ohm_per_km=0.35, c_nf_per_km=0, max_i_ka=0.4)
    for bus, p in ((2, 1.0), (3, 1.5), (4, 0.8), (5, 1.2)):
        pp.create_load(net, b[bus], p_mw=p, q_mvar=0.3 * p)
    pp.create_sgen(net, b[3], p_mw=0.5, q_mvar=0, controllable=True, min_p_mw=0,
                   max_p_mw=2.0, min_q_mvar=-0.5, max_q_mvar=0.5)
    pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=30, cp2_eur_per_mw2=10.0)
    pp.create_gen(net, b[5], p_mw=0.5, vm_pu=1.0, controllable=True, min_p_mw=0.2,
                  max_p_mw=1.5, min_q_mvar=-5, max_q_mvar=5)
    pp.create_poly_cost(net, 0, "gen", cp1_eur_per_mw=40, cp2_eur_per_mw2=5, cp0_eur=3)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=50.0)
    net.bus.loc[[0, 5], ["min_vm_pu", "max_vm_pu"]] = 1.0
    return net


def star4_pandapower(band: tuple[float, float] = (0.9, 1.1), length_km: float = 2.0,
                     r_x_ohm_per_km: float = 0.1,
                     loads: tuple[tuple[int, float, float], ...] = ((1, 1.0, 0.3),
                                                                    (3, 0.8, 0.2))) -> Any:
    """A 20 kV star of four buses, the ext_grid at bus 0 (1 p.u.), lines 0-1, 1-2, 1-3 of
    ``length_km`` with ``r_x_ohm_per_km`` for r and x (10 nF/km, 0.4 kA), ``loads`` as
    ``(bus, p_mw, q_mvar)``: the base of the DOPF cost tests' nets (each adds its units and
    its poly_cost rows)."""
    import pandapower as pp

    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0, min_vm_pu=band[0], max_vm_pu=band[1]) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in ((0, 1), (1, 2), (1, 3)):
        pp.create_line_from_parameters(net, b[f], b[t], length_km, r_x_ohm_per_km,
                                       r_x_ohm_per_km, 10.0, 0.4)
    for bus, p, q in loads:
        pp.create_load(net, b[bus], p, q)
    return net


#: The loads ``(bus, p_mw, q_mvar)`` of the DOPF cost tests' star (``star4_gen_sgen``).
STAR4_COST_LOADS = ((1, 1.0, 0.5), (2, 1.5, 0.8), (3, 0.8, 0.4))


def star4_gen_sgen(gen: dict[str, Any], sgen_price_per_mwh: float) -> tuple[Any, int]:
    """:func:`star4_pandapower` (0.9..1.1 p.u., 4 km at 0.3 ohm/km, :data:`STAR4_COST_LOADS`)
    with a gen at bus 0 (``pp.create_gen``'s keywords ``gen``) and a controllable sgen at bus
    2 (0.5 MW; 0..1 MW, -1..1 Mvar) whose ``poly_cost`` row is ``sgen_price_per_mwh`` per MWh
    (the net's first). Returns the net and the gen's index, for its own ``poly_cost`` row."""
    import pandapower as pp

    net = star4_pandapower((0.9, 1.1), 4.0, 0.3, STAR4_COST_LOADS)
    g = pp.create_gen(net, 0, **gen)
    pp.create_sgen(net, 2, 0.5, 0.0, controllable=True, min_p_mw=0.0, max_p_mw=1.0,
                   min_q_mvar=-1.0, max_q_mvar=1.0)
    pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=sgen_price_per_mwh)
    return net, g


def own10_pandapower(loads: list[tuple[int, float, float, bool, float]]) -> Any:
    """User test ut45b_resil's own10 feeders (its make_nets.py): 11 kV, 10 buses (band
    0.93-1.07 p.u.), 12 switched lines of which 3 normally-open ties, sgens PV4, PV7 and WT9;
    ``loads`` as ``(bus, p_mw, q_mvar, sheddable, priority)``, each named ``D<bus>``."""
    import pandapower as pp

    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, vn_kv=11.0, name=f"B{i}", min_vm_pu=0.93, max_vm_pu=1.07)
         for i in range(10)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    lines = [(0, 1, 1.5, 0.40, True), (1, 2, 2.0, 0.30, True), (2, 3, 2.0, 0.25, True),
             (3, 4, 2.5, 0.20, True), (1, 5, 2.0, 0.30, True), (5, 6, 2.0, 0.25, True),
             (6, 7, 2.5, 0.20, True), (2, 8, 2.0, 0.20, True), (8, 9, 2.0, 0.15, True),
             (4, 7, 2.0, 0.15, False), (9, 6, 2.0, 0.15, False), (3, 9, 1.5, 0.15, False)]
    for k, (f, t, km, imax, cl) in enumerate(lines):
        li = pp.create_line_from_parameters(net, b[f], b[t], km, r_ohm_per_km=0.35,
                                            x_ohm_per_km=0.38, c_nf_per_km=0.0,
                                            max_i_ka=imax, name=f"L{k}")
        pp.create_switch(net, b[f], li, et="l", closed=cl)
    for bus, p, q, _, _ in loads:
        pp.create_load(net, b[bus], p_mw=p, q_mvar=q, name=f"D{bus}")
    net.load["sheddable"] = [x[3] for x in loads]
    net.load["priority"] = [float(x[4]) for x in loads]
    for bus, p, name in ((4, 0.3, "PV4"), (7, 0.25, "PV7"), (9, 0.2, "WT9")):
        pp.create_sgen(net, b[bus], p_mw=p, q_mvar=0.0, name=name)
    return net


def write_base4(folder: Path, loads: dict[str, tuple[str, float, float]]) -> Path:
    """A 4-bus table folder (user test ut_sched's base4) in ``folder``: source S, buses A, B, C
    at 12.66 kV, lines S-A, A-B, S-C and the open tie C-B (one loop), and ``loads`` as
    ``{id: (bus, p_mw, q_mvar)}``; returns ``folder``."""
    (folder / "buses.csv").write_text("id,vn_kv,is_source\nS,12.66,true\nA,12.66,false\n"
                                      "B,12.66,false\nC,12.66,false\n")
    (folder / "branches.csv").write_text(
        "id,from_bus,to_bus,r_ohm,x_ohm,switchable,normally_open\nL1,S,A,0.5,0.3,true,false\n"
        "L2,A,B,0.6,0.4,true,false\nL3,S,C,0.4,0.3,true,false\nL4,C,B,0.7,0.5,true,true\n")
    (folder / "loads.csv").write_text("id,bus,p_mw,q_mvar\n" + "".join(
        f"{i},{b},{p},{q}\n" for i, (b, p, q) in loads.items()))
    return folder


def bus_errors(**cols: list[float | None]) -> list[tuple[Any, tuple[str, ...], str, str]]:
    """The bus errors (kind, ids, field, message) that validation finds in :func:`tiny_tables`
    with the bus columns ``cols`` (one float per bus, None for an empty cell) replaced."""
    t = tiny_tables()
    t["buses"] = t["buses"].with_columns(
        pl.Series(c, v, dtype=pl.Float64) for c, v in cols.items())
    return [(p.kind, p.ids, p.field or "", p.message)
            for p in Network.from_tables(**t).validate()
            if p.component == "buses" and p.is_error]


#: The 7-bus 10 kV meshed net of user test ut48_scen (``mesh7.json``): line k joins these
#: buses (km as given; 0.4 + j0.35 Ohm/km, rated 0.3 kA, all in service: 79 radial
#: topologies), loads ``load:0``..``load:5`` at buses 1-6 (:data:`MESH7_LOADS`: p MW, q MVAr).
MESH7_LINES = [(0, 1, 2.0), (1, 2, 1.5), (2, 3, 2.0), (0, 4, 3.0), (4, 5, 1.0), (5, 6, 2.5),
               (1, 4, 2.0), (2, 5, 1.8), (3, 6, 1.2), (6, 2, 3.0)]
MESH7_LOADS = [(1, 0.8, 0.3), (2, 0.6, 0.2), (3, 1.0, 0.4), (4, 0.5, 0.2), (5, 0.9, 0.3),
               (6, 0.7, 0.3)]


def mesh7_pandapower() -> Any:
    """The meshed 7-bus net of user test ut48_scen (:data:`MESH7_LINES`), 4.5 MW of load."""
    import pandapower as pp

    net = pp.create_empty_network(sn_mva=1)
    b = [pp.create_bus(net, vn_kv=10.0, name=f"B{i}") for i in range(7)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t, km in MESH7_LINES:
        pp.create_line_from_parameters(net, f, t, length_km=km, r_ohm_per_km=0.4,
                                       x_ohm_per_km=0.35, c_nf_per_km=0, max_i_ka=0.3)
    for bus, p, q in MESH7_LOADS:
        pp.create_load(net, bus, p_mw=p, q_mvar=q)
    return net

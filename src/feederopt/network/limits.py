"""The operating limits a network's data set, as ``feederopt info`` shows them: the voltage band
of the buses, the branches' current and thermal ratings and the transformers' ratings.

These are what an optimisation holds unless its options override them (``solve``'s ``--v-min``,
``--v-max``, ``--max-loading``, ``--no-thermal-limits``). The figures are read from the tables
as they are (SI units, the unit in each key), with the schema's defaults where the source gave
none (0.9 and 1.1 p.u.; no rating).

Balanced network (:class:`~feederopt.network.container.Network`): the model holds
``v_min_pu <= |V| <= v_max_pu`` at every bus but one held at its set-point
(:func:`held_set_points`: a source's without an OLTC, one that voltage-controlling generators
hold whatever their reactive power), the series current ``|I| <= i_max_ka`` and the
apparent power ``|S| <= s_max_mva`` of every rated branch (a transformer's too: the pandapower
reader gives it the rated current, referred to its from bus; MATPOWER's ``RATE_A`` is its
``s_max_mva``). A transformer's rating in MVA is the lesser of ``s_max_mva`` and the
current rating at its rated voltage, ``sqrt(3) kV_side i_side`` (a pandapower trafo's
``sn_mva``), with its rated current at each side (:func:`_transformer_limits`).

Three-phase network (:class:`~feederopt.network.threephase.ThreePhaseNetwork`): the
LinDist3Flow model holds every bus's phase voltages within its band and every line's current
rating ``i_max_a`` as a per-phase apparent power at nominal voltage, and every transformer's
normal rating ``s_norm_kva`` (OpenDSS's ``normhkva``, by default 110 % of the nameplate
``s_kva``; :func:`feederopt.network.threephase_perunit.unit_rating_kva`) per phase, as the rated
current ``I = S / (n kV_ph)`` of its windings (docs/threephase.md, "Transformer ratings"). A
unit whose rating is 0 is unrated.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

import polars as pl

from feederopt.forking import check_not_forked

if TYPE_CHECKING:
    from feederopt.network.container import Network
    from feederopt.network.threephase import ThreePhaseNetwork

#: ``Network.meta`` key of the transformers' rated winding voltages where the source gives
#: them apart from the buses' ``vn_kv`` (a pandapower trafo's ``vn_hv_kv``/``vn_lv_kv``, a
#: trafo3w winding's star at ``vn_hv_kv`` and its own ``vn_<side>_kv``): ``{branch id:
#: [kV at the from end, kV at the to end]}``. ``feederopt info`` gives each side's rated
#: current and the rating at them (:func:`feederopt.network.limits.operating_limits`); none
#: of the models reads it (``i_max_ka`` and ``tap_rated_ratio`` hold the rating).
RATED_KV_KEY = "transformer_rated_kv"

#: The schema's voltage band where a bus gives none [p.u.].
DEFAULT_BAND = (0.9, 1.1)


def _num(x: Any) -> float | None:
    """A finite float, or None (missing, NaN or infinite: no value)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _spread(values: list[float]) -> float | dict[str, float] | None:
    """One number when every value is the same, else ``{"min": , "max": }``; None when
    there is none."""
    if not values:
        return None
    lo, hi = min(values), max(values)
    return lo if lo == hi else {"min": lo, "max": hi}


def _rating(values: list[float | None]) -> dict[str, Any] | None:
    """How many of ``values`` are a positive rating, and their least and greatest."""
    given = [v for v in values if v is not None and v > 0]
    if not given:
        return None
    return {"count": len(given), "min": min(given), "max": max(given)}


def held_by_source(buses: pl.DataFrame) -> list[bool]:
    """Per bus of a balanced buses table: a source's bus without an OLTC (``is_source``,
    ``tap_min_pu`` null), whose voltage is its set-point ``v_set_pu`` in every model
    (:func:`feederopt.formulations.distflow.voltage_bounds` fixes it) and in the AC check (the
    ext_grid holds it). No voltage band binds it: ``--v-min``/``--v-max`` leave its own band
    (:meth:`~feederopt.network.container.Network.with_limits`), and ``feederopt info`` shows
    its set-point as its band. (pandapower 3 fills an ext_grid bus's missing
    ``min_vm_pu``/``max_vm_pu`` with 0 and 2, which ``info`` showed as the solve's band, and
    ``--v-min 1.035`` was refused for the 1.0 p.u. that the source holds; user test
    ut33_dopf #3.) A source bus with an OLTC is the OLTC's secondary side: the solve chooses
    its voltage among the positions within its band, which the options set like any other.
    All False for a table without ``is_source`` (a three-phase network's)."""
    if "is_source" not in buses.columns:
        return [False] * buses.height
    source = buses["is_source"].fill_null(False)
    if "tap_min_pu" in buses.columns:
        source = source & buses["tap_min_pu"].is_null()
    return [bool(x) for x in source.to_list()]


def held_by_generator(buses: pl.DataFrame, generators: pl.DataFrame | None
                      ) -> list[float | None]:
    """Per bus of a balanced buses table: the set-point [p.u.] at which voltage-controlling
    generators hold it, None where none does. A bus is held when it is no source and its
    in-service generators with a set-point ``v_set_pu`` (pandapower's ``gen``, a MATPOWER PV
    bus) may take any reactive power: the sums of their ``q_min_mvar`` and ``q_max_mvar`` are
    -inf and +inf (the reader's reading of pandapower's default
    ``runpp(enforce_q_lims=False)``, under which a ``gen`` holds ``vm_pu`` whatever its q, and of
    MATPOWER's ``runpf``); its set-point is the first such generator's. The model fixes it there
    (:meth:`~feederopt.network.perunit.PerUnitNetwork.pv_buses`,
    :func:`feederopt.formulations.distflow.voltage_bounds`), as pandapower's power flow does, so
    no band binds it, just as a source's bus (:func:`held_by_source`). A generator whose q
    limits are enforced (``enforce_q_lims``: a finite limit) leaves its set-point at a limit
    (``v <= v_set`` at ``q_max``, ``v >= v_set`` at ``q_min``): its bus keeps its band (the
    model's :func:`~feederopt.formulations.distflow.pv_hull_rows`). A null limit reads 0, as
    :func:`~feederopt.network.perunit.to_per_unit` reads it. All None without generators."""
    out: list[float | None] = [None] * buses.height
    if (generators is None or not generators.height or "id" not in buses.columns
            or not {"bus", "v_set_pu"} <= set(generators.columns)):
        return out
    index = {str(b): i for i, b in enumerate(buses["id"].to_list())}
    source = (buses["is_source"].fill_null(False).to_list() if "is_source" in buses.columns
              else [False] * buses.height)
    lo: dict[int, float] = {}
    hi: dict[int, float] = {}
    first: dict[int, float] = {}
    live = (generators.filter(pl.col("in_service")) if "in_service" in generators.columns
            else generators)  # as to_per_unit takes them
    for g in live.iter_rows(named=True):
        v = _num(g.get("v_set_pu"))
        k = index.get(str(g["bus"]))
        if v is None or k is None or source[k]:
            continue
        first.setdefault(k, v)
        q_lo, q_hi = g.get("q_min_mvar"), g.get("q_max_mvar")
        lo[k] = lo.get(k, 0.0) + (0.0 if q_lo is None else float(q_lo))
        hi[k] = hi.get(k, 0.0) + (0.0 if q_hi is None else float(q_hi))
    for k, v in first.items():
        if not (math.isfinite(lo[k]) or math.isfinite(hi[k])):
            out[k] = v
    return out


def held_set_points(buses: pl.DataFrame, generators: pl.DataFrame | None = None
                    ) -> list[float | None]:
    """Per bus of a balanced buses table: the voltage [p.u.] at which it is held, which no
    band binds (``--v-min``/``--v-max`` leave its own band, ``info`` shows the set-point as its
    band, the AC check leaves it out), None where its band binds: a source's bus without an
    OLTC at its ``v_set_pu`` (:func:`held_by_source`), a bus that voltage-controlling
    generators hold at theirs (:func:`held_by_generator`)."""
    v_set = (buses["v_set_pu"].to_list() if "v_set_pu" in buses.columns
             else [None] * buses.height)
    by_gen = held_by_generator(buses, generators)
    return [(1.0 if (x := _num(s)) is None else x) if src else g
            for src, s, g in zip(held_by_source(buses), v_set, by_gen, strict=True)]


def voltage_band(buses: pl.DataFrame, generators: pl.DataFrame | None = None
                 ) -> dict[str, Any]:
    """The buses' voltage band as the solve holds it: ``v_min_pu`` and ``v_max_pu`` (one
    number when every bus has the same, else ``{"min", "max"}``, as a result's ``settings``),
    and ``bands``, the buses grouped by their ``(v_min_pu, v_max_pu)``, the largest group
    first; every group but the first names its buses (``bus_ids``). A missing value is the
    default band's. A bus held at a set-point (:func:`held_set_points`) has that set-point as
    its band, in a group of its own marked ``"source": true`` (a source's bus without an OLTC,
    :func:`held_by_source`) or ``"generator": true`` (a bus that voltage-controlling
    generators hold, :func:`held_by_generator`, given ``generators``)."""
    ids = [str(b) for b in buses["id"].to_list()]

    def column(name: str, default: float) -> list[float]:
        given = buses[name].to_list() if name in buses.columns else [None] * len(ids)
        return [default if (v := _num(x)) is None else v for x in given]

    at = held_set_points(buses, generators)
    # 0: a band binds, 1: a source holds the bus, 2: a generator does
    held = [0 if s is None else 1 if src else 2
            for s, src in zip(at, held_by_source(buses), strict=True)]
    lo = [v if s is None else s for v, s in zip(column("v_min_pu", DEFAULT_BAND[0]), at,
                                                strict=True)]
    hi = [v if s is None else s for v, s in zip(column("v_max_pu", DEFAULT_BAND[1]), at,
                                                strict=True)]
    keys = list(zip(lo, hi, held, strict=True))
    counts = Counter(keys)
    groups = sorted(counts, key=lambda band: (band[2], -counts[band], band))
    bands: list[dict[str, Any]] = []
    for k, band in enumerate(groups):
        row: dict[str, Any] = {"v_min_pu": band[0], "v_max_pu": band[1],
                               "buses": counts[band]}
        if band[2]:
            row["source" if band[2] == 1 else "generator"] = True
        if k:
            row["bus_ids"] = [b for b, key in zip(ids, keys, strict=True) if key == band]
        bands.append(row)
    return {"v_min_pu": _spread(lo), "v_max_pu": _spread(hi), "buses": len(ids),
            "bands": bands}


def operating_limits(net: Network) -> dict[str, Any]:
    """The limits of a balanced network (see the module docstring), JSON-ready.

    ``voltage``: :func:`voltage_band`. ``branch_ratings``: of the in-service branches
    (normally open ones included: they are rated when closed), how many there are
    (``branches``), how many have a rating (``rated``) and, for ``i_max_ka`` [kA] and
    ``s_max_mva`` [MVA], how many give one with their least and greatest (None: no branch
    does); ``by_kind`` the same counts per kind. ``transformers``: each in-service
    transformer's sides (``hv_bus``, ``lv_bus``), their kV (``vn_hv_kv``, ``vn_lv_kv``: the
    rated winding voltages where the data gives them, ``vn_rated``), the rated current at
    each (``i_max_hv_ka``, ``i_max_lv_ka``), ``s_max_mva`` and ``rating_mva`` (the lesser of
    ``s_max_mva`` and the current rating's MVA; None when it has no rating):
    :func:`_transformer_limits`. Branch currents are at the nominal voltage of the end they
    are given at (:meth:`~feederopt.network.container.Network.current_end_bus_ids`): the
    from bus, a three-winding transformer's mv or lv winding's own bus (not its star point);
    a transformer's is its rated current at that side.
    ``sources``: the source buses' ``p_max_mw`` and ``s_max_mva`` where given (the others are
    unlimited)."""
    check_not_forked("feederopt.operating_limits")
    live = net.branches.filter(pl.col("in_service"))
    i_max = [_num(v) for v in live["i_max_ka"].to_list()]
    s_max = [_num(v) for v in live["s_max_mva"].to_list()]
    rated = [bool((i is not None and i > 0) or (s is not None and s > 0))
             for i, s in zip(i_max, s_max, strict=True)]
    kinds = [str(k) for k in live["kind"].to_list()]
    by_kind: dict[str, dict[str, int]] = {}
    for kind, r in zip(kinds, rated, strict=True):
        entry = by_kind.setdefault(kind, {"branches": 0, "rated": 0})
        entry["branches"] += 1
        entry["rated"] += int(r)
    vn = dict(zip([str(b) for b in net.buses["id"].to_list()],
                  [_num(v) for v in net.buses["vn_kv"].to_list()], strict=True))
    # Currents at the voltage of the end they are given at (Network.current_end_bus_ids): a
    # trafo3w's 8 MVA 20 kV winding read "vn 110 kV, i_max 0.04199 kA", at its star point's
    # voltage, for the 0.2309 kA of its nameplate (user test ut40_realg5 #1).
    ends = net.current_end_bus_ids()
    given_kv = net.meta.get(RATED_KV_KEY) or {}
    internal = net.internal_bus_ids()
    transformers = []
    for k, (row, i, s) in enumerate(zip(live.iter_rows(named=True), i_max, s_max,
                                        strict=True)):
        if row["kind"] != "transformer":
            continue
        tr = _transformer_limits(row, i, s, vn, given_kv.get(str(row["id"])), internal)
        transformers.append(tr)
        # its rated current at the end it is given at (a pandapower trafo's hv side: sn /
        # (sqrt(3) vn_hv_kv), not the hv bus's kV)
        end = "hv" if ends[k] == tr["hv_bus"] else "lv"
        i_max[k] = tr[f"i_max_{end}_ka"]
    i_max = [i if row["kind"] == "transformer" else _at_end(i, vn.get(str(f)), vn.get(e))
             for i, row, f, e in zip(i_max, live.iter_rows(named=True),
                                     live["from_bus"].to_list(), ends, strict=True)]
    sources = []
    for row in net.buses.filter(pl.col("is_source")).iter_rows(named=True):
        p, s = _num(row.get("source_p_max_mw")), _num(row.get("source_s_max_mva"))
        if p is not None or s is not None:
            sources.append({"bus": str(row["id"]), "p_max_mw": p, "s_max_mva": s})
    return {
        "voltage": voltage_band(net.buses, net.generators),
        "branch_ratings": {"branches": live.height, "rated": sum(rated),
                           "i_max_ka": _rating(i_max), "s_max_mva": _rating(s_max),
                           "by_kind": by_kind},
        "transformers": transformers,
        "sources": sources,
    }


def _transformer_limits(row: dict[str, Any], i_ka: float | None, s_mva: float | None,
                        vn: dict[str, float | None], given_kv: Any,
                        internal: set[str]) -> dict[str, Any]:
    """One transformer's ratings at each side, as ``info`` shows them. ``i_ka`` is its
    ``i_max_ka`` (the series, to-end current's rating, referred to the from bus's
    ``vn_kv``: :class:`~feederopt.network.schemas.Branch`), ``s_mva`` its ``s_max_mva``.

    The kV of each side are its rated winding voltages ``given_kv`` (``[from, to]``, meta
    :data:`RATED_KV_KEY`: a pandapower trafo's ``vn_hv_kv``,
    ``vn_lv_kv``), else the buses' ``vn_kv`` (``vn_rated`` False). The rated current at the to
    end is ``i_to = i_max vn_from / vn_to`` (the buses' kV, which the rating is referred to)
    and at the from end ``i_from = i_max / n_r`` (``n_r`` the ratio at the rated winding
    voltages, ``tap_rated_ratio``, else ``tap_ratio``), as the model and the AC check hold
    them (:func:`feederopt.validation.ac.rating_current`). For a pandapower trafo these are
    ``sn_mva parallel df / (sqrt(3) vn_lv_kv)`` and ``/ (sqrt(3) vn_hv_kv)``, the currents at
    which pandapower's current-based loading is 100 % (``results_branch._get_trafo_results``:
    ``i vn sqrt(3) / sn_mva`` per side), whatever the buses' kV; ``rating_mva`` is the lesser
    of ``s_max_mva`` and ``sqrt(3) kV_to i_to`` (``sn_mva parallel df``). Before, ``info``
    gave the current referred to the hv bus's kV, so a 0.63 MVA 20/0.4 kV trafo on a 0.41 kV
    bus read 0.01864 kA and 0.6458 MVA for its 0.01819 kA and 0.63 MVA.

    The sides are named hv and lv by their kV (the from end where they are equal: a
    trafo3w's hv winding runs to its star point at the same rated kV); a side at an internal
    bus (a trafo3w's star point) has no current of the user's (None)."""
    f, t = str(row["from_bus"]), str(row["to_bus"])
    vf, vt = vn.get(f), vn.get(t)
    kv: tuple[float | None, float | None] = (vf, vt)
    rated = False
    if isinstance(given_kv, list | tuple) and len(given_kv) == 2:
        pair = (_num(given_kv[0]), _num(given_kv[1]))
        if all(x is not None and x > 0 for x in pair):
            kv, rated = pair, True
    n_r = _num(row.get("tap_rated_ratio")) or _num(row.get("tap_ratio")) or 1.0
    current = i_ka is not None and i_ka > 0
    i_from = i_ka / n_r if current and i_ka is not None and n_r > 0 else None
    i_to = i_ka * vf / vt if current and i_ka is not None and vf and vt else None
    options = [x for x in (s_mva if s_mva is not None and s_mva > 0 else None,
                           math.sqrt(3.0) * kv[1] * i_to if i_to is not None
                           and kv[1] is not None else None) if x is not None]
    sides = {"from": (f, kv[0], None if f in internal else i_from),
             "to": (t, kv[1], None if t in internal else i_to)}
    hv, lv = (("to", "from") if kv[0] is not None and kv[1] is not None and kv[1] > kv[0]
              else ("from", "to"))
    return {"id": str(row["id"]), "from_bus": f, "to_bus": t,
            "hv_bus": sides[hv][0], "lv_bus": sides[lv][0],
            "vn_hv_kv": sides[hv][1], "vn_lv_kv": sides[lv][1], "vn_rated": rated,
            "i_max_hv_ka": sides[hv][2], "i_max_lv_ka": sides[lv][2],
            "s_max_mva": s_mva, "rating_mva": min(options) if options else None}


def _at_end(i_ka: float | None, vn_from: float | None, vn_end: float | None) -> float | None:
    """A current rating ``i_ka`` referred to the from bus's ``vn_from``, at ``vn_end``."""
    if i_ka is None or vn_from is None or not vn_end or vn_from == vn_end:
        return i_ka
    return i_ka * vn_from / vn_end


def three_phase_limits(net: ThreePhaseNetwork) -> dict[str, Any]:
    """The limits of a three-phase network (see the module docstring), JSON-ready:
    ``voltage`` (:func:`voltage_band`, phase voltages), ``line_ratings`` (the lines and
    switches in service or switchable: how many, how many have ``i_max_a`` and its least and
    greatest [A]), ``transformers`` (each in-service unit's nameplate ``s_kva``, the normal
    rating the model holds ``s_norm_kva`` [kVA] (:func:`~feederopt.network.threephase_perunit.
    unit_rating_kva`: ``normhkva``, else ``s_kva``; None when the unit is unrated), the
    emergency rating ``s_emerg_kva``, ``i_norm_a`` the rated current of winding 1 at
    ``s_norm_kva``, ``S / (n kV_ph)`` with ``kV_ph = kV / sqrt(3)`` for more than one phase
    (OpenDSS's ``NormAmps`` of the element), ``kv_from``, ``kv_to``, ``n_phases``),
    ``transformer_ratings`` (how many units are rated and their least and greatest
    ``s_norm_kva``) and ``transformers_held`` (True: the model holds the ratings, scaled by
    ``--max-loading``, dropped by ``--no-thermal-limits``)."""
    from feederopt.network.threephase_perunit import unit_rating_kva

    lines = net.lines.filter(pl.col("in_service") | pl.col("switchable"))
    i_max = [_num(v) for v in lines["i_max_a"].to_list()]
    rating = _rating(i_max)
    transformers = []
    held: list[float | None] = []
    for r in net.transformers.filter(pl.col("in_service")).iter_rows(named=True):
        norm = _num(unit_rating_kva(r))
        emerg = _num(unit_rating_kva(r, "emergency"))
        held.append(norm if norm is not None and norm > 0 else None)
        n = int(r["n_phases"])
        kv = _num(r["kv_from"])
        kv_ph = kv / math.sqrt(3.0) if kv is not None and n > 1 else kv
        transformers.append({
            "id": str(r["id"]), "from_bus": str(r["from_bus"]), "to_bus": str(r["to_bus"]),
            "s_kva": _num(r["s_kva"]),
            "s_norm_kva": held[-1],
            "s_emerg_kva": emerg if emerg is not None and emerg > 0 else None,
            "i_norm_a": (held[-1] / (n * kv_ph) if held[-1] is not None and kv_ph
                         and n > 0 else None),
            "kv_from": kv, "kv_to": _num(r["kv_to"]), "n_phases": n,
            "is_regulator": bool(r["is_regulator"])})
    return {
        "voltage": voltage_band(net.buses),
        "line_ratings": {"lines": lines.height, "rated": rating["count"] if rating else 0,
                         "i_max_a": rating},
        "transformers": transformers,
        "transformer_ratings": _rating(held),
        "transformers_held": True,
    }

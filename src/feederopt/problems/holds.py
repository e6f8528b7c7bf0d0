"""Switchable branches held closed or open for one solve (``--hold-closed``, ``--hold-open``;
``feederopt.solve(net, hold_closed=[...], hold_open=[...])``), without editing the network.

A held branch is fixed in the per-unit model (:func:`held_model`): not switchable, and open or
closed as held. Every method builds its master or monolithic model from that one per-unit model
(:func:`feederopt.api.decidable`), so the hold acts in Benders, the MISOCP, LinDistFlow, the
scenario and the robust methods alike. The network itself, and so the base case that the
results compare with (``initially_closed``, ``changed``), stays as the user gave it.

References (:func:`resolve_holds`): a branch id as the tool prints it (``line:11``,
``trafo:0``, ``switch:0``, a MATPOWER branch number), or for a pandapower net a switch element
of the net: ``switch:K`` / ``switch K`` (its index) or its unique ``name``; a line's or a
transformer's switch holds that line or transformer. A name of switches on different branches
is refused naming them (:class:`~feederopt.network.id_hints.SwitchRefs`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from feederopt.errors import Problem, ProblemKind, option_ref, spelled
from feederopt.network.container import Network, member_map
from feederopt.network.id_hints import BranchEnds, branch_ends, did_you_mean, switch_refs
from feederopt.network.perunit import PerUnitNetwork
from feederopt.network.topology import (
    DisjointSets,
    bridges,
    components_of,
    radiality_problem,
)

#: ``net.meta`` key under which :func:`feederopt.api.solve` records the resolved holds.
META_KEY = "held"

_SWITCH_REF = re.compile(r"^switch[: ]\s*(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Held:
    """Branch ids held closed and held open (resolved, sorted as in the network)."""

    closed: tuple[str, ...] = ()
    open: tuple[str, ...] = ()
    #: Per branch held through its switch elements (``--hold-open switch:4``,
    #: ``--hold-closed switch:4`` on a line with a switch at each end), the switches that open
    #: it: the named one held open, or the others when the named one is held closed (the
    #: branch then stays switchable, opened at its other end).
    opening: tuple[tuple[str, tuple[int, ...]], ...] = ()
    #: The switch elements named, each as (``switch:K``, ``"closed"``/``"open"``, its branch).
    switches: tuple[tuple[str, str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.closed or self.open or self.opening)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"closed": list(self.closed), "open": list(self.open)}
        if self.switches:
            out["switches"] = [{"switch": k, "state": st, "branch": b}
                               for k, st, b in self.switches]
        return out

    def text(self) -> str:
        """``line:13 closed; line:4, line:7 open``: the holds as a message names them."""
        return held_text(self.to_dict())


def held_text(held: dict[str, Any]) -> str:
    """The holds of a result's ``held`` (``{"closed": [...], "open": [...]}``, with
    ``switches`` when held through switch elements) as a message names them: ``line:13
    closed; line:4, line:7 open``, ``line:2 (switch:4) open``, ``switch:4 closed (line:2
    opens only at its other end)``."""
    by_switch: dict[tuple[str, str], list[str]] = {}
    for entry in held.get("switches") or ():
        by_switch.setdefault((str(entry["branch"]), str(entry["state"])), []).append(
            str(entry["switch"]))

    def named(b: str, state: str) -> str:
        ks = by_switch.get((b, state))
        return f"{b} ({', '.join(ks)})" if ks else b

    parts = [f"{', '.join(named(b, state) for b in ids)} {state}"
             for state in ("closed", "open") if (ids := held.get(state))]
    listed = set(held.get("closed") or ()) | set(held.get("open") or ())
    parts += [f"{', '.join(ks)} closed ({b} opens only at its other end)"
              for (b, state), ks in by_switch.items() if state == "closed" and b not in listed]
    return "; ".join(parts)


def held_infeasible_reason(held: Held) -> str:
    """Why a proof of infeasibility under holds is no proof about the grid: the holds are part
    of it. Before, such a run said "the grid is infeasible" with ``infeasible_reason: null``
    while the grid without the hold had a feasible topology (user test ut_feas #4: ms319,
    ``--hold-closed line:13``)."""
    return (f"{held_infeasible_words(held)}: the holds are part of the proof (it says "
            "nothing about the grid without them)")


def held_infeasible_words(held: Held) -> str:
    """``no radial configuration with the held branches (line:13 closed) meets the limits``:
    what a proof of infeasibility under the holds shows."""
    return f"no radial configuration with the held branches ({held.text()}) meets the limits"


def _hint(unknown: list[str], ids: list[str], pandapower: bool, ends: BranchEnds) -> str:
    """The form of the network's branch ids, and the id meant where a bare number or a
    pandapower index matches one (``11`` -> ``line:11``), the id in another case (``t2``
    -> ``T2``) or the branch's buses (``7-8`` -> ``7 (7-8)``;
    :func:`~feederopt.network.id_hints.did_you_mean`); a network without branches says so
    rather than list no ids."""
    if not ids:
        return ("the network has no branches: there is nothing to hold or switch (give a "
                "network with lines)")
    sample = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
    text = f"the network's switchable branch ids are {sample}"
    if pandapower:
        text += (" (a pandapower net's: line:N and trafo:N, N the element's index, switch:K a "
                 "bus-bus switch; a line's or trafo's switch may be given as switch:K, "
                 "switch K or its unique name)")
    guesses = [g for u in unknown if (g := did_you_mean(u, ids, ends=ends))]
    return text + ("; " + "; ".join(guesses) if guesses else "")


#: The options whose empty list (``--hold-open ""``) :meth:`SolveOptions.check` refuses
#: without a network, with a neutral example (:func:`empty_hold_example`).
HOLD_OPTIONS = ("hold_closed", "hold_open")


def empty_hold_example(option: str) -> str:
    """The hint of an empty hold list when the network is not known: the form of the ids,
    no ids of some other network's (user test ut40_docs #3: ``line:11,trafo:0`` for
    case33bw, whose ids are plain numbers)."""
    return (f"e.g. {option_ref(option, ('ID', 'ID'))}: the ids of switchable branches as "
            "`feederopt info` and the result tables print them")


def hold_example_ids(net: Network, option: str, count: int = 2) -> list[str]:
    """Up to ``count`` switchable branch ids of ``net`` that ``option`` (``hold_open``,
    ``hold_closed``) can hold together and still leave a radial topology (limits aside), for
    the example of a hint. Taken greedily, each kept only if the ones kept so far allow one:

    * ``hold_open``: the normally-open branches first (the ties; the base case keeps them
      open), then the others. Held open, every part of the grid that the other in-service
      branches join still holds a source (a spanning forest with one source per tree exists:
      every source merged into one node, a spanning tree of each part).
    * ``hold_closed``: the normally-closed branches that are no bridge first (a bridge is
      closed in every radial topology: no example), then the others. Held closed, they close
      no loop, sources merged into one node (a forest, which a spanning forest extends).

    Before, the hint gave the first two ids in text order, for case33bw ``--hold-open 1,10``,
    whose line 1 is the only link to the substation: infeasible when pasted (user test
    ut51_cli #4)."""
    br = net.branches.filter(pl.col("in_service"))
    bus_ids = [str(b) for b in net.buses["id"].to_list()]
    index = {b: k for k, b in enumerate(bus_ids)}
    src = [index[str(b)] for b in net.buses.filter(pl.col("is_source"))["id"].to_list()]
    root = src[0] if src else -1

    def node(b: object) -> int:  # every source merged into the first
        k = index.get(str(b), -1)
        return root if k in src else k

    rows = [(str(r["id"]), node(r["from_bus"]), node(r["to_bus"]), bool(r["switchable"]),
             bool(r["normally_open"])) for r in br.iter_rows(named=True)]
    if root < 0 or any(a < 0 or b < 0 for _, a, b, _, _ in rows):
        return []
    n = len(bus_ids)
    f = np.array([a for _, a, _, _, _ in rows], dtype=np.int64)
    t = np.array([b for _, _, b, _, _ in rows], dtype=np.int64)
    ids = [r[0] for r in rows]
    keep: list[int] = []
    if option == "hold_open":
        order = sorted((k for k, r in enumerate(rows) if r[3]),
                       key=lambda k: (not rows[k][4], ids[k]))
        for k in order:
            usable = np.ones(len(rows), bool)
            usable[[*keep, k]] = False
            labels = components_of(n, f[usable], t[usable])
            fed = labels[root]
            # every bus with a load or not: each part needs a source; only root is one
            if (labels == fed).all():
                keep.append(k)
            if len(keep) == count:
                break
    else:
        bridge = bridges(n, f, t)
        order = sorted((k for k, r in enumerate(rows) if r[3]),
                       key=lambda k: (bool(rows[k][4] or bridge[k]), ids[k]))
        sets: DisjointSets[int] = DisjointSets(range(n))
        for k in order:
            if sets.union(int(f[k]), int(t[k])):
                keep.append(k)
            if len(keep) == count:
                break
    return sorted((ids[k] for k in keep), key=ids.index)


def with_hold_examples(net: Network, problems: Sequence[Problem]) -> list[Problem]:
    """``problems`` with the hint of an empty hold list (:func:`empty_hold_example`) giving
    ids of ``net``: two of its switchable branches that the option can hold and still leave a
    radial topology (:func:`hold_example_ids`; for case33bw ``--hold-open 33,34``, two ties),
    and the first ids as the hint of an unknown id lists them (``e.g. --hold-open 33,34: the
    network's switchable branch ids are 1, 10, 11, ...``)."""
    br = net.branches.filter(pl.col("in_service"))
    ids = sorted(str(x) for x in br.filter(pl.col("switchable"))["id"].to_list())
    out = []
    for p in problems:
        if p.field in HOLD_OPTIONS and not p.ids and ids and \
                p.hint == spelled(empty_hold_example(p.field)):
            sample = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
            example = hold_example_ids(net, p.field)
            p = p.with_hint(
                (f"e.g. {option_ref(p.field, tuple(example))}: " if example else
                 "every switchable branch is the only link of some buses to a source (held "
                 "open, it cuts them off); ")
                + f"the network's switchable branch ids are {sample}")
        out.append(p)
    return out


def resolve_holds(net: Network, closed: Sequence[str] | None, open_: Sequence[str] | None
                  ) -> tuple[Held, list[Problem]]:
    """The branch ids that the references ``closed`` and ``open_`` hold, and the problems of
    the references: an id that the network does not have (the hint gives the form and the id
    meant; each once), a branch that is not switchable (or out of service), a branch held both
    closed and open through two references to it (one reference in both lists, and one
    named twice in a list, are :meth:`~feederopt.options.SolveOptions.check`'s: the command
    line and :func:`feederopt.solve` report them with these, all at once)."""
    br = net.branches
    all_ids = [str(x) for x in br["id"].to_list()]
    live = br.filter(pl.col("in_service"))
    switchable = {str(x) for x in live.filter(pl.col("switchable"))["id"].to_list()}
    in_service = {str(x) for x in live["id"].to_list()}
    refs_of = switch_refs(net, set(all_ids))
    by_index, by_name = refs_of.by_index, refs_of.by_name
    members = member_map(all_ids)
    pandapower = net.meta.get("source_format") == "pandapower" or bool(by_index)
    problems: list[Problem] = []
    resolved: dict[str, list[tuple[str, str]]] = {}
    named_switch: dict[tuple[str, str], int] = {}  # (option, reference) -> switch element
    for option, refs in (("hold_closed", closed), ("hold_open", open_)):
        flag = option_ref(option)
        out: list[tuple[str, str]] = []
        unknown: list[str] = []
        shared: list[str] = []
        for ref in refs or ():
            ref = str(ref).strip()
            m = _SWITCH_REF.match(ref)
            if ref in all_ids:
                bid = ref
            elif ref in members:  # one circuit of a merged double circuit: its branch
                bid = members[ref]
            elif m and m.group(1) in by_index:
                bid = by_index[m.group(1)]
                named_switch[(option, ref)] = int(m.group(1))
            elif ref in by_name:
                bid = by_name[ref]
                ks = _switches_named(net, ref)
                if len(ks) == 1:
                    named_switch[(option, ref)] = ks[0]
            elif ref in refs_of.shared:  # a name of switches on different branches
                shared.append(ref)
                continue
            else:
                unknown.append(ref)
                continue
            out.append((ref, bid))
        unknown = list(dict.fromkeys(unknown))  # named twice: the options' own problem
        if unknown:
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "options",
                f"{flag}: branch ids that the network does not have", tuple(unknown), option,
                _hint(unknown, sorted(switchable) or all_ids, pandapower, branch_ends(net))))
        if shared:
            on = [x for ref in shared for x in refs_of.shared[ref]]
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "options",
                f"{flag}: " + "; ".join(refs_of.shared_text(ref) for ref in shared)
                + ", so the name does not say which to hold", tuple(shared), option,
                "give switch:K ("
                + " or ".join(dict.fromkeys(f"switch:{k}" for k, _ in on))
                + ") or the branch id ("
                + " or ".join(dict.fromkeys(b for _, b in on)) + ") instead"))
        fixed = [(r, b) for r, b in out if b not in switchable]
        if fixed:
            dead = [b for _, b in fixed if b not in in_service]
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "options",
                f"{flag}: not switchable, so there is nothing to hold: "
                + ", ".join(r if r == b else f"{r} ({b})" for r, b in fixed)
                + (" (out of service)" if dead and len(dead) == len(fixed) else ""),
                tuple(b for _, b in fixed), option,
                "hold only branches that the optimiser may switch (switchable in `feederopt "
                "info`; a pandapower line or trafo is switchable when a switch element "
                "switches it)"))
        resolved[option] = out
    opening, switches = _switch_holds(net, resolved, named_switch)
    # one reference in both lists is the options' own problem (SolveOptions.check), which
    # the command line reports with these: said once, not twice
    same = {r for r, _ in resolved["hold_closed"]} & {r for r, _ in resolved["hold_open"]}
    both = sorted(({b for _, b in resolved["hold_closed"]} & {b for _, b in resolved["hold_open"]})
                  - {b for r, b in resolved["hold_closed"] if r in same})
    if both:
        # name the references the user gave (L1 closed, L1b open: two circuits of one merged
        # branch, which the model switches as one), not only the branch they resolve to
        def given(option: str, b: str) -> str:
            return "/".join(sorted({r for r, x in resolved[option] if x == b}))

        said = [b if given("hold_closed", b) == b == given("hold_open", b)
                else f"{b} (closed as {given('hold_closed', b)}, open as "
                     f"{given('hold_open', b)})"
                for b in both]
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "options",
            "branches held both closed and open: " + ", ".join(said),
            tuple(both), "hold_open",
            f"name each branch in one of {option_ref('hold_closed')} and "
            f"{option_ref('hold_open')} (the circuits of a "
            "double circuit are one branch of the model, held together)"))
    order = {b: k for k, b in enumerate(all_ids)}

    def ids(option: str) -> tuple[str, ...]:
        return tuple(sorted({b for _, b in resolved[option]}, key=order.__getitem__))

    return Held(ids("hold_closed"), ids("hold_open"), opening, switches), problems


def _switches_named(net: Network, name: str) -> list[int]:
    """The switch elements of the pandapower net ``net.origin`` named ``name``."""
    sw = getattr(net.origin, "switch", None)
    if sw is None or "name" not in getattr(sw, "columns", ()):
        return []
    return [int(k) for k, n in zip(sw.index, sw["name"], strict=True)
            if isinstance(n, str) and n.strip() == name]


def _switch_holds(net: Network, resolved: dict[str, list[tuple[str, str]]],
                  named_switch: dict[tuple[str, str], int]
                  ) -> tuple[tuple[tuple[str, tuple[int, ...]], ...],
                             tuple[tuple[str, str, str], ...]]:
    """The holds named by a line's or trafo's switch element hold that switch (README: the
    pandapower switch element that operates it): ``--hold-open switch:K`` holds the branch open
    at K (K open, its other switches closed); ``--hold-closed switch:K`` on a branch with other
    switches keeps K closed and leaves the branch switchable, opened by the others (at its other
    end), so it is taken out of ``resolved["hold_closed"]`` here (a branch whose only switches
    are held closed stays held closed). Returns the opening switches per branch
    (:attr:`Held.opening`) and the switches named (:attr:`Held.switches`); ``resolved`` is
    changed in place."""
    if not named_switch:
        return (), ()
    from feederopt.io.pandapower import switch_plan

    plan = switch_plan(net.origin)

    def every(bid: str) -> list[int] | None:
        element, _, idx = bid.partition(":")
        et = {"line": "l", "trafo": "t"}.get(element)
        entry = plan.get((et, int(idx))) if et and idx.isdigit() else None
        return entry[0] if entry else None

    held_open: dict[str, set[int]] = {}
    held_closed: dict[str, set[int]] = {}
    for option, target in (("hold_open", held_open), ("hold_closed", held_closed)):
        for ref, bid in resolved[option]:
            k = named_switch.get((option, ref))
            # a branch with one switch: holding the switch is holding the branch
            if k is not None and len(every(bid) or ()) > 1:
                target.setdefault(bid, set()).add(k)
    opening: dict[str, tuple[int, ...]] = {b: tuple(sorted(ks)) for b, ks in held_open.items()}
    for bid, ks in held_closed.items():
        others = sorted(set(every(bid) or ()) - ks)
        if others and bid not in opening:
            opening[bid] = tuple(others)
        if others:  # switchable still, at its other end: no branch hold
            resolved["hold_closed"] = [(r, b) for r, b in resolved["hold_closed"]
                                       if not (b == bid and (("hold_closed", r) in named_switch))]
    switches = tuple((f"switch:{k}", state, b)
                     for state, given in (("closed", held_closed), ("open", held_open))
                     for b, ks in given.items() for k in sorted(ks))
    order = {b: n for n, b in enumerate(str(x) for x in net.branches["id"].to_list())}
    return tuple(sorted(opening.items(), key=lambda kv: order.get(kv[0], 0))), switches


def held_of(net: Network) -> Held:
    """The holds that :func:`feederopt.api.solve` recorded in ``net.meta`` (none by default)."""
    given = net.meta.get(META_KEY) or {}
    return Held(tuple(given.get("closed", ())), tuple(given.get("open", ())))


def with_held(net: Network, held: Held) -> Network:
    """A copy of ``net`` that records ``held``; a branch held through a switch element
    (:attr:`Held.opening`) is opened by the switches of the hold
    (:func:`feederopt.io.pandapower.with_opening_switches`: its ``open_end_energised``, so
    that the model charges the open line from the end that stays closed, and the switches
    that the answer's AC check and written net open)."""
    if not held:
        return net
    if held.opening:
        from feederopt.io.pandapower import with_opening_switches

        net = with_opening_switches(net, {b: list(ks) for b, ks in held.opening})
    return net.replace(meta={**net.meta, META_KEY: held.to_dict()})


class NoHeldTopology(Exception):
    """The holds leave no radial topology: the held-closed branches (with the ones that cannot
    switch) form a loop or join two sources, or the held-open ones cut buses off every
    source. ``reason`` names the branches."""

    def __init__(self, reason: str, held: Held) -> None:
        super().__init__(reason)
        self.reason = reason
        self.held = held


def held_model(pu: PerUnitNetwork, held: Held) -> PerUnitNetwork:
    """``pu`` with the held branches fixed: not switchable, ``normally_open`` as held (the
    per-unit model's convention: a branch that cannot switch is open exactly when it is
    normally open, :func:`feederopt.problems.presolve.fixed_open`), and the switching cost
    of the branches held away from their base-case state in ``fixed_switching_kw`` (one
    action each at its ``switch_cost``; the objective's constant). Raises
    :class:`NoHeldTopology` when the holds leave no radial topology."""
    if not held:
        return pu
    index = {b: k for k, b in enumerate(pu.branch_ids)}
    closed = np.zeros(pu.n_branch, bool)
    opened = np.zeros(pu.n_branch, bool)
    closed[[index[b] for b in held.closed if b in index]] = True
    opened[[index[b] for b in held.open if b in index]] = True
    # Holding a branch away from its base-case state is a switching action: its cost stays in
    # the objective as a constant (ReconfigurationProblem.y_cost), since the branch no longer
    # switches in the model.
    out = pu.with_fixed(closed, opened)
    switchable, normally_open = out.switchable, out.normally_open
    # A loop of branches that cannot open (held closed among them).
    fixed_closed = ~switchable & ~normally_open
    loop = radiality_problem(pu.bus_ids, pu.branch_ids, pu.f, pu.t, fixed_closed,
                             pu.is_source, spanning=False)
    if loop is not None and set(loop.ids) & set(held.closed):
        raise NoHeldTopology(
            f"the branches held closed ({', '.join(held.closed)}) leave no radial topology: "
            f"{loop.message} that cannot open ({', '.join(loop.ids)})", held)
    # Buses that no source reaches with every branch closed except the fixed-open ones.
    usable = ~(~switchable & normally_open)
    labels = components_of(pu.n_bus, pu.f[usable], pu.t[usable])
    fed = set(labels[pu.is_source].tolist())
    cut = [pu.bus_ids[j] for j in range(pu.n_bus) if labels[j] not in fed]
    if cut and opened.any():
        shown = ", ".join(cut[:10]) + (" ..." if len(cut) > 10 else "")
        raise NoHeldTopology(
            f"the branches held open ({', '.join(held.open)}) leave no radial topology: "
            f"no source reaches {len(cut)} bus(es) ({shown})", held)
    return out



def _source_capacity(pu: PerUnitNetwork, usable: np.ndarray) -> tuple[float, list[int]] | None:
    """The most active power [p.u.] the usable branches leaving the sources can carry to the
    other buses, and those branches: ``sum_k min(s_max_k, i_max_k V_hi / tap_k)`` over the
    branches from a source bus to a non-source bus, ``V_hi`` the source's highest set-point
    (the SOCP's ``P^2 + Q^2 <= (v_f / tap^2) l`` and ``l <= i_max^2``, Farivar & Low 2013;
    ``|P| <= |S|``). None when a branch enters a non-source bus from a source at its to end
    (its rating is referred to the other end: no bound claimed)."""
    src = pu.is_source
    out = usable & (src[pu.f] != src[pu.t])
    if np.any(out & src[pu.t]):
        return None
    hi = pu.source_v_range()[1]
    ks = np.flatnonzero(out)
    cap = np.minimum(pu.s_max[ks], pu.i_max[ks] * np.sqrt(pu.tap2[ks] * hi[pu.f[ks]] ** 2))
    return float(np.sum(cap)), [int(k) for k in ks]


def held_capacity_cause(full: PerUnitNetwork, held: Held) -> str | None:
    """Why the branches held open leave no topology within the ratings, when a bound shows it:
    the branches leaving the sources that the holds leave usable can carry at most
    ``C_held = sum_k min(s_max_k, i_max_k V_hi / tap_k)`` of active power
    (:func:`_source_capacity`), less than what the other buses draw net of generation,
    ``D = sum_{j not source} p_load_j - sum_g p_max_g`` (every ``r``, shunt conductance
    ``>= 0``: the losses only add to it), while without the holds ``C >= D``. Power balance
    over the non-source buses (DistFlow, Baran & Wu 1989) then needs more than the rated
    branches give in every topology: the held-open branches are the cause. ``full`` is the
    network's model before the holds (:func:`held_model`). None when no such bound holds, or
    when the grid without the holds is short of capacity too (session 44, savefix #2: CIGRE MV
    with ``hold_open=["trafo:0"]`` said only that the holds were part of the proof; its
    44.7 MW of load then has trafo:1 alone, 25.75 MVA at the source's 1.03 p.u.)."""
    if not held.open or not np.all(np.isfinite(full.gen_p_max)):
        return None
    conductances = [full.r, full.p_shunt, full.g_from, full.g_to, full.g_dangle,
                    full.g_open_end]
    if any(np.any(g < 0) for g in conductances if g.size):
        return None
    src = full.is_source
    demand = float(full.p_load[~src].sum()
                   - full.gen_p_max[~src[full.gen_bus]].sum() if full.gen_bus.size
                   else full.p_load[~src].sum())
    fixed_open = ~full.switchable & full.normally_open
    opened = np.isin(np.array(full.branch_ids, dtype=object), list(held.open))
    free = _source_capacity(full, ~fixed_open)
    under = _source_capacity(full, ~fixed_open & ~opened)
    if free is None or under is None or not (under[0] < demand * (1 - 1e-6) <= free[0]):
        return None
    mw = full.s_base_mva
    left = ", ".join(full.branch_ids[k] for k in under[1]) or "none"
    return (f"the branches held open ({', '.join(held.open)}) leave the branches out of the "
            f"sources ({left}) rated for at most {under[0] * mw:.4g} MW (|S| <= i_max V at "
            f"the source's set-point), less than the {demand * mw:.4g} MW the other buses "
            "draw net of generation: no topology holds the ratings with them open")

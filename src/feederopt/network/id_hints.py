"""Hints for ids a network does not have: the form of its ids, and the id meant where a
pandapower element name (``LA1`` -> ``line:0``), a bare index (``3`` -> ``line:3``) or the id
in another case (``t2`` -> ``T2``, :func:`meant_ids`) matches one. Here, in the network layer,
so that the readers (a disaster-scenario file's ``broken`` lists, :mod:`feederopt.io.disasters`;
a scenario file's load ids, :mod:`feederopt.io.scenarios`) and the problems (``restore
--broken``, ``--dg-sites``, :mod:`feederopt.problems.resilience`; ``--hold-closed`` and
``--hold-open``, :mod:`feederopt.problems.holds`) give the same hint for the same id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from feederopt.network.container import Network


def meant_ids(unknown: str, ids: Sequence[str], *, index: bool = True) -> list[str]:
    """The ids of ``ids`` that the id ``unknown``, which is none of them, most likely means:
    those equal to it but for case (``t2`` -> ``T2``: ids are case-sensitive, and the hint
    said "did you mean" for none of them; user test ut37 gendef #3); else, with ``index``,
    those whose part after the last ``:`` is its own, in any case (``11`` -> ``line:11``,
    ``Line:11`` -> ``line:11``, a pandapower element's index). The one rule of every
    "did you mean" on an id (:func:`id_hint`, the holds' hint
    :func:`feederopt.problems.holds.resolve_holds`, a load id's
    :func:`feederopt.io.scenarios.load_id_hint`)."""
    word = str(unknown).strip().casefold()
    same = [i for i in ids if i.casefold() == word]
    if same or not index:
        return same
    tail = word.split(":")[-1]
    return [i for i in ids if i.split(":")[-1].casefold() == tail]


def name_aliases(net: Network, branch_ids: set[str], bus_ids: set[str]
                 ) -> tuple[dict[str, str], dict[str, str]]:
    """A pandapower net's element names -> ids (``LA1`` -> ``line:0``, a bus name -> its
    index), for the hints of unknown ids; empty for other sources."""
    origin = net.origin
    branches: dict[str, str] = {}
    buses: dict[str, str] = {}
    shared = shared_names(net, branch_ids)
    for table in ("line", "trafo"):
        df = getattr(origin, table, None) if origin is not None else None
        if df is None or "name" not in getattr(df, "columns", ()):
            continue
        for idx, name in zip(df.index, df["name"], strict=True):
            # a name of two elements is no alias of the first (shared_names says so)
            if (isinstance(name, str) and name and f"{table}:{idx}" in branch_ids
                    and name not in shared):
                branches.setdefault(name, f"{table}:{idx}")
    df = getattr(origin, "bus", None) if origin is not None else None
    if df is not None and "name" in getattr(df, "columns", ()):
        for idx, name in zip(df.index, df["name"], strict=True):
            if isinstance(name, str) and name and str(idx) in bus_ids:
                buses.setdefault(name, str(idx))
    return branches, buses


@dataclass(frozen=True)
class SwitchRefs:
    """A pandapower net's switch elements as references to the branch each one switches (a
    line's or trafo's switch: that line or trafo; a bus-bus switch: ``switch:K``)."""

    #: the switch's index (``"7"``) -> its branch (``line:12``)
    by_index: dict[str, str] = field(default_factory=dict)
    #: a name of switches on one branch -> that branch
    by_name: dict[str, str] = field(default_factory=dict)
    #: a name of switches on different branches -> (switch index, branch) of each
    shared: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def shared_text(self, name: str) -> str:
        """``S1 names 2 switches (switch 0 on line:12, switch 4 on line:14)``."""
        on = self.shared[name]
        return (f"{name} names {len(on)} switches ("
                + ", ".join(f"switch {k} on {b}" for k, b in on) + ")")


def switch_refs(net: Network, branch_ids: set[str]) -> SwitchRefs:
    """The switch elements of a pandapower net (``net.origin.switch``) that switch one of
    ``branch_ids``, by index and by name (blanks at a name's ends dropped); empty for other
    sources. A name that two switches on different branches share names neither: before
    (user test ut38_realg #3) ``--hold-closed S1`` with two switches named S1 was refused as
    "branch ids that the network does not have"."""
    origin = net.origin
    sw = getattr(origin, "switch", None) if origin is not None else None
    if sw is None or not hasattr(sw, "columns") or "et" not in sw.columns:
        return SwitchRefs()
    by_index: dict[str, str] = {}
    by_name: dict[str, list[tuple[int, str]]] = {}
    names = sw["name"] if "name" in sw.columns else [None] * len(sw)
    for k, et, element, name in zip(sw.index, sw["et"], sw["element"], names, strict=True):
        branch = {"b": f"switch:{int(k)}", "l": f"line:{int(element)}",
                  "t": f"trafo:{int(element)}"}.get(str(et))
        if branch is None or branch not in branch_ids:
            continue
        by_index[str(int(k))] = branch
        if isinstance(name, str) and name.strip():
            by_name.setdefault(name.strip(), []).append((int(k), branch))
    unique = {n: on[0][1] for n, on in by_name.items() if len({b for _, b in on}) == 1}
    shared = {n: on for n, on in by_name.items() if n not in unique}
    return SwitchRefs(by_index, unique, shared)


def shared_names(net: Network, branch_ids: set[str]) -> dict[str, str]:
    """The names that a pandapower net gives to elements of different branches (two lines,
    a line and a trafo, switches on different branches) -> what they name (``S1 names 2
    switches (switch 0 on line:12, switch 4 on line:14)``), for the hints of unknown ids: no
    name of them is an alias of one branch (:func:`name_aliases`)."""
    origin = net.origin
    named: dict[str, list[tuple[str, str]]] = {}  # name -> (description, branch)
    for table in ("line", "trafo"):
        df = getattr(origin, table, None) if origin is not None else None
        if df is None or "name" not in getattr(df, "columns", ()):
            continue
        for idx, name in zip(df.index, df["name"], strict=True):
            if isinstance(name, str) and name and f"{table}:{idx}" in branch_ids:
                named.setdefault(name, []).append((f"{table}:{idx}", f"{table}:{idx}"))
    refs = switch_refs(net, branch_ids)
    for name, on in [*refs.shared.items(),
                     *((n, [(-1, b)]) for n, b in refs.by_name.items() if n in named)]:
        for k, b in on:
            switch = f"switch {k} on {b}" if k >= 0 else f"a switch on {b}"
            named.setdefault(name, []).append((switch, b))
    out = {}
    for name, items in named.items():
        if len({b for _, b in items}) > 1:
            if name in refs.shared and len(items) == len(refs.shared[name]):
                out[name] = refs.shared_text(name)
            else:
                out[name] = (f"{name} names {len(items)} elements ("
                             + ", ".join(d for d, _ in items) + ")")
    return out


def id_hint(unknown: list[str], ids: list[str], aliases: dict[str, str], what: str,
            shared: dict[str, str] | None = None) -> str:
    """The hint for ids a network does not have: the form of its ids, and the id meant where
    a name, a bare number (of a branch) or the id in another case matches one
    (:func:`meant_ids`); a network without any (a single bus: no branch to break, restore or
    switch) says so rather than list no ids."""
    if not ids:
        plural = {"branch": "branches", "bus": "buses"}.get(what, what + "s")
        return f"the network has no {plural}" + (
            ": there is nothing to break, restore or switch (give a network with lines)"
            if what == "branch" else "")
    sample = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
    guesses = []
    for u in unknown:
        near = meant_ids(u, ids, index=what == "branch")
        if shared and u in shared:
            guesses.append(f"{shared[u]}: give the {what} id")
        elif u in aliases:
            guesses.append(f"{u} is {aliases[u]}")
        elif near:
            guesses.append(f"{u}: did you mean {' or '.join(near)}?")
    text = f"the network's {what} ids are {sample}"
    if what == "branch" and any(i.startswith("line:") for i in ids):
        text += " (a pandapower net's: line:N and trafo:N, N the element's index)"
    if what == "bus":
        text += f" ({len(ids)} buses)"
    if len(unknown) > 1 and all(u in aliases for u in unknown):
        # every unknown one is a name: the ids to paste instead, in the order given
        guesses.append("those are " + ",".join(aliases[u] for u in unknown))
    return text + ("; " + "; ".join(guesses) if guesses else "")

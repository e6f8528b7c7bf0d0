"""Hints for ids a network does not have: the form of its ids, and the id meant where a
pandapower element name (``LA1`` -> ``line:0``), a bare index (``3`` -> ``line:3``) or the id
in another case (``t2`` -> ``T2``, :func:`meant_ids`) matches one. Here, in the network layer,
so that the readers (a disaster-scenario file's ``broken`` lists, :mod:`feederopt.io.disasters`;
a scenario file's load ids, :mod:`feederopt.io.scenarios`) and the problems (``restore
--broken``, ``--dg-sites``, :mod:`feederopt.problems.resilience`; ``--hold-closed`` and
``--hold-open``, :mod:`feederopt.problems.holds`; a schedule's fixed branches,
:mod:`feederopt.problems.schedule`) give the same hint for the same id. A branch given as the
console prints it, by its buses (``7-8``, ``8-7``, ``7 (7-8)``), gets the id of every branch
that joins the two buses (:func:`ends_meant`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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


#: Per branch id, its from and to bus ids (:func:`branch_ends`).
BranchEnds = Mapping[str, tuple[str, str]]

#: A branch as the console prints it (:func:`feederopt.results.result.branch_label`):
#: ``7 (7-8)``, ``line:11 'MV1.101 Line 12' (14-15; switch 18 ...)``.
_LABEL = re.compile(r"^(?P<id>[^'(]*?)\s*(?:'[^']*'\s*)?\((?P<ends>[^;)]*)(?:;.*)?\)$")


def branch_ends(net: Network) -> dict[str, tuple[str, str]]:
    """Per branch id of ``net``, its (from bus, to bus) ids: the buses the console prints
    with it (``7 (7-8)``), for the hint of a branch given by its buses (:func:`ends_meant`)."""
    br = net.branches
    return {str(b): (str(f), str(t)) for b, f, t in zip(
        br["id"].to_list(), br["from_bus"].to_list(), br["to_bus"].to_list(), strict=True)}


def ends_meant(unknown: str, ids: Sequence[str], ends: BranchEnds) -> list[str]:
    """The ids of ``ids`` that ``unknown``, a branch as the console prints it, names: the id
    of a label ``ID (FROM-TO)`` (with a name and the switches inside: ``line:11 'L 12' (14-15;
    switch 18)``), else every branch whose two buses a from-to spelling ``FROM-TO`` names, in
    either order (``7-8`` and ``8-7`` -> ``7``; parallel branches all). A bus id with a ``-``
    is found too: each ``-`` of the text is tried as the separator. Before (user test ut41_cli
    #5), ``--hold-open 7-8`` on case33bw listed the first ids (``1, 10, 11, ...``) and said
    nothing of branch ``7 (7-8)``."""
    text = str(unknown).strip()
    label = _LABEL.match(text)
    if label:
        if label.group("id").strip() in ids:
            return [label.group("id").strip()]
        text = label.group("ends").strip()
    out: list[str] = []
    for i in (k for k, c in enumerate(text) if c == "-"):
        a, b = text[:i].strip(), text[i + 1:].strip()
        if a and b:
            out += [x for x in ids if x in ends and ends[x] in ((a, b), (b, a))
                    and x not in out]
    return out


def did_you_mean(unknown: str, ids: Sequence[str], *, index: bool = True,
                 ends: BranchEnds | None = None) -> str | None:
    """``11: did you mean line:11?``: the guess of the hint of an unknown id ``unknown``
    (:func:`meant_ids`), or, given the branches' buses ``ends``, the branches that a from-to
    spelling names (:func:`ends_meant`), printed as the console prints them with their ids
    to give (``7-8: did you mean 7 (7-8)? give its id, 7``); None when nothing matches. The
    one text of every "did you mean" on a branch or bus id (:func:`id_hint`, the holds'
    :func:`feederopt.problems.holds.resolve_holds`)."""
    near = meant_ids(unknown, ids, index=index)
    if near:
        return f"{unknown}: did you mean {' or '.join(near)}?"
    by_ends = ends_meant(unknown, ids, ends) if ends else []
    if not by_ends or ends is None:
        return None
    labels = " or ".join(f"{b} ({ends[b][0]}-{ends[b][1]})" for b in by_ends)
    given = f"its id, {by_ends[0]}" if len(by_ends) == 1 else \
        f"the id of one, {' or '.join(by_ends)}"
    return f"{unknown}: did you mean {labels}? give {given}"


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
            shared: dict[str, str] | None = None, ends: BranchEnds | None = None) -> str:
    """The hint for ids a network does not have: the form of its ids, and the id meant where
    a name, a bare number (of a branch), the id in another case or, with the branches'
    buses ``ends`` (:func:`branch_ends`), a from-to spelling matches one
    (:func:`did_you_mean`); a network without any (a single bus: no branch to break, restore
    or switch) says so rather than list no ids."""
    if not ids:
        plural = {"branch": "branches", "bus": "buses"}.get(what, what + "s")
        return f"the network has no {plural}" + (
            ": there is nothing to break, restore or switch (give a network with lines)"
            if what == "branch" else "")
    sample = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
    guesses = []
    for u in unknown:
        guess = did_you_mean(u, ids, index=what == "branch",
                             ends=ends if what == "branch" else None)
        if shared and u in shared:
            guesses.append(f"{shared[u]}: give the {what} id")
        elif u in aliases:
            guesses.append(f"{u} is {aliases[u]}")
        elif guess:
            guesses.append(guess)
    text = f"the network's {what} ids are {sample}"
    if what == "branch" and any(i.startswith("line:") for i in ids):
        text += " (a pandapower net's: line:N and trafo:N, N the element's index)"
    if what == "bus":
        text += f" ({len(ids)} buses)"
    if len(unknown) > 1 and all(u in aliases for u in unknown):
        # every unknown one is a name: the ids to paste instead, in the order given
        guesses.append("those are " + ",".join(aliases[u] for u in unknown))
    return text + ("; " + "; ".join(guesses) if guesses else "")

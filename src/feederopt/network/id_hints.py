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
    for table in ("line", "trafo"):
        df = getattr(origin, table, None) if origin is not None else None
        if df is None or "name" not in getattr(df, "columns", ()):
            continue
        for idx, name in zip(df.index, df["name"], strict=True):
            if isinstance(name, str) and name and f"{table}:{idx}" in branch_ids:
                branches.setdefault(name, f"{table}:{idx}")
    df = getattr(origin, "bus", None) if origin is not None else None
    if df is not None and "name" in getattr(df, "columns", ()):
        for idx, name in zip(df.index, df["name"], strict=True):
            if isinstance(name, str) and name and str(idx) in bus_ids:
                buses.setdefault(name, str(idx))
    return branches, buses


def id_hint(unknown: list[str], ids: list[str], aliases: dict[str, str], what: str) -> str:
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
        if u in aliases:
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

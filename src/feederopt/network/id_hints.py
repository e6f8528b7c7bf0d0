"""Hints for ids a network does not have: the form of its ids, and the id meant where a
pandapower element name (``LA1`` -> ``line:0``) or a bare index (``3`` -> ``line:3``) matches
one. Here, in the network layer, so that both the readers (a disaster-scenario file's
``broken`` lists, :mod:`feederopt.io.disasters`) and the problems (``restore --broken``,
``--dg-sites``, :mod:`feederopt.problems.resilience`) give the same hint for the same id.
"""

from __future__ import annotations

from feederopt.network.container import Network


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
    a name or a bare number matches one; a network without any (a single bus: no branch to
    break, restore or switch) says so rather than list no ids."""
    if not ids:
        plural = {"branch": "branches", "bus": "buses"}.get(what, what + "s")
        return f"the network has no {plural}" + (
            ": there is nothing to break, restore or switch (give a network with lines)"
            if what == "branch" else "")
    sample = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
    guesses = []
    for u in unknown:
        if u in aliases:
            guesses.append(f"{u} is {aliases[u]}")
        elif what == "branch":
            near = [i for i in ids if i.split(":")[-1] == u]
            if near:
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

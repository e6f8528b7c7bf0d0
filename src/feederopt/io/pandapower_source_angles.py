"""Sources pinned at angles that disagree with the transformer shifts between them.

pandapower's power flow holds every ``ext_grid`` at its ``va_degree`` and a ``gen`` with
``slack=True`` at 0 degrees (``build_gen._build_pp_ext_grid``; a slack gen's bus keeps the
initial angle 0), and a transformer turns the phasors by its shift: the lv side lags the hv
side by ``shift_degree`` (plus a phase-shifting tap, :func:`feederopt.io.pandapower._trafo_shift`;
a three-winding transformer's mv and lv windings by ``shift_mv_degree``, ``shift_lv_degree``),
``angle(lv) = angle(hv) - shift`` at no load. Two sources joined by closed branches are
*consistent* when the difference of their angles equals the sum of the shifts along the path
between them, ``va_b - va_a = -sum(shift of each transformer crossed hv -> lv) +
sum(shift of each crossed lv -> hv)`` (mod 360, within :data:`ANGLE_TOL_DEG`). The model has
no angles (DistFlow holds only magnitudes, Baran & Wu, IEEE TPWRD 4(2), 1989): its power flow
is pandapower's with every source at its consistent angle. A difference of ``delta`` degrees
between two sources drives a circulating flow round the loop through them of about
``|V|^2 sin(delta) / X_loop`` (the transfer between two fixed voltages), which the model leaves
out: on pandapower's CIGRE MV net with a second ``ext_grid`` at bus 12 at the default
``va_degree`` 0 behind trafo 1's 30 degrees it carries ~107 MW, loads trafo 1 to 438 % and
gives 1043.9 kW of losses against the model's 277.4 kW (user test ut39_realg); at ``va_degree``
-30 pandapower gives the model's 277.4 kW.

A radial topology (every answer of ``feederopt solve``: one source per tree, see
:mod:`feederopt.formulations.radiality`) opens every path between two sources, so only the
base case (and a meshed topology given as such) is affected. Sources joined only through open
switches or normally open branches get no note: no topology the model gives closes that path.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

#: Two sources' angles agree with the shifts between them within this many degrees.
ANGLE_TOL_DEG = 1.0


@dataclass(frozen=True)
class Source:
    """A source as pandapower's power flow pins it."""

    label: str  # "ext_grid 1", "gen 0 (slack)"
    bus: str  # the bus key of the branch rows
    va_degree: float
    settable: bool  # an ext_grid (its va_degree); a slack gen is held at 0 degrees


def _wrap(deg: float) -> float:
    """``deg`` in [-180, 180)."""
    return (deg + 180.0) % 360.0 - 180.0


def _held(s: Source) -> str:
    return f"va_degree {_fmt(s.va_degree)}" if s.settable else "held at 0 degrees"


def _fmt(deg: float) -> str:
    return f"{round(deg, 2) + 0.0:g}"


#: An edge of the closed graph: (neighbour, the angle change crossing to it [deg], branch id,
#: the branch's hv (from) bus, its lv (to) bus, its shift [deg]).
_Edge = tuple[str, float, str, str, str, float]


def _closed_graph(rows: list[dict[str, Any]], shift: dict[str, float]
                  ) -> dict[str, list[_Edge]]:
    """bus -> its edges over the branches in service and closed in the base case; crossing a
    branch from its from (hv) bus to its to (lv) bus the angle falls by its shift."""
    adj: dict[str, list[_Edge]] = {}
    for r in rows:
        if not r.get("in_service", True) or r.get("normally_open"):
            continue
        a, b, bid = str(r["from_bus"]), str(r["to_bus"]), str(r["id"])
        s = shift.get(bid, 0.0)
        adj.setdefault(a, []).append((b, -s, bid, a, b, s))
        adj.setdefault(b, []).append((a, s, bid, a, b, s))
    return adj


def _tree(adj: dict[str, list[_Edge]], root: str
          ) -> tuple[dict[str, float], dict[str, tuple[str, _Edge]]]:
    """Breadth-first from ``root``: each reached bus's angle relative to the root (the sum of
    the angle changes along the tree path) and its parent bus with the edge to it."""
    phi = {root: 0.0}
    parent: dict[str, tuple[str, _Edge]] = {}
    todo = deque([root])
    while todo:
        u = todo.popleft()
        for e in adj.get(u, ()):
            v = e[0]
            if v not in phi:
                phi[v] = phi[u] + e[1]
                parent[v] = (u, e)
                todo.append(v)
    return phi, parent


def _path_shifts(parent: dict[str, tuple[str, _Edge]], bus: str) -> list[str]:
    """The shifting branches on the tree path from the root to ``bus``, in order."""
    out: list[str] = []
    while bus in parent:
        u, (_, _, bid, hv, lv, s) = parent[bus]
        if s:
            out.append(f"{bid} (shift {_fmt(s)} degrees, hv bus {hv}, lv bus {lv})")
        bus = u
    return out[::-1]


def source_angle_note(sources: list[Source], rows: list[dict[str, Any]],
                      shift: dict[str, float]) -> str:
    """A note naming the sources joined by closed branches whose angles disagree with the
    transformer shifts between them (see the module docstring): each source's ``va_degree``,
    the shifts on the path, the consistent setting and what the model leaves out; "" when
    every group of joined sources is consistent. ``rows`` are the reader's branch rows,
    ``shift`` the phase shift in degrees of each shifting branch id (hv = from bus).

    In each group of joined sources the reference is the source most others agree with
    (a slack gen first, whose angle pandapower holds at 0, then the first listed); each source
    off it gets the angle that agrees: ``va_ref + phi(bus)``, ``phi`` the sum of the angle
    changes along the path from the reference's bus."""
    adj = _closed_graph(rows, shift)
    done: set[int] = set()
    parts: list[str] = []
    for i, first in enumerate(sources):
        if i in done:
            continue
        reach, _ = _tree(adj, first.bus)
        group = [k for k, s in enumerate(sources) if s.bus in reach]
        done.update(group)
        if len(group) < 2:
            continue
        offset = {k: sources[k].va_degree - reach[sources[k].bus] for k in group}
        agree = {(a, b): abs(_wrap(offset[a] - offset[b])) <= ANGLE_TOL_DEG
                 for a in group for b in group}
        ref = max(group, key=lambda c: (sum(agree[c, k] for k in group),
                                        not sources[c].settable, -c))
        off = [k for k in group if not agree[ref, k]]
        if not off:
            continue
        r = sources[ref]
        phi, parent = _tree(adj, r.bus)
        for k in off:
            s = sources[k]
            want = _wrap(r.va_degree + phi[s.bus])
            on_path = _path_shifts(parent, s.bus)
            path = ("at the same bus" if s.bus == r.bus else
                    "joined by closed branches through " + ", ".join(on_path) if on_path else
                    "joined by closed branches without a phase shift")
            fix = (f"set va_degree of {s.label} at bus {s.bus} to {_fmt(want)}" if s.settable
                   else f"replace {s.label} at bus {s.bus} by an ext_grid with va_degree "
                   f"{_fmt(want)} (pandapower holds a slack gen at 0 degrees)")
            parts.append(
                f"{s.label} at bus {s.bus} ({_held(s)}) and {r.label} at bus {r.bus} "
                f"({_held(r)}) are {path}: consistent with {r.label}, bus {s.bus} is at "
                f"{_fmt(want)} degrees, {_fmt(abs(_wrap(s.va_degree - want)))} degrees off "
                f"{s.label}'s {_fmt(s.va_degree)}; {fix}")
    if not parts:
        return ""
    return ("sources pinned at angles that disagree with the transformer shifts between them: "
            + "; ".join(parts) + ". pandapower's power flow drives a circulating flow round "
            "the loop through the sources from that difference, which the model (no angles: "
            "every source as if at its consistent angle) leaves out, so its base case is not "
            "pandapower's; a radial topology (every answer of solve, one source per tree) "
            "opens the path between them and is unaffected")

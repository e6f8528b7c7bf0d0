"""The rating polygon: a line rating ``|S| <= S_max`` held in a linear model.

One helper for every linear model that holds a rating (LinDistFlow in
:mod:`feederopt.formulations.distflow`, the restoration MILP of
:mod:`feederopt.formulations.resilience`): the faces of a regular polygon inscribed in the
rating circle.
"""

from __future__ import annotations

import numpy as np

#: Sides of the rating polygon by default: 1 - cos(pi/16) = 1.9 % of the circle at worst.
RATING_POLYGON_SIDES = 16

def rating_polygon(sides: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The faces ``cos(t_k) P + sin(t_k) Q <= share * Pbar`` of the regular ``sides``-gon
    inscribed in the rating circle ``P^2 + Q^2 <= Pbar^2``: ``t_k = (2k+1) pi / sides``,
    ``share = cos(pi / sides)``.

    Why: the seed's box (5d) ``|P|, |Q| <= Pbar`` lets ``|S|`` reach ``sqrt(2) Pbar`` (141 % of
    the rating); a line rating is a limit on ``|S|`` (or ``|I|`` at 1 p.u.). The circle is
    quadratic; a polygon keeps the model a MILP (the standard linearisation of ``|S| <=
    S_max``, e.g. Ahmadi and Marti, "Linear current flow equations with application to
    distribution systems reconfiguration", IEEE TPWRS 30(5), 2015). The face with normal
    ``t_k`` lies at distance ``Pbar cos(pi/N)`` from the origin, so its vertices, at angles
    ``k 2 pi / N``, lie on the circle: the polygon is inscribed, every feasible point has
    ``|S| <= Pbar``, and the model loses at most ``1 - cos(pi/N)`` of the circle (1.9 % at
    N = 16, in the directions halfway between vertices). With N a multiple of 4 the points
    ``(+-Pbar, 0)`` and ``(0, +-Pbar)`` are vertices: a flow of pure P (the seed's cases,
    ``Q = 0``) keeps its whole rating, as in the box."""
    if sides < 3:
        raise ValueError(f"a rating polygon needs at least 3 sides, got {sides}")
    theta = (2.0 * np.arange(sides) + 1.0) * np.pi / sides
    return np.cos(theta), np.sin(theta), float(np.cos(np.pi / sides))

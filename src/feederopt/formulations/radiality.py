"""Radiality: constraints that make the closed branches a forest with one source per tree.

Both formulations act on the binary switch-state group ``y`` (one entry per in-service branch;
non-switchable branches have ``lb = ub = 1``) and require every bus to be energised.

* :func:`single_commodity_flow` -- every non-source bus consumes one unit of a fictitious
  commodity that only sources supply and only closed branches carry, and
  ``sum(y) = |N| - |sources|`` (the radiality model of the seed paper; cf. Lavorato, Franco,
  Rider & Romero, "Imposing radiality constraints in distribution system optimization
  problems", IEEE TPWRS 27(1), 2012). Every bus is then connected to a source, and the edge count
  makes the closed graph a forest with exactly one source per tree.
* :func:`parent_child` -- the directed spanning-tree model of Jabr, Singh & Pal, "Minimum loss
  network reconfiguration using mixed-integer convex programming", IEEE TPWRS 27(2), 2012:
  ``beta_ij + beta_ji = y_l``, every non-source bus has exactly one parent, sources none.
  On its own this admits a source-free component with one directed cycle when that component
  carries no load; ``order=True`` (the default) adds Miller-Tucker-Zemlin depth labels
  ``u_j >= u_i + 1 - |N| (1 - beta_ij)``, which exclude directed cycles and make it exact.
  With ``contract=True`` it is written on the graph of the blocks of buses that no switch
  separates (:func:`~feederopt.network.topology.switch_blocks`): orientations and depths only
  for the switchable branches and the blocks, the same feasible ``y``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, Sense, diag, incidence, select
from feederopt.network.topology import switch_blocks


def switch_group(switchable: np.ndarray) -> Group:
    """The binary branch states: free where switchable, fixed closed elsewhere."""
    n = len(switchable)
    g = Group.new("y", n, lb=np.where(switchable, 0.0, 1.0), ub=1.0, integer=True)
    return g


def _y(block: Block, switchable: np.ndarray) -> None:
    if "y" not in block.groups:
        block.add_group(switch_group(switchable))


def single_commodity_flow(
    n: int, f: np.ndarray, t: np.ndarray, is_source: np.ndarray, switchable: np.ndarray
) -> Block:
    """Single-commodity-flow radiality (see module docstring)."""
    block = Block()
    _y(block, switchable)
    m = len(f)
    k = float(n - int(is_source.sum()))
    block.add_group(Group.new("rad_flow", m, lb=-k, ub=k))
    eye = sp.identity(m, format="csr")
    block.add_rows("rad_cap_pos", {"rad_flow": eye, "y": -k * eye}, Sense.LE, np.zeros(m))
    block.add_rows("rad_cap_neg", {"rad_flow": -eye, "y": -k * eye}, Sense.LE, np.zeros(m))
    net_in = incidence(n, t) - incidence(n, f)  # inflow minus outflow of each bus
    loads = np.flatnonzero(~is_source)
    block.add_rows(
        "rad_balance", {"rad_flow": net_in[loads]}, Sense.EQ, np.ones(len(loads))
    )
    block.add_rows("rad_count", {"y": sp.csr_matrix(np.ones((1, m)))}, Sense.EQ, np.array([k]))
    return block


def parent_child(
    n: int,
    f: np.ndarray,
    t: np.ndarray,
    is_source: np.ndarray,
    switchable: np.ndarray,
    order: bool = True,
    contract: bool = False,
) -> Block:
    """Parent-child spanning-forest radiality (Jabr, Singh & Pal 2012), with MTZ order; on the
    graph of the switch blocks when ``contract`` (module docstring)."""
    block = Block()
    _y(block, switchable)
    n_branch = len(f)
    edges = np.arange(n_branch)
    if contract:
        labels, is_source = switch_blocks(n, f, t, switchable, is_source)
        edges = np.flatnonzero(switchable)
        n, f, t = len(is_source), labels[f[edges]], labels[t[edges]]
    m = len(edges)
    pick = sp.csr_matrix((np.ones(m), (np.arange(m), edges)), shape=(m, n_branch))
    # beta_fwd[l] = 1: f is the parent of t;  beta_bwd[l] = 1: t is the parent of f.
    ub_fwd = np.where(is_source[t], 0.0, 1.0)
    ub_bwd = np.where(is_source[f], 0.0, 1.0)
    block.add_group(Group.new("beta_fwd", m, 0.0, ub_fwd, integer=True))
    block.add_group(Group.new("beta_bwd", m, 0.0, ub_bwd, integer=True))
    eye = sp.identity(m, format="csr")
    block.add_rows(
        "rad_orient", {"beta_fwd": eye, "beta_bwd": eye, "y": -pick}, Sense.EQ, np.zeros(m)
    )
    loads = np.flatnonzero(~is_source)
    parents = {"beta_fwd": incidence(n, t)[loads], "beta_bwd": incidence(n, f)[loads]}
    block.add_rows("rad_one_parent", parents, Sense.EQ, np.ones(len(loads)))
    k = float(n - int(is_source.sum()))
    block.add_rows("rad_count", {"y": sp.csr_matrix(np.ones((1, m))) @ pick}, Sense.EQ,
                   np.array([k]))
    if order:
        ub = np.where(is_source, 0.0, n - 1.0)
        block.add_group(Group.new("rad_depth", n, 0.0, ub))
        d = select(f, n) - select(t, n)  # u_f - u_t
        big = float(n)
        block.add_rows(
            "rad_order_fwd", {"rad_depth": d, "beta_fwd": diag(big, m)}, Sense.LE,
            np.full(m, big - 1.0),
        )
        block.add_rows(
            "rad_order_bwd", {"rad_depth": -d, "beta_bwd": diag(big, m)}, Sense.LE,
            np.full(m, big - 1.0),
        )
    return block

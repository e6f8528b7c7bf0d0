"""The least-violating answer of an infeasible grid: among topologies that violate the limits
equally, the one of least losses (user test ut_research #3).

case16ci (MATPOWER's Civanlar 3-feeder system) has v_min = v_max = 1.0 at load bus 4, so no
radial topology meets the limits. The expected answer is found by brute force with pandapower:
every choice of 3 open branches of the 16 that leaves a radial forest (each load bus fed by
exactly one path from one of the 3 sources), its AC voltages and losses; the least total
voltage violation, then, within 0.1 % of it, the least losses. The optimiser's answer was
827.7 kW where 440.4 kW topologies violate the same limit by the same amount.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandapower as pp
import polars as pl
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.io.pandapower import to_pandapower
from feederopt.network import Network
from feederopt.network.perunit import to_per_unit
from feederopt.problems.reconfiguration import ReconfigurationProblem

runner = CliRunner()


def radial(n_bus: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray,
           source: np.ndarray) -> bool:
    """Union-find: no loop and every bus joined to exactly one source."""
    root = list(range(n_bus))

    def find(a: int) -> int:
        while root[a] != a:
            root[a] = root[root[a]]
            a = root[a]
        return a

    for a, b in zip(f[closed], t[closed], strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra == rb:
            return False
        root[ra] = rb
    groups = [find(k) for k in range(n_bus)]
    fed = [groups[k] for k in np.flatnonzero(source)]
    return len(set(fed)) == len(fed) and set(groups) == set(fed)


def brute_force() -> list[tuple[float, float, tuple[str, ...]]]:
    """(voltage violation [p.u.], AC losses [kW], open branch ids) of every radial topology."""
    net = load("case16ci")
    pu = to_per_unit(net)
    ppn = to_pandapower(net, np.ones(pu.n_branch, bool))
    assert list(ppn.line["name"]) == pu.branch_ids  # line k is branch k
    assert not np.isfinite(pu.i_max).any() and not np.isfinite(pu.s_max).any()
    out = []
    for opened in itertools.combinations(range(pu.n_branch), 3):
        closed = np.ones(pu.n_branch, bool)
        closed[list(opened)] = False
        if not radial(pu.n_bus, pu.f, pu.t, closed, pu.is_source):
            continue
        ppn.line["in_service"] = closed
        pp.runpp(ppn, numba=False)
        vm = ppn.res_bus["vm_pu"].to_numpy()
        load_bus = ~pu.is_source
        viol = float(np.sum(np.clip(pu.v_min - vm, 0, None)[load_bus])
                     + np.sum(np.clip(vm - pu.v_max, 0, None)[load_bus]))
        out.append((viol, 1e3 * float(ppn.res_line["pl_mw"].sum()),
                    tuple(pu.branch_ids[k] for k in opened)))
    return out


def test_case16ci_least_violating_is_least_loss(tmp_path: Path) -> None:
    found = brute_force()
    assert len(found) == 190  # the tester's count of supplied three-switch choices
    least = min(v for v, _, _ in found)
    tied = [(loss, ids) for v, loss, ids in found if v <= least * 1.001]
    assert len(tied) > 1  # the fixture must have ties (else this test shows nothing)
    best_loss = min(loss for loss, _ in tied)
    assert max(loss for loss, _ in tied) > best_loss + 100  # the choice matters

    out = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", "case16ci", "--time-limit", "120", "--json", str(out),
                              "--quiet"])
    assert res.exit_code == 3, res.output
    doc = json.loads(out.read_text())
    opened = tuple(sorted(b["id"] for b in doc["open_branches"]))
    ours = {tuple(sorted(ids)): (v, loss) for v, loss, ids in found}[opened]
    assert ours[0] <= least * 1.001
    assert abs(ours[1] - best_loss) < 1e-3
    assert abs(doc["ac_check"]["losses_kw"] - best_loss) < 1e-3


# ----- the second stage: least losses at the least violation (user test ut39_lit) -----------
#: Two substations a0 and b0 (20 kV). a0 feeds a1 over the unswitched line "la", rated below
#: a1's own load (0.08 kA): every radial topology overloads it, least when a0 feeds a1 alone.
#: b0's ring b1-b2-b3 (a chord b1-b3) then feeds the rest, a2 over the tie "a2-b3": eight
#: spanning trees of b0's side, all with the same overload of "la" and losses of their own.
TWO_SUB = [  # (id, from, to, km, i_max_ka, switchable)
    ("la", "a0", "a1", 2.0, 0.08, False), ("a1-a2", "a1", "a2", 1.0, 0.42, True),
    ("b0-b1", "b0", "b1", 3.0, 0.42, True), ("b1-b2", "b1", "b2", 2.6, 0.42, True),
    ("b2-b3", "b2", "b3", 0.8, 0.42, True), ("b3-b0", "b3", "b0", 1.3, 0.42, True),
    ("b1-b3", "b1", "b3", 2.3, 0.42, True), ("a2-b3", "a2", "b3", 2.3, 0.42, True),
]
TWO_SUB_LOAD_MW = {"a1": 3.0, "a2": 2.8, "b1": 1.5, "b2": 2.0, "b3": 1.8}
R_OHM_KM, X_OHM_KM = 0.161, 0.117


def two_sub_network() -> Network:
    """The grid of :data:`TWO_SUB` for feederopt."""
    names = ["a0", "a1", "a2", "b0", "b1", "b2", "b3"]
    buses = pl.DataFrame({"id": names, "vn_kv": [20.0] * len(names),
                          "is_source": [b in ("a0", "b0") for b in names],
                          "v_min_pu": [0.9] * len(names), "v_max_pu": [1.1] * len(names)})
    branches = pl.DataFrame({
        "id": [b[0] for b in TWO_SUB], "from_bus": [b[1] for b in TWO_SUB],
        "to_bus": [b[2] for b in TWO_SUB], "r_ohm": [R_OHM_KM * b[3] for b in TWO_SUB],
        "x_ohm": [X_OHM_KM * b[3] for b in TWO_SUB], "i_max_ka": [b[4] for b in TWO_SUB],
        "switchable": [b[5] for b in TWO_SUB]})
    loads = pl.DataFrame({"id": [f"d{b}" for b in TWO_SUB_LOAD_MW], "bus": list(TWO_SUB_LOAD_MW),
                          "p_mw": list(TWO_SUB_LOAD_MW.values()),
                          "q_mvar": [0.4 * p for p in TWO_SUB_LOAD_MW.values()]})
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="two_sub")


def two_sub_brute_force(scale: float = 1.0, bank: tuple[str, float] | None = None
                        ) -> dict[tuple[str, ...], tuple[float, float]]:
    """Open branch ids -> (largest loading [%], AC losses [kW]) of every radial topology, by
    pandapower's Newton-Raphson on a net built here by hand (not by feederopt); every load
    times ``scale``, and ``bank`` (bus, Mvar at 1 p.u.) a capacitor there."""
    buses = sorted({b for _, f, t, *_ in TWO_SUB for b in (f, t)})
    out = {}
    for opened in itertools.combinations([b[0] for b in TWO_SUB if b[5]], 3):
        net = pp.create_empty_network(sn_mva=1.0)
        idx = {b: pp.create_bus(net, 20.0, name=b) for b in buses}
        for b in ("a0", "b0"):
            pp.create_ext_grid(net, idx[b], vm_pu=1.0)
        for name, f, t, km, ka, _ in TWO_SUB:
            if name not in opened:
                pp.create_line_from_parameters(net, idx[f], idx[t], km, R_OHM_KM, X_OHM_KM,
                                               0.0, ka, name=name)
        for b, p in TWO_SUB_LOAD_MW.items():
            pp.create_load(net, idx[b], scale * p, scale * 0.4 * p)
        if bank is not None and bank[1]:
            pp.create_shunt(net, idx[bank[0]], q_mvar=-bank[1])  # negative: it injects
        n = len(buses)
        f = np.array([idx[x] for x in net.line["from_bus"].map(dict(enumerate(buses)))])
        t = np.array([idx[x] for x in net.line["to_bus"].map(dict(enumerate(buses)))])
        source = np.array([b in ("a0", "b0") for b in buses])
        if not radial(n, f, t, np.ones(len(f), bool), source):
            continue
        pp.runpp(net, numba=False)
        out[tuple(sorted(opened))] = (float(net.res_line["loading_percent"].max()),
                                      1e3 * float(net.res_line["pl_mw"].sum()))
    return out


def test_least_violating_is_least_loss_among_equal_violations() -> None:
    """Started from an equally violating but lossier topology, the least-violating search
    proves the least violation at once; its second stage must still move to the least-loss
    topology of that violation (before: it kept the best of the few topologies it evaluated,
    52.30 kW against 48.46 kW here, as ut39_lit's twosub kept 220.48 kW against 203.53 kW at
    the same 65.29 % loading)."""
    from feederopt.algorithms.base import StopOptions
    from feederopt.algorithms.benders import Benders, BendersOptions

    found = two_sub_brute_force()
    # by hand: a1-a2 open, b0's 8 spanning trees; a2-b3 open, 8 again; both closed, the 5
    # two-edge forests of b0's side that keep b3 apart from b0 (a0 feeds b3's part via a2)
    assert len(found) == 21
    least = min(v for v, _ in found.values())
    tied = {ids: loss for ids, (v, loss) in found.items() if v <= least * 1.001}
    assert len(tied) == 8  # b0's eight spanning trees, a0 feeding a1 alone
    best = min(tied.values())
    worst = max(tied, key=lambda ids: tied[ids])
    assert tied[worst] > best + 5.0  # the choice matters

    pu = to_per_unit(two_sub_network())
    problem = ReconfigurationProblem(pu)
    start = np.array([0.0 if b in worst else 1.0 for b in pu.branch_ids])
    algo = Benders(problem, BendersOptions(stop=StopOptions(time_limit_s=60.0)))
    raw = algo.search_least_violating([start])
    assert raw is not None and raw.y is not None
    opened = tuple(sorted(pu.branch_ids[k] for k in np.flatnonzero(raw.y < 0.5)))
    assert opened in tied, opened  # the least violation
    assert abs(tied[opened] - best) < 1e-6, (opened, tied[opened], best)

"""A scenario run that enumerates the radial topologies counts enumeration steps, one per
scenario, and names the topologies in the singular when there is one (user test ut50_scen #4:
"iterations 6" beside "enumeration of 1 radial topologies")."""

from __future__ import annotations

import feederopt
from feederopt.results.result import iterations_text


def test_a_tree_has_one_radial_topology_said_in_the_singular() -> None:
    net = feederopt.load("case4_dist")
    # by hand: 4 buses, 3 in-service branches, connected: a tree, its own only radial
    # topology (a spanning tree of a tree is the tree)
    assert net.buses.height == 4 and net.branches.filter(net.branches["in_service"]).height == 3
    table = feederopt.generate_scenarios(net, count=2, seed=1)
    r = feederopt.solve(net, scenarios=table, ac_check=False, workers=1)
    assert "enumeration of 1 radial topology +" in r.solver
    notes = [row.note for row in r.log]
    text = iterations_text(r.iterations, str(r.status), notes)
    assert text.startswith("2 enumeration steps (one per scenario")


def test_one_step_in_the_singular() -> None:
    text = iterations_text(1, "optimal", ["start", "enumeration: scenario 1 of 1"])
    assert text.startswith("1 enumeration step (")
    assert iterations_text(3, "optimal", ["start", "cut"]) == "3"

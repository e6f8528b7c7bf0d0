"""``plan``'s default candidates are the user's own buses and branches: the pandapower reader
adds a three-winding transformer's star point and an xward's auxiliary bus behind an internal
branch (its model of those elements), and these were DG sites and hardening candidates of
their own ("site a backup DG at trafo3w:0" names no place in the user's grid).

Truth: the user's pandapower tables (``bus`` without the ext_grid's bus; ``line``, ``trafo``,
``impedance`` and the trafo3w's windings)."""

from __future__ import annotations

import sys
from pathlib import Path

import feederopt
from feederopt.problems.resilience import PlanSettings, ResilienceProblem

sys.path.insert(0, str(Path(__file__).parent))
from test_ut_fresh_xward_bound import _net


def test_default_candidates_are_the_users_elements() -> None:
    net = _net()
    problem = ResilienceProblem.from_network(feederopt.load(net))
    sites = {problem.bus_ids[int(i)] for i in problem.grid.dg_bus}
    sources = {str(int(b)) for b in net.ext_grid.bus}
    assert sites == {str(int(b)) for b in net.bus.index} - sources
    lines = {problem.branch_ids[int(k)] for k in problem.harden_lines}
    own = ({f"line:{k}" for k in net.line.index} | {f"trafo:{k}" for k in net.trafo.index}
           | {f"impedance:{k}" for k in net.impedance.index}
           | {f"trafo3w:{k}:{w}" for k in net.trafo3w.index for w in ("hv", "mv", "lv")})
    assert lines == own
    # the ones the user names stay as given, internal ones included (their choice)
    given = ResilienceProblem.from_network(feederopt.load(net), PlanSettings(
        dg_candidates=("trafo3w:0",), harden_candidates=("xward:0",)))
    assert [given.bus_ids[int(i)] for i in given.grid.dg_bus] == ["trafo3w:0"]
    assert [given.branch_ids[int(k)] for k in given.harden_lines] == ["xward:0"]

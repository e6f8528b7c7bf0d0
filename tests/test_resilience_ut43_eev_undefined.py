"""EEV and VSS when the expected-value plan leaves a non-sheddable load unsupplied (user test
ut43_resil #3; ``algorithms.resilience_measures``, ``algorithms.resilience.choose_plan``).

The tester's g2: the 9-bus net of ``test_resilience_ut43_second_phase`` with d4 (at b4)
non-sheddable; scenarios s1 (L1 broken, p 0.6) and s2 (L2 and L5, p 0.4); no DG. The
expected-value scenario breaks L1 alone (the only line with p >= 1/2); in it nothing but L1 is
worth hardening. Under any plan that hardens L1 alone, s2 cuts b2..b8 off the source
(networkx below): L2 and L5 are out, and the ties only join b2..b8 among themselves. So d4
is unsupplied there, and EEV is undefined (docs/resilience.md).

Before: the evaluation's quick pass left s2 without an operation (its 1 ms recourse has no
shed-all point with a firm load), and no plan was refined (``inf - 1e-9 inf`` is NaN, so no
plan was "pending"): EEV and VSS were "not computed: no time left" at a 600 s limit, with the
advice to give more time.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from feederopt.api_resilience import plan
from feederopt.problems.resilience import PlanSettings
from test_resilience_ut43_second_phase import BRANCHES, nine_bus


def test_eev_undefined_names_the_load_and_scenario(tmp_path: Path) -> None:
    g2 = nine_bus(tmp_path / "g2", 2.5, [1, 5, 1, 10, 1, 2, 1, 3], firm=("d4",))
    sc = tmp_path / "sc.json"
    sc.write_text('{"scenarios": [{"name": "s1", "probability": 0.6, "broken": ["L1"]},'
                  ' {"name": "s2", "probability": 0.4, "broken": ["L5", "L2"]}]}')
    r = plan(g2, scenarios=sc, settings=PlanSettings(dg_budget=0), time_limit_s=120,
             ac_check=False)
    m = r.measures
    assert m is not None
    assert m.ev_scenario_broken == ["L1"]
    # s2 under the EV plan, by connectivity: every working line closed, L1 hardened if it is
    g = nx.Graph()
    g.add_edges_from((f, t) for i, f, t in BRANCHES
                     if i not in ("L2", "L5") or i in m.ev_hardened)
    assert "L5" not in m.ev_hardened and "L2" not in m.ev_hardened
    assert not nx.has_path(g, "S", "b4")
    assert m.expected_value_solution_cost is None and m.vss is None
    assert "EEV" not in m.not_computed and "VSS" not in m.not_computed  # was both
    assert m.undefined["EEV"] == "the expected-value plan leaves d4 unsupplied in s2"
    assert not any("no time" in n for n in r.notes), r.notes

"""``plan`` stopped at its time limit answers the least costly of the plans the run evaluated,
so more time never answers a dearer plan (session 33: case33bw with the 40 storm scenarios
answered 11,119 $ at ``--time-limit 5`` and 14,991 $ at ``--time-limit 10``).

The extensive form's MILP ranks its incumbents by their own scenario blocks, which HiGHS fills
with any feasible operation, so its last incumbent can be a dearer plan than an earlier one;
the code answered the last one. A longer time limit is stood in for deterministically: the
MILP is stopped right after its k-th improving solution (by the model's own overrun guard, so
the run ends as a time limit), and a larger k sees a longer stretch of the same run, as a
longer limit does; a wall-clock limit would make what the test sees depend on the machine.

zhang13 with its A_C_p1 scenarios, ``--harden-budget 1 --dg-budget 0``: HiGHS's incumbents
are the plan that invests nothing (864.75 $), hardening line 5 (479.34 $, an optimum; line 2
is another), the plan that invests nothing again (with cheaper scenario blocks, so lower in
the MILP's objective) and hardening line 2. The code answered 479.34, 479.34, 864.75 and
479.34 $ for k = 1 to 4 (k = 1 stops after the second incumbent: HiGHS asks the guard only
between steps).

Truth: graph connectivity (``tests/resilience_brute.py``): the optimum by enumeration over
every plan within the budgets, and the costs of the expected-value plan and of the plan that
invests nothing, which the answer must never exceed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import pytest

from feederopt.algorithms import resilience
from feederopt.api_resilience import plan, plan_settings
from feederopt.cases import load
from feederopt.cases.disasters import load_disasters
from feederopt.formulations.blocks import Block
from feederopt.solvers.highs_backend import HighsModel
from resilience_brute import brute_force, plan_cost


@pytest.fixture
def stop_after(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """``stop_after(k)``: the extensive forms of two or more scenarios stop right after their
    k-th improving solution, as at a time limit."""
    limit = [0]

    class StopsAfter(HighsModel):
        def __init__(self, block: Block, **kw: Any) -> None:
            super().__init__(block, **kw)
            if "s1.v" not in block.groups:  # one scenario: the EV plan, a wait-and-see MILP
                return
            found = [0]

            def count(_event: Any) -> None:
                found[0] += 1
                if found[0] >= limit[0]:
                    self._deadline = -math.inf  # the overrun guard stops the run

            self.h.cbMipImprovingSolution.subscribe(count)

    monkeypatch.setattr(resilience, "HighsModel", StopsAfter)

    def set_limit(k: int) -> None:
        limit[0] = k

    return set_limit


def test_more_time_never_answers_a_dearer_plan(stop_after: Callable[[int], None]) -> None:
    net = load("zhang13")
    ds = load_disasters("A_C_p1", net, "zhang13")
    scen = [(d.probability, set(d.broken)) for d in ds.scenarios]
    st = plan_settings(harden_budget=1, dg_budget=0)
    optimum = brute_force(net, scen, st)
    nothing = plan_cost(net, scen, [], [], st)
    assert optimum == pytest.approx(479.34, abs=0.01)  # line 2 hardened
    costs, notes = [], []
    for k in (1, 2, 3, 4):
        stop_after(k)
        r = plan("zhang13", scenarios="A_C_p1", settings=st, time_limit_s=60, ac_check=False)
        assert r.status == "time_limit", k
        m = r.measures
        assert m is not None and m.ev_hardened is not None and m.ev_dg_sites is not None
        ev = plan_cost(net, scen, m.ev_hardened, m.ev_dg_sites, st)
        # the reported cost is the plan's own (each scenario's operation optimal here)
        assert r.expected_total == pytest.approx(
            plan_cost(net, scen, r.hardened, r.dg_sites, st), abs=1e-4), k
        assert optimum - 1e-4 <= r.expected_total <= min(ev, nothing) + 1e-4, k
        costs.append(r.expected_total)
        notes.append(r.notes)
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(costs)), costs
    # at k = 3 the MILP's last incumbent is the dearer plan: a note says which plan it is
    assert any("incumbent 2 of 3, the least costly (479.34 $)" in n
               and "last incumbent costs 864.75 $" in n for n in notes[2]), notes[2]

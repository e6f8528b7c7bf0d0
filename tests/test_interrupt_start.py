"""A stop request during the start heuristics keeps their topology (user test ut_docs, 1).

The README promises that Ctrl-C reports the best topology found so far "as at a time limit".
A Ctrl-C while the start heuristics ran (case118zh at 4-5 s of solve time) ended
``interrupted`` with no topology: the heuristics stopped on the request with their starts, and
Benders then tried to solve the starts' slaves again, which the request refused at once.

Here the request comes at a controlled point, right after the first branch exchange (the first
heuristic incumbent) returns, through the project's own stop request
(:func:`feederopt.solvers.interrupt.request`, what the SIGINT handler calls). The result must
carry a radial topology (checked by a union-find of our own) whose losses pandapower's
Newton-Raphson power flow confirms.
"""

from __future__ import annotations

import signal
from typing import Any

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.algorithms import heuristics
from feederopt.io.pandapower import to_pandapower
from feederopt.solvers import interrupt
from feederopt.solvers.status import Status
from test_interrupt import _radial  # the same union-find check, one copy


@pytest.mark.parametrize("method", ["benders", "benders-scip"])
def test_a_stop_after_the_first_heuristic_keeps_its_topology(monkeypatch: pytest.MonkeyPatch,
                                                             method: str) -> None:
    original = heuristics.branch_exchange
    calls: list[float] = []

    def exchange_then_stop(*args: Any, **kwargs: Any) -> tuple[np.ndarray, float]:
        found = original(*args, **kwargs)
        calls.append(found[1])
        interrupt.request(signal.SIGINT)  # what Ctrl-C's handler does
        return found

    monkeypatch.setattr(heuristics, "branch_exchange", exchange_then_stop)
    net = feederopt.load("case33bw")
    try:
        res = feederopt.solve(net, method=method, time_limit=120)
    finally:
        interrupt.clear()
    assert calls, "the start heuristics did not run"
    assert res.status is Status.INTERRUPTED
    assert res.has_topology
    open_ids = {b["id"] for b in res.open_branches}
    assert open_ids and _radial(net, open_ids)

    in_service = net.branches.filter(net.branches["in_service"])
    closed = np.array([bid not in open_ids for bid in in_service["id"]])
    pp_net = to_pandapower(net, closed)
    pp.runpp(pp_net)
    ac_kw = 1000.0 * float(pp_net.res_line.pl_mw.sum())
    assert res.losses_kw == pytest.approx(ac_kw, rel=1e-3)  # the SOCP is exact on case33bw
    assert res.ac_check is not None
    assert res.ac_check.losses_kw == pytest.approx(ac_kw, rel=1e-6)
    assert ac_kw < res.base["losses_kw"]  # better than the grid's own topology

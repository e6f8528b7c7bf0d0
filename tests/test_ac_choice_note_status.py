"""The AC-choice note called a time-limited run's answer "the model's optimum ... stays the
answer" whatever the status (user test ut46_simb #3: status time_limit, gap 58 %). It is the
model's optimum only when the run proved it (status optimal); otherwise the note names it the
incumbent, the best topology found, with its status.

The fixture is tests/test_nominal_ac_choice.py's tiny feeder, whose model optimum (open tie1)
breaks v_max in pandapower's power flow; the exact text the user sees is the truth. A run
stopped by its limit is stood in for by ``final_status`` answering ``time_limit`` (the feeder
has three radial topologies and is proven at once), and the branch where no topology judged in
AC does better by an AC choice that keeps the answer (index 0).
"""

from __future__ import annotations

import pytest

import feederopt
from feederopt.algorithms.benders import Benders
from feederopt.solvers.status import Status
from feederopt.validation import ac_least
from test_nominal_ac_choice import network, truth

OPTIMUM = ("the model's optimum (open tie1) holds every limit in the SOCP model but breaks "
           "them in the AC power flow")
INCUMBENT = ("the incumbent (the best topology found, status time_limit) (open tie1) holds "
             "every limit in the SOCP model but breaks them in the AC power flow")


def _note(result) -> str:
    return str(result.extra["ac_choice"]["note"])


def _time_limited(monkeypatch) -> None:
    monkeypatch.setattr(Benders, "final_status", lambda self, has: Status.TIME_LIMIT)


def _answer_kept(monkeypatch) -> None:
    original = ac_least.least_violating_in_ac

    def keep(rows, judge, budget_s):
        _, record = original(rows, judge, budget_s=budget_s)
        return 0, record

    monkeypatch.setattr(ac_least, "least_violating_in_ac", keep)


def test_fixture_model_optimum_breaks_v_max_in_ac() -> None:
    assert not truth()["tie1"][0]  # pandapower: opening tie1 breaks v_max


def test_optimal_run_says_the_models_optimum() -> None:
    r = feederopt.solve(network(), time_limit=30)
    assert _note(r).startswith(OPTIMUM)


def test_time_limited_run_says_the_incumbent(monkeypatch) -> None:
    _time_limited(monkeypatch)
    r = feederopt.solve(network(), time_limit=30)
    assert _note(r).startswith(INCUMBENT)
    assert "model's optimum" not in _note(r)


@pytest.mark.parametrize("limited", [False, True])
def test_kept_answer_is_named_by_its_status(monkeypatch, limited) -> None:
    _answer_kept(monkeypatch)
    if limited:
        _time_limited(monkeypatch)
    r = feederopt.solve(network(), time_limit=30)
    note = _note(r)
    if limited:
        assert note.startswith(INCUMBENT)
        assert "none breaks the limits less: the incumbent stays the answer" in note
        assert str(r.status) == "time_limit"
    else:
        assert note.startswith(OPTIMUM)
        assert "none breaks the limits less: the model's optimum stays the answer" in note
        assert str(r.status) == "optimal"

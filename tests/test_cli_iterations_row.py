"""The console's iterations row says what closed the gap when no master iteration ran (user
test ut36_results #2: "iterations 0" beside a proven optimum on case33bw, where the loop
branch-and-bound had closed it, read as if nothing ran)."""
from types import SimpleNamespace

from feederopt.cli.solve import iterations_text
from feederopt.solvers.status import IterationRecord


def _rec(it: int, note: str) -> IterationRecord:
    return IterationRecord(iteration=it, lower_bound=1.0, upper_bound=1.0, gap=0.0,
                           elapsed_s=0.1, note=note)


def test_zero_iterations_name_what_closed_the_gap() -> None:
    r = SimpleNamespace(iterations=0, status="optimal",
                        log=[_rec(0, "start"), _rec(0, "probing: loop branch-and-bound")])
    assert iterations_text(r) == ("0 (closed before any master iteration: probing: loop "
                                  "branch-and-bound)")


def test_iterations_that_ran_are_a_plain_count() -> None:
    assert iterations_text(SimpleNamespace(iterations=6, log=[_rec(1, "x")])) == "6"
    assert iterations_text(SimpleNamespace(iterations=0, log=[_rec(0, "start")])) == "0"
    assert iterations_text(SimpleNamespace(iterations=0, log=None)) == "0"


def test_a_run_stopped_before_any_master_iteration_is_not_closed() -> None:
    """ut37 #2: ``solve case33bw --time-limit 0.01`` stops (status time_limit; the base case
    its answer, evaluated after the limit) before the first master iteration; the row said
    "closed before any master iteration: final bounds". The truth is the result's own status
    and objective: no gap closed."""
    import feederopt

    r = feederopt.solve("case33bw", time_limit=0.01)
    # the answer is the base case, evaluated after the limit (ut48_core #4): no gap closed
    assert r.status == "time_limit" and r.iterations == 0
    text = iterations_text(r)
    assert "closed" not in text, text
    assert text == "0 (stopped before any master iteration: time_limit)"
    # a proof before the first iteration is said as such
    proven = SimpleNamespace(iterations=0, status="infeasible",
                             log=[_rec(0, "probing: loop branch-and-bound")])
    assert iterations_text(proven) == ("0 (proven infeasible before any master iteration: "
                                       "probing: loop branch-and-bound)")

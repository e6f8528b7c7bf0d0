"""A stop request is seen only by the solves running when it came (user test ut_api #4: after
one Ctrl-C'd solve in the main thread, every later solve in a worker thread returned
``interrupted`` at once, because only a main-thread solve cleared the process-wide request)."""

from __future__ import annotations

import signal
import threading

import pytest

import feederopt
from feederopt.solvers import interrupt
from netbuild import tiny


@pytest.fixture()
def stale_request():  # type: ignore[no-untyped-def]
    interrupt.request(signal.SIGINT)  # what an interrupted main-thread solve leaves behind
    yield
    interrupt.clear()


def _in_thread(fn):  # type: ignore[no-untyped-def]
    out: dict = {}  # type: ignore[type-arg]
    th = threading.Thread(target=lambda: out.update(value=fn()))
    th.start()
    th.join(120)
    return out["value"]


def test_a_stale_request_does_not_stop_a_later_solve_in_a_thread(stale_request) -> None:  # type: ignore[no-untyped-def]
    r = _in_thread(lambda: feederopt.solve(tiny(), time_limit=30, ac_check=False))
    assert r.status.value == "optimal"


def test_a_request_made_during_a_thread_solve_stops_it(stale_request) -> None:  # type: ignore[no-untyped-def]
    def during() -> tuple[bool, bool]:
        with interrupt.handle_signals():
            before = interrupt.requested()
            interrupt.request(signal.SIGTERM)  # e.g. the main thread's handler
            return before, interrupt.requested()

    assert _in_thread(during) == (False, True)
    assert interrupt.requested()  # outside a solve the request stays visible

"""On Ray, a task's own exception reaches the caller unwrapped (user test ut32_par #3).

A slave failure on ``--ray`` printed ``stopped: the conic solver failed: \\x1b[36mray::
_StateHolder.run_many()\\x1b[39m (pid=..., actor_id=..., repr=<...>)`` and 12 lines of the
remote traceback, where the process pool prints the failure's one line: ``ray.get`` raises a
``RayTaskError`` whose text is the traceback and whose dynamic class also derives from
``SlaveFailure``, so ``except SlaveFailure`` caught it. The truth is the failure's own text,
built here (``SlaveFailure(text)``), not the executor's output.
"""

from __future__ import annotations

import pytest

from feederopt.algorithms.slaves import SlaveFailure
from feederopt.execution import RayExecutor
from feederopt.execution.executors import task_error_cause

ray = pytest.importorskip("ray")

TEXT = ("the conic solver failed on a scenario's (or extreme point's) SOCP at the topology "
        "with open branches 33, 34 (infeasible): no valid cut can be built")


def test_a_constructed_ray_task_error_unwraps_to_its_cause() -> None:
    cause = SlaveFailure(TEXT)
    wrapped = ray.exceptions.RayTaskError(
        "ray::_StateHolder.run_many()", "Traceback (most recent call last):\n  ...", cause,
        pid=1, ip="192.0.2.2").as_instanceof_cause()
    assert isinstance(wrapped, SlaveFailure) and "\x1b[" in str(wrapped)  # Ray's own text
    got = task_error_cause(wrapped)
    assert type(got) is SlaveFailure and str(got) == TEXT
    # a task error around another (a nested task's) unwraps to the first real cause
    outer = ray.exceptions.RayTaskError("outer", "tb", wrapped, pid=1, ip="192.0.2.2")
    assert task_error_cause(outer.as_instanceof_cause()) is got
    plain = ValueError("x")
    assert task_error_cause(plain) is plain


def test_a_failing_task_on_ray_raises_the_failure_with_its_own_text(local_ray) -> None:
    def factory() -> None:
        return None

    def fail(state: None, item: int) -> int:
        if item == 2:
            raise SlaveFailure(TEXT)
        return item

    with RayExecutor(factory, workers=1) as ex:
        assert ex.map(fail, [0, 1]) == [0, 1]
        with pytest.raises(SlaveFailure) as err:
            ex.map(fail, [0, 1, 2])
    assert type(err.value) is SlaveFailure  # not Ray's dual RayTaskError(SlaveFailure)
    assert str(err.value) == TEXT and "\x1b[" not in str(err.value)

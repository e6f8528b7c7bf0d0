"""One rule for the ``samples`` option of every check (solve, partition and schedule results):
a whole number >= 1, numpy integers included, a bool or a float refused with the same typed
problem (before, the schedule check refused numpy integers and the partition check printed a
repr)."""
import numpy as np
import pytest

from feederopt.api_schedule import check_schedule_problems
from feederopt.errors import InputError
from feederopt.validation.montecarlo import check_options, samples_problem


@pytest.mark.parametrize("bad", [0, -3, True, 2.5, "10", None])
def test_bad_samples_are_one_problem(bad):
    p = samples_problem(bad)
    assert p is not None and p.field == "samples" and "at least 1" in p.message
    with pytest.raises(InputError) as exc:
        check_options(bad, 0.1)
    assert [q.field for q in exc.value.problems] == ["samples"]
    assert next(q.field for q in check_schedule_problems({}, samples=bad)) == "samples"


@pytest.mark.parametrize("good", [1, 250, np.int64(7), np.int32(1)])
def test_whole_samples_pass_everywhere(good):
    assert samples_problem(good) is None
    check_options(good, 0.1)
    assert all(q.field != "samples" for q in check_schedule_problems({}, samples=good))

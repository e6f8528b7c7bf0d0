"""``ProcessExecutor.worker_memory_mb`` gives one figure per worker process (user test ut_res
#7: with ``--workers 2`` the JSON listed one, since the probe tasks could all run on one
process), each the process's own peak resident set as Linux reports it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from feederopt.algorithms.slaves import SlaveFactory, evaluate_task
from feederopt.execution import ProcessExecutor
from feederopt.network import to_per_unit
from feederopt.problems.uncertain import envelope
from test_stochastic import meshed, scenarios_for


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_one_peak_per_worker_process() -> None:
    pu = to_per_unit(meshed(2))
    p, q = scenarios_for(pu, np.random.default_rng(0), 6)
    items = [(p[s], q[s], pu.initial_closed().astype(float), True) for s in range(len(p))]
    with ProcessExecutor(SlaveFactory(envelope(pu, p, q), "penalized", 1e4), workers=2) as ex:
        ex.map(evaluate_task, items)
        pids = list(ex._pool._processes)  # type: ignore[union-attr]
        assert len(pids) == 2
        # the truth: each worker's VmHWM, read here from /proc (kB)
        truth = []
        for pid in pids:
            line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines()
                        if x.startswith("VmHWM:"))
            truth.append(float(line.split()[1]) / 1024.0)
        got = ex.worker_memory_mb()
    assert len(got) == 2
    # peaks only grow between the two reads
    for mb, ref in zip(got, sorted(truth), strict=True):
        assert ref <= mb <= ref * 1.05 + 1.0

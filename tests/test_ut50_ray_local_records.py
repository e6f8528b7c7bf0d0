"""A scenario solve on a local Ray records the slaves' count it applied and says that it
started a local Ray (user test ut50_par #3).

Before, ``solve case33bw --scenarios scen.parquet --ray local --json s_ray.json`` recorded
``settings.ray_address`` "local" but no ``settings.workers`` (the pool's runs record theirs,
and the report's command line repeats it), and started the local Ray without a word. Ray is
the stub cluster of the Ray tests (:mod:`test_ray_cluster_events`): the truth is the CPU
count the stub cluster offers (one actor per free CPU when ``--workers`` is not given) and
the CPU count that ``ray.init`` was asked for (this machine's cores, ``os.cpu_count()``).
"""

from __future__ import annotations

import os
import sys

import polars as pl
import pytest

import feederopt
from feederopt.errors import FeederoptWarning
from feederopt.execution import executors as ex_mod
from netbuild import tiny
from test_ray_cluster_events import _Fresh


def test_a_local_ray_run_records_its_workers_and_says_it_started_ray(monkeypatch) -> None:
    cluster = _Fresh(cpus=3)
    monkeypatch.setitem(sys.modules, "ray", cluster)
    monkeypatch.setattr(ex_mod, "RAY_SETTLE_S", 0.2)
    # the stub's head is a socket nobody accepts on: its probes would fill the backlog, and
    # on a loaded machine the head watcher's probe (a thread, every RAY_HEAD_CHECK_S) found
    # it lost and stopped the run (exit 130 in CI): no probe, from the rounds or the watcher
    monkeypatch.setattr(ex_mod.RayExecutor, "_probe_head", lambda self: None)
    net = tiny()
    loads = net.loads["id"].to_list()
    rows = [(s, load, 0.1 * f, 0.02 * f) for s, f in (("a", 1.0), ("b", 1.2)) for load in loads]
    table = pl.DataFrame({"scenario": [r[0] for r in rows], "kind": ["load"] * len(rows),
                          "element": [r[1] for r in rows], "p_mw": [r[2] for r in rows],
                          "q_mvar": [r[3] for r in rows], "weight": [0.5] * len(rows)})
    with pytest.warns(FeederoptWarning, match=f"ray_address='local': the slaves run on a "
                      f"local Ray of {os.cpu_count()} CPUs started for this run"):
        r = feederopt.solve(net, scenarios=table, ray_address="local", time_limit=60)
    assert cluster.joined == ["local"]
    settings = r.to_dict()["settings"]
    assert settings["ray_address"] == "local"
    assert settings["workers"] == 3  # one actor per CPU of the cluster

"""A partition records where its slaves ran, and the command line takes ``--ray`` (user test
ut50_par #1).

Before, ``feederopt partition ieee37mod --uncertainty 0.1 --workers 2 --json part_w2.json``
wrote no ``execution`` record (a plan writes ``{"kind": "process", "workers": 2,
"worker_memory_mb": [...]}``), ``feederopt report`` could not repeat ``--workers``, and
``partition --help`` had no ``--ray`` (the Python keyword ``ray_address`` had no flag).

Truths: the pool's worker processes themselves (their peak memory is read from each one's
``/proc/<pid>/status``, one entry per process started: two for ``--workers 2``); for Ray, the
stub cluster of the Ray tests (:mod:`test_ray_cluster_events`), which records the address
``ray.init`` was asked for and offers its CPUs (one actor per CPU).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.execution import executors as ex_mod
from feederopt.report.command_line import partition_options
from test_ray_cluster_events import _Fresh
from test_ut47_partition_stopped import ARGS

runner = CliRunner(env={"COLUMNS": "200"})


def test_a_pool_partition_records_its_execution(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    res = runner.invoke(app, ["partition", *ARGS, "--workers", "2", "--json", str(out)])
    assert res.exit_code in (0, 4), res.output
    doc = json.loads(out.read_text())
    ex = doc["execution"]
    assert ex["kind"] == "process" and ex["workers"] == 2
    assert len(ex["worker_memory_mb"]) == 2 and all(mb > 0 for mb in ex["worker_memory_mb"])
    assert doc["inputs"]["workers"] == 2 and doc["inputs"]["ray_address"] is None
    hint = partition_options(doc)
    assert hint[hint.index("--workers") + 1] == "2" and "--ray" not in hint


def test_the_partition_command_takes_ray(tmp_path: Path, monkeypatch) -> None:
    assert "--ray" in runner.invoke(app, ["partition", "--help"]).output
    cluster = _Fresh(cpus=2)
    monkeypatch.setitem(sys.modules, "ray", cluster)
    monkeypatch.setattr(ex_mod, "RAY_SETTLE_S", 0.2)
    # the stub's head is a socket nobody accepts on: its probes would fill the backlog, and
    # on a loaded machine the head watcher's probe (a thread, every RAY_HEAD_CHECK_S) found
    # it lost and stopped the run (exit 130 in CI): no probe, from the rounds or the watcher
    monkeypatch.setattr(ex_mod.RayExecutor, "_probe_head", lambda self: None)
    out = tmp_path / "p.json"
    res = runner.invoke(app, ["partition", *ARGS, "--ray", "local", "--json", str(out)])
    assert res.exit_code in (0, 4), res.output
    assert cluster.joined == ["local"]
    assert "--ray local: the slaves run on a local Ray" in " ".join(res.output.split())
    doc = json.loads(out.read_text())
    assert doc["execution"]["kind"] == "ray" and doc["execution"]["workers"] == 1
    assert doc["inputs"]["ray_address"] == "local"
    hint = partition_options(doc)
    assert hint[hint.index("--ray") + 1] == "local"

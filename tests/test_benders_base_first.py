"""A time-limited Benders run whose start heuristics use up the limit returned "No topology
was found" (exit 4) although the grid's own topology is radial (user test ut46_simb #2:
``1-MVLV-urban-all-0-sw@hL --time-limit 120``, 10,458 buses: the heuristics ran past the
limit and the run stopped before it evaluated any start). The grid's own topology is now
evaluated first, before the heuristics, and is the incumbent of such a run; when even its
slave cannot finish in time, it is solved after the limit and is the answer (ut48_core #4).

The heuristics' long run on a huge grid is stood in for by a ``start_topologies`` that sleeps
to the deadline. The truth: case33bw's own open branches (its five normally open tie lines,
Baran & Wu 1989) and its published base-case losses, 202.67 kW.
"""

from __future__ import annotations

import importlib
import time

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.algorithms.benders import Benders
from feederopt.cli import app

api = importlib.import_module("feederopt.api")
LIMIT = 3.0


def _heuristics_to_the_deadline(monkeypatch) -> None:
    def slow(*args, **kwargs):
        time.sleep(LIMIT + 0.5)
        return [], []

    monkeypatch.setattr(api, "start_topologies", slow)


def test_base_topology_is_the_incumbent_of_a_time_limited_run(monkeypatch) -> None:
    _heuristics_to_the_deadline(monkeypatch)
    network = feederopt.load("case33bw")
    own = sorted(network.branches.filter(network.branches["normally_open"])["id"].to_list())
    assert len(own) == 5
    r = feederopt.solve("case33bw", time_limit=LIMIT)
    assert str(r.status) in ("time_limit", "Status.TIME_LIMIT")
    assert r.has_topology
    assert sorted(b["id"] for b in r.open_branches) == own
    assert r.losses_kw == pytest.approx(202.67, abs=0.5)  # Baran & Wu's base case


def test_unfinished_base_evaluation_falls_back_to_the_base_case(monkeypatch) -> None:
    """When even the base topology's slave cannot finish in time, its slave is solved after
    the limit and the base case is the answer (user test ut48_core #4: before, "No topology
    was found" and exit 4 beside "base case vs limits (AC): within them")."""
    _heuristics_to_the_deadline(monkeypatch)
    original = Benders.assess_first

    def late(self, y):
        time.sleep(LIMIT + 0.5)  # the deadline passes before the slave of the base topology
        original(self, y)

    monkeypatch.setattr(Benders, "assess_first", late)
    out = CliRunner().invoke(app, ["solve", "case33bw", "--time-limit", str(LIMIT)])
    assert out.exit_code == 0, out.output  # the base case holds the limits in AC
    text = " ".join(out.output.split())
    assert "No topology was found" not in text
    assert "the base case is the answer" in text

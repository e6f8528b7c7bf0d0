"""User test ut47_sched #1: a schedule whose AC losses exceed the base case's (the network's
own switch states at the same injections) said "validity: all checks hold" and nothing else.
Now a note names the loss tangents and ``--loss-tol``. The truth is pandapower's own
``case33bw`` (``pandapower.networks``, not feederopt's converter) at the nominal loads: its
base topology loses 202.68 kW, the radial topology with lines 14, 16, 18, 33, 37 open
260.40 kW, the schedule's own optimum less than the base."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import feederopt.api_schedule as api_schedule
from feederopt import load
from feederopt.api_schedule import schedule
from feederopt.validation.schedule import AcHourCheck, losses_above_base_note

HOURS = 2
BAD_OPEN = ("14", "16", "18", "33", "37")  # a radial topology worse than the base's


def _pp_losses_mw(open_ids: tuple[str, ...] | None) -> float:
    """pandapower's case33bw at its nominal loads: the lines of ``open_ids`` (1-based ids of
    the MATPOWER branch order, pandapower's line index + 1) out of service and the tie lines
    in, or its own switch states (``None``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandapower as pp
        import pandapower.networks as pn

        net = pn.case33bw()
        if open_ids is not None:
            net.line["in_service"] = [str(i + 1) not in open_ids for i in net.line.index]
        pp.runpp(net)
    return float(net.res_line.pl_mw.sum())


def _flat_profiles() -> pl.DataFrame:
    """Every load of case33bw at its nominal value (factor 1) in each hour (with an empty
    devices folder: no devices, the injections are the loads)."""
    ids = [str(i) for i in load("case33bw").loads["id"].to_list()]
    return pl.DataFrame({"time": [h for h in range(HOURS) for _ in ids],
                         "element": ids * HOURS, "value": [1.0] * (HOURS * len(ids))})


def _above_note(notes: list[str]) -> list[str]:
    return [n for n in notes if "exceed the base case" in n]


def test_worse_topology_than_base_is_noted(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    base_mw, bad_mw = _pp_losses_mw(None), _pp_losses_mw(BAD_OPEN)
    assert bad_mw > base_mw * 1.2  # the truth: this topology loses more than the base's
    net = load("case33bw")
    ids = [str(b) for b in net.branches["id"].to_list()]
    solve = api_schedule.solve_deterministic

    def bad_topology(d: Any, **kw: Any) -> Any:
        sol = solve(d, **kw)
        sol.closed[:] = np.array([0.0 if b in BAD_OPEN else 1.0 for b in ids])
        return sol

    monkeypatch.setattr(api_schedule, "solve_deterministic", bad_topology)
    res = schedule("case33bw", profiles=_flat_profiles(), devices=tmp_path,
                   hours=HOURS, time_limit_s=30)
    assert sorted(res.open_lines, key=int) == list(BAD_OPEN)
    (note,) = _above_note(res.notes)
    assert f"{HOURS * bad_mw:.4f} MWh" in note and f"{HOURS * base_mw:.4f} MWh" in note
    assert "loss tangents" in note and "--loss-tol" in note
    assert note in res.to_dict()["notes"]  # the JSON's notes, which the report lists


def test_better_topology_than_base_no_note(tmp_path: Path) -> None:
    res = schedule("case33bw", profiles=_flat_profiles(), devices=tmp_path,
                   hours=HOURS, time_limit_s=30)
    opened = tuple(res.open_lines)
    assert _pp_losses_mw(opened) < _pp_losses_mw(None)  # the truth: the schedule loses less
    assert _above_note(res.notes) == []


def test_note_by_hand() -> None:
    """Two hours of 0.3 and 0.4 MW against a base day of 0.6 MWh: 0.7 MWh, 16.67 % more."""
    def hour(h: int, mw: float) -> AcHourCheck:
        return AcHourCheck(h, True, 0.95, 0.95, 0.0, mw, mw)

    base = {"losses_mwh": 0.6, "within_limits": True}
    note = losses_above_base_note([hour(0, 0.3), hour(1, 0.4)], base)
    assert note is not None and "0.7000 MWh" in note and "16.67 %" in note
    assert "e.g. 0.04" in note
    assert "--loss-tol 0.04 lets" in str(losses_above_base_note(
        [hour(0, 0.3), hour(1, 0.4)], base, loss_tol=0.04))
    assert losses_above_base_note([hour(0, 0.3), hour(1, 0.3)], base) is None  # equal
    assert losses_above_base_note([hour(0, 0.2), hour(1, 0.3)], base) is None  # below
    failed = AcHourCheck(1, False, np.nan, 0.95, np.nan, np.nan, 0.4)
    assert losses_above_base_note([hour(0, 0.3), failed], base) is None

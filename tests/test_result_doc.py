"""``help(feederopt.Result)`` describes the fields (user test ut33_api #4: it described none),
and what it says of ``iterations`` and ``log`` holds: ``iterations`` counts the method's main
loop, ``log`` has a row whenever a bound moved, each labelled with the iteration it was
recorded at (case33bw with Benders reported 0 iterations and 2 log rows, which read as a
contradiction)."""

from __future__ import annotations

import dataclasses
import pydoc
import warnings

import feederopt

#: The fields a user reads, each of which the class docstring must describe.
DESCRIBED = ("case", "method", "status", "objective", "losses_kw", "lower_bound", "gap",
             "iterations", "solve_time_s", "solver", "buses", "branches", "switches",
             "generators", "open_branches", "min_voltage_pu", "max_voltage_pu", "ac_check",
             "base", "log", "timings", "diagnosis", "extra", "within_limits", "has_topology")


def test_the_class_docstring_describes_every_field() -> None:
    names = {f.name for f in dataclasses.fields(feederopt.Result)}
    assert set(DESCRIBED) <= names
    doc = feederopt.Result.__doc__ or ""
    missing = [n for n in DESCRIBED if f"``{n}``" not in doc]
    assert not missing, missing
    text = pydoc.render_doc(feederopt.Result, renderer=pydoc.plaintext)
    assert "kW-equivalent" in text and "nominal" in text and "null" in text


def test_log_rows_carry_iterations_within_the_count() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = feederopt.solve(feederopt.load("case33bw"), method="benders", time_limit=60,
                            ac_check=False)
    assert r.log, "a run with bounds has a log"
    assert all(0 <= row.iteration <= r.iterations for row in r.log)
    assert r.log[0].note == "start"
    # a row more than one per iteration is a step outside the loop, named by its note
    seen: set[int] = set()
    for row in r.log:
        assert row.iteration not in seen or row.note, row
        seen.add(row.iteration)

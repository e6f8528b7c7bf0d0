"""ut_core2 #3/#4 (presentation): when the AC check finds the SOCP relaxation not exact
(``ac_check.exact`` false), the headline's SOCP losses say so and give the AC losses beside
them, in the console and in the report; with an exact relaxation they stand alone. Only the
presentation: the status and verdict are untouched."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import feederopt
from feederopt.cli.solve import print_result
from feederopt.report.html import summary_section
from netbuild import tiny


@pytest.fixture(scope="module")
def result() -> Any:
    r = feederopt.solve(tiny(), time_limit=20)
    assert r.ac_check is not None and r.ac_check.converged and r.ac_check.exact
    return r


def _headline(r: Any, capsys: pytest.CaptureFixture[str]) -> str:
    print_result(r)
    out = capsys.readouterr().out
    return next(line for line in out.splitlines() if "losses (SOCP model)" in line)


def test_exact_headline_has_no_note(result: Any,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    line = _headline(result, capsys)
    assert f"{result.losses_kw:.3f} kW" in line and "not exact" not in line
    assert "not exact" not in summary_section(result.to_dict())


def test_inexact_headline_names_ac_losses(result: Any,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    ac = dataclasses.replace(result.ac_check, exact=False)
    inexact = dataclasses.replace(result, ac_check=ac)
    line = _headline(inexact, capsys)
    note = f"{result.losses_kw:.3f} kW (relaxation not exact: AC {ac.losses_kw:.3f} kW)"
    assert note in line
    assert note in summary_section(inexact.to_dict())
    assert inexact.status is result.status  # presentation only

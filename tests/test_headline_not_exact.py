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


def test_stochastic_expected_losses_note(capsys: pytest.CaptureFixture[str]) -> None:
    """The stochastic summary's expected losses (SOCP) name the nominal load's AC losses when
    the relaxation is not exact there, and stand alone when it is."""
    import polars as pl

    from feederopt.cli.scenarios import print_uncertain

    loads = tiny().loads
    rows = [{"scenario": s, "kind": "load", "element": lid, "p_mw": p * k, "q_mvar": q * k,
             "weight": 0.5}
            for s, k in (("s1", 0.8), ("s2", 1.2))
            for lid, p, q in zip(loads["id"], loads["p_mw"], loads["q_mvar"], strict=True)]
    r = feederopt.solve(tiny(), scenarios=pl.DataFrame(rows), time_limit=30, workers=1)
    assert r.ac_check is not None and r.ac_check.exact
    print_uncertain(r)
    line = next(x for x in capsys.readouterr().out.splitlines() if "expected losses" in x)
    assert "not exact" not in line
    inexact = dataclasses.replace(r, ac_check=dataclasses.replace(r.ac_check, exact=False))
    print_uncertain(inexact)
    out = " ".join(capsys.readouterr().out.split())
    assert (f"expected losses {r.uncertain.expected_losses_kw:.3f} kW (SOCP model; relaxation "
            f"not exact at the nominal load: AC {r.ac_check.losses_kw:.3f} kW there") in out

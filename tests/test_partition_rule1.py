"""Tie-break rule 1 at +-0 % (user test ut37_mixed, ``tests/data/partition_ring``): the
deterministic plan's set-points are the DERs' outputs at the nominal load, with no
re-dispatch there (``docs/partition-tiebreak.md``).

The ring loses its substation; G2 (b2, 400 kW, 480 kVA) and G4 (b4, 300 kW, 360 kVA) are
grid-forming at the default (equal) price, ``k_der = 1``. The plan serves blocks b1, b2, b4
(300 + 200 + 150 = 650 kW, 60 + 40 + 30 = 130 kvar) and sheds b3 (500 kW > 50 kW of spare
capacity). The independent truth is a hand calculation: with no re-dispatch at the nominal
load the set-points sum to the served load (the ring's lines carry 0 losses in the model at
1.0 p.u.: 650 kW, 130 kvar), and the least-norm split of equal-priced DERs is G4 at its
300 kW limit, G2 350 kW, and Q 65 / 65 kvar (both well inside their kVA). The default price
(docs/partition-settings.md, "DER costs") is c1 = floor_1(0.5 x 10,010 / K) = 5 $/kWh with
K = 400 + 300 + 1.001 (0.3 x 480 + 0.3 x 360) = 952.25 kW, so the objective is
650 x 5 + 10,010 (b3 shed: 1000 x (10 + 0.01)) = 13,260 $.

Before the fix Clarabel stopped the rule-1 QP at ``AlmostSolved`` (a duality gap of 1.5e-8
against its 1e-8), the code fell back to the least-norm point without rule 1 and said nothing:
649.946 kW and 0 kvar, 0.27 $ of re-dispatch at the nominal load.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from feederopt import partition
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.least_squares import StageOutcome, least_norm_point

DATA = Path(__file__).parent / "data" / "partition_ring"
KW = 1e-3  # [kW] what the QP's accuracy leaves (1e-8 p.u. on a 1 MVA base is 1e-5 kW)


def _run(**kw: object):  # type: ignore[no-untyped-def]
    return partition(str(DATA / "ring.dss"), settings=DATA / "settings.json",
                     voltage_feedback=False, time_limit_s=60, **kw)


def _per_der(res, key: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    out: dict[str, float] = {}
    for row in res.der_phases:
        out[row["der"]] = out.get(row["der"], 0.0) + row[key]
    return out


@pytest.mark.parametrize("method", ["cutting_plane", "extensive"])
def test_rule_one_set_points_are_the_nominal_served_load(method: str) -> None:
    res = _run(method=method)
    assert res.status == "optimal"
    assert res.closed_switches == ["sw12", "sw14"]
    assert res.served_load_kw == pytest.approx(650.0)
    p, q = _per_der(res, "p_kw"), _per_der(res, "q_kvar")
    assert sum(p.values()) == pytest.approx(650.0, abs=KW)  # was 649.946
    assert sum(q.values()) == pytest.approx(130.0, abs=KW)  # was 0
    assert p["Generator.g2"] == pytest.approx(350.0, abs=KW)
    assert p["Generator.g4"] == pytest.approx(300.0, abs=KW)
    assert q["Generator.g2"] == pytest.approx(65.0, abs=KW)
    assert q["Generator.g4"] == pytest.approx(65.0, abs=KW)
    assert res.redispatch_cost < 1e-3  # was 0.27 $
    assert res.objective == pytest.approx(650 * 5 + 10_010, abs=1e-3)
    assert not any("rule 1" in n for n in res.notes), res.notes


def test_rule_one_failure_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the rule-1 QP finds no point the plan says so, and why."""
    real = HighsModel.least_squares_stage

    def failing(self, fixed, objective_max, groups, **kw):  # type: ignore[no-untyped-def]
        if any(g.startswith("e0.op_") for g in fixed):
            return StageOutcome(None, "NumericalError", "Clarabel status NumericalError")
        return real(self, fixed, objective_max, groups, **kw)

    monkeypatch.setattr(HighsModel, "least_squares_stage", failing)
    res = _run()
    said = [n for n in res.notes if "rule 1" in n]
    assert len(said) == 1 and "NumericalError" in said[0], res.notes


def test_least_norm_point_with_fixed_columns() -> None:
    """min x1^2 + x2^2 s.t. x0 + x1 + x2 = 3, x0 = 1 (fixed by its bounds), x1 <= 0.5,
    and a row on x0 alone (1 <= x0 <= 2): by hand x1 = 0.5, x2 = 1.5."""
    a = sp.csr_matrix(np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]))
    big = 1e30
    out = least_norm_point(a, np.array([3.0, 1.0]), np.array([3.0, 2.0]),
                           np.array([1.0, -big, -big]), np.array([1.0, 0.5, big]),
                           np.array([1, 2]), big)
    assert out.status == "Solved" and out.x is not None
    assert out.x == pytest.approx([1.0, 0.5, 1.5], abs=1e-7)
    bad = least_norm_point(a, np.array([3.0, 1.5]), np.array([3.0, 2.0]),
                           np.array([1.0, -big, -big]), np.array([1.0, 0.5, big]),
                           np.array([1, 2]), big)
    assert bad.x is None and "row 1" in bad.reason

"""Published loss figures against a proven lower bound (the ``literature`` key of the JSON).

A figure below the proven lower bound of the losses is **unattainable** with the case's data:
the bound holds for every radial configuration, because the SOCP branch-flow model is a
relaxation of the AC power flow on a radial network (Farivar & Low, IEEE TPWRS 28(3), 2013),
so no configuration has AC losses below it. A figure at or above the losses of the configuration
found (checked by the AC power flow) is **attainable**. Anything in between is undecided at
the gap reached.

A published figure is rounded (:attr:`feederopt.cases.literature.Published.rounding_kw`, half a
unit of its last digit): the value it stands for may be up to that much larger, so it is
unattainable only when ``losses_kw + rounding_kw`` is below the bound, and attainable when the
configuration found has at most ``losses_kw + rounding_kw`` (280.19 kW printed, 280.193 kW
found: the same configuration, not an undecided or refuted figure).
"""

from __future__ import annotations

import math
from typing import Any

from feederopt.cases.literature import published, published_base


def classify(case: str, lower_bound_kw: float, found_kw: float) -> list[dict[str, Any]]:
    """One entry per published figure of ``case``: the figure, the verdict and the reason.

    ``lower_bound_kw`` is the proven lower bound (not finite: none, as of a heuristic or of a
    run stopped before its first bound), ``found_kw`` the AC losses of the configuration found
    (not finite: no topology found). The reason names what is missing ("no proven lower
    bound", "no topology found") instead of printing a non-finite number."""
    bound = math.isfinite(lower_bound_kw)
    found = math.isfinite(found_kw)
    out: list[dict[str, Any]] = []
    for pub in published(case):
        value = pub.losses_kw
        top = value + pub.rounding_kw  # the largest value the printed figure stands for
        if bound and top < lower_bound_kw * (1 - 1e-9):
            verdict = "unattainable"
            reason = (f"{value:.2f} kW is below the proven lower bound {lower_bound_kw:.3f} kW "
                      "of every radial configuration")
        elif found and value >= found_kw:
            verdict = "attainable"
            reason = (f"the configuration found has {found_kw:.3f} kW (AC), "
                      f"{value - found_kw:.3f} kW less")
        elif found and top >= found_kw:
            verdict = "attainable"
            reason = (f"the configuration found has {found_kw:.3f} kW (AC), which the figure "
                      f"rounds (± {pub.rounding_kw:g} kW)")
        else:
            verdict = "undecided"
            reason = _undecided_reason(lower_bound_kw if bound else None,
                                       found_kw if found else None)
        out.append({"source": pub.source, "losses_kw": value, "verdict": verdict,
                    "reason": reason, "lower_bound_kw": lower_bound_kw if bound else None,
                    "note": pub.note})
    return out


def _undecided_reason(lower_bound_kw: float | None, found_kw: float | None) -> str:
    """Why a figure is undecided: between the proven lower bound and the losses found, or
    which of the two the run has not got (None)."""
    if lower_bound_kw is not None and found_kw is not None:
        return (f"between the proven lower bound {lower_bound_kw:.3f} kW and the losses "
                f"found, {found_kw:.3f} kW")
    if lower_bound_kw is not None:
        return (f"at or above the proven lower bound {lower_bound_kw:.3f} kW; no topology "
                "found to compare it with")
    if found_kw is not None:
        return (f"below the losses found, {found_kw:.3f} kW, and no proven lower bound to "
                "rule it out")
    return "no proven lower bound and no topology found: nothing to compare it with"


def literature_title(entries: list[dict[str, Any]]) -> str:
    """The heading of the published figures' table: "against the proven lower bound" when the
    run proved one (an entry's ``lower_bound_kw``), else says that it has none (a heuristic
    such as lindistflow, or a run stopped before its first bound)."""
    if any(e.get("lower_bound_kw") is not None for e in entries if "kind" not in e):
        return "Published figures against the proven lower bound"
    return "Published figures (no proven lower bound in this run)"


def base_comparison(case: str, base: dict[str, Any]) -> list[dict[str, Any]]:
    """The published base case of ``case`` beside our AC power flow of it (``base``: the
    result's ``base`` dict with ``losses_kw``, ``min_voltage_pu``, ``min_voltage_bus``)."""
    entry = published_base(case)
    if entry is None or not base:
        return []
    pub, bus, v_min, cause = entry
    ours = float(base.get("losses_kw", math.nan))
    return [{"source": pub.source, "kind": "base_case", "losses_kw": pub.losses_kw,
             "ours_kw": ours, "difference_pct": (ours - pub.losses_kw) / pub.losses_kw * 100,
             "min_voltage_bus": bus, "min_voltage_pu": v_min,
             "ours_min_voltage_bus": str(base.get("min_voltage_bus")),
             "ours_min_voltage_pu": base.get("min_voltage_pu"),
             "verdict": "reproduced within "
             f"{abs(ours - pub.losses_kw) / pub.losses_kw * 100:.1f} %",
             "reason": cause}]

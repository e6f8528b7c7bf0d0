"""Published loss figures against a proven lower bound (the ``literature`` key of the JSON).

A figure below the proven lower bound of the losses is **unattainable** with the case's data:
the bound holds for every radial configuration, because the SOCP branch-flow model is a
relaxation of the AC power flow on a radial network (Farivar & Low, IEEE TPWRS 28(3), 2013),
so no configuration has AC losses below it. A figure at the losses of the configuration found
(checked by the AC power flow), within the figure's rounding, is **attainable**; a figure above
them by more than its rounding is **improved upon**: the configuration found has less, so the
published optimum is no optimum of these data (user test ut43_optima #4: Das 2006's 302.05 kW
for case70da read "attainable" beside the 301.645 kW proven optimal). Anything in between is
undecided at the gap reached.

A figure that the configuration found attains, when the run proved it optimal within its gap
(the AC losses found within that gap of the bound), is **confirmed**: the proven optimum (user
test ut47_optima #1); "attainable" is kept for an incumbent not proven optimal.

A published figure is rounded (:attr:`feederopt.cases.literature.Published.rounding_kw`, half a
unit of its last digit): the value it stands for may be up to that much larger, so it is
unattainable only when ``losses_kw + rounding_kw`` is below the bound, and attainable when the
configuration found has at most ``losses_kw + rounding_kw`` (280.19 kW printed, 280.193 kW
found: the same configuration, not an undecided or refuted figure). Only a configuration
within the limits attains a figure: the losses of the least-violating topology of a run that
found none within them are no comparison (the figures are optima within the case's limits).

The verdicts hold for the published problem only: the built-in case's own data (its
fingerprint, :func:`feederopt.cases.literature.own_fingerprint`), its own voltage band and
ratings, every switch free, losses alone in the objective. :func:`not_the_published_problem`
says what else a solve has (a hold, another band, edited data, a switching cost or a loss
price); the solve then sets no verdict on the figures (:func:`not_compared_note`). A bound
under a hold covers only the configurations with the held states, so "below the proven lower
bound of every radial configuration" would be false there (ut37: case84tpc with 92 held
closed, bound 472.669 kW, against Su & Lee's 469.88 kW, which the case attains).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from feederopt.cases.literature import own_fingerprint, published, published_base
from feederopt.network.perunit import PerUnitNetwork
from feederopt.options import SolveOptions
from feederopt.problems.holds import Held

#: The largest gap, ``(found - bound) / found``, that a run may leave for a published figure
#: its configuration attains to be "confirmed" as the optimum: solve's default ``--gap``
#: (:attr:`feederopt.options.Stop.gap`, 1e-4). A run at ``--gap 0.05`` that closes
#: 2.5 % leaves the optimum anywhere in those 2.5 %: the figure is "attainable" there.
CONFIRM_GAP = 1e-4


def classify(case: str, lower_bound_kw: float, found_kw: float,
             proven_gap: float | None = None) -> list[dict[str, Any]]:
    """One entry per published figure of ``case``: the figure, the verdict and the reason.

    ``lower_bound_kw`` is the proven lower bound (not finite: none, as of a heuristic or of a
    run stopped before its first bound), ``found_kw`` the AC losses of the configuration found
    within the limits (not finite: none found; the caller passes NaN for a topology that
    breaks a limit). The reason names what is missing ("no proven lower bound", "no topology
    within the limits found") instead of printing a non-finite number. Only for the
    published problem (:func:`not_the_published_problem` empty).

    ``proven_gap`` is the relative gap within which the run proved its answer optimal (status
    optimal; None: not proven, an incumbent). A figure that the configuration found attains
    (within the figure's rounding) is then **confirmed** as the proven optimum, provided the
    AC losses found lie within that gap of the proven bound, ``found - bound <= gap * found``
    (the optimum lies in ``[bound, found]``; user test ut47_optima #1: case33bw's 139.55 kW,
    proven at 139.544-139.551 kW, read only "attainable"). "attainable" stays the verdict of
    an unproven incumbent that attains the figure (the figure at or above the bound), and of
    a run proven optimal only within a looser gap than :data:`CONFIRM_GAP` (``--gap 0.05``:
    the bound 2.5 % below leaves the optimum anywhere in it; user test ut48_core #5, which
    read "confirmed ... within a gap of 5.00%" beside a gap row of 2.5 %). The reason quotes
    the gap the run closed, ``(found - bound) / found``, not the gap it was asked for."""
    bound = math.isfinite(lower_bound_kw)
    found = math.isfinite(found_kw)
    # the gap the run closed, ``(found - bound) / found``: the optimum lies within it
    closed = ((found_kw - lower_bound_kw) / max(abs(found_kw), 1e-9) if bound and found
              else math.inf)
    proven = (proven_gap is not None and closed <= min(max(proven_gap, 0.0), CONFIRM_GAP)
              + 1e-12)
    out: list[dict[str, Any]] = []
    for pub in published(case):
        value = pub.losses_kw
        top = value + pub.rounding_kw  # the largest value the printed figure stands for
        if bound and top < lower_bound_kw * (1 - 1e-9):
            verdict = "unattainable"
            reason = (f"{value:.2f} kW is below the proven lower bound {lower_bound_kw:.3f} kW "
                      "of every radial configuration")
        elif found and value - pub.rounding_kw > found_kw:
            # even the least value the figure stands for is above a configuration found
            # (AC-checked, within the limits): a published optimum that is none of these data
            verdict = "improved upon"
            reason = (f"the configuration found has {found_kw:.3f} kW (AC), "
                      f"{value - found_kw:.3f} kW ({(value - found_kw) / value * 100:.2f} %) "
                      "less: the figure is no optimum of these data"
                      + (f" (proven lower bound {lower_bound_kw:.3f} kW)" if bound else ""))
        elif found and top >= found_kw and proven:
            verdict = "confirmed"
            reason = (f"the proven optimum: the configuration found has {found_kw:.3f} kW (AC), "
                      f"which the figure rounds (± {pub.rounding_kw:g} kW), proven optimal "
                      f"within a gap of {closed:.4%} (lower bound {lower_bound_kw:.3f} kW)")
        elif found and top >= found_kw:
            verdict = "attainable"
            reason = (f"the configuration found has {found_kw:.3f} kW (AC), which the figure "
                      f"rounds (± {pub.rounding_kw:g} kW)"
                      + (f"; attained, not proven the optimum: the proven lower bound "
                         f"{lower_bound_kw:.3f} kW is {closed:.4%} below (a gap of at most "
                         f"{CONFIRM_GAP:.2%} confirms it)" if bound and math.isfinite(closed)
                         else ""))
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
                "within the limits found to compare it with")
    if found_kw is not None:
        return (f"below the losses found, {found_kw:.3f} kW, and no proven lower bound to "
                "rule it out")
    return ("no proven lower bound and no topology within the limits found: nothing to compare "
            "it with")


def literature_title(entries: list[dict[str, Any]]) -> str:
    """The heading of the published figures' table: "against the proven lower bound" when the
    run proved one (an entry's ``lower_bound_kw``), else says that it has none (a heuristic
    such as lindistflow, or a run stopped before its first bound)."""
    if any(e.get("lower_bound_kw") is not None for e in entries if "kind" not in e):
        return "Published figures against the proven lower bound"
    return "Published figures (no proven lower bound in this run)"


#: How close [%] our AC losses of a published base case must come to the figure for it to be
#: "reproduced": 0.1 %, the agreement of two AC power flows of the same data (a Newton-Raphson
#: to 1e-8 p.u. against a paper's solver and its printed digits), far below a difference of
#: data (case70da: 341.427 kW against Khodr et al.'s 337.45 kW, 1.2 %, user test ut47_optima
#: #2). The figure's own rounding (half a unit of its last digit) counts as well, when larger.
REPRODUCED_PCT = 0.1


def base_comparison(case: str, base: dict[str, Any]) -> list[dict[str, Any]]:
    """The published base case of ``case`` beside our AC power flow of it (``base``: the
    result's ``base`` dict with ``losses_kw``, ``min_voltage_pu``, ``min_voltage_bus``).

    "reproduced" when ``|ours - figure| <= max(REPRODUCED_PCT % of the figure, its
    rounding)`` (:data:`REPRODUCED_PCT`); otherwise "not reproduced: ours is d % higher
    (lower)", with the likely cause as the reason. The JSON entry's ``reproduced`` and
    ``tolerance_pct`` say the same."""
    entry = published_base(case)
    if entry is None or not base:
        return []
    pub, bus, v_min, cause = entry
    ours = float(base.get("losses_kw", math.nan))
    diff = ours - pub.losses_kw
    pct = diff / pub.losses_kw * 100
    tol_kw = max(REPRODUCED_PCT / 100 * pub.losses_kw, pub.rounding_kw)
    reproduced = bool(math.isfinite(ours) and abs(diff) <= tol_kw)
    if reproduced:
        verdict = f"reproduced: ours {ours:.3f} kW, within {REPRODUCED_PCT:g} %"
    elif math.isfinite(ours):
        verdict = (f"not reproduced: ours is {abs(pct):.1f} % {'higher' if diff > 0 else 'lower'}"
                   f" ({ours:.3f} kW; tolerance {REPRODUCED_PCT:g} %)")
    else:
        verdict = "not reproduced: no AC power flow of the base case"
    return [{"source": pub.source, "kind": "base_case", "losses_kw": pub.losses_kw,
             "ours_kw": ours, "difference_pct": pct,
             "min_voltage_bus": bus, "min_voltage_pu": v_min,
             "ours_min_voltage_bus": str(base.get("min_voltage_bus")),
             "ours_min_voltage_pu": base.get("min_voltage_pu"),
             "reproduced": reproduced, "tolerance_pct": REPRODUCED_PCT,
             "verdict": verdict, "reason": cause}]


#: How a limit that the options replace is named in :func:`not_the_published_problem`.
_LIMIT_WORDS = {"v_min_pu": "v_min {:g} p.u.", "v_max_pu": "v_max {:g} p.u.",
                "max_loading_percent": "ratings at {:g} %", "thermal_limits": "no ratings"}


def not_the_published_problem(case: str, given: PerUnitNetwork, solved: PerUnitNetwork,
                              held: Held, opts: SolveOptions) -> list[str]:
    """What makes a solve of ``case`` another problem than the one its published figures are
    about (empty: the same problem, whose figures :func:`classify` may judge).

    ``given`` is the per-unit model of the network as given (before the options), ``solved``
    the one solved (the options' limits and switching cost applied; the holds are ``held``).
    The published problem is the built-in case as shipped: its data equal
    (:meth:`~feederopt.network.perunit.PerUnitNetwork.fingerprint` against
    :func:`~feederopt.cases.literature.own_fingerprint`; a file or folder that keeps the name
    with other numbers differs), its own voltage band and ratings, every switch free (no
    hold), the losses alone in the objective (no switching cost, no loss price)."""
    own = own_fingerprint(case, given.s_base_mva)
    out: list[str] = []
    given_fp = given.fingerprint()
    if own is None:
        out.append(f"'{case}' is not feederopt's built-in case of that name")
    elif given_fp != own:
        out.append(f"the network's data differ from the built-in {case}'s (an edited copy, "
                   "or another network under its name)")
    solved_fp = solved.fingerprint()
    limits = opts.limits.to_dict()
    if limits and solved_fp != given_fp:
        out.append("the limits given replace the case's own (" + ", ".join(
            _LIMIT_WORDS[k].format(v) for k, v in limits.items()) + ")")
    for ids, state in ((held.closed, "closed"), (held.open, "open")):
        if ids:
            out.append(f"branch{'es' if len(ids) > 1 else ''} {', '.join(ids)} held {state}")
    if np.any(solved.switch_cost):
        out.append("switching costs in the objective (the figures are losses alone)")
    if opts.costs.loss_price_per_mwh:
        out.append("a loss price in the objective (the figures are losses alone)")
    if not out and solved_fp != own:
        out.append(f"the network as solved differs from the built-in {case}'s")
    return out


def not_compared_note(case: str, differences: list[str]) -> str:
    """The line that replaces the verdicts on the published figures of ``case`` when the solve
    is another problem (``differences``: :func:`not_the_published_problem`)."""
    return (f"the published figures of {case} are not compared: they are about the case as "
            "shipped (its data and limits, every switch free, losses alone), and this solve "
            f"differs: {'; '.join(differences)}")

"""Labels with units for the report's tables of a solve's ``timings``, ``engine_stats`` and a
distribution OPF's ``costs``, which printed result.json's keys (``build_s``, ``warm_cuts``,
``losses_per_h``, ``tap_changes_kw``) as they are (user test ut47_report #5).

:func:`labelled` maps each key to its label: a known key to :data:`LABELS`' words, any other
to its words with the unit its suffix names (:data:`SUFFIX_UNITS`: ``_s`` seconds, ``_kw``
kW, ``_per_h`` per hour at the loss price, ...), a key without a known suffix to its words and
"(count)", since the engine's other figures are counts. The key stays on the page as a
tooltip-free suffix ``(key)`` so that a reader finds it in result.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The suffixes of result.json's keys and the unit each names, longest first.
SUFFIX_UNITS = (("_per_mwh", "per MWh"), ("_per_h", "per h"), ("_percent", "%"),
                ("_kvar", "kvar"), ("_mvar", "Mvar"), ("_kw", "kW"), ("_mw", "MW"),
                ("_pu", "p.u."), ("_s", "s"))

#: Words for the keys the engines and the DOPF write (the unit follows from the suffix).
LABELS = {
    # timings [s]
    "build_s": "building the model",
    "master_s": "master MILP solves",
    "master_lp_s": "master LP relaxation rounds before the loop (Kelley's cuts)",
    "master_setup_s": "master set-up, stopped by the time limit before any search",
    "slave_s": "slave (SOCP) solves, summed",
    "slave_wall_s": "slave solves, wall-clock",
    "slave_in_tree_s": "slave solves inside the master's branch-and-bound",
    "relaxation_s": "root relaxation",
    "probe_s": "switch probing",
    "least_violating_s": "least-violating search",
    "least_violating_topology_s": "least-violating topology search",
    "candidates_completed_s": "completing the dropped candidate topologies",
    "ac_polish_s": "AC polish",
    # the steps outside the optimiser (user test ut51_bigrid #2)
    "startup_s": "start-up of the command (Python, imports)",
    "read_s": "reading the network",
    "base_case_s": "base case's AC power flow",
    "ac_check_s": "AC check of the answer",
    "ac_end_choice_s": "open ends chosen in AC",
    "ac_choice_s": "answer chosen in AC",
    "least_violating_ac_s": "least-violating topology chosen in AC",
    # plan's steps outside its solve (feederopt.plan)
    "measures_s": "expected-value plan and measures (WS, EEV)",
    "second_phase_s": "second phase (fewest switch changes, island set-points)",
    "write_s": "writing the outputs (but result.json's last write)",
    # engine counts and bounds
    "warm_cuts": "warm-start cuts",
    "probed": "switches probed",
    "fixed_closed": "switches fixed closed by probing",
    "loop_bound_kw": "lower bound of the loop branch-and-bound",
    "loop_solves": "loop branch-and-bound solves",
    "master_nodes": "master branch-and-bound nodes",
    "master_lp_iterations": "master LP iterations",
    "lazy_rows": "lazy constraint rows added",
    "tree_checks": "topologies checked inside the branch-and-bound",
    "enumerated_topologies": "radial topologies enumerated",
    # DOPF costs (per hour at the loss price)
    "loss_price_per_mwh": "loss price",
    "losses_kw": "losses (model)",
    "losses_per_h": "losses",
    "dg_per_h": "DG (energy and fixed)",
    "import_per_h": "import",
    "flexibility_per_h": "flexibility",
    "flexibility_mw": "flexibility used",
    "switching_kw": "switching cost",
    "switching_per_h": "switching",
    "tap_changes_kw": "tap changes",
    "tap_changes_per_h": "tap changes",
    "total_per_h": "total",
}


def label(key: str) -> str:
    """``key`` of result.json for a person: its words (:data:`LABELS`, else the key with
    spaces) and its unit in brackets (:data:`SUFFIX_UNITS`; "(count)" without a unit
    suffix), then the key itself: ``master MILP solves [s] (master_s)``."""
    unit = next((u for suffix, u in SUFFIX_UNITS if key.endswith(suffix)), None)
    words = LABELS.get(key)
    if words is None:
        stem = key
        for suffix, u in SUFFIX_UNITS:
            if u == unit and key.endswith(suffix):
                stem = key[: -len(suffix)]
                break
        words = stem.replace("_", " ")
    return f"{words} [{unit}] ({key})" if unit else f"{words} (count; {key})"


def labelled(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` keyed by :func:`label`, in their order."""
    return {label(str(k)): v for k, v in values.items()}

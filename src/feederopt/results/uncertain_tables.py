"""The per-scenario and per-extreme-point tables of a scenario or robust run's result folder.

``feederopt solve ... --scenarios FILE --out DIR`` writes ``scenarios.parquet`` and ``--robust X
--out DIR`` writes ``extreme_points.parquet`` beside ``buses.parquet`` and the others: one row
per scenario (per extreme point evaluated at the chosen topology) with the figures of the
console's table, the same numbers as ``result.json``'s ``scenarios`` (``robust``) rows, which
they are built from (:meth:`~feederopt.results.uncertain.StochasticSummary.to_dict`); no power
flow is run for them. Before (user test ut39_uncert #2) those rows were only in result.json
and report.html.

The columns are the JSON row's keys, each AC figure ``ac.X`` as ``ac_X``, with the unit in the
name (docs/columns.md, "Tables of a result folder"):

* ``scenario`` and ``weight`` (the normalised probability), or ``vertex`` and ``u`` (the signs
  of the uncertain loads' deviations, in ``robust_summary.uncertain_loads``' order);
* a scenario's ``source_bus`` and ``source_vm_pu``, two lists of one entry per source bus: its
  id, and the voltage [p.u.] the scenario holds it at (the JSON row's ``source_vm_pu``, a
  mapping bus id -> p.u.: the scenario's ``source`` row, else the network's set-point); null
  in a result written before they were recorded; an extreme point's, with a source band
  (``--source-vm-band``), the end of the band each source is held at there (null without
  a band);
* the SOCP model's ``objective_kw`` (a scenario's: losses plus the slack's penalty),
  ``losses_kw``, ``violation_pu`` (the total slack: 0 within the limits), ``min_voltage_pu``,
  ``max_voltage_pu``, ``feasible`` (no slack), ``relaxation_gap`` (the share of ``losses_kw``
  that the relaxation adds beyond the branch-flow equations,
  :func:`~feederopt.results.mapping.relaxation_gap`) and ``relaxation_exact``;
* pandapower's power flow of the chosen topology at those loads
  (:class:`~feederopt.validation.scenario_ac.ScenarioAc`): ``ac_converged``, ``ac_losses_kw``,
  ``ac_min_voltage_pu``, ``ac_min_voltage_bus``, ``ac_max_voltage_pu``,
  ``ac_max_loading_percent``, ``ac_max_loading_element``, ``ac_within_limits`` and
  ``ac_limits_broken`` (how many limits it breaks beyond the AC check's tolerance: the console's
  "n off"); null where no AC power flow ran (``--no-ac-check``, beyond the cap on AC power
  flows).

A three-phase scenario run (``feederopt solve FEEDER.dss --scenarios FILE --out DIR``) writes
``scenarios.parquet`` too, from result.json's ``scenarios.per_scenario`` (user defect tphscen:
only the JSON and the report had them): the row's keys as columns
(:data:`THREE_PHASE_SCENARIO_SCHEMA`): ``scenario``, ``weight``; with generator rows
``generation_mw``, ``generation_mvar`` (the model's units) and ``opendss_generation_mw``;
LinDist3Flow's ``loss_proxy_kw`` and voltage range; OpenDSS's solve of the base topology
(``opendss_base_losses_kw``, ``opendss_base_within_voltage_limits``,
``opendss_base_within_thermal_limits``) and of the answer (``opendss_converged``,
``opendss_losses_kw``, ``opendss_min_voltage_pu`` at ``opendss_min_voltage_node``,
``opendss_max_voltage_pu``, ``voltage_margin_pu``, ``within_voltage_limits``,
``within_thermal_limits``, ``passed``, ``within_limits``, ``unserved_load_kw``,
``max_voltage_diff_pu``, ``max_loading_percent`` of ``max_loading_element``, ``overloaded``),
and ``broken``, the console's "within" column as a list (``V``, ``rating``, ``unserved``:
:meth:`~feederopt.results.threephase.ScenarioSummary.broken_parts`; null where OpenDSS did
not check the answer). The first overloads of a row stay in result.json.

A value that does not exist is null, never NaN, as in every table feederopt writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from feederopt.results.threephase import ScenarioSummary

#: The file of each table, by the key of :func:`uncertain_tables`.
SCENARIOS_FILE = "scenarios.parquet"
EXTREME_POINTS_FILE = "extreme_points.parquet"

#: The SOCP model's columns, as the JSON row's keys.
MODEL_COLUMNS: dict[str, Any] = {
    "objective_kw": pl.Float64, "losses_kw": pl.Float64, "violation_pu": pl.Float64,
    "min_voltage_pu": pl.Float64, "max_voltage_pu": pl.Float64, "feasible": pl.Boolean,
    "relaxation_gap": pl.Float64, "relaxation_exact": pl.Boolean,
}

#: The AC power flow's columns: ``ac_X`` is the JSON row's ``ac.X`` (``ac_limits_broken``: the
#: number of its ``violations``).
AC_COLUMNS: dict[str, Any] = {
    "ac_converged": pl.Boolean, "ac_losses_kw": pl.Float64, "ac_min_voltage_pu": pl.Float64,
    "ac_min_voltage_bus": pl.String, "ac_max_voltage_pu": pl.Float64,
    "ac_max_loading_percent": pl.Float64, "ac_max_loading_element": pl.String,
    "ac_within_limits": pl.Boolean, "ac_limits_broken": pl.Int64,
}

SCENARIO_SCHEMA: dict[str, Any] = {"scenario": pl.String, "weight": pl.Float64,
                                   "source_bus": pl.List(pl.String),
                                   "source_vm_pu": pl.List(pl.Float64),
                                   **MODEL_COLUMNS, **AC_COLUMNS}
EXTREME_POINT_SCHEMA: dict[str, Any] = {"vertex": pl.Int64, "u": pl.List(pl.Int64),
                                        "source_bus": pl.List(pl.String),
                                        "source_vm_pu": pl.List(pl.Float64),
                                        **MODEL_COLUMNS, **AC_COLUMNS}


#: A three-phase scenario run's ``scenarios.parquet``: the keys of result.json's
#: ``scenarios.per_scenario`` rows (:func:`feederopt.api_threephase.
#: solve_three_phase_scenarios`), and ``broken`` (module docstring).
THREE_PHASE_SCENARIO_SCHEMA: dict[str, Any] = {
    "scenario": pl.String, "weight": pl.Float64,
    "generation_mw": pl.Float64, "generation_mvar": pl.Float64,
    "opendss_generation_mw": pl.Float64,
    "loss_proxy_kw": pl.Float64, "lindist3flow_min_voltage_pu": pl.Float64,
    "lindist3flow_max_voltage_pu": pl.Float64,
    "opendss_base_losses_kw": pl.Float64, "opendss_base_within_voltage_limits": pl.Boolean,
    "opendss_base_within_thermal_limits": pl.Boolean,
    "opendss_converged": pl.Boolean, "opendss_losses_kw": pl.Float64,
    "opendss_min_voltage_pu": pl.Float64, "opendss_min_voltage_node": pl.String,
    "opendss_max_voltage_pu": pl.Float64, "voltage_margin_pu": pl.Float64,
    "within_voltage_limits": pl.Boolean, "within_thermal_limits": pl.Boolean,
    "passed": pl.Boolean, "within_limits": pl.Boolean, "unserved_load_kw": pl.Float64,
    "max_voltage_diff_pu": pl.Float64, "max_loading_percent": pl.Float64,
    "max_loading_element": pl.String, "overloaded": pl.Int64,
    "broken": pl.List(pl.String),
}


def _row(row: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """One JSON row (a scenario's or an extreme point's) in the table's columns."""
    ac = row.get("ac") if isinstance(row.get("ac"), Mapping) else None
    out = {k: row.get(k) for k in keys}
    out.update({k: row.get(k) for k in MODEL_COLUMNS})
    for col in AC_COLUMNS:
        if ac is None:
            out[col] = None
        elif col == "ac_limits_broken":
            out[col] = len(ac.get("violations") or [])
        else:
            out[col] = ac.get(col.removeprefix("ac_"))
    return out


def scenario_table(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """``scenarios.parquet``: one row per scenario of result.json's ``scenarios``, in its
    order (module docstring)."""
    return pl.DataFrame([{**_row(r, ("scenario", "weight")), **_source_columns(r)}
                         for r in rows], schema=SCENARIO_SCHEMA)


def _source_columns(row: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario's (or an extreme point's) ``source_vm_pu`` (bus id -> p.u.) as the table's
    two list columns, ``source_bus`` and ``source_vm_pu``, in the mapping's order; null when
    not recorded."""
    held = row.get("source_vm_pu")
    if not isinstance(held, Mapping):
        return {"source_bus": None, "source_vm_pu": None}
    return {"source_bus": [str(b) for b in held],
            "source_vm_pu": [None if v is None else float(v) for v in held.values()]}


def extreme_point_table(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """``extreme_points.parquet``: one row per extreme point of result.json's ``robust``, in
    its order (module docstring)."""
    return pl.DataFrame([{**_row(r, ("vertex", "u")), **_source_columns(r)} for r in rows],
                        schema=EXTREME_POINT_SCHEMA)


def three_phase_scenario_table(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """A three-phase scenario run's ``scenarios.parquet``: one row per scenario of
    result.json's ``scenarios.per_scenario``, in its order (module docstring)."""
    keys = [k for k in THREE_PHASE_SCENARIO_SCHEMA if k != "broken"]
    return pl.DataFrame(
        [{**{k: r.get(k) for k in keys},
          "broken": ScenarioSummary.broken_parts(r)
          if r.get("within_voltage_limits") is not None else None} for r in rows],
        schema=THREE_PHASE_SCENARIO_SCHEMA)


def uncertain_tables(document: Mapping[str, Any]) -> dict[str, pl.DataFrame]:
    """The tables of a scenario or robust result (its JSON ``document``, or the part of it
    that :meth:`~feederopt.results.uncertain.StochasticSummary.to_dict` gives) by file name:
    :data:`SCENARIOS_FILE` when it has ``stochastic`` figures or is a three-phase scenario
    run's (``scenarios.per_scenario``), :data:`EXTREME_POINTS_FILE` when it has
    ``robust_summary``; empty for any other result."""
    out: dict[str, pl.DataFrame] = {}
    three_phase = document.get("scenarios")
    if isinstance(three_phase, Mapping) and isinstance(three_phase.get("per_scenario"), list):
        out[SCENARIOS_FILE] = three_phase_scenario_table(
            [r for r in three_phase["per_scenario"] if isinstance(r, Mapping)])
    if isinstance(document.get("stochastic"), Mapping):
        out[SCENARIOS_FILE] = scenario_table(
            [r for r in document.get("scenarios") or [] if isinstance(r, Mapping)])
    if isinstance(document.get("robust_summary"), Mapping):
        out[EXTREME_POINTS_FILE] = extreme_point_table(
            [r for r in document.get("robust") or [] if isinstance(r, Mapping)])
    return out

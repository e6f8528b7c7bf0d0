"""The result of a three-phase solve (:func:`feederopt.api_threephase.solve_three_phase`).

:class:`ThreePhaseResult` is a frozen dataclass: the answer's figures as typed attributes, and
:meth:`~ThreePhaseResult.to_dict` the JSON document that ``feederopt solve FILE.dss --json``
writes (the keys and their order as before this class: a document written by an earlier
version reads the same). The records that other modules build, OpenDSS's check
(:meth:`feederopt.validation.opendss.OpenDSSSolution.to_dict`), the voltage feedback, the AC
polish and the scenario summary, are kept as they were made and read through typed
properties (:class:`OpenDssCheck`, :class:`VoltageFeedback`, :class:`AcPolish`,
:class:`ScenarioSummary`), so that their JSON is theirs, unchanged.

The dict that earlier versions returned is still readable: ``result["open_switches"]``,
``result.get("ac_check")``, ``"ac_check" in result``, ``dict(result)`` and iterating over the
keys read :meth:`to_dict` (a fresh copy each time: changing it does not change the result).

This module imports neither ``io`` nor ``report`` (the results layer).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from feederopt._version import stamped


@dataclass(frozen=True)
class LimitSpread:
    """A limit that differs between the buses: its least and greatest value [p.u.]."""

    min: float
    max: float

    def to_dict(self) -> dict[str, float]:
        return {"min": self.min, "max": self.max}


def _limit(value: Any) -> float | LimitSpread:
    return LimitSpread(value["min"], value["max"]) if isinstance(value, Mapping) else value


def _limit_json(value: float | LimitSpread) -> float | dict[str, float]:
    return value.to_dict() if isinstance(value, LimitSpread) else value


@dataclass(frozen=True)
class VoltageLimits:
    """The voltage limits the solve held (the JSON's ``voltage_limits``): every bus's one
    value, or the spread of the buses' own; ``source`` (the JSON's ``from``) says whether
    the options (``--v-min``/``--v-max``) or the network gave them."""

    source: str
    v_min_pu: float | LimitSpread
    v_max_pu: float | LimitSpread

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.source, "v_min_pu": _limit_json(self.v_min_pu),
                "v_max_pu": _limit_json(self.v_max_pu)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VoltageLimits:
        return cls(str(data["from"]), _limit(data["v_min_pu"]), _limit(data["v_max_pu"]))


@dataclass(frozen=True)
class SwitchingAction:
    """A switch whose state differs from the base case: ``open`` a base-closed switch,
    ``close`` a base-open one."""

    switch: str
    action: Literal["open", "close"]

    def to_dict(self) -> dict[str, str]:
        return {"switch": self.switch, "action": self.action}


@dataclass(frozen=True)
class _Record:
    """A JSON record made elsewhere, kept as it was made, read through typed properties."""

    record: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(dict(self.record))

    def _opt_float(self, key: str) -> float | None:
        value = self.record.get(key)
        return None if value is None else float(value)


@dataclass(frozen=True)
class OpenDssCheck(_Record):
    """OpenDSS's power flow of the answer, the model's taps and capacitors held (the JSON's
    ``ac_check``: :meth:`~feederopt.validation.opendss.OpenDSSSolution.to_dict` with
    ``engine`` and ``warnings``)."""

    @property
    def converged(self) -> bool:
        return bool(self.record["converged"])

    @property
    def passed(self) -> bool:
        """Every load served (no load left without voltage)."""
        return bool(self.record["passed"])

    @property
    def within_voltage_limits(self) -> bool:
        return bool(self.record["within_voltage_limits"])

    @property
    def within_thermal_limits(self) -> bool:
        """No rated line or transformer above its rating in OpenDSS's currents (a record
        without the key, from before, counts as within)."""
        return bool(self.record.get("within_thermal_limits", True))

    @property
    def within_limits(self) -> bool:
        """Within the voltage limits and the ratings (the JSON's ``within_limits``; served
        load is :attr:`passed`)."""
        return self.within_voltage_limits and self.within_thermal_limits

    @property
    def voltage_note(self) -> str | None:
        """At which buses the voltages are phase voltages less the zero sequence
        (:meth:`~feederopt.validation.opendss.OpenDSSSolution.zero_sequence_note`); None
        when none is, or for a record from before the key."""
        note = self.record.get("voltage_note")
        return str(note) if note else None

    @property
    def loading(self) -> Mapping[str, Any]:
        """The largest loading, the limit and the overloads
        (:meth:`~feederopt.validation.opendss.OpenDSSSolution.loading_summary`)."""
        return self.record.get("loading") or {}

    @property
    def losses_kw(self) -> float | None:
        return self._opt_float("losses_kw")

    @property
    def load_kw(self) -> float | None:
        return self._opt_float("load_kw")

    @property
    def min_voltage_pu(self) -> dict[str, float]:
        """The lowest node voltage of each phase [p.u.]."""
        return dict(self.record["min_voltage_pu"])

    @property
    def max_voltage_pu(self) -> dict[str, float]:
        return dict(self.record["max_voltage_pu"])

    @property
    def unbalance_pct(self) -> float | None:
        return self._opt_float("unbalance_pct")

    @property
    def max_voltage_diff_pu(self) -> float | None:
        """``max |V_model - V_OpenDSS|`` over the nodes [p.u.]."""
        return self._opt_float("max_voltage_diff_pu")

    @property
    def dead_nodes(self) -> int:
        """How many nodes OpenDSS leaves de-energised."""
        return int(self.record["dead_nodes"])

    @property
    def unserved_load_kw(self) -> float:
        return float(self.record["unserved_load_kw"])

    @property
    def voltage_limits(self) -> Mapping[str, Any]:
        """Nodes below and above the limits and the worst
        (:meth:`~feederopt.validation.opendss.OpenDSSSolution.voltage_limit_summary`)."""
        return self.record["voltage_limits"]

    @property
    def with_controls(self) -> Mapping[str, Any] | None:
        """The same topology with OpenDSS's controls acting (for information)."""
        return self.record.get("with_controls")

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self.record.get("warnings") or ())


#: Why the answer is the base topology (the voltage feedback's ``base_kept_why``), in words
#: for the console and the report: the time limit ran out (the base the incumbent), or
#: OpenDSS, the truth check, puts the base below the model's answer (less loss, or the answer
#: breaks a limit that the base keeps).
BASE_KEPT_WORDS = {
    "time limit": "the base topology kept (time limit)",
    "opendss_losses": "the base topology kept (OpenDSS: less loss than the model's answer)",
    "opendss_limits": "the base topology kept (OpenDSS: the model's answer breaks a limit)",
}


def base_kept_words(result: Mapping[str, Any]) -> str:
    """What :data:`BASE_KEPT_WORDS` says for a result's JSON (``result``) whose ``base_kept``
    is set: its voltage feedback's ``base_kept_why``; ``"time limit"`` without one (the
    search's own incumbent, a time-limited run without the feedback)."""
    why = (result.get("voltage_feedback") or {}).get("base_kept_why")
    return BASE_KEPT_WORDS.get(str(why), BASE_KEPT_WORDS["time limit"])


#: What an ``optimal`` status proves (the JSON's ``optimal_for``, :func:`optimal_for`), in
#: words for the console's and the report's status row. The status enum means the same
#: everywhere (the search proved its optimum); what it is the optimum *of* differs by path:
#:
#: * ``opendss_enumeration``: every radial state (at most 64) was solved by OpenDSS and the
#:   answer has the least OpenDSS losses (plus switching cost) of those within every limit
#:   (:func:`feederopt.api_threephase_feedback.opendss_least_losses`, the voltage feedback's
#:   ``opendss_states`` with ``proven`` set): OpenDSS's own optimum over the radial states.
#: * ``lindist3flow_proxy``: the optimum of the model, the LinDist3Flow loss proxy
#:   ``sum_e sum_i r_i (p_i^2 + q_i^2)`` of lossless flows (the MILP; or the enumeration when
#:   OpenDSS did not rank the states: ``--no-voltage-feedback``, the time limit, scenarios).
#:   OpenDSS's losses can order the states otherwise: user test ut40_tphreal, Iowa 240 with
#:   two ties (more than 64 radial states, the MILP), answered cb_102, cb_204, cb_302, tie_a,
#:   tie_b at 45.962 kW by OpenDSS where cb_102, cb_301, cb_302, tie_a, tie_b has 45.828 kW
#:   within the same limits.
OPTIMAL_FOR = {
    "opendss_enumeration": "optimal over the {n} radial states by OpenDSS",
    "lindist3flow_proxy": "optimal for the LinDist3Flow loss proxy; OpenDSS's optimum not "
                          "proven",
}

#: The words of ``opendss_enumeration`` for a feeder of one radial state (no switchable line,
#: IEEE 37): nothing was chosen among states (user test ut47_docs #4: "optimal over the 1
#: radial states by OpenDSS").
ONLY_RADIAL_STATE = "optimal, the only radial state: nothing to switch (OpenDSS solved it)"


#: The head of :attr:`ThreePhaseResult.unrelieved_verdict` by :data:`OPTIMAL_FOR`'s key: what
#: the ``optimal`` status proves, as the status row says it (user test ut48_dss3 #4).
UNRELIEVED_HEAD = {
    "opendss_enumeration": "optimal among the radial states; ",
    "lindist3flow_proxy": "optimal for the LinDist3Flow loss proxy (OpenDSS did not rank the "
                          "radial states); ",
}


def optimal_for(status: str, voltage_feedback: Mapping[str, Any] | None) -> str | None:
    """The key of :data:`OPTIMAL_FOR` for a result's ``status`` and its voltage feedback's
    record: None unless the status is ``optimal``; ``opendss_enumeration`` when OpenDSS's
    ranking of every radial state proved it (``opendss_states.proven``); else
    ``lindist3flow_proxy``."""
    if status != "optimal":
        return None
    ranked = (voltage_feedback or {}).get("opendss_states") or {}
    return "opendss_enumeration" if ranked.get("proven") else "lindist3flow_proxy"


def status_words(result: Mapping[str, Any]) -> str:
    """The status as the console's and the report's status row say it: an ``optimal`` one
    with what it proves (:data:`OPTIMAL_FOR`: "optimal over the 46 radial states by OpenDSS",
    "optimal for the LinDist3Flow loss proxy; OpenDSS's optimum not proven"); any other as
    it is. A feeder of one radial state (no switchable line: IEEE 37) says
    :data:`ONLY_RADIAL_STATE` ("the only radial state: nothing to switch"), not "over the 1
    radial states" (user test ut47_docs #4); its JSON's ``status`` and ``optimal_for`` stay
    ``optimal`` and ``opendss_enumeration``. ``result`` is the JSON (a ``result.json``
    written before ``optimal_for`` existed gets it from its status and voltage feedback)."""
    status = str(result.get("status", "-"))
    key = (result["optimal_for"] if "optimal_for" in result
           else optimal_for(status, result.get("voltage_feedback")))
    if key not in OPTIMAL_FOR:
        return status
    n = ((result.get("voltage_feedback") or {}).get("opendss_states") or {}).get(
        "radial_states")
    if key == "opendss_enumeration" and n == 1:
        return ONLY_RADIAL_STATE
    words = OPTIMAL_FOR[key].format(n=n if n is not None else "all")
    if key == "lindist3flow_proxy" and result.get("scenarios"):
        words = words.replace("the LinDist3Flow loss proxy",
                              "the expected LinDist3Flow loss proxy over the scenarios")
    return words


#: The console's and the report's lower-bound row of an ``infeasible`` result: its bound is the
#: kept state's MILP's (limits shifted by the feedback, or ratings left out), which bounds no
#: topology within the limits, so neither it nor a gap is shown (user test ut37_tph2: "gap
#: 0.00 %" beside a state that breaks the limits).
INFEASIBLE_BOUND_WORDS = "- (status infeasible: no topology within the limits to bound; no gap)"

#: The row name's words for the switch states of an ``infeasible`` three-phase result
#: (:func:`feederopt.results.result.kept_state_label`).
KEPT_STATE = "kept state"


@dataclass(frozen=True)
class VoltageFeedback(_Record):
    """The voltage feedback's record (the JSON's ``voltage_feedback``): ``{"enabled": False}``
    when it did not run, else its iterations (the base row and each MILP's answer with
    OpenDSS's figures), why it stopped and the answer it kept."""

    @property
    def enabled(self) -> bool:
        return bool(self.record.get("enabled"))

    @property
    def iterations(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(self.record.get("iterations") or ())

    @property
    def stopped(self) -> str | None:
        return self.record.get("stopped")

    @property
    def kept_iteration(self) -> int | None:
        """The first answer row of the kept topology; None without OpenDSS's solutions of it,
        or when the base topology was kept."""
        return self.record.get("kept_iteration")

    @property
    def base_kept(self) -> bool:
        return bool(self.record.get("base_kept"))

    @property
    def base_kept_why(self) -> str | None:
        """``"time limit"``, ``"opendss_losses"`` or ``"opendss_limits"``
        (:data:`BASE_KEPT_WORDS`); None unless the feedback kept the base topology."""
        return self.record.get("base_kept_why")

    @property
    def within_voltage_limits(self) -> bool:
        """Some answer keeps the limits in OpenDSS (or the base topology was kept)."""
        return bool(self.record.get("within_voltage_limits"))

    @property
    def kept_within_thermal_limits(self) -> bool | None:
        """OpenDSS's ratings verdict of the kept answer (its row's
        ``within_thermal_limits``; the base row when the base topology was kept); None when
        the record has none (no OpenDSS solve of it, or a result written before the ratings
        were judged)."""
        rows = self.iterations
        k = 0 if self.base_kept else self.kept_iteration
        if not isinstance(k, int) or not 0 <= k < len(rows):
            return None
        value = rows[k].get("within_thermal_limits")
        return None if value is None else bool(value)


@dataclass(frozen=True)
class LeastOverloading(_Record):
    """How the least-overloading topology of an infeasible solve was chosen (the JSON's
    ``least_overloading``, :func:`feederopt.api_threephase_feedback.
    opendss_least_overloading`): ``ranked_by`` ``"OpenDSS"`` (every radial state solved by
    OpenDSS, the least largest loading of the elements that switching changes; or, when
    some states are within every limit in OpenDSS (``within_limits``), the one of them with
    the least OpenDSS losses, and the solve's status is ``feasible``) or ``"LinDist3Flow"``
    (the model's ranking stands; ``why``)."""

    @property
    def ranked_by(self) -> str:
        return str(self.record.get("ranked_by", "LinDist3Flow"))

    @property
    def why(self) -> str:
        return str(self.record.get("why") or "")

    @property
    def radial_states(self) -> int | None:
        return self.record.get("radial_states")

    @property
    def within_limits(self) -> bool:
        """OpenDSS puts the chosen state within every rating that switching changes and every
        voltage limit, with every load served (the solve's status is then ``feasible``)."""
        return bool(self.record.get("within_limits"))

    @property
    def chosen(self) -> tuple[str, ...]:
        """The open switches of the answer."""
        return tuple(self.record.get("chosen") or ())

    @property
    def lindist3flow_pick(self) -> tuple[str, ...]:
        """The open switches of the model's least-overloading topology."""
        return tuple(self.record.get("lindist3flow_pick") or ())

    @property
    def states(self) -> tuple[Mapping[str, Any], ...]:
        """Per radial state OpenDSS solved: ``open_switches``, ``opendss_max_loading_percent``
        and ``_element`` (of the elements that switching changes), ``candidate`` (converged,
        every load served, within the voltage limits, a LinDist3Flow flow),
        ``within_limits`` (a candidate within every rating that switching changes too),
        ``opendss_losses_kw`` and ``loss_proxy_kw`` (the model's, plus the switching
        cost)."""
        return tuple(self.record.get("states") or ())


@dataclass(frozen=True)
class AcPolish(_Record):
    """``--ac-polish``'s record (the JSON's ``ac_polish``): the branch exchanges made on
    OpenDSS's losses, or why it was skipped (``enabled`` False, ``skipped``)."""

    @property
    def enabled(self) -> bool:
        return bool(self.record.get("enabled"))

    @property
    def skipped(self) -> str | None:
        return self.record.get("skipped")

    @property
    def moves(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(self.record.get("moves") or ())

    @property
    def opendss_losses_before_kw(self) -> float | None:
        return self._opt_float("opendss_losses_before_kw")

    @property
    def opendss_losses_after_kw(self) -> float | None:
        return self._opt_float("opendss_losses_after_kw")

    @property
    def opendss_min_voltage_pu(self) -> float | None:
        return self._opt_float("opendss_min_voltage_pu")

    @property
    def opendss_max_voltage_pu(self) -> float | None:
        return self._opt_float("opendss_max_voltage_pu")

    @property
    def evaluations(self) -> int:
        return int(self.record.get("evaluations") or 0)

    @property
    def time_s(self) -> float:
        return float(self.record.get("time_s") or 0.0)

    @property
    def stopped(self) -> str | None:
        return self.record.get("stopped")

    @property
    def within_voltage_limits(self) -> bool:
        return bool(self.record.get("within_voltage_limits"))

    @property
    def passed(self) -> bool:
        return bool(self.record.get("passed"))


@dataclass(frozen=True)
class ScenarioSummary(_Record):
    """A solve with scenarios (the JSON's ``scenarios``): their names and weights, a row per
    scenario (``per_scenario``) and, with OpenDSS's check, the weighted losses and the worst
    scenarios."""

    @property
    def count(self) -> int:
        return int(self.record["count"])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.record["names"])

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(float(w) for w in self.record["weights"])

    @property
    def per_scenario(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(self.record["per_scenario"])

    @property
    def checked(self) -> bool:
        """Did OpenDSS solve the answer in every scenario (``passed`` and the others set)?"""
        return "passed" in self.record

    @property
    def passed(self) -> bool | None:
        return self.record.get("passed")

    @property
    def within_voltage_limits(self) -> bool | None:
        return self.record.get("within_voltage_limits")

    @property
    def within_thermal_limits(self) -> bool | None:
        """No rated line or transformer above its rating in any scenario (OpenDSS's currents;
        None: not checked, or a result written before the scenarios' ratings were judged)."""
        return self.record.get("within_thermal_limits")

    @property
    def worst_loading(self) -> str | None:
        return self.record.get("worst_loading")

    @property
    def expected_losses_kw(self) -> float | None:
        return self._opt_float("expected_losses_kw")

    @property
    def base_expected_losses_kw(self) -> float | None:
        return self._opt_float("base_expected_losses_kw")

    @property
    def worst_losses(self) -> str | None:
        return self.record.get("worst_losses")

    @property
    def worst_voltage(self) -> str | None:
        return self.record.get("worst_voltage")

    @property
    def units_at_snapshot_mw(self) -> dict[str, float]:
        """The in-service units that no scenario gives a generator row and that put out
        power: their snapshot output [MW], in every scenario's model."""
        return {str(k): float(v) for k, v in (self.record.get("units_at_snapshot_mw")
                                              or {}).items()}

    @staticmethod
    def broken_parts(row: Mapping[str, Any]) -> list[str]:
        """What OpenDSS's check of one scenario (a row of ``per_scenario``) finds broken:
        ``V`` (the voltage limits), ``rating`` (a line or transformer above its rating),
        ``unserved`` (load without voltage, or no convergence); empty when it keeps them all
        or was not checked. The console's "within" column and ``scenarios.parquet``'s
        ``broken`` (:mod:`feederopt.results.uncertain_tables`)."""
        out = []
        if row.get("within_voltage_limits") is False:
            out.append("V")
        if row.get("within_thermal_limits") is False:
            out.append("rating")
        if row.get("passed") is False:
            out.append("unserved")
        return out

    def der_words(self) -> str | None:
        """What the scenario table's DER columns sum (None without generator rows): the
        model's output of every in-service unit, the generator rows' and the others' snapshot
        output (named), and OpenDSS's output of the same units in its check. The console's
        "DER kW" read 1352.6 kW in every hour of IEEE 13 mod's daily shapes although the PV
        rows were 0 at night: Generator.675, which has no row, at its snapshot output (user
        test ut34_combo #4)."""
        rows = self.per_scenario
        if not any(r.get("generation_mw") is not None for r in rows):
            return None
        held = self.units_at_snapshot_mw
        text = ("DER kW: the in-service generating units' total output in the model, the "
                "scenario's generator rows"
                + (" and, without a row, a unit's snapshot output in every scenario ("
                   + ", ".join(f"{u} {1000 * p:.1f} kW" for u, p in held.items()) + ")"
                   if held else ""))
        if any(r.get("opendss_generation_mw") is not None for r in rows):
            text += ("; OpenDSS: the same units' output in OpenDSS's check"
                     + (", where a unit without a row runs on its own model (its output "
                        "following its voltage)" if held else ""))
        return text


@dataclass(frozen=True)
class ThreePhaseResult:
    """The answer of a three-phase solve (see
    :func:`feederopt.api_threephase.solve_three_phase` for what each figure is).

    ``status`` is the MILP's (``optimal``, ``time_limit``, ``infeasible``, ``error``);
    ``has_solution`` whether there is a topology (``open_switches``; ``reason`` says why not).
    The loss figures are kW of the LinDist3Flow loss proxy; ``ac_check`` is OpenDSS's power
    flow of the answer (None with ``ac_check=False``). ``scenarios`` is set for a solve with
    scenarios (then ``loss_proxy_source_kw`` and the ``lindist3flow_*_voltage_pu`` are not
    in the JSON, ``node_voltages_scenario`` names the scenario of ``node_voltages_pu``).
    ``grid`` is the feeder as the report draws it."""

    case: str
    method: str
    status: str
    has_solution: bool
    reason: str
    overloaded: tuple[str, ...]
    thermal_limits: bool
    max_loading_percent: float | None
    voltage_limits: VoltageLimits
    notes: tuple[str, ...]
    permanent_loops: tuple[tuple[str, ...], ...]
    open_switches: tuple[str, ...]
    base_open_switches: tuple[str, ...]
    changed_switches: tuple[str, ...]
    loss_proxy_kw: float | None
    milp_objective_kw: float | None
    lower_bound_kw: float | None
    lower_bound_source: str
    lower_bound_basis: str
    gap: float | None
    base_kept: bool
    solve_time_s: float
    milp_solves: int
    tangents_added: int
    search: str
    voltage_feedback: VoltageFeedback
    switch_cost_kw: float | None
    switching_actions: tuple[SwitchingAction, ...]
    switching_cost_kw: float | None
    grid: Mapping[str, Any] = field(default_factory=dict, repr=False)
    loss_proxy_source_kw: float | None = None
    lindist3flow_min_voltage_pu: float | None = None
    lindist3flow_max_voltage_pu: float | None = None
    ac_polish: AcPolish | None = None
    base_losses_kw: float | None = None
    base_unserved_load_kw: float | None = None
    #: OpenDSS's verdict on the user's own switch states (the base case) against the limits
    #: the answer is held to (:func:`feederopt.validation.base_case.opendss_base_case`:
    #: ``losses_kw``, ``min_voltage_pu`` at ``min_voltage_bus``, ``within_limits``,
    #: ``voltage_limits``, ``rating_limits``); a scenario run's over every scenario
    #: (:func:`~feederopt.validation.base_case.scenario_base_case`: the expected losses,
    #: each limit at its worst ``scenario``, ``per_scenario``); empty without OpenDSS's check.
    base: Mapping[str, Any] = field(default_factory=dict)
    ac_check: OpenDssCheck | None = None
    node_voltages_pu: Mapping[str, Mapping[str, float]] | None = field(default=None,
                                                                        repr=False)
    node_voltages_scenario: str | None = None
    scenarios: ScenarioSummary | None = None
    #: Rated elements that every radial topology overloads alike, by LinDist3Flow (no switch
    #: changes their flow: bridges of the feeder's graph; no switching relieves them),
    #: ``"id (loading % of its rating)"``: their ratings were left out of the search
    #: (:func:`feederopt.algorithms.threephase.fixed_overloads`).
    fixed_overloads: tuple[str, ...] = ()
    #: The same verdict by OpenDSS: the elements (OpenDSS's names, ``"Transformer.subxf"``,
    #: worst first) that OpenDSS's check (any scenario's, with scenarios) finds above their
    #: rating and whose flow no switch changes (the bridges of
    #: :func:`feederopt.algorithms.threephase.fixed_flow_elements`): no switching relieves
    #: them. The model may put them within their rating (then they are not in
    #: ``fixed_overloads``), or put an element there that OpenDSS finds within.
    opendss_fixed_overloads: tuple[str, ...] = ()
    #: How an infeasible solve's least-overloading topology was chosen (None otherwise).
    least_overloading: LeastOverloading | None = None
    #: The feeder file solved (absolute path; None for a built-in case or a network in
    #: memory): no output of the result replaces it (``report --out``, ``feederopt.save``).
    source: str | None = None
    #: The options the solve was given, as given (``time_limit_s``, ``gap``, ``ac_check``,
    #: ``ac_polish``, ``voltage_feedback``, ``feedback_iterations``, ``thermal_limits``,
    #: ``max_loading_percent``, ``v_min_pu``, ``v_max_pu``, ``switch_cost_kw``, a scenario
    #: file's ``scenarios_file`` and, from the command line, ``workers`` and ``ray_address``
    #: when given, as a balanced solve records them, though the solve runs in one process):
    #: ``feederopt report FILE.json`` repeats them in the command it hints (session 49's known
    #: list: a three-phase hint said only "add any other options").
    settings: Mapping[str, Any] = field(default_factory=dict)

    # ----- what the command line decides on ------------------------------------------
    @property
    def base_kept_words(self) -> str:
        """Why the answer is the base topology, in words (:data:`BASE_KEPT_WORDS`; for a
        result whose ``base_kept`` is set)."""
        return BASE_KEPT_WORDS.get(str(self.voltage_feedback.base_kept_why),
                                   BASE_KEPT_WORDS["time limit"])

    @property
    def optimal_for(self) -> str | None:
        """What an ``optimal`` status proves (the JSON's ``optimal_for``, :data:`OPTIMAL_FOR`):
        ``"opendss_enumeration"`` (OpenDSS's least losses over every radial state),
        ``"lindist3flow_proxy"`` (the model's loss proxy; OpenDSS's optimum not proven) or
        None (the status is not ``optimal``)."""
        return optimal_for(self.status, self.voltage_feedback.record)

    @property
    def status_words(self) -> str:
        """The status row's words (:func:`status_words`)."""
        return status_words({"status": self.status, "optimal_for": self.optimal_for,
                             "voltage_feedback": self.voltage_feedback.record,
                             "scenarios": self.scenarios is not None})

    @property
    def feedback_broken(self) -> bool:
        """Without OpenDSS's check, its other solve of the final answer (the AC polish's, else
        the voltage feedback's) breaks the voltage limits, leaves load unserved or loads a
        line or transformer above its rating (``within_thermal_limits`` of that solve, fixed
        overloads included: they are overloads, as OpenDSS's check counts them)."""
        if not self.has_solution or self.ac_check is not None:
            return False
        pol = self.ac_polish
        if pol is not None and pol.enabled:
            return not (pol.within_voltage_limits and pol.passed
                        and pol.record.get("within_thermal_limits", True) is not False)
        ranked = self.opendss_ranked
        if ranked is not None:  # OpenDSS's ranking solved the answer (within the limits
            return ranked.record.get("opendss_within_thermal_limits") is False  # but bridges)
        fb = self.voltage_feedback
        return fb.enabled and not (fb.within_voltage_limits
                                   and fb.kept_within_thermal_limits is not False)

    @property
    def opendss_ranked(self) -> LeastOverloading | None:
        """The record of OpenDSS's ranking of the radial states when its chosen state is a
        feasible answer (status ``feasible``: within every rating that switching changes and
        every voltage limit, every load served, where the model's ratings admit no topology);
        its OpenDSS solve then judges the answer without an AC check. Else None."""
        lo = self.least_overloading
        if self.status != "feasible" or lo is None or lo.ranked_by != "OpenDSS" \
                or not lo.record.get("within_limits"):
            return None
        return lo

    @property
    def scenarios_broken(self) -> bool:
        """OpenDSS's voltages break the limits, its currents load a line or transformer
        above its rating, or it leaves load unserved, in some scenario."""
        sc = self.scenarios
        return bool(self.has_solution and sc is not None and sc.checked
                    and not (sc.passed and sc.within_voltage_limits
                             and sc.within_thermal_limits is not False))

    @property
    def model_broken(self) -> bool:
        """No OpenDSS solve judged the answer (``--no-ac-check`` without the voltage feedback
        or the AC polish), and the model itself names elements above their rating whatever
        the switches (``fixed_overloads``)."""
        if not self.has_solution or self.ac_check is not None or self.scenarios is not None:
            return False
        pol, fb = self.ac_polish, self.voltage_feedback
        if (pol is not None and pol.enabled) or fb.enabled:
            return False
        return bool(self.fixed_overloads)

    @property
    def check_broken(self) -> bool:
        """OpenDSS's check of the answer does not pass, breaks the voltage limits or loads a
        line or transformer above its rating."""
        ac = self.ac_check
        return ac is not None and not (ac.passed and ac.within_voltage_limits
                                       and ac.within_thermal_limits)

    @property
    def within_limits(self) -> bool:
        """The answer keeps the limits as the exit code judges them (0 rather than 3 or 4): a
        topology, not a proven-infeasible grid's least-overloading one, and none of OpenDSS's
        check, the voltage feedback's or the polish's OpenDSS solve, the scenarios or the
        model's fixed overloads breaks a limit. The JSON's ``within_limits`` (user test ut_cli
        #7: ``status`` "optimal" with exit code 4 and no such field, unlike a balanced
        result)."""
        return (self.has_solution and self.status != "infeasible"
                and not (self.feedback_broken or self.scenarios_broken or self.check_broken
                         or self.model_broken))

    @property
    def ac_verdict(self) -> str | None:
        """OpenDSS's check's verdict on the answer beside the model's ``status``, worded as a
        balanced solve's (:func:`feederopt.results.result.ac_verdict`, the LinDist3Flow loss
        proxy as the model's losses): ``the AC power flow breaks 1 limit(s): the model's
        answer is no operating point within the limits`` when the check breaks a voltage limit
        or a rating; None when it keeps them, did not converge or did not run (a run with
        scenarios has no single check: its scenario rows judge each)."""
        from feederopt.results.result import ac_verdict

        return ac_verdict(self.ac_check.to_dict() if self.ac_check else None,
                          self.loss_proxy_kw)

    @property
    def unrelieved_verdict(self) -> str | None:
        """The console's AC verdict when the only limits OpenDSS's check breaks are ratings
        that no switch relieves (every overloaded element in ``opendss_fixed_overloads``: a
        bridge of the feeder's graph, its flow the same in every radial state; voltages within
        their limits, every load served): ``optimal among the radial states; the limits cannot
        hold in any state: Transformer.xfm1 104.8 % (no switch relieves it)``. User test
        ut46_dss3 #6: IEEE 13, 37 and Iowa 240 printed "optimal" beside "the model's answer is
        no operating point within the limits", which reads as a failure of the optimisation.
        None otherwise.

        The head says what the status row says (:attr:`optimal_for`, :data:`UNRELIEVED_HEAD`):
        "optimal among the radial states" only when OpenDSS ranked every radial state
        (``opendss_enumeration``); "optimal for the LinDist3Flow loss proxy (OpenDSS did not
        rank the radial states)" when the optimum is the model's (``lindist3flow_proxy``:
        the MILP, ``--no-voltage-feedback``, a ranking cut short by the time limit; user test
        ut48_dss3 #4, Iowa 240 at ``--time-limit 10`` said "optimal among the radial states"
        beside a note that the ranking stopped after 12 of 43 states); no head when the
        status is not ``optimal``."""
        ac = self.ac_check
        if ac is None:
            return None
        d = ac.to_dict()
        if (not d.get("converged") or d.get("within_limits") is not False
                or d.get("within_voltage_limits") is False or d.get("passed") is False):
            return None
        over = (d.get("loading") or {}).get("overloads") or []
        fixed = set(self.opendss_fixed_overloads)
        if not over or any(o.get("element") not in fixed for o in over):
            return None
        items = ", ".join(f"{o['element']} {float(o['loading_percent']):.1f} %" for o in over)
        head = UNRELIEVED_HEAD.get(str(self.optimal_for), "")
        return (f"{head}the limits cannot hold in any state: {items} (no switch relieves "
                f"{'it' if len(over) == 1 else 'them'})")

    def __repr__(self) -> str:
        from feederopt.results.result import figures_repr

        ac = self.ac_check
        return figures_repr("ThreePhaseResult", {
            "case": self.case, "method": self.method, "status": self.status,
            "has_solution": self.has_solution, "loss_proxy_kw": self.loss_proxy_kw,
            "lower_bound_kw": self.lower_bound_kw, "gap": self.gap,
            "open_switches": list(self.open_switches),
            "changed_switches": list(self.changed_switches),
            "ac_check.within_limits": None if ac is None else ac.within_limits,
            "ac_check.losses_kw": None if ac is None else ac.losses_kw,
            "solve_time_s": self.solve_time_s, "notes": len(self.notes)})

    @property
    def objective_kw(self) -> float | None:
        """The objective the ``gap`` is relative to [kW]: the answer's loss proxy
        ``loss_proxy_kw`` (weighted, with scenarios) plus its ``switching_cost_kw``
        (:func:`feederopt.api_threephase.bound_record`); None without an answer."""
        if self.loss_proxy_kw is None:
            return None
        return self.loss_proxy_kw + (self.switching_cost_kw or 0.0)

    @property
    def objective(self) -> float | None:
        """The JSON's ``objective`` (README, "The keys every result has"): :attr:`objective_kw`
        [kW], so that ``result.objective`` reads as on every result kind."""
        return self.objective_kw

    @property
    def lower_bound(self) -> float | None:
        """The JSON's ``lower_bound``: ``lower_bound_kw`` [kW] (None: no bound)."""
        return self.lower_bound_kw

    # ----- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``--json``): fresh lists and dicts, the keys in their order."""
        balanced = self.scenarios is None
        out: dict[str, Any] = {
            "case": self.case,
            "source": self.source,
            "method": self.method,
            "status": self.status,
            # what an optimal status proves: OpenDSS's optimum over every radial state, or
            # the LinDist3Flow loss proxy's (null unless optimal; OPTIMAL_FOR)
            "optimal_for": self.optimal_for,
            "has_solution": self.has_solution,
            "within_limits": self.within_limits,
            "reason": self.reason,
            "overloaded": list(self.overloaded),
            "fixed_overloads": list(self.fixed_overloads),
            "opendss_fixed_overloads": list(self.opendss_fixed_overloads),
        }
        if self.least_overloading is not None:
            out["least_overloading"] = self.least_overloading.to_dict()
        out.update({
            "thermal_limits": self.thermal_limits,
            "max_loading_percent": self.max_loading_percent,
            "voltage_limits": self.voltage_limits.to_dict(),
            "notes": list(self.notes),
            "permanent_loops": [list(p) for p in self.permanent_loops],
            "open_switches": list(self.open_switches),
            "base_open_switches": list(self.base_open_switches),
            "changed_switches": list(self.changed_switches),
            "loss_proxy_kw": self.loss_proxy_kw,
        })
        if balanced:
            out["loss_proxy_source_kw"] = self.loss_proxy_source_kw
        out.update({
            "milp_objective_kw": self.milp_objective_kw,
            "lower_bound_kw": self.lower_bound_kw,
            "lower_bound_source": self.lower_bound_source,
            "lower_bound_basis": self.lower_bound_basis,
            "gap": self.gap,
            # the keys every result kind has (README, "The keys every result has"): the
            # objective the gap is relative to (the loss proxy plus the switching cost, kW;
            # api_threephase.bound_record) and its bound, as lower_bound_kw
            "objective": self.objective,
            "lower_bound": self.lower_bound,
            "base_kept": self.base_kept,
            "solve_time_s": self.solve_time_s,
            "milp_solves": self.milp_solves,
            "tangents_added": self.tangents_added,
            "search": self.search,
        })
        if balanced:
            out["lindist3flow_min_voltage_pu"] = self.lindist3flow_min_voltage_pu
            out["lindist3flow_max_voltage_pu"] = self.lindist3flow_max_voltage_pu
        out.update({
            "voltage_feedback": self.voltage_feedback.to_dict(),
            "switch_cost_kw": self.switch_cost_kw,
            "switching_actions": [a.to_dict() for a in self.switching_actions],
            "switching_cost_kw": self.switching_cost_kw,
        })
        if balanced and self.ac_polish is not None:
            out["ac_polish"] = self.ac_polish.to_dict()
        if balanced and self.ac_check is not None:
            out["base_losses_kw"] = self.base_losses_kw
            out["base_unserved_load_kw"] = self.base_unserved_load_kw
            out["base"] = copy.deepcopy(dict(self.base))
            out["ac_check"] = self.ac_check.to_dict()
        if not balanced and self.base:
            # the base topology in every scenario (validation.base_case.scenario_base_case)
            out["base"] = copy.deepcopy(dict(self.base))
        if balanced:
            # the headline's verdict beside the status (the model's), as a balanced result's:
            # null when OpenDSS's check keeps the limits or did not run
            out["ac_verdict"] = self.ac_verdict
        if self.node_voltages_pu is not None:
            out["node_voltages_pu"] = {k: dict(v) for k, v in self.node_voltages_pu.items()}
        if self.node_voltages_scenario is not None:
            out["node_voltages_scenario"] = self.node_voltages_scenario
        if self.scenarios is not None:
            out["scenarios"] = self.scenarios.to_dict()
        if self.settings:
            out["settings"] = dict(self.settings)
        out["grid"] = copy.deepcopy(dict(self.grid))
        if not balanced and self.ac_polish is not None:
            out["ac_polish"] = self.ac_polish.to_dict()
        return stamped("three_phase_solve", out)

    def to_json(self, indent: int | None = 2) -> str:
        from feederopt.results.result import finite_json

        return json.dumps(finite_json(self.to_dict()), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ThreePhaseResult:
        """The result of a JSON document (:meth:`to_dict`'s, or a ``result.json``)."""
        def rec(kind: type[_Record], key: str) -> Any:
            return kind(data[key]) if data.get(key) is not None else None

        return cls(
            case=data["case"], source=data.get("source"), method=data["method"],
            status=data["status"],
            has_solution=bool(data["has_solution"]), reason=data.get("reason") or "",
            overloaded=tuple(data.get("overloaded") or ()),
            fixed_overloads=tuple(data.get("fixed_overloads") or ()),
            opendss_fixed_overloads=tuple(data.get("opendss_fixed_overloads") or ()),
            least_overloading=rec(LeastOverloading, "least_overloading"),
            thermal_limits=bool(data["thermal_limits"]),
            max_loading_percent=data.get("max_loading_percent"),
            voltage_limits=VoltageLimits.from_dict(data["voltage_limits"]),
            notes=tuple(data.get("notes") or ()),
            permanent_loops=tuple(tuple(p) for p in data.get("permanent_loops") or ()),
            open_switches=tuple(data["open_switches"]),
            base_open_switches=tuple(data["base_open_switches"]),
            changed_switches=tuple(data["changed_switches"]),
            loss_proxy_kw=data.get("loss_proxy_kw"),
            milp_objective_kw=data.get("milp_objective_kw"),
            lower_bound_kw=data.get("lower_bound_kw"),
            lower_bound_source=data.get("lower_bound_source", ""),
            lower_bound_basis=data.get("lower_bound_basis", ""),
            gap=data.get("gap"), base_kept=bool(data.get("base_kept")),
            solve_time_s=data["solve_time_s"], milp_solves=data["milp_solves"],
            tangents_added=data["tangents_added"], search=data.get("search", ""),
            voltage_feedback=VoltageFeedback(data.get("voltage_feedback")
                                             or {"enabled": False}),
            switch_cost_kw=data.get("switch_cost_kw"),
            switching_actions=tuple(SwitchingAction(a["switch"], a["action"])
                                    for a in data.get("switching_actions") or ()),
            switching_cost_kw=data.get("switching_cost_kw"),
            grid=data.get("grid") or {},
            loss_proxy_source_kw=data.get("loss_proxy_source_kw"),
            lindist3flow_min_voltage_pu=data.get("lindist3flow_min_voltage_pu"),
            lindist3flow_max_voltage_pu=data.get("lindist3flow_max_voltage_pu"),
            ac_polish=rec(AcPolish, "ac_polish"),
            base_losses_kw=data.get("base_losses_kw"),
            base_unserved_load_kw=data.get("base_unserved_load_kw"),
            base=data.get("base") or {},
            ac_check=rec(OpenDssCheck, "ac_check"),
            node_voltages_pu=data.get("node_voltages_pu"),
            node_voltages_scenario=data.get("node_voltages_scenario"),
            scenarios=rec(ScenarioSummary, "scenarios"),
            settings=dict(data.get("settings") or {}),
        )

    # ----- the dict of earlier versions -------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        """``result["key"]``: the JSON's value (as the dict that earlier versions returned)."""
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def keys(self) -> Iterator[str]:
        return iter(self.to_dict())

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter(self.to_dict().items())

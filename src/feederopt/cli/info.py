"""``feederopt info`` and ``feederopt cases``: what a network holds, and the built-in cases."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from feederopt import InputError, Problem, ProblemKind
from feederopt.cli.app import (
    JSON_OPT,
    SOURCE_ARG,
    TIES_OPT,
    VERBOSE_OPT,
    app,
    cli_command,
    fmt,
    num,
    progress_display,
    stderr,
    stdout,
    summary_table,
)

#: The device kinds of the DOPF and how ``info`` names them (singular, plural).
DEVICE_KINDS = {"capacitor": ("capacitor bank", "capacitor banks"),
                "reactor": ("switched reactor", "switched reactors"), "oltc": ("OLTC", "OLTCs"),
                "generator": ("committable generator", "committable generators"),
                "flexible_load": ("flexible load", "flexible loads")}


def unit_phases_text(unit: dict[str, Any]) -> str:
    """The phases cell of a generating unit in ``info``'s generators table: ``abc`` for a unit
    phase to ground on each phase (``conn`` wye), ``b-c (between phases)`` for a single-phase
    unit between two phases (``conn`` delta, OpenDSS's ``phases=1 bus1=x.2.3``), which
    ``bc`` alone showed as if it were two phase-to-ground halves."""
    phases = str(unit["phases"])
    if unit.get("conn") == "delta" and len(phases) == 2:
        return f"{phases[0]}-{phases[1]} (between phases)"
    if unit.get("conn") == "delta":
        return f"{phases} (delta)"
    return phases


#: The phases of ``info`` that its progress line names, in order (a large grid takes minutes
#: in them: ``simbench:1-MVLV-urban-all-0-sw`` about 2 min, user test ut49_bigrid #3).
INFO_PHASES = ("reading the network", "base-case AC power flow", "model fidelity",
               "limits and devices")


def network_info(source: Any, ties: str = "auto",
                 progress: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """The facts ``feederopt info`` prints: counts, the base-case AC power flow, problems;
    ``ties`` is ``--ties``, the tie rule of a pandapower file (refused for another one).
    ``progress`` (the api's progress callback, :func:`~feederopt.cli.app.progress_display`)
    is given a :class:`~feederopt.PhaseRecord` as each of :data:`INFO_PHASES` starts."""
    from feederopt import PhaseRecord, ac_power_flow, is_three_phase, tie_rule_problems
    from feederopt.cli.app import cli_load, flag_spelling

    started = time.perf_counter()

    def phase(name: str) -> None:
        if progress is not None:
            progress(PhaseRecord(name, 0, time.perf_counter() - started))

    if is_three_phase(source):  # an OpenDSS feeder: counts, OpenDSS's solution, LinDist3Flow
        from feederopt import three_phase_info

        refused = tie_rule_problems(ties, source)
        if refused:
            raise InputError(refused)
        phase("reading the feeder and OpenDSS's solution")
        return three_phase_info(source)
    refused = []
    phase(INFO_PHASES[0])
    try:
        net = cli_load(source, ties)
    except InputError as exc:
        # a pandapower net refused only for its negative loads (net-metered customers),
        # which pandapower runs: shown all the same, with the problem, exit 2 (ut43_ppgrid #7)
        shown = _with_negative_loads_as_injections(source, ties, exc.problems)
        if shown is None:
            raise
        net, refused = shown, list(exc.problems)
    summary = net.summary()
    for key in ("total_load_mw", "total_load_mvar", "load_nominal_mw", "load_nominal_mvar"):
        # no float noise such as 3.715000000000001 (the nameplate sums: three-phase only)
        if key in summary:
            summary[key] = round(summary[key], 9)
    from feederopt import base_case_unsupplied, model_fidelity

    phase(INFO_PHASES[1])
    ac = ac_power_flow(net)
    unsupplied = base_case_unsupplied(net)
    base_note = unsupplied.warning()
    phase(INFO_PHASES[2])
    fidelity = model_fidelity(net, ac=ac) if ac.converged else None
    phase(INFO_PHASES[3])
    notes = list(net.meta.get("warnings", []))
    if summary.get("base_case_loops"):
        # info said nothing of a meshed base case, solve did (user test ut48_iobad #9: a
        # misspelt normaly_open column closed every tie)
        notes.append(f"the base case is not radial: its closed branches form "
                     f"{summary['base_case_loops']} loop(s) ({summary['normally_open']} "
                     "branch(es) normally open); solve's answers are radial, and its base-case "
                     "losses are a meshed operating point's")
    model_warning = fidelity.warning(notes) if fidelity is not None else None
    from feederopt.api import device_list

    devices = device_list(net)
    from feederopt import limits_verdict, operating_limits

    # the base case's AC voltages and loadings against the band and ratings a solve holds
    # (ut_core2 #8: "problems: none" above a base case that already breaks the band; ut_sb #3:
    # a SimBench LV transformer at 316 % said nothing); the verdict that solve gives its base
    # case too
    verdict = limits_verdict(net, ac) if ac.converged else None
    band = verdict["voltage_limits"] if verdict is not None else None
    ratings = verdict["rating_limits"] if verdict is not None else None

    from feederopt.api import switchable_bridges

    return {
        **summary,
        # switchable branches that every radial configuration closes (opening one islands
        # load): solve fixes them, so "switchable 14" beside solve's one topology misled
        # (user test ut48_simb #2)
        "switchable_bridges": len(switchable_bridges(net)),
        # what `feederopt solve` may set (--controls caps,taps,dg,flex), by kind and one by one
        # (a switched reactor only where the network has one)
        "device_counts": {kind: n for kind in DEVICE_KINDS
                          if (n := sum(d["kind"] == kind for d in devices)) or kind != "reactor"},
        "devices": devices,
        # the generators that solve dispatches within their ranges at no cost (not DOPF
        # devices: "0 committable generators" read as none; user test ut45_mpsb #1), the
        # source of the ranges and the option that holds them
        "dispatchable_generators": _dispatchable(net),
        # what the optimisation holds: voltage band, branch and transformer ratings
        "limits": operating_limits(net),
        "source_format": net.meta.get("source_format"),
        "base_converged": ac.converged,
        "base_losses_kw": num(ac.losses_kw),
        "base_min_voltage_pu": num(ac.min_voltage_pu),
        "base_min_voltage_bus": ac.min_voltage_bus,
        "base_max_voltage_pu": num(ac.max_voltage_pu),
        "base_max_voltage_bus": ac.max_voltage_bus,
        "base_voltage_limits": band,
        "base_rating_limits": ratings,
        "base_message": ac.message,
        "base_failed": ac.failed,  # pandapower raised: no verdict on convergence
        "base_unsupplied": unsupplied.to_dict() if unsupplied.has_load else None,
        "model": fidelity.to_dict() if fidelity is not None else None,
        # the options they name as the command line takes them (--fixed-generation)
        "problems": [p.spelled(flag_spelling).to_dict()
                     for p in [*refused, *_solve_problems(net)]],
        "warnings": [str(p) for p in net.warnings()] + notes
        + ([model_warning] if model_warning else []) + ([base_note] if base_note else []),
    }


def _count_text(data: dict[str, Any], key: str) -> str:
    """A count of ``info``'s table; the switchable branches with how many of them are
    bridges (opening one islands load, so every radial configuration closes it: solve
    evaluates the one topology when all are)."""
    n = data[key]
    bridges = data.get("switchable_bridges") if key == "switchable" else None
    if not isinstance(bridges, int) or not bridges or not n:
        return str(n)
    if bridges >= n:
        return f"{n} (all bridges: opening any islands load)"
    return f"{n} ({bridges} of them bridges: opening one islands load)"


def _dispatchable(net: Any) -> dict[str, Any]:
    """``info``'s ``dispatchable_generators``: how many generators ``solve`` dispatches within
    their ranges (:func:`~feederopt.network.devices.dispatchable_generators`), their ids, where
    the ranges come from and the option that holds them at their set-points."""
    from feederopt.api import dispatch_ranges_text, dispatchable_generators

    ids = dispatchable_generators(net)
    return {"count": len(ids), "ids": list(ids),
            "ranges": dispatch_ranges_text(net) if ids else None,
            "held_by": "--fixed-generation" if ids else None}


def band_verdict_text(band: dict[str, Any]) -> str:
    """The base case's voltages against the band (``voltage_verdict``) in one line: ``within
    0.9000 - 1.1000 p.u.``; with buses in several bands each limit's range, as the solve's
    limits row gives it (``within each bus's band, 0.9000..0.9650 - 1.0550..1.1000 p.u.``);
    or the buses below and above their limits with the worst of each."""
    if band["within"]:
        lo, hi = band["v_min_pu"], band["v_max_pu"]
        lo_top = band.get("v_min_highest_pu", lo)
        hi_bottom = band.get("v_max_lowest_pu", hi)
        if lo_top == lo and hi_bottom == hi:
            return f"within {lo:.4f} - {hi:.4f} p.u."
        low = f"{lo:.4f}" if lo_top == lo else f"{lo:.4f}..{lo_top:.4f}"
        high = f"{hi:.4f}" if hi_bottom == hi else f"{hi_bottom:.4f}..{hi:.4f}"
        return f"within each bus's band, {low} - {high} p.u."
    parts = []
    for key, what, sign in (("below_v_min", "below v_min", "<"),
                            ("above_v_max", "above v_max", ">")):
        rows = band[key]
        if rows:
            w = rows[0]
            parts.append(f"{len(rows)} bus(es) {what} (worst bus {w['id']}: "
                         f"{w['value']:.4f} {sign} {w['rating']:.4f} p.u.)")
    return "breaks them: " + "; ".join(parts)


def rating_verdict_text(verdict: dict[str, Any]) -> str:
    """The base case's loadings against the ratings (``rating_verdict``) in one line: ``within
    (largest 52.53 % of its rating, trafo:0)``, or the branches over their rating with the
    worst; ``no branch rated`` when none is."""
    over = verdict["over_rating"]
    if over:
        w = over[0]
        return (f"breaks them: {len(over)} branch(es) over their rating (worst {w['id']}: "
                f"{w['value']:.4g} {w['unit']} on {w['rating']:.4g} {w['unit']}, "
                f"{w['loading_percent']:.1f} % of its rating" + (
                    f", limit {w['limit_percent']:g} %" if w.get("limit_percent") not in
                    (None, 100.0) else "") + ")")
    if verdict["max_loading_element"] is None:
        return "no branch rated"
    return (f"within (largest {verdict['max_loading_percent']:.2f} % of its rating, "
            f"{verdict['max_loading_element']})")


def _negative_load(p: Problem) -> bool:
    """The pandapower reader's refusal of a load with negative power (its ``p_mw`` or
    ``scaling``)."""
    return (p.kind is ProblemKind.BAD_LOAD and p.component == "loads"
            and "is negative" in p.message and p.field in ("p_mw", "scaling"))


def _with_negative_loads_as_injections(source: Any, ties: str,
                                       problems: Any) -> Any | None:
    """The network of the pandapower net ``source`` (a net or a ``.json`` file) with each
    load of negative power taken as an injection, an sgen of the opposite power, which
    pandapower's power flow runs alike (constant power either way): what ``info`` shows of a
    net that a solve refuses only for its negative loads (``problems``, all of them
    :func:`_negative_load`); None for any other refusal, or another source."""
    if not problems or not all(_negative_load(p) for p in problems):
        return None
    from feederopt.api import negative_loads_as_sgens
    from feederopt.cli.app import cli_load

    pnet = negative_loads_as_sgens(source)
    if pnet is None:
        return None
    try:
        net = cli_load(pnet, ties)
    except InputError:
        return None
    net.meta.setdefault("warnings", []).append(
        "the base case above takes each load of negative power as an injection (an sgen of "
        "the opposite power), as pandapower's power flow does; `feederopt solve` refuses "
        "the loads (see the problems)")
    return net


def _solve_problems(net: Any) -> list[Any]:
    """The problems that stop ``feederopt solve`` on ``net``: the validation problems and,
    when there are none, the set-up check of every solve (:func:`feederopt.api.decidable`:
    branches that cannot open forming a loop, ``not_radial``). ``info`` said "problems: none"
    for a fixed loop that ``solve`` then refused (ut_bad 6)."""
    from feederopt.api import decidable, dispatch_range_warnings

    problems = list(net.validate())
    if any(p.is_error for p in problems):
        return problems
    # a MATPOWER PG outside PMIN..PMAX runs (runpf's reading); a dispatch solve refuses it
    problems += dispatch_range_warnings(net)
    try:
        decidable(net)
    except InputError as exc:
        problems += list(exc.problems)
    return problems


def _g(x: float | None) -> str:
    """A limit for a person: up to 4 significant digits (``-`` when missing)."""
    return fmt(x, ".4g")


def _band_text(band: dict[str, Any]) -> str:
    """One voltage band and its buses: ``0.9 - 1.1 (33 buses)``, naming up to 5 of them when
    it is not the most common band; a bus held at its set-point as ``1 (source bus 0: its
    set-point)`` or ``1.02 (generator bus 2: its set-point)``."""
    text = f"{_g(band['v_min_pu'])} - {_g(band['v_max_pu'])}"
    ids = band.get("bus_ids")
    # held at its set-point: no band applies (limits.held_set_points)
    kind = "source" if band.get("source") else "generator" if band.get("generator") else None
    if kind:
        if not ids:
            return f"{_g(band['v_min_pu'])} (every bus a {kind}'s: its set-point)"
        shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
        return (f"{_g(band['v_min_pu'])} ({kind} bus {shown}: its set-point)" if len(ids) == 1
                else f"{_g(band['v_min_pu'])} ({len(ids)} {kind} buses: {shown}: their "
                "set-point)")
    if ids is None:
        return text + f" ({band['buses']} bus{'es' if band['buses'] != 1 else ''})"
    shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
    return text + (f" (bus {shown})" if len(ids) == 1 else f" ({len(ids)} buses: {shown})")


def _count(n: int, kind: str) -> str:
    """``1 line``, ``2 lines``, ``3 switches``."""
    return f"{n} {kind}" + ("" if n == 1 else "es" if kind.endswith("ch") else "s")


def _range_text(rating: dict[str, Any] | None, unit: str, of: int, what: str) -> str:
    """``how many of the ``of`` elements have the rating, its least and greatest``."""
    if not rating:
        return f"none of {of} {what}"
    lo, hi = rating["min"], rating["max"]
    span = f"{_g(lo)} {unit}" if lo == hi else f"{_g(lo)} - {_g(hi)} {unit}"
    return f"{rating['count']} of {of} {what}: {span}"


def limit_rows(limits: dict[str, Any]) -> list[tuple[str, str]]:
    """The summary rows of :func:`feederopt.network.limits.operating_limits` (or
    ``three_phase_limits``): the voltage band, the ratings and the transformers' ratings, the
    unit in each label; what ``solve`` holds unless ``--v-min``/``--v-max``,
    ``--max-loading`` or ``--no-thermal-limits`` say otherwise."""
    rows: list[tuple[str, str]] = []
    volt = limits["voltage"]
    bands = volt["bands"]
    if len(bands) == 1:
        text = _band_text(bands[0]).replace(f"({volt['buses']} buses)", "(every bus)")
    else:
        text = "; ".join(_band_text(b) for b in bands[:3]) + (
            f"; {len(bands) - 3} more band(s) (--json)" if len(bands) > 3 else "")
    three_phase = "line_ratings" in limits
    rows.append(("voltage band (phase) [p.u.]" if three_phase else "voltage band [p.u.]",
                 text))
    if three_phase:
        lines = limits["line_ratings"]
        rows.append(("line ratings i_max [A]",
                     _range_text(lines["i_max_a"], "A", lines["lines"], "lines and switches")
                     + " (held per phase at nominal voltage)"))
        trs = limits["transformers"]
        if trs:
            rated = limits.get("transformer_ratings")
            rows.append(("transformer ratings normhkva [kVA]",
                         _range_text(rated, "kVA", len(trs), "units")
                         + (" (held per phase; --max-loading scales them, "
                            "--no-thermal-limits drops them)" if rated else
                            " rated (normhkva=0): no transformer rating is held")))
        return rows
    br = limits["branch_ratings"]
    unrated = {k: v["branches"] - v["rated"] for k, v in br["by_kind"].items()
               if v["branches"] > v["rated"]}
    if br["rated"] == 0:
        rows.append(("branch ratings", f"none of {br['branches']} branches has i_max_ka or "
                     "s_max_mva: no thermal limit"))
    else:
        rows.append(("branch ratings", f"{br['rated']} of {br['branches']} branches rated"
                     + ("; unrated: " + ", ".join(_count(n, k) for k, n in unrated.items())
                        if unrated else "")))
        if br["i_max_ka"]:
            rows.append(("current rating i_max [kA]",
                         _range_text(br["i_max_ka"], "kA", br["branches"], "branches")))
        if br["s_max_mva"]:
            rows.append(("thermal rating s_max [MVA]",
                         _range_text(br["s_max_mva"], "MVA", br["branches"], "branches")))
    trs = limits["transformers"]
    if trs:
        mva = [t["rating_mva"] for t in trs if t["rating_mva"] is not None]
        rated = {"count": len(mva), "min": min(mva), "max": max(mva)} if mva else None
        rows.append(("transformer ratings [MVA]",
                     _range_text(rated, "MVA", len(trs), "transformers")))
    for src in limits.get("sources", []):
        parts = [f"P <= {_g(src['p_max_mw'])} MW" if src["p_max_mw"] is not None else "",
                 f"S <= {_g(src['s_max_mva'])} MVA" if src["s_max_mva"] is not None else ""]
        rows.append((f"source capacity (bus {src['bus']})", ", ".join(p for p in parts if p)))
    return rows


#: Most transformers ``info`` lists one by one (the JSON has them all).
MAX_TRANSFORMER_ROWS = 20


def transformer_table(limits: dict[str, Any]) -> Table:
    """The transformers' ratings one by one (a three-phase feeder's units: nameplate kVA, the
    normhkva held and its rated current at winding 1). A balanced network's transformer: its
    hv and lv sides (buses, kV: the rated winding voltages where the data gives them, a
    pandapower trafo's ``vn_hv_kv``/``vn_lv_kv``), the rated current at each side (a pandapower
    trafo's ``sn_mva / (sqrt(3) vn_hv_kv)`` and ``/ (sqrt(3) vn_lv_kv)``, times ``parallel`` and
    ``df``), s_max and the rating in MVA
    (:func:`feederopt.network.limits.operating_limits`). One "vn [kV]" column beside one
    "i_max [kA]" gave the current referred to the hv bus's kV: a 0.63 MVA 20/0.4 kV trafo on
    a 0.41 kV bus read 0.01864 kA and 0.6458 MVA."""
    trs = limits["transformers"]
    three_phase = "line_ratings" in limits
    rated_kv = any(t.get("vn_rated") for t in trs)
    title = ("transformers (held at normhkva per phase: --max-loading scales it, "
             "--no-thermal-limits drops it; kVA is the nameplate)" if three_phase else
             "transformers (kV: " + ("the rated winding voltages (a pandapower trafo's "
                                     "vn_hv_kv, vn_lv_kv)" if rated_kv else "the buses' vn_kv")
             + "; i_max: the rated current at that side, '-' at a star point; rating: the "
             "lesser of s_max and sqrt(3) x kV x i_max; s_max '(as i_max)': a rating held as "
             "a current, as a pandapower trafo's sn_mva)")
    table = Table(title=title, title_justify="left")
    table.add_column("id", no_wrap=True)
    cols = (["from bus", "to bus", "phases", "kV from", "kV to", "kVA", "normhkva [kVA]",
             "I rated [A]"] if three_phase
            else ["hv bus", "lv bus", "kV hv/lv", "i_max hv [kA]", "i_max lv [kA]",
                  "s_max [MVA]", "rating [MVA]"])
    for col in cols:
        table.add_column(escape(col), justify="left" if "bus" in col else "right",
                         overflow="fold")
    for t in trs[:MAX_TRANSFORMER_ROWS]:
        if three_phase:
            table.add_row(t["id"], t["from_bus"], t["to_bus"], str(t["n_phases"]),
                          _g(t["kv_from"]), _g(t["kv_to"]), _g(t["s_kva"]),
                          _g(t["s_norm_kva"]) if t["s_norm_kva"] else "unrated",
                          _g(t["i_norm_a"]))
        else:
            table.add_row(t["id"], t["hv_bus"], t["lv_bus"],
                          f"{_g(t['vn_hv_kv'])}/{_g(t['vn_lv_kv'])}", _g(t["i_max_hv_ka"]),
                          _g(t["i_max_lv_ka"]), _s_max_text(t), _g(t["rating_mva"]))
    if len(trs) > MAX_TRANSFORMER_ROWS:
        table.caption = f"{len(trs) - MAX_TRANSFORMER_ROWS} more in --json"
    return table


def _s_max_text(t: dict[str, Any]) -> str:
    """A transformer's apparent-power rating for the table: its ``s_max_mva``, or, when it
    has none and its rating is held as a current, that rating, ``S = sqrt(3) kV i_max`` at a
    side, marked ``(as i_max)``. A pandapower trafo's ``sn_mva`` is held so: its s_max read
    "-" next to a rating of 25 MVA, as if ``sn_mva`` had not been read (user test
    ut51_journey #3)."""
    s, rating = t["s_max_mva"], t["rating_mva"]
    if s is not None or rating is None:
        return _g(s)
    return f"{_g(rating)} (as i_max)"


@app.command()
@cli_command
def info(source: str = SOURCE_ARG, ties: str = TIES_OPT, json_output: bool = JSON_OPT,
         verbose: bool = VERBOSE_OPT) -> None:
    """Counts, a base-case AC power flow (pandapower; OpenDSS for a .dss file), the limits
    held and the validation problems of a network."""
    # a large grid takes minutes to read and run (ut49_bigrid #3: nothing for ~2 min): the
    # phase under way on solve's progress line, on stderr where it is a terminal (none on a
    # pipe or a log file, nor any stays: transient)
    with progress_display(f"info {source}") as progress:
        data = network_info(source, ties, progress=progress)
    if data["problems"] and data.get("source_format") == "opendss":
        raise InputError([Problem(ProblemKind(p["kind"]), p["component"], p["message"],
                                  tuple(p["ids"]), p["field"], p["hint"])
                          for p in data["problems"]])
    # a problem that stops a solve (a loop of branches that cannot open) exits with code 2, as
    # `feederopt solve` does, after the facts are shown
    stops = [p for p in data["problems"] if p.get("severity") != "warning"]
    if json_output:
        from feederopt.api import finite_json

        # strict JSON: an unbounded limit (q_min_mvar -inf) or a NaN is null
        typer.echo(json.dumps(finite_json(data), indent=2, allow_nan=False))
        if stops:
            raise typer.Exit(2)
        return
    out = stdout()
    table = summary_table(f"{data['name']}")
    for key in ("buses", "phases", "branches", "switchable", "normally_open", "sources",
                "loads"):
        if key in data:
            table.add_row(key.replace("_", " "), _count_text(data, key))
    table.add_row("generators", str(data["generators"]))
    if "device_counts" in data:
        counts = data["device_counts"]
        table.add_row("devices (DOPF)", ", ".join(
            f"{counts[k]} {DEVICE_KINDS[k][0 if counts[k] == 1 else 1]}" for k in DEVICE_KINDS
            if k in counts))
    dispatchable = data.get("dispatchable_generators")
    if dispatchable and dispatchable["count"]:
        ids = dispatchable["ids"]
        table.add_row("dispatchable generators", f"{len(ids)} ({', '.join(ids[:8])}"
                      f"{' ...' if len(ids) > 8 else ''}): solve dispatches them within "
                      f"{dispatchable['ranges']} at no cost unless --loss-price; "
                      "--fixed-generation holds them at their set-points")
    drawn = data.get("load_drawn_mw")
    # the nameplate sum: a load re-rated at its bus's voltage (model 1 outside its band,
    # ut50_recheck #4) holds its drawn kW in total_load_mw, its nameplate in load_nominal_mw
    nominal = data.get("load_nominal_mw", data["total_load_mw"])
    nominal_q = data.get("load_nominal_mvar", data["total_load_mvar"])
    if isinstance(drawn, int | float) and abs(drawn - nominal) > 5e-3 * max(abs(nominal), 1e-3):
        # a load rated at a kV far from its bus's draws another kW at 1 p.u. (ut50_dss3 #3:
        # "total load 4.5000 MW" beside a note that one 300 kW load draws 2696 kW)
        table.add_row(
            "total load (drawn at 1 p.u.)",
            f"{drawn:.4f} MW, {data['load_drawn_mvar']:.4f} MVAr as the model "
            f"draws it at 1 p.u. of the buses (OpenDSS's solve draws it at the buses' "
            f"voltages there); the loads' nominal kW and kvar sum to "
            f"{nominal:.4f} MW, {nominal_q:.4f} MVAr (a load rated at a kV "
            "far from its bus's: see the note)")
    else:
        table.add_row(
            "total load", f"{data['total_load_mw']:.4f} MW, {data['total_load_mvar']:.4f} MVAr"
        )
    if data["base_converged"]:
        table.add_row("base-case losses (AC)", f"{data['base_losses_kw']:.2f} kW")
        table.add_row(
            "base-case voltage (AC)",
            # a voltage that OpenDSS's solution does not give is null (no TypeError)
            f"{fmt(data['base_min_voltage_pu'], '.4f')} p.u. (bus "
            f"{data['base_min_voltage_bus'] or '-'}) - "
            f"{fmt(data['base_max_voltage_pu'], '.4f')} p.u."
            # the maximum's bus too (ut50_simb #3); a three-phase info has none
            + (f" (bus {data['base_max_voltage_bus']})"
               if data.get("base_max_voltage_bus") else ""),
        )
        if data.get("base_voltage_limits") is not None:
            table.add_row("base-case voltage vs limits (AC)",
                          band_verdict_text(data["base_voltage_limits"]))
        if data.get("base_rating_limits") is not None:
            table.add_row("base-case loading vs ratings (AC)",
                          escape(rating_verdict_text(data["base_rating_limits"])))
    else:
        what = "failed" if data.get("base_failed") else "did not converge"
        table.add_row("base-case AC power flow", f"{what} ({data['base_message']})")
    if data.get("base_unsupplied"):
        dead = data["base_unsupplied"]
        table.add_row("base-case unsupplied", f"{len(dead['buses'])} bus(es), "
                      f"{dead['load_mw']:.4f} MW (not in the losses; see the note)")
    if data.get("lindist3flow_max_voltage_error_pu") is not None:
        table.add_row("LinDist3Flow max |V - V_OpenDSS|",
                      f"{data['lindist3flow_max_voltage_error_pu']:.4f} p.u. "
                      f"({data['lindist3flow_max_voltage_error_node']})")
    limits = data.get("limits")
    if limits:  # what the optimisation holds, unless solve's options override it
        for what, value in limit_rows(limits):
            table.add_row(escape(what), escape(value))
    model = data.get("model")
    if model and model["measured"]:
        diff, dv = model["losses_diff_pct"], model["max_voltage_diff_pu"]
        table.add_row("base-case losses (model)",
                      f"{model['model_losses_kw']:.2f} kW ("
                      + (f"{diff:+.3f} %" if diff is not None else "-") + " vs AC, |dV| <= "
                      + (f"{dv:.1e}" if dv is not None else "-") + " p.u.)")
    elif model:
        table.add_row("base-case losses (model)", f"not measured ({model['message']})")
    out.print(table)
    if data.get("devices"):
        devs = Table(title="devices that `feederopt solve` sets (--controls caps,taps,dg,flex)",
                     title_justify="left")
        devs.add_column("id", no_wrap=True)
        for col in ("kind", "bus", "control", "range", "data's setting"):
            devs.add_column(col, overflow="fold")
        for d in data["devices"]:
            devs.add_row(str(d["id"]), str(d["kind"]), str(d["bus"]), str(d["control"]),
                         str(d["range"]), str(d["base"]))
        out.print(devs)
    if limits and limits.get("transformers"):
        out.print(transformer_table(limits))
    if data.get("generator_units"):  # three-phase: the ids that generator rows take
        units = Table(title="generators (scenario generator rows name them by id)",
                      title_justify="left")
        units.add_column("id", no_wrap=True)  # whole: it is what a row must give
        for col in ("kind", "bus", "phases", "kW", "kvar", "kVA", "in service"):
            units.add_column(col, justify="right" if col in ("kW", "kvar", "kVA") else "left",
                             overflow="fold")

        def kw(v: float | None) -> str:
            return fmt(round(v, 6) + 0.0 if v is not None else None, ".1f")  # no -0.0

        for g in data["generator_units"]:
            units.add_row(g["id"], g["kind"], g["bus"], unit_phases_text(g), kw(g["p_kw"]),
                          kw(g["q_kvar"]), kw(g["s_max_kva"]), "yes" if g["in_service"] else "no")
        out.print(units)
    errors = [p for p in data["problems"] if p.get("severity") != "warning"]
    if errors:
        out.print(f"[red]{len(errors)} problem(s)[/] that stop a solve:")
        for p in errors:
            out.print("  - " + str(Problem(ProblemKind(p["kind"]), p["component"], p["message"],
                                           tuple(p["ids"]), p["field"], p["hint"])),
                      markup=False)
    else:
        warned = len(data["problems"]) - len(errors)
        out.print("problems: none" + (f" that stop a solve; {warned} warning(s) below"
                                      if warned else ""))
    for key, text, broken, held in (
            ("base_voltage_limits", band_verdict_text, "breaks the voltage limits",
             "them (--v-min/--v-max change them)"),
            ("base_rating_limits", rating_verdict_text, "overloads branches",
             "their ratings (--max-loading/--no-thermal-limits change them)")):
        verdict = data.get(key)
        if verdict is not None and not verdict["within"]:
            out.print("[yellow]note:[/] ", end="")
            out.print(f"the base case already {broken} (AC): "
                      + text(verdict).removeprefix("breaks them: ")
                      + f"; `feederopt solve` holds every topology to {held}", markup=False)
    for note in data["warnings"]:
        out.print("[yellow]note:[/] ", end="")
        out.print(note, markup=False)
    for p in data["problems"]:  # warnings that are not the network's own (listed above)
        shown = str(Problem(ProblemKind(p["kind"]), p["component"], p["message"],
                            tuple(p["ids"]), p["field"], p["hint"]))
        listed = {w.removeprefix("warning: ") for w in data["warnings"]}
        if p.get("severity") == "warning" and shown.removeprefix("warning: ") not in listed:
            out.print("[yellow]warning:[/] ", end="")
            out.print(shown, markup=False)
    if data["base_converged"] and data["base_message"]:
        out.print(f"[yellow]note:[/] AC power flow {data['base_message']}")
    if stops:
        raise typer.Exit(2)




@app.command()
@cli_command
def cases(json_output: bool = JSON_OPT) -> None:
    """List the built-in cases with their buses, branches, ties and load."""
    from feederopt import list_cases

    # The counts are stored (feederopt.cases.catalog); a case whose packages' versions differ
    # from the stored ones is built (pandapower's grids about 1 s each): say so meanwhile.
    with stderr().status("loading the built-in cases to count their buses and load"):
        rows = list_cases()
    if json_output:
        payload = [
            {
                "name": c.name,
                "buses": c.buses,
                "branches": c.branches,
                "ties": c.ties,
                "switchable": c.switchable,
                "sources": c.sources,
                "load_mw": c.load_mw,
                "load_mvar": c.load_mvar,
                "origin": c.origin,
                "description": c.description,
            }
            for c in rows
        ]
        from feederopt.api import finite_json

        typer.echo(json.dumps(finite_json(payload), indent=2, allow_nan=False))
        return
    table = Table(title="Built-in cases", title_justify="left")
    # a name is typed on the command line: never cut (piped output is 80 columns wide);
    # the source wraps instead
    longest = max((len(c.name) for c in rows), default=14)
    for col in ("name", "buses", "branches", "ties", "load [MW]"):
        width = longest if col == "name" else len(col)
        table.add_column(col, justify="left" if col == "name" else "right", min_width=width,
                         no_wrap=True)
    table.add_column("data from", overflow="fold")
    for c in rows:
        m = re.search(r"\bfrom (.*)", c.description)
        where = m.group(1) if m else ""
        table.add_row(
            c.name,
            str(c.buses),
            str(c.branches),
            str(c.ties),
            f"{c.load_mw:.3f}",
            f"{where} ({c.origin})" if where else c.origin,
        )
    from feederopt.cli.app import keep_figures  # the source not squeezed out (ut47_cli #5)

    stdout().print(keep_figures(table, stdout()))
    stdout().print("Also any SimBench grid by its code, e.g. simbench:1-MV-rural--0-sw "
                   '(needs pip install "feederopt[simbench]")', highlight=False, markup=False)

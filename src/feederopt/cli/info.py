"""``feederopt info`` and ``feederopt cases``: what a network holds, and the built-in cases."""

from __future__ import annotations

import json
import re
from typing import Any

import typer
from rich.table import Table

from feederopt import InputError, Problem, ProblemKind
from feederopt.cli.app import (
    JSON_OPT,
    SOURCE_ARG,
    VERBOSE_OPT,
    app,
    cli_command,
    fmt,
    num,
    stderr,
    stdout,
    summary_table,
)

#: The device kinds of the DOPF and how ``info`` names them (singular, plural).
DEVICE_KINDS = {"capacitor": ("capacitor bank", "capacitor banks"), "oltc": ("OLTC", "OLTCs"),
                "generator": ("committable generator", "committable generators"),
                "flexible_load": ("flexible load", "flexible loads")}


def network_info(source: Any) -> dict[str, Any]:
    """The facts ``feederopt info`` prints: counts, the base-case AC power flow, problems."""
    from feederopt import ac_power_flow, is_three_phase, load

    if is_three_phase(source):  # an OpenDSS feeder: counts, OpenDSS's solution, LinDist3Flow
        from feederopt import three_phase_info

        return three_phase_info(source)
    net = load(source)
    summary = net.summary()
    for key in ("total_load_mw", "total_load_mvar"):  # no float noise such as 3.715000000000001
        summary[key] = round(summary[key], 9)
    from feederopt import base_case_unsupplied, model_fidelity

    ac = ac_power_flow(net)
    unsupplied = base_case_unsupplied(net)
    base_note = unsupplied.warning()
    fidelity = model_fidelity(net, ac=ac) if ac.converged else None
    notes = list(net.meta.get("warnings", []))
    model_warning = fidelity.warning(notes) if fidelity is not None else None
    from feederopt.api import device_list

    devices = device_list(net)
    return {
        **summary,
        # what `feederopt solve` may set (--controls caps,taps,dg,flex), by kind and one by one
        "device_counts": {kind: sum(d["kind"] == kind for d in devices)
                          for kind in DEVICE_KINDS},
        "devices": devices,
        "source_format": net.meta.get("source_format"),
        "base_converged": ac.converged,
        "base_losses_kw": num(ac.losses_kw),
        "base_min_voltage_pu": num(ac.min_voltage_pu),
        "base_min_voltage_bus": ac.min_voltage_bus,
        "base_max_voltage_pu": num(ac.max_voltage_pu),
        "base_message": ac.message,
        "base_failed": ac.failed,  # pandapower raised: no verdict on convergence
        "base_unsupplied": unsupplied.to_dict() if unsupplied.has_load else None,
        "model": fidelity.to_dict() if fidelity is not None else None,
        "problems": [p.to_dict() for p in net.validate()],
        "warnings": [str(p) for p in net.warnings()] + notes
        + ([model_warning] if model_warning else []) + ([base_note] if base_note else []),
    }


@app.command()
@cli_command
def info(source: str = SOURCE_ARG, json_output: bool = JSON_OPT,
         verbose: bool = VERBOSE_OPT) -> None:
    """Counts, a base-case AC power flow (pandapower) and the validation problems of a network."""
    data = network_info(source)
    if data["problems"] and data.get("source_format") == "opendss":
        raise InputError([Problem(ProblemKind(p["kind"]), p["component"], p["message"],
                                  tuple(p["ids"]), p["field"], p["hint"])
                          for p in data["problems"]])
    if json_output:
        typer.echo(json.dumps(data, indent=2))
        return
    out = stdout()
    table = summary_table(f"{data['name']}")
    for key in ("buses", "phases", "branches", "switchable", "normally_open", "sources",
                "loads"):
        if key in data:
            table.add_row(key.replace("_", " "), str(data[key]))
    table.add_row("generators", str(data["generators"]))
    if "device_counts" in data:
        counts = data["device_counts"]
        table.add_row("devices (DOPF)", ", ".join(
            f"{counts[k]} {DEVICE_KINDS[k][0 if counts[k] == 1 else 1]}" for k in DEVICE_KINDS))
    table.add_row(
        "total load", f"{data['total_load_mw']:.4f} MW, {data['total_load_mvar']:.4f} MVAr"
    )
    if data["base_converged"]:
        table.add_row("base-case losses (AC)", f"{data['base_losses_kw']:.2f} kW")
        table.add_row(
            "base-case voltage (AC)",
            f"{data['base_min_voltage_pu']:.4f} p.u. (bus {data['base_min_voltage_bus']}) - "
            f"{data['base_max_voltage_pu']:.4f} p.u.",
        )
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
            units.add_row(g["id"], g["kind"], g["bus"], g["phases"], kw(g["p_kw"]),
                          kw(g["q_kvar"]), kw(g["s_max_kva"]), "yes" if g["in_service"] else "no")
        out.print(units)
    errors = [p for p in data["problems"] if p.get("severity") != "warning"]
    if errors:
        out.print(f"[red]{len(errors)} problem(s)[/]")
    else:
        warned = len(data["problems"]) - len(errors)
        out.print("problems: none" + (f" that stop a solve; {warned} warning(s) below"
                                      if warned else ""))
    for note in data["warnings"]:
        out.print("[yellow]note:[/] ", end="")
        out.print(note, markup=False)
    if data["base_converged"] and data["base_message"]:
        out.print(f"[yellow]note:[/] AC power flow {data['base_message']}")




@app.command()
@cli_command
def cases(json_output: bool = JSON_OPT) -> None:
    """List the built-in cases with their buses, branches, ties and load."""
    from feederopt import list_cases

    # Loading every case (pandapower's grids are built anew) takes ~10 s: say so meanwhile.
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
        typer.echo(json.dumps(payload, indent=2))
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
    stdout().print(table)
    stdout().print("Also any SimBench grid by its code, e.g. simbench:1-MV-rural--0-sw "
                   '(needs pip install "feederopt[simbench]")', highlight=False, markup=False)

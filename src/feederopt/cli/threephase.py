"""``feederopt solve FILE.dss``: the three-phase path of the solve command."""

from __future__ import annotations

import json
from typing import Any

from feederopt import InputError, Problem, ProblemKind, write_text
from feederopt.cli.app import fmt, stdout, summary_table


def unsupported_problem(unsupported: list[str]) -> Problem:
    """The options a three-phase solve does not have, as one typed problem."""
    return Problem(
        ProblemKind.INVALID_VALUE, "options",
        f"{', '.join(unsupported)} not available for three-phase feeders yet",
        tuple(unsupported), hint="three-phase solve: LinDist3Flow MILP; use --json FILE, "
        "--time-limit, --gap, --no-ac-check")


def solve_three_phase_command(source: Any, *, time_limit: float, gap: float,
                              json_file: str | None, ac_check: bool, quiet: bool,
                              force: bool = False, unsupported: list[str] | None = None) -> None:
    """Solve, print a summary and the OpenDSS check, write ``json_file``. Options that the
    three-phase path does not have (``unsupported``) are typed problems, not ignored."""
    from feederopt import solve_three_phase

    if unsupported:
        raise InputError([unsupported_problem(unsupported)])

    data = solve_three_phase(source, time_limit_s=time_limit, gap=gap, ac_check=ac_check)
    if json_file is not None:
        write_text(json_file, json.dumps(data, indent=2) + "\n", force=force)
    if quiet:
        return
    out = stdout()
    table = summary_table(f"{data['case']}: three-phase, {data['method']}")
    table.add_row("status", data["status"])
    table.add_row("open switches", ", ".join(data["open_switches"]) or "-")
    table.add_row("changed switches", ", ".join(data["changed_switches"]) or "-")
    table.add_row("loss proxy (LinDist3Flow)", fmt(data["loss_proxy_kw"], ".3f", " kW"))
    table.add_row("time", fmt(data["solve_time_s"], ".2f", " s"))
    if "base_losses_kw" in data:
        table.add_row("base case losses (OpenDSS)", fmt(data["base_losses_kw"], ".3f", " kW"))
    out.print(table)
    ac = data.get("ac_check")
    if ac:
        acs = summary_table("AC check (OpenDSS)")
        acs.add_row("converged", str(ac["converged"]))
        acs.add_row("losses", fmt(ac["losses_kw"], ".3f", " kW"))
        for ph in sorted(ac["min_voltage_pu"]):
            acs.add_row(f"voltage phase {ph}", f"{fmt(ac['min_voltage_pu'][ph], '.4f')} - "
                        f"{fmt(ac['max_voltage_pu'][ph], '.4f')} p.u.")
        acs.add_row("unbalance (max)", fmt(ac["unbalance_pct"], ".2f", " %"))
        acs.add_row("max |V_model - V_OpenDSS|", fmt(ac["max_voltage_diff_pu"], ".4f", " p.u."))
        out.print(acs)

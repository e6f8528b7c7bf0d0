"""The SimBench sweep (user test ut_sb): ``info``, the model's fidelity, ``solve`` and an
independent ``pandapower.runpp`` of each result, for every SimBench LV and MV code with switches.

    python benchmarks/simbench_sweep.py                          # every code, 120 s limits
    python benchmarks/simbench_sweep.py --codes '1-LV-*--0-sw' 1-MV-rural--1-sw --out /tmp/sb
    python benchmarks/simbench_sweep.py --codes MV-rural --no-solve   # info + fidelity only

The default codes are those of ``simbench.collect_all_simbench_codes()`` with ``-LV-`` or
``-MV-`` that end in ``-sw`` (scenario 0 first, MV before LV), then two combined MV+LV grids
(``1-MVLV-rural-1.108-0-sw``, ``1-MVLV-comm-5.401-0-sw``). ``--codes`` takes exact codes (any
SimBench code), globs (``'1-LV-*--0-sw'``) or substrings (``MV-rural``); globs and substrings
select from the default codes.

Per code, one after the other:

1. ``python -m feederopt info simbench:CODE --json`` (the ``feederopt`` command): exit code,
   wall time, counts (buses, switchable branches, normally open ones);
2. fidelity, in this process: ``feederopt.model_fidelity`` of ``feederopt.load(net)`` (the
   model's exact power flow of the base case: the radial sweep, the bus-injection flow where
   the base case is meshed): the relative error of its losses against ``pandapower.runpp``
   of a fresh SimBench net (lines, transformers, three-winding transformers, impedance
   elements and impedance switches), and the largest |dV| over the buses that
   ``model_fidelity`` reports (against ``runpp`` of a copy of the net it was given; the
   model's voltages per bus are not public API). Its AC losses must be the fresh net's;
   the same as tests/test_pandapower_fidelity.py's ``_model_base_case`` compares;
3. ``python -m feederopt solve simbench:CODE --time-limit T --out DIR --json F``: exit code,
   wall time of the whole process, and from ``F`` status, gap, lower bound, solve time, the
   SOCP's and the AC check's losses and voltages;
4. independently of feederopt: a fresh SimBench net with the switch states of ``DIR``'s
   ``switches.parquet`` applied (each changed row: a line or trafo gets all its pandapower
   switches closed, then, when the result opens it, the switches its ``operated_by`` names
   opened; a line without switches its ``in_service``; a bus-bus switch ``switch:K`` directly),
   ``pp.runpp``: its losses, min/max |V| (the difference to the AC check's min/max), loops
   (``pandapower.topology.create_nxgraph``, a three-winding transformer as a star, not a
   triangle: its cycle basis and parallel branches) and buses
   without supply (``pandapower.topology.unsupplied_buses`` and NaN voltages).

Every step catches its own failure and writes it in the row's ``problems`` (a traceback in a
CLI's output counts as one): one code never stops the sweep, and a missing result gives ``-``
cells. After every code the parent rewrites ``results_simbench_sweep.json`` and
``RESULTS_simbench_sweep.md`` in ``--out`` (default: this folder); the CLI's outputs and logs
go to ``--out``/logs/simbench_sweep/.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import fnmatch
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from run import seconds  # benchmarks/run.py, next to this file

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: The combined MV+LV grids of the sweep (``1-MVLV-rural-all-0-sw``, 5479 buses, is left out).
MVLV_CODES = ("1-MVLV-rural-1.108-0-sw", "1-MVLV-comm-5.401-0-sw")
#: The tolerances of tests/test_pandapower_fidelity.py: losses (relative) and voltages [p.u.].
LOSSES_REL = 1e-3
VOLTAGE_ABS = 1e-4
#: What "the AC check equals the independent runpp" allows: losses (relative), |V| [p.u.].
SAME_LOSSES_REL = 1e-6
SAME_VOLTAGE_PU = 1e-6
#: The parent kills an ``info`` that runs longer than this [s], a ``solve`` after
#: 1.5 x its time limit plus this.
GRACE_S = 300.0


def simbench_module() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import simbench

    return simbench


def default_codes() -> list[str]:
    """Every LV and MV code with switches, scenario 0 first and MV before LV, then the two
    MV+LV grids."""
    codes = [str(c) for c in simbench_module().collect_all_simbench_codes()]
    mine = [c for c in codes if ("-LV-" in c or "-MV-" in c) and c.endswith("-sw")]

    def key(code: str) -> tuple[str, int, str]:
        return (code.split("-")[-2], 0 if "-MV-" in code else 1, code)

    return sorted(mine, key=key) + list(MVLV_CODES)


def select_codes(patterns: list[str] | None) -> list[str]:
    """The default codes, or those that ``patterns`` name: an exact SimBench code (any), a glob
    or a substring of default codes. A pattern that matches nothing is taken as a code (its row
    records the failure)."""
    defaults = default_codes()
    if not patterns:
        return defaults
    known = {str(c) for c in simbench_module().collect_all_simbench_codes()}
    picked: list[str] = []
    for pat in patterns:
        if pat in known or pat in defaults:
            hits = [pat]
        elif any(ch in pat for ch in "*?["):
            hits = [c for c in defaults if fnmatch.fnmatchcase(c, pat)]
        else:
            hits = [c for c in defaults if pat in c]
        if not hits:
            print(f"warning: {pat!r} matches no code; running it as a code", flush=True)
            hits = [pat]
        picked += [c for c in hits if c not in picked]
    order = {c: k for k, c in enumerate(defaults)}
    return sorted(picked, key=lambda c: order.get(c, len(order) + picked.index(c)))


def fresh_net(code: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simbench_module().get_simbench_net(code)


def runpp(net: Any) -> None:
    import pandapower as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)


def pp_losses_kw(net: Any) -> float:
    """Losses of a net after ``runpp`` [kW]: lines, transformers (iron losses included),
    three-winding transformers, impedance elements, and impedance bus-bus switches (the flows
    at their two ends; zero for an ideal switch)."""
    sw = net.res_switch
    switches = float((sw.p_from_mw + sw.p_to_mw).sum()) if len(sw) else 0.0
    more = sum(float(net[f"res_{t}"].pl_mw.sum()) for t in ("trafo3w", "impedance")
               if len(net[t]))
    return float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum() + switches + more) * 1e3


def run_cli(args: list[str], log: Path, timeout_s: float) -> dict[str, Any]:
    """Run ``python -m feederopt ARGS`` (stdout to ``log``.out, stderr to ``log``.err): exit
    code, wall time, whether it was killed at ``timeout_s``, whether a traceback was printed
    and the last lines of its output."""
    cmd = [sys.executable, "-m", "feederopt", *args]
    out, err = Path(f"{log}.out"), Path(f"{log}.err")  # codes have dots: no with_suffix
    t0 = time.perf_counter()
    killed = False
    with out.open("w") as fo, err.open("w") as fe:
        try:
            rc = subprocess.run(cmd, stdout=fo, stderr=fe, cwd=REPO, timeout=timeout_s,
                                check=False).returncode
        except subprocess.TimeoutExpired:
            rc, killed = None, True
    wall = time.perf_counter() - t0
    text = out.read_text(errors="replace") + err.read_text(errors="replace")
    lines = [ln.strip() for ln in text.splitlines()  # without pandapower's numba notice
             if ln.strip() and "numba" not in ln and "execution is slow" not in ln]
    return {"cmd": " ".join(cmd), "exit": rc, "wall_s": wall, "killed": killed,
            "traceback": "Traceback (most recent call last)" in text,
            "output_tail": lines[-3:], "stdout": str(out)}


def step(row: dict[str, Any], name: str, fn: Callable[[], T]) -> T | None:
    """Run one step of a code and return its value; an exception is recorded in the row (None
    is returned), never raised."""
    try:
        return fn()
    except Exception as exc:  # the sweep goes on: the row says what failed
        tb = traceback.format_exc().strip().splitlines()
        row["problems"].append(f"{name}: {type(exc).__name__}: {exc}".replace("\n", " "))
        row.setdefault("tracebacks", {})[name] = tb[-8:]
        return None


def info_step(code: str, row: dict[str, Any], work: Path) -> None:
    res = run_cli(["info", f"simbench:{code}", "--json"], work / f"{code}.info", GRACE_S)
    row["info"] = res
    if res["killed"]:
        row["problems"].append(f"info killed after {seconds(GRACE_S)} s")
    elif res["exit"] != 0:
        try:  # --json prints the error as JSON
            why = str(json.loads(Path(res["stdout"]).read_text())["message"])
        except (ValueError, KeyError, TypeError):
            why = " ".join(res["output_tail"])
        row["problems"].append(f"info exit {res['exit']}: {why}".replace("\n", " "))
    if res["traceback"]:
        row["problems"].append("info printed a traceback")
    if res["exit"] == 0:
        data = json.loads(Path(res["stdout"]).read_text())
        row.update(buses=data.get("buses"), branches=data.get("branches"),
                   switchable=data.get("switchable"), normally_open=data.get("normally_open"),
                   info_base_losses_kw=data.get("base_losses_kw"))


def fidelity_step(row: dict[str, Any], pristine: Any) -> None:
    import feederopt

    net = copy.deepcopy(pristine)
    runpp(net)
    ref_kw = pp_losses_kw(net)
    fid = feederopt.model_fidelity(feederopt.load(copy.deepcopy(pristine)))
    row["fidelity"] = fid.to_dict()
    row["pp_base_losses_kw"] = ref_kw
    if not fid.measured:
        row["problems"].append(f"fidelity not measured: {fid.message}")
        return
    rel = abs(fid.model_losses_kw - ref_kw) / ref_kw if ref_kw else math.nan
    row.update(fid_losses_rel=rel, fid_max_dv_pu=fid.max_voltage_diff_pu)
    if not rel <= LOSSES_REL or not fid.max_voltage_diff_pu <= VOLTAGE_ABS:
        row["problems"].append(f"model vs runpp beyond the tests' tolerances ({rel:.1e} / "
                               f"{fid.max_voltage_diff_pu:.1e})")
    if abs(fid.ac_losses_kw - ref_kw) > SAME_LOSSES_REL * max(ref_kw, 1e-9):
        row["problems"].append(f"model_fidelity's AC losses {fid.ac_losses_kw:.6f} kW are not "
                               f"the fresh net's runpp {ref_kw:.6f} kW")
    info_kw = row.get("info_base_losses_kw")
    if info_kw is not None and abs(info_kw - ref_kw) > SAME_LOSSES_REL * max(ref_kw, 1e-9):
        row["problems"].append(f"info's base-case losses {info_kw:.6f} kW are not runpp's "
                               f"{ref_kw:.6f} kW")


def solve_step(code: str, row: dict[str, Any], work: Path, time_limit: float) -> Path | None:
    """Run the solve; returns its --out folder when it wrote a result."""
    folder, out_json = work / code, work / f"{code}.solve.json"
    for old in (out_json, folder / "result.json", folder / "switches.parquet"):
        old.unlink(missing_ok=True)
    res = run_cli(["solve", f"simbench:{code}", "--time-limit", f"{time_limit:g}", "--out",
                   str(folder), "--json", str(out_json)], work / f"{code}.solve",
                  1.5 * time_limit + GRACE_S)
    row["solve"] = res
    if res["killed"]:
        row["problems"].append(f"solve killed after {seconds(1.5 * time_limit + GRACE_S)} s")
    if res["traceback"]:
        row["problems"].append("solve printed a traceback")
    if not out_json.exists():
        row["problems"].append(f"solve (exit {res['exit']}) wrote no --json: "
                               + " ".join(res["output_tail"]))
        return None
    data = json.loads(out_json.read_text())
    ac = data.get("ac_check") or {}
    row.update(status=data.get("status"), gap=data.get("gap"), lower_bound=data.get("lower_bound"),
               losses_kw=data.get("losses_kw"), solve_time_s=data.get("solve_time_s"),
               open_branches=data.get("open_branches"), ac_converged=ac.get("converged"),
               ac_losses_kw=ac.get("losses_kw"), ac_min_v=ac.get("min_voltage_pu"),
               ac_max_v=ac.get("max_voltage_pu"))
    if not (folder / "switches.parquet").exists():
        row["problems"].append("solve wrote no switches.parquet")
        return None
    return folder


def apply_switches(net: Any, switches: Iterable[dict[str, Any]]) -> int:
    """Write a result's changed switch states into a pandapower net (see the module docstring);
    returns the number of rows applied. Raises on a row it cannot apply."""
    sw = net.switch
    done = 0
    for r in switches:
        if not r["changed"]:
            continue
        kind, _, idx_text = str(r["id"]).partition(":")
        idx, closed = int(idx_text), bool(r["closed"])
        if kind == "switch":
            sw.at[idx, "closed"] = closed
        elif kind in ("line", "trafo"):
            mine = sw.index[(sw["et"] == kind[0]) & (sw["element"] == idx)]
            if len(mine) == 0:
                net[kind].at[idx, "in_service"] = closed
            else:
                sw.loc[mine, "closed"] = True
                if not closed:
                    opening = [int(k) for k in re.findall(r"switch (\d+)",
                                                          str(r.get("operated_by") or ""))]
                    if not opening:
                        raise ValueError(f"{r['id']} opened without operated_by switches")
                    sw.loc[opening, "closed"] = False
        else:
            raise ValueError(f"cannot apply {r['id']!r} to a pandapower net")
        done += 1
    return done


def radial_graph(net: Any) -> Any:
    """``pandapower.topology.create_nxgraph`` (switches respected) with each in-service
    three-winding transformer as the star it is (an internal node joined to its three buses,
    a leg dropped where an open 't3' switch at that bus cuts it), not the triangle
    ``create_nxgraph`` draws, which reads as a loop of every radial grid with one."""
    import pandapower.topology as top

    graph = top.create_nxgraph(net, respect_switches=True, include_trafo3ws=False)
    sw = net.switch
    for idx, t3 in net.trafo3w.iterrows():
        if not bool(t3["in_service"]):
            continue
        for col in ("hv_bus", "mv_bus", "lv_bus"):
            bus = int(t3[col])
            cut = sw[(sw["et"] == "t3") & (sw["element"] == idx) & (sw["bus"] == bus)
                     & ~sw["closed"].astype(bool)]
            if len(cut) == 0 and bus in graph:
                graph.add_edge(f"trafo3w:{idx}", bus, key=("trafo3w", int(idx), col))
    return graph


def independent_step(row: dict[str, Any], pristine: Any, folder: Path) -> None:
    import networkx as nx
    import pandapower.topology as top
    import polars as pl

    net = copy.deepcopy(pristine)
    rows = pl.read_parquet(folder / "switches.parquet").to_dicts()
    row["switches_applied"] = apply_switches(net, rows)
    runpp(net)
    vm = net.res_bus.vm_pu[net.bus.in_service.astype(bool)]
    row["pp_losses_kw"] = pp_losses_kw(net)
    row["pp_min_v"], row["pp_max_v"] = float(vm.min()), float(vm.max())
    nan_buses = [int(b) for b in vm.index[vm.isna()]]
    graph = radial_graph(net)
    cycles = nx.cycle_basis(nx.Graph(graph))
    parallel = sum(graph.number_of_edges(u, v) - 1 for u, v in nx.Graph(graph).edges())
    unsupplied = sorted(int(b) for b in top.unsupplied_buses(net))
    row.update(loops=len(cycles) + parallel, unsupplied=sorted(set(unsupplied) | set(nan_buses)))
    if row["loops"]:
        row["problems"].append(f"{len(cycles)} loops and {parallel} parallel branches closed")
    if row["unsupplied"]:
        row["problems"].append(f"{len(row['unsupplied'])} buses without supply: "
                               f"{row['unsupplied'][:10]}")
    if row.get("ac_min_v") is not None and row.get("ac_max_v") is not None:
        row["dv_minmax_pu"] = max(abs(row["pp_min_v"] - row["ac_min_v"]),
                                  abs(row["pp_max_v"] - row["ac_max_v"]))
        if row["dv_minmax_pu"] > SAME_VOLTAGE_PU:
            row["problems"].append(f"AC check's min/max |V| differ from runpp's by "
                                   f"{row['dv_minmax_pu']:.1e} p.u.")
    ac_kw = row.get("ac_losses_kw")
    if ac_kw is not None and abs(ac_kw - row["pp_losses_kw"]) > SAME_LOSSES_REL * max(
            abs(ac_kw), 1e-9):
        row["problems"].append(f"AC check {ac_kw:.3f} kW vs independent runpp "
                               f"{row['pp_losses_kw']:.3f} kW")


def run_code(code: str, work: Path, time_limit: float, solve: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "code": code, "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_start": os.getloadavg()[0], "problems": []}
    t0 = time.perf_counter()
    step(row, "info", lambda: info_step(code, row, work))
    pristine = step(row, "simbench net", lambda: fresh_net(code))
    if pristine is not None:
        step(row, "fidelity", lambda: fidelity_step(row, pristine))
    if solve:
        result = step(row, "solve", lambda: solve_step(code, row, work, time_limit))
        if pristine is not None and result is not None:
            step(row, "independent runpp", lambda: independent_step(row, pristine, result))
    row["sweep_wall_s"] = time.perf_counter() - t0
    return row


def machine(args: argparse.Namespace) -> dict[str, Any]:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    try:
        git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                             capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        git = None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(), "python": platform.python_version(),
        "nproc": len(os.sched_getaffinity(0)), "niceness": os.nice(0),
        "load_start": os.getloadavg()[0], "git": git,
        "feederopt": version("feederopt"), "simbench": version("simbench"),
        "pandapower": version("pandapower"), "highspy": version("highspy"),
        "time_limit_s": args.time_limit, "solve": not args.no_solve,
        "codes_arg": args.codes, "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }


def fmt(x: Any, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:{spec}}"


def table_row(r: dict[str, Any]) -> str:
    info = r.get("info") or {}
    if not info:
        info_cell = "-"
    elif info.get("exit") == 0 and not info.get("traceback"):
        info_cell = "ok"
    else:
        info_cell = "killed" if info.get("killed") else f"exit {info.get('exit')}"
    switchable = "-" if r.get("switchable") is None else (
        f"{r['switchable']} ({fmt(r.get('normally_open'), 'd')})")
    fid = "-" if r.get("fid_losses_rel") is None else (
        f"{r['fid_losses_rel']:.1e} / {r['fid_max_dv_pu']:.1e}")
    solve = r.get("solve") or {}
    wall = "-" if not solve else (f"{seconds(solve['wall_s'], '-')} "
                                  f"({seconds(r.get('solve_time_s'), '-')})")
    exit_cell = "-" if not solve else ("killed" if solve.get("killed") else str(solve["exit"]))
    gap = "-" if r.get("gap") is None else f"{100 * r['gap']:.2f}%"
    ours = "-" if not solve or "status" not in r else (
        f"{fmt(r.get('losses_kw'), '.3f')} / {fmt(r.get('ac_losses_kw'), '.3f')}")
    problems = "; ".join(p if len(p) <= 200 else p[:197] + "..."
                         for p in r.get("problems", [])).replace("|", "/")
    cells = [r["code"], fmt(r.get("buses"), "d"), switchable, info_cell, fid, wall, exit_cell,
             r.get("status") or "-", gap, fmt(r.get("lower_bound"), ".2f"), ours,
             fmt(r.get("pp_losses_kw"), ".3f"), fmt(r.get("dv_minmax_pu"), ".1e"), problems]
    return "| " + " | ".join(cells) + " |"


def reading(rows: list[dict[str, Any]], solved: bool) -> list[str]:
    """The facts the rows show, as bullets under the table."""
    out: list[str] = []
    fids = [r for r in rows if r.get("fid_losses_rel") is not None]
    if fids:
        out.append(f"* Fidelity: {len(fids)} of {len(rows)} grids measured, within "
                   f"{max(r['fid_losses_rel'] for r in fids):.1e} relative on the losses and "
                   f"{max(r['fid_max_dv_pu'] for r in fids):.1e} p.u. on the voltages (the "
                   f"tests' tolerance is {LOSSES_REL:g} and {VOLTAGE_ABS:g}).")
    if not solved:
        return out
    checked = [r for r in rows if r.get("pp_losses_kw") is not None
               and r.get("ac_losses_kw") is not None]
    same = [r for r in checked if f"{r['pp_losses_kw']:.3f}" == f"{r['ac_losses_kw']:.3f}"
            and (r.get("dv_minmax_pu") or 0.0) <= SAME_VOLTAGE_PU]
    out.append(f"* The AC check's losses equal the independent runpp with the result's switch "
               f"states to the printed digits (and min/max |V| within {SAME_VOLTAGE_PU:g} p.u.)"
               f" in {len(same)} of {len(checked)} runs checked ({len(rows)} codes).")
    loops = [r["code"] for r in rows if r.get("loops")]
    unsup = [r["code"] for r in rows if r.get("unsupplied")]
    out.append(f"* Loops: {', '.join(loops) or 'none'}; unsupplied buses: "
               f"{', '.join(unsup) or 'none'}.")
    nonzero = [f"`{r['code']}` ({r['solve'].get('exit')}, {r.get('status') or '-'})"
               for r in rows if r.get("solve") and r["solve"].get("exit") != 0]
    if nonzero:
        out.append("* Non-zero exits (exit, status): " + ", ".join(nonzero) + ".")
    limited = [r for r in rows if r.get("status") == "time_limit"]
    if limited:
        gaps = [100 * r["gap"] for r in limited if r.get("gap") is not None]
        span = f", gaps {min(gaps):.2f}-{max(gaps):.2f} %" if gaps else ""
        out.append(f"* {len(limited)} runs stop at the time limit{span}.")
    bad = [r["code"] for r in rows if r.get("problems")]
    out.append(f"* Rows with problems: {', '.join(bad) or 'none'}.")
    return out


def info_summary(rows: list[dict[str, Any]]) -> str:
    ran = [r for r in rows if r.get("info")]
    ok = [r for r in ran if r["info"].get("exit") == 0 and not r["info"].get("traceback")]
    same = [r for r in ok if r.get("info_base_losses_kw") is not None
            and r.get("pp_base_losses_kw") is not None
            and f"{r['info_base_losses_kw']:.3f}" == f"{r['pp_base_losses_kw']:.3f}"]
    head = ("all exit 0, no traceback" if len(ok) == len(rows)
            else f"{len(ok)} of {len(rows)} exit 0 without a traceback")
    tail = ("base-case losses equal pandapower's runpp to the printed digits"
            if len(same) == len(ok) else
            f"base-case losses equal pandapower's runpp to the printed digits in {len(same)}")
    return f"{head}; {tail}"


def write_markdown(rows: list[dict[str, Any]], info: dict[str, Any], notes: list[str],
                   path: Path) -> None:
    t = info["time_limit_s"]
    mvlv = [c for c in MVLV_CODES if any(r["code"] == c for r in rows)]
    if info["codes_arg"]:
        what = (f"The SimBench codes selected by `--codes {' '.join(info['codes_arg'])}` "
                f"({len(rows)} code{'s' if len(rows) != 1 else ''} so far)")
    else:
        n = len(rows) - len(mvlv)
        what = ("Every SimBench LV and MV code with switches "
                "(`simbench.collect_all_simbench_codes()`, `-LV-` or `-MV-`, ending in `-sw`; "
                f"{n} codes, scenario 0 first) and two combined MV+LV grids "
                f"({', '.join(f'`{c}`' for c in MVLV_CODES)}; `1-MVLV-rural-all-0-sw` has 5479 "
                "buses and is not run)")
    loads = [r["load_start"] for r in rows]
    load_text = (f"load average {info['load_start']:.2f} at the start, "
                 f"{min(loads):.2f}-{max(loads):.2f} when each code started" if loads else "")
    niced = "under `nice`" if info["niceness"] else "not under `nice`"
    lines = [
        "# SimBench sweep (user test ut_sb)",
        "",
        f"{what}. simbench {info['simbench']}, pandapower {info['pandapower']}, "
        f"HiGHS {info['highspy']}, on {info['nproc']} cores shared with other jobs, {niced} "
        f"({load_text}). Written by `python benchmarks/simbench_sweep.py` "
        f"(`{info['command']}`) on {info['date']}, git {info['git']}, {info['platform']}, "
        f"Python {info['python']}. Per code:",
        "",
        "1. `feederopt info simbench:CODE --json`: exit code, counts, base-case losses "
        f"({info_summary(rows)}).",
        "2. Fidelity: the model's base case (`feederopt.model_fidelity`: the exact radial sweep "
        "of the per-unit model, the bus-injection flow where the base case is meshed) against "
        "`pandapower.runpp` of SimBench's net: relative error of the losses (lines, "
        "transformers, impedance switches) and max |dV| over the buses.",
    ]
    if info["solve"]:
        lines += [
            f"3. `feederopt solve simbench:CODE --time-limit {t:g} --out DIR`: exit code, "
            "status, gap, lower bound, the SOCP and AC-check losses; then, independently, a "
            "fresh SimBench net with the result's `switches.parquet` applied (a changed line: "
            "all its switches closed, then the switches its `operated_by` names opened; "
            "bus-bus switches directly) and `pp.runpp`: its losses, min/max |V| (difference to "
            "the AC check's in the last column), no loop (`pandapower.topology` cycle basis "
            "and parallel branches) and no unsupplied bus (`unsupplied_buses`, NaN voltages); "
            "a failure is in the last column.",
            "",
            "Wall time is the whole CLI process (start-up, SimBench load, solve, AC check, "
            "writing); `solve_time` is the result's.",
        ]
    else:
        lines += ["3. The solve was skipped (`--no-solve`): its columns are `-`."]
    lines += [
        "",
        "| code | buses | switchable (normally open) | info | fidelity: losses rel. err. / "
        "max dV [p.u.] | load+solve wall [s] (solve_time) | exit | status | gap | LB [kW] | "
        "our losses SOCP / AC check [kW] | independent runpp [kW] | max dV AC-check vs runpp "
        "min/max | problems |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(table_row(r) for r in rows),
        "",
        "Reading the table:",
        "",
        *reading(rows, info["solve"]),
    ]
    for note in notes:
        lines += ["", note]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--codes", nargs="+", metavar="CODE",
                    help="SimBench codes, globs ('1-LV-*--0-sw') or substrings (MV-rural) of "
                         "the default codes (default: all of them)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="solve's limit [s]")
    ap.add_argument("--no-solve", action="store_true", help="info and fidelity only")
    ap.add_argument("--out", type=Path, default=HERE,
                    help="folder of results_simbench_sweep.json and RESULTS_simbench_sweep.md "
                         "(default: this folder); the CLI's outputs go to OUT/logs/")
    ap.add_argument("--note", action="append", default=[],
                    help="a paragraph for the end of the RESULTS file (repeatable)")
    ap.add_argument("--dry-run", action="store_true", help="print the codes and stop")
    args = ap.parse_args(argv)
    codes = select_codes(args.codes)
    if args.dry_run:
        print("\n".join(codes))
        return
    out: Path = args.out.resolve()
    work = out / "logs" / "simbench_sweep"
    work.mkdir(parents=True, exist_ok=True)
    info = machine(args)
    rows: list[dict[str, Any]] = []
    for k, code in enumerate(codes, 1):
        print(f"[{k}/{len(codes)}] {code} ...", flush=True)
        try:
            row = run_code(code, work, args.time_limit, not args.no_solve)
        except Exception as exc:  # a bug of this script: still a row, and the sweep goes on
            row = {"code": code, "load_start": os.getloadavg()[0],
                   "problems": [f"sweep: {type(exc).__name__}: {exc}"]}
        rows.append(row)
        print("   " + table_row(row), flush=True)
        (out / "results_simbench_sweep.json").write_text(json.dumps(
            {"machine": info, "rows": rows, "notes": args.note}, indent=2, default=str))
        write_markdown(rows, info, args.note, out / "RESULTS_simbench_sweep.md")


if __name__ == "__main__":
    main()

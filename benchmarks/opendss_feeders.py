"""How well feederopt's reading of a stock OpenDSS feeder reproduces OpenDSS's own solution.

    python benchmarks/opendss_feeders.py PATH/Master.dss [--load-options "vminpu=0.88"]

The feeders are not committed (IEEE 8500: 2.5 MB); get them from dss-extensions/electricdss-tst
(``Version8/Distrib/IEEETestCases/8500-Node/Master.dss``,
``Version8/Distrib/EPRITestCircuits/ckt5/Master_ckt5.dss``, ``ckt7/Master_ckt7.dss``). For each
file it prints:

* the time of ``read_opendss`` and of ``three_phase_info`` (what ``feederopt info`` computes);
* OpenDSS's own solution of the unmodified file, as ``info`` reports it: ``Circuit.Losses``
  (plus any shunt reactor's consumption), the source's power;
* the reading's fidelity apart from the linearised model: the model written back as an OpenDSS
  script (:func:`feederopt.io.opendss_write.model_script`, the reduced secondaries, reactors
  and no-load shunts as the model has them, the taps OpenDSS solved the file with) solved by
  OpenDSS, against the file's solution: source power, losses (shunt reactors' consumption
  added on both sides: OpenDSS's ``Circuit.Losses`` leaves shunt ``Reactor`` elements out,
  and the script's no-load branches are such reactors) and the largest voltage difference at
  the primary nodes and at the secondaries' 240 V nodes. ``--load-options`` gives the loads
  of the script the file's ``Vminpu``/``Vmaxpu`` (the model has no switch to constant
  impedance);
* LinDist3Flow's voltages against OpenDSS's, at the primary and at the secondaries, and its
  loss proxy.

Both OpenDSS solves use OpenDSS's convergence tolerance (1e-4); ``--tolerance`` tightens it for
both, which shows how much of the voltage difference is the tolerance's.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import opendssdirect as dss
from run import seconds  # benchmarks/run.py, next to this file

from feederopt.algorithms.threephase import lindist3flow_power_flow
from feederopt.api_threephase import three_phase_info
from feederopt.io.opendss import compile_circuit, read_opendss
from feederopt.io.opendss_write import model_script
from feederopt.network.threephase_perunit import to_per_unit_3ph


def _volts(base: dict[str, float], secondaries: dict[str, list]) -> dict[str, float]:
    """The present OpenDSS solution's node voltages [p.u. of the model's bases]; a reduced
    secondary bus as the model has it (``|V_p - V_q|`` over 240 V)."""
    out: dict[str, float] = {}
    for bus in dss.Circuit.AllBusNames():
        if bus not in base:
            continue
        dss.Circuit.SetActiveBus(bus)
        v = np.asarray(dss.Bus.Voltages(), float)
        nodes = dict(zip(dss.Bus.Nodes(), v[0::2] + 1j * v[1::2], strict=True))
        vb = base[bus] / math.sqrt(3) * 1000
        if bus in secondaries:
            phase, p, q = secondaries[bus]
            if p in nodes and q in nodes:
                out[f"{bus}.{phase}"] = abs(nodes[p] - nodes[q]) / vb
            continue
        for node, z in nodes.items():
            if 1 <= node <= 3:
                out[f"{bus}.{'abc'[node - 1]}"] = abs(z) / vb
    return out


def _shunt_reactor_kw() -> float:
    """The consumption [kW] of the shunt ``Reactor`` elements (one terminal, or the second
    grounded), which OpenDSS's ``Circuit.Losses`` leaves out."""
    total = 0.0
    for name in dss.Reactors.AllNames() or []:
        dss.Circuit.SetActiveElement(f"Reactor.{name}")
        nodes = list(dss.CktElement.NodeOrder())
        nc = int(dss.CktElement.NumConductors())
        if len(dss.CktElement.BusNames()) == 1 or not any(nodes[nc:]):
            total += float(dss.CktElement.Losses()[0]) / 1000
    return total


def _worst(a: dict[str, float], b: dict[str, float], keys: list[str]) -> tuple[float, str]:
    diffs = {k: abs(a[k] - b[k]) for k in keys if k in a and k in b and b[k] > 0.1}
    if not diffs:
        return math.nan, ""
    k = max(diffs, key=lambda x: diffs[x])
    return diffs[k], k


def measure(path: Path, load_options: str, tolerance: float | None) -> None:
    t0 = time.perf_counter()
    net = read_opendss(path)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    info = three_phase_info(path)
    t_info = time.perf_counter() - t0
    secondaries = {b: [s[0], int(s[1]), int(s[2])]
                   for b, s in (net.meta.get("secondaries") or {}).items()}
    base = dict(zip(net.buses["id"].to_list(), net.buses["vn_kv"].to_list(), strict=True))
    print(f"== {path}")
    for note in net.meta.get("reductions", []):
        print(f"  note: {note}")
    print(f"  read {seconds(t_read)} s, info {seconds(t_info)} s; {info['buses']} buses, "
          f"{info['phases']} phase nodes, {info['switchable']} switchable")

    compile_circuit(path)  # the file as the reader solved it
    if tolerance is not None:
        dss.Text.Command("set controlmode=off")
        dss.Text.Command(f"set tolerance={tolerance}")
        dss.Solution.Solve()
    file_losses = float(dss.Circuit.Losses()[0]) / 1000 + _shunt_reactor_kw()
    file_src = -complex(*dss.Circuit.TotalPower()[:2])
    file_v = _volts(base, secondaries)
    print(f"  OpenDSS, the file: losses {file_losses:.2f} kW, source {file_src.real:.2f} kW "
          f"{file_src.imag:.2f} kvar (info: {info['base_losses_kw']:.2f} kW)")

    script = model_script(net, load_options=load_options)
    if tolerance is not None:
        script = script.replace("Solve\n", f"Set Tolerance={tolerance}\nSolve\n")
    with tempfile.TemporaryDirectory() as tmp:
        spath = Path(tmp) / "model.dss"
        spath.write_text(script)
        dss.Text.Command("clear")
        dss.Text.Command(f'redirect "{spath}"')
    model_losses = float(dss.Circuit.Losses()[0]) / 1000 + _shunt_reactor_kw()
    model_src = -complex(*dss.Circuit.TotalPower()[:2])
    model_v = _volts(base, {})
    primary = [k for k in file_v if k.split(".")[0] not in secondaries]
    second = [k for k in file_v if k.split(".")[0] in secondaries]
    dp, kp = _worst(model_v, file_v, primary)
    ds, ks = _worst(model_v, file_v, second)
    print(f"  OpenDSS, the model: losses {model_losses:.2f} kW "
          f"({model_losses - file_losses:+.2f}), source {model_src.real:.2f} kW "
          f"({model_src.real - file_src.real:+.2f}) {model_src.imag:.2f} kvar "
          f"({model_src.imag - file_src.imag:+.2f}); max |dV| primary {dp:.5f} ({kp})"
          + (f", secondaries {ds:.5f} ({ks})" if second else ""))

    pu = to_per_unit_3ph(net)
    flow = lindist3flow_power_flow(pu)
    lp, kp = _worst(flow.voltages_pu, file_v, primary)
    ls, ks = _worst(flow.voltages_pu, file_v, second)
    print(f"  LinDist3Flow: max |V - V_OpenDSS| primary {lp:.4f} ({kp})"
          + (f", secondaries {ls:.4f} ({ks})" if second else "")
          + f"; loss proxy {flow.loss_proxy_kw - flow.source_loss_proxy_kw:.2f} kW "
          f"(source impedance {flow.source_loss_proxy_kw:.2f} kW apart), "
          f"V {flow.min_voltage_pu:.4f}-{flow.max_voltage_pu:.4f} p.u.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--load-options", default="")
    parser.add_argument("--tolerance", type=float, default=None)
    args = parser.parse_args()
    for path in args.paths:
        measure(path.resolve(), args.load_options, args.tolerance)


if __name__ == "__main__":
    main()

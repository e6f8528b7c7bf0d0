"""OpenDSS's own solution of a script, for tests that compare our model written back as an
OpenDSS script (``io/opendss_write.model_script``) with the file it was read from."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import opendssdirect as dss


def solve_script(script: str, folder: Path, name: str = "plain.dss") -> None:
    """Write ``script`` to ``folder/name``, compile it in a cleared OpenDSS and solve it (the
    working directory restored: OpenDSS moves into the file's folder); it must converge."""
    path = folder / name
    path.write_text(script)
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'redirect "{path}"')
        dss.Solution.Solve()
    finally:
        os.chdir(cwd)
    assert dss.Solution.Converged()


def plain_solution(script: str, folder: Path
                   ) -> tuple[complex, dict[str, complex], dict[str, float]]:
    """OpenDSS's solution of ``script`` (written to ``folder/plain.dss``): the source's power
    [kVA], every node's voltage phasor [V] by ``"bus.node"``, and every load's power [kW]."""
    solve_script(script, folder)
    volts = {}
    for bus in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(bus)
        v = np.asarray(dss.Bus.Voltages(), float)
        for node, z in zip(dss.Bus.Nodes(), v[0::2] + 1j * v[1::2], strict=True):
            volts[f"{bus}.{node}"] = complex(z)
    loads = {}
    for name in dss.Loads.AllNames():
        dss.Loads.Name(name)
        loads[name] = float(np.sum(dss.CktElement.Powers()[0::2]))
    total = dss.Circuit.TotalPower()
    return -complex(total[0], total[1]), volts, loads


def active_line_loadings() -> dict[str, float]:
    """OpenDSS's loading [% of NormAmps] of every enabled line of the circuit solved last:
    the largest phase-conductor current magnitude at either terminal over the line's
    ``NormAmps`` (OpenDSS's own rating of the line)."""
    out = {}
    for name in dss.Lines.AllNames():
        dss.Lines.Name(name)
        if not dss.CktElement.Enabled():
            continue
        n, nc = dss.CktElement.NumPhases(), dss.CktElement.NumConductors()
        mags = np.asarray(dss.CktElement.CurrentsMagAng(), float)[0::2]
        amps = max(float(mags[t * nc + c]) for t in range(2) for c in range(n))
        out[name] = 100.0 * amps / float(dss.CktElement.NormalAmps())
    return out


#: OpenDSS's ``Switch=yes`` impedance (1 mOhm: r1=1 x1=1 at length 0.001, no units), written
#: out for a file's zero-impedance switch lines, without which OpenDSS's Y matrix is singular.
SWITCH_IMPEDANCE = " r1=1 r0=1 x1=1 x0=1 c1=1.1 c0=1 length=0.001 units=none"


def compile_with_switch_impedance(source: Path, folder: Path, name: str = "plain.dss") -> None:
    """Compile ``source`` in a cleared OpenDSS with every active ``switch=y`` line given
    :data:`SWITCH_IMPEDANCE` (the copy written to ``folder/name``; the working directory
    restored, since OpenDSS moves into the file's folder). Nothing is solved beyond what the
    file itself solves."""
    lines = []
    for line in source.read_text().splitlines():
        if re.search(r"switch=y", line, re.I) and not line.strip().startswith("!"):
            line = line.split("!")[0] + SWITCH_IMPEDANCE
        lines.append(line)
    path = folder / name
    path.write_text("\n".join(lines))
    _compile(path)


def _compile(path: Path) -> None:
    """Compile the script at ``path`` in a cleared OpenDSS, the working directory restored
    (OpenDSS moves into the file's folder)."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'redirect "{path}"')
    finally:
        os.chdir(cwd)


def load_power(path: Path, load: str) -> tuple[float, float, float]:
    """Compile the script at ``path`` in a cleared OpenDSS (the script solves itself; the
    working directory restored): ``Load.<load>``'s kW and kvar summed over its phase
    conductors (``CktElement.Powers`` gives P, Q per conductor, the phases first, then the
    neutral) and its first conductor's voltage [kV] (``VoltagesMagAng``, in V)."""
    _compile(path)
    dss.Circuit.SetActiveElement(f"Load.{load}")
    n = int(dss.CktElement.NumPhases())
    pw = dss.CktElement.Powers()
    return (float(sum(pw[0:2 * n:2])), float(sum(pw[1:2 * n:2])),
            float(dss.CktElement.VoltagesMagAng()[0]) / 1000.0)


def converged_losses_kw() -> float:
    """The active circuit's losses [kW], its solve continued to 1e-9 at the taps it reached
    (controls off), as info's and solve's base case solve it once more after the file's own
    solve, which stops within the file's tolerance (user test ut46_dss3 #5)."""
    dss.Text.Command("Set ControlMode=OFF")
    dss.Text.Command("Set Tolerance=1e-9")
    dss.Text.Command("Set MaxIterations=1000")
    dss.Solution.Solve()
    assert dss.Solution.Converged()
    return float(dss.Circuit.Losses()[0]) / 1000


def two_terminal_edges() -> list[tuple[str, str, str]]:
    """The active circuit's lines and transformers between two distinct buses, as (name, bus,
    bus): a line by its own name, a transformer by its full name (``transformer.xfm1``), for
    the graph of its radial states."""
    edges = []
    for element in dss.Circuit.AllElementNames():
        cls, _, name = element.lower().partition(".")
        if cls in ("line", "transformer"):
            dss.Circuit.SetActiveElement(element)
            buses = [b.split(".")[0].lower() for b in dss.CktElement.BusNames()]
            if len(set(buses)) == 2:
                edges.append((name if cls == "line" else element.lower(), buses[0], buses[1]))
    return edges

"""Read OpenDSS circuits (``.dss``) into a :class:`~feederopt.network.threephase.ThreePhaseNetwork`.

The circuit is compiled and solved by OpenDSS itself through OpenDSSDirect.py (DSS C-API, the
engine that ships in the PyPI wheel), and its elements are read back from the engine, so every
OpenDSS default, unit conversion, ``like=`` and ``Redirect`` is applied exactly as OpenDSS does.

What is read, and how (OpenDSS manual, "Circuit element reference"):

* **buses**: the nodes 1, 2, 3 of every bus (phases a, b, c), the voltage base (``kVBase``, set
  by ``Set VoltageBases``/``CalcVoltageBases``) and ``BusCoords``;
* **Vsource**: set-point, angle, base voltage and sequence impedances ``R1, X1, R0, X0``;
  a disabled one (``enabled=no``) is not in OpenDSS's circuit and not a source, and a
  circuit whose every Vsource is disabled is ``no_source`` naming them
  (:func:`_disabled_sources_problem`);
* **lines**: the whole-line series impedance and shunt susceptance matrices, from the primitive
  admittance matrix ``Yprim = [[Ys + Ysh/2, -Ys], [-Ys, Ys + Ysh/2]]`` (``Z = Ys^-1``), which
  includes line codes, lengths and units as OpenDSS applies them; ``Switch=yes`` lines and lines
  under a ``SwtControl`` are switchable; a disabled switch, or one open at either terminal
  (``Open Line.X term=2``, read from OpenDSS's terminal state), is normally open, and a line
  that is not a switch but disabled or open at a terminal is out of service (a disabled one
  between live buses with a warning: no tie the search may close); a line's ``length_m`` is
  its ``Length`` in its own ``units`` or, without one, its line code's
  (:func:`_length_units`), and a ``units`` word that OpenDSS does not know (``furlong``,
  read as none) is warned of (:func:`~feederopt.io.dss_files.length_units_written`); every
  disabled or open series element (lines, transformers, series reactors and capacitors, also
  those left out) is recorded in ``meta["out_of_service"]`` (:func:`out_of_service_record`),
  so that the supply check names the one that cuts buses off the source;
* **transformers**: two-winding units (wye/delta, kV, kVA, %R, X_HL, taps as solved; out of
  service when disabled or open at a terminal, ``Open Transformer.X term=2``); those
  under a ``RegControl`` are regulators; a transformer's no-load branch (``%noloadloss``,
  ``%imag``) is a constant-impedance shunt at winding 2's terminal, where OpenDSS puts it;
* **centre-tapped (split-phase) service transformers** and their 120/240 V secondaries (IEEE
  8500): single-phase three-winding units with windings 2 and 3 on ``X.1.0`` and ``X.0.2``;
  each secondary bus becomes one 240 V node on the primary's phase
  (:mod:`feederopt.io.opendss_secondary`: the unit's and the triplex lines' impedances under a
  balanced 240 V load, Kersting 2009); the note in ``meta["reductions"]`` counts them;
* **reactors**: a series reactor (``bus2`` another bus) is a line of zero length, a shunt
  reactor (``bus2`` absent, grounded, a floating neutral or another phase of ``bus1``) a
  constant-impedance shunt (wye or delta, as a shunt capacitor), both from OpenDSS's
  primitive admittance matrix, so that every parameter form (``R``/``X``, ``Z``, ``Z1``/``Z0``,
  ``kvar``/``kV``, ``Rmatrix``/``Xmatrix``, ``Rp``, ``Parallel``) is read as OpenDSS applies it;
* **loads**: split per phase (wye) or per phase pair (delta; a 1-phase delta load on one node is
  phase to ground, as OpenDSS connects it), with the load model as the exponents of the
  exponential model (models 1-8; ZIP by its slope at 1 p.u.);
* **capacitors, generators, PV systems, storage**: ratings, and the base-case output as
  OpenDSS solved it; a DER's ``p_max_mw`` is what it can deliver in the file's state
  (:func:`_ratings`: a PVSystem's panel at its irradiance, 0 for a storage unit at or below
  its reserve), and ``meta["der_derated"]`` says why for each DER below its nameplate; a
  1-phase DER whose second conductor is another phase (``bus1=x.2.3``) is one unit between
  the two phases (``conn`` delta, ``phases`` ``"bc"``), one of two or three phases so
  connected ``unsupported_element``; a 3-phase DER with ``Conn=Delta`` is ``conn`` delta with
  ``phases`` ``"abc"`` (three branches between the phases); a generator whose ``kV`` does not
  match its bus, which OpenDSS runs as an impedance, is listed in
  ``meta["der_impedance_mode"]`` (the model holds it at its solved output); a DER of one or two
  phases whose neutral is on a node 4+ that nothing else connects (``bus1=x.2.4``: the node
  floats, and the unit sees no voltage) is ``invalid_value`` on its ``bus1``
  (:func:`_floating_der_problem`); a **series capacitor** (``bus2`` another bus, on phase nodes)
  is a zero-length line of kind ``capacitor`` from OpenDSS's primitive admittance matrix
  (``X = -kV^2 / Mvar`` per phase over the steps that are in, plus ``R`` and ``XL``; ``Cuf``,
  ``Cmatrix`` as OpenDSS applies them), rated by its ``NormAmps``; until user test ut34 it was
  read as a shunt on ``bus1`` and the connection to ``bus2`` vanished; a **shunt capacitor**
  (and a shunt reactor) by its branches as OpenDSS connects them
  (:func:`~feederopt.io.opendss_shunts.shunt_row`): phase to ground (wye), one branch between
  two phases (``bus1=x.1.2 phases=1 conn=delta``, or a wye bank whose ``bus2`` is another
  phase of its bus) or a closed delta (also an ungrounded wye of equal branches,
  ``bus2=x.4.4.4`` with node 4 used by nothing else: a delta of a third per branch), the last
  two delta shunts that the model draws as constant-impedance delta loads; a 2-phase delta
  bank, an unequal ungrounded one, or one that connects nothing is ``unsupported_element``;
  the shunt bank's admittance is OpenDSS's ``Yprim`` (:func:`_shunt_capacitor`: ``kvar``,
  ``Cuf``, ``Cmatrix``, the steps in, each step's series ``R``/``XL``), a ``Cmatrix`` the
  model's row cannot hold exactly (coupled or unequal phases) ``unsupported_element``.

An open or disabled line whose end is on a bus or phase that no energised element has (IEEE
8500's phase-b tie ``WD701_48332_sw`` to a phase-a lateral; EPRI ckt5's ties to neighbouring
feeders not in the file) connects nothing of the circuit and is left out, with a warning. A
circuit whose solve does not converge within its ``MaxIterations`` (IEEE 8500's master file,
whose run script sets 20) is solved again with :data:`RETRY_ITERATIONS`.

Every element's connections (which node each conductor of each terminal is on) are OpenDSS's
own, ``CktElement.NodeOrder()``, not the node suffixes of the bus names in the file: OpenDSS
fills a short spec with its defaults, so a 3-phase line with ``bus2=x.1.2`` is on ``x.1.2.3``
(EPRI ckt24) and a 1-phase delta load with ``bus1=x.1`` is phase to ground (IEEE 34). What the
model cannot represent after OpenDSS's connection (a line with different phases, or phases in a
different order, at its two ends; a 2-phase delta load) is a typed problem naming the element.

Protection and control elements (relays, reclosers, fuses, capacitor controls) are listed in
``meta["warnings"]``; any other power element is a typed ``unsupported_element`` problem. A file
that OpenDSS rejects (an unknown line code, a missing ``Redirect`` target, ...) gives a typed
problem with OpenDSS's own message; a bus without phases is reported by validation. OpenDSS
accepts a negative ``Length`` or a negative line or transformer resistance (which give negative
losses); the reader refuses them, and NaN, as ``bad_impedance`` on the element (``Line.<name>``)
and the property the file sets (``length``, ``r1``..``x0``, ``rmatrix``/``xmatrix`` or
``linecode``; ``%r``). Zero lengths and impedances (switches, jumpers) are allowed.

A load that no power flow can supply (its bus's net demand above the short-circuit power that
reaches it, :func:`~feederopt.network.validate.three_phase_load_plausibility`: ``kW=128000000``
for 128 kW) gets the balanced readers' ``bad_load`` warning, in ``meta["warnings"]`` and in
``meta["load_warnings"]``, which the three-phase solve lists among its notes.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind, shown_list
from feederopt.io.dss_files import (
    OUTPUT_COMMANDS,
    Macros,
    command_word,
    has_output_commands,
    length_units_written,
    numbered_commands,
    script_target,
)
from feederopt.io.opendss_guard import crashing_capacitors
from feederopt.io.opendss_rated_kv import BAND_NOTE, RatedKv, rated_kv_loads
from feederopt.io.opendss_secondary import (
    Secondaries,
    find_center_taps,
    line_equivalent,
    load_parts,
    secondary_regions,
)
from feederopt.io.opendss_shunts import (
    branch_nodes,
    branch_yprim,
    floating_candidates,
    shunt_row,
)
from feederopt.network.threephase import OUT_OF_SERVICE, PHASES, ThreePhaseNetwork
from feederopt.network.validate import (
    IMPEDANCE_PU_MAX,
    LOAD_PU_MAX,
    MAGNITUDE_BASE_MVA,
    VN_KV_MAX,
    three_phase_load_plausibility,
)

#: Element classes that carry power and that the reader turns into tables.
READ_CLASSES = {"vsource", "line", "transformer", "load", "capacitor", "generator", "pvsystem",
                "storage", "reactor"}
#: Control and metering elements: read where they matter (RegControl, SwtControl) or ignored
#: with a warning; they do not change the network's power-flow equations in the base case.
CONTROL_CLASSES = {"regcontrol", "swtcontrol", "energymeter", "monitor", "relay", "recloser",
                   "fuse", "capcontrol", "invcontrol", "storagecontroller", "expcontrol"}

#: The controls whose settings the model holds as OpenDSS solved the file (the taps of a
#: RegControl's transformer, a CapControl's capacitor states), which the check's second solve
#: runs (:func:`_held_controls_note`).
HELD_CONTROLS = ("regcontrol", "capcontrol")


def _held_controls_note(held: dict[str, list[str]]) -> str:
    """One note on the RegControl and CapControl elements (``held``: class as the file spells
    it, names): the model and the AC check hold the taps and capacitor states that OpenDSS
    solved the file with (controls off, :mod:`feederopt.validation.opendss`), and the check's
    second solve lets them act ("OpenDSS with its controls acting"). User test ut45 dssday
    #4: a CapControl was noted as "ignored" and three RegControls, held the same way, not at
    all."""
    parts = [f"{len(els)} {cls} ({', '.join(els[:6])}{' ...' if len(els) > 6 else ''})"
             for cls, els in sorted(held.items(), key=lambda kv: kv[0].lower(), reverse=True)]
    what = " and ".join(x for x, c in (("regulator taps", "regcontrol"),
                                       ("capacitor states", "capcontrol"))
                        if any(k.lower() == c for k in held))
    return (f"{' and '.join(parts)}: their {what} are held as OpenDSS solved the file, in the "
            "model and in the AC check; the check's second solve, \"OpenDSS with its controls "
            "acting\", lets them act from the answer's topology")


#: The controls of DERs (an InvControl's volt-var or volt-watt curve, an ExpControl): their
#: DERs' output is held as OpenDSS solved the file (:func:`_der_controls_note`).
DER_CONTROLS = ("invcontrol", "expcontrol")


def _der_controls_note(held: dict[str, list[str]], gen_rows: list[dict[str, Any]]) -> str:
    """One note on the InvControl and ExpControl elements (``held``: class as the file spells
    it, names): their curves are not modelled; the DERs they control (their ``DERList``, which
    OpenDSS fills with every PV system and storage unit when the file leaves it empty) are
    held at the output OpenDSS solved the file with (``gen_rows``: the read DERs, their
    solved ``p_mw``, ``q_mvar``), as the regulator taps are. User test ut50_dss3 #6: "1
    InvControl element(s) ignored", while the PV's volt-var Q of the file's solve (38.3 kvar)
    was held."""
    dss = _dss()
    controlled: list[str] = []
    for cls, names in held.items():
        for name in names:
            dss.Text.Command(f"? {cls}.{name}.DERList")
            listed = [x.strip().lower() for x in dss.Text.Result().strip(" []").split(",")
                      if x.strip()]
            controlled += [x for x in listed if x not in controlled]
    rows = {str(r["id"]).lower(): r for r in gen_rows}
    ders = [f"{rows[d]['id']} {rows[d]['p_mw'] * 1000:.1f} kW, "
            f"{rows[d]['q_mvar'] * 1000:.1f} kvar" for d in controlled if d in rows]
    parts = [f"{len(els)} {cls} ({', '.join(els[:6])}{' ...' if len(els) > 6 else ''})"
             for cls, els in sorted(held.items())]
    return (f"{' and '.join(parts)}: their curves are not modelled: in the model the DERs "
            "they control are held at their output as OpenDSS solved the file ("
            + ("; ".join(ders[:6]) or "none read") + (" ..." if len(ders) > 6 else "")
            + "), as the regulator taps are")


#: OpenDSS's impedance for ``Switch=yes`` (r1 = x1 = 1 Ohm per unit length, length 0.001).
SWITCH_DEFAULT = "r1=1 r0=1 x1=1 x0=1 c1=1.1 c0=1 length=0.001 units=none"

#: A switch whose series impedance matrix has no entry above this [Ohm] is ideal (zero
#: impedance) in the models: OpenDSS's ``Switch=yes`` default (:data:`SWITCH_DEFAULT`) is
#: 1 mOhm + j1 mOhm per phase. A switch with a line code or length of its own (``switch=yes
#: linecode=lc length=2``, a line under a SwtControl) keeps its impedance.
SWITCH_IDEAL_OHM = 0.01

#: OpenDSS error numbers of malformed input, with a hint (DSS C-API 0.14: 110 ``Unknown
#: parameter "x" for object "Line.l2"``, 263 ``Object Type "x" not found``, 302 ``Unknown
#: Command: "x"``).
_ERROR_HINTS = {
    110: "an element or property name is unknown: check the property's spelling in the "
         "OpenDSS manual",
    243: "the Redirect/Compile target does not exist; check the path beside the file",
    263: "an element or property name is unknown: check the element type's spelling, e.g. "
         "Line, Load, PVSystem",
    301: "the file defines no circuit before its first command: an OpenDSS script starts "
         "with New Circuit.<name> (or Redirects a file that does); is it an OpenDSS file?",
    302: "a command name is unknown: check its spelling, e.g. New, Edit, Open, Redirect",
    401: "the line code is not defined before the line; check its name and the Redirects",
    8888: "the file must define a circuit (New Circuit.<name> ...)",
}


def _dss() -> Any:
    import opendssdirect as dss

    return dss


class DSSFailure(Exception):
    """An OpenDSS error while compiling or solving (number, message)."""

    def __init__(self, number: int, message: str) -> None:
        super().__init__(message)
        self.number = number
        self.message = message


def _split_error(exc: Exception) -> tuple[int, str]:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int):
        return int(args[0]), str(args[1])
    m = re.match(r"\(#(\d+)\)\s*(.*)", str(exc), re.S)
    if m:
        return int(m.group(1)), m.group(2)
    return -1, str(exc)


@contextmanager
def _keep_cwd() -> Iterator[None]:
    cwd = os.getcwd()
    try:
        yield
    finally:
        os.chdir(cwd)


def _run(command: str) -> None:
    dss = _dss()
    try:
        dss.Text.Command(command)
    except Exception as exc:
        raise DSSFailure(*_split_error(exc)) from None


def _zero_impedance_switches() -> list[str]:
    """Switch lines whose impedance is zero (OpenDSS cannot invert them)."""
    dss = _dss()
    out = []
    for name in dss.Lines.AllNames():
        dss.Lines.Name(name)
        if dss.Lines.IsSwitch() and not np.any(np.abs(dss.Lines.RMatrix()) > 0) and not np.any(
            np.abs(dss.Lines.XMatrix()) > 0
        ):
            out.append(name)
    return out


def script_solved() -> bool:
    """Does OpenDSS hold a solution of the circuit as it now stands, from a ``Solve`` of the
    script?

    ``Solution.Converged()`` alone does not say so: ``CalcVoltageBases`` (the last command of
    the stock IEEE and EPRI master files) runs a zero-load power flow and leaves it "converged",
    with no load, no losses and the regulators at their initial taps. OpenDSS marks that state
    (and any edit after a solve) with ``SystemYChanged`` and counts no power-flow iterations; a
    ``Solve`` leaves ``SystemYChanged`` False and at least one iteration.
    """
    dss = _dss()
    return (bool(dss.Solution.Converged()) and int(dss.Solution.Iterations()) > 0
            and not bool(dss.Solution.SystemYChanged()))


#: Power-flow iterations OpenDSS is given when the file's limit (``Set MaxIterations``, 15 by
#: default) ends its solve unconverged: the stock IEEE 8500-node master file needs 20 (its run
#: script sets them), so its ``Master.dss`` alone does not converge.
RETRY_ITERATIONS = 100


def _fold_load_mult(warnings: list[str]) -> None:
    """Fold the circuit's ``LoadMult`` into its loads: every load's ``kW`` and ``kvar`` times
    ``LoadMult``, and ``LoadMult`` set to 1.

    OpenDSS's snapshot solution draws ``LoadMult`` times each load's ``kW``/``kvar``
    (``Set LoadMult=0.5`` halves every load), which the elements' own ``kW`` do not show: the
    model read them at full load while OpenDSS's solution, and its check, ran at half. Folded,
    the loads read are the ones OpenDSS solves, the solution is the same, and a check that
    edits a load's ``kW`` (scenarios, the partition's samples) sets what OpenDSS draws."""
    dss = _dss()
    mult = float(dss.Solution.LoadMult())
    if mult == 1.0 or not math.isfinite(mult):
        return
    for _ in _iterate(dss.Loads):
        if int(dss.Loads.Status()) != 0:  # status=fixed or exempt: OpenDSS applies no LoadMult
            continue
        kw, kvar = float(dss.Loads.kW()), float(dss.Loads.kvar())
        dss.Loads.kW(kw * mult)
        dss.Loads.kvar(kvar * mult)
    dss.Solution.LoadMult(1.0)
    warnings.append(f"Set LoadMult={mult:g}: every load (but those with status=fixed or "
                    f"exempt) is read at {mult:g} times its kW and kvar, as OpenDSS solves it "
                    "(LoadMult folded into the loads)")


def _snapshot_mode(warnings: list[str]) -> None:
    """Put OpenDSS in snapshot mode (``Set mode=snapshot``) if the file left it in another one
    (``Set mode=daily number=1 hour=14`` before its ``Solve``), with a warning naming the
    file's mode and clock.

    In daily, yearly or duty-cycle mode every ``Solve`` first steps the clock and draws each
    load at its shape's multiplier for the new hour: the reader's base case, the AC check and
    the solve with OpenDSS's controls would each be taken at a different load level (user
    test ut42_dss3: 4.0, 7.9 and 0.9 kW of losses on one feeder), while the model reads the
    loads at their ``kW``. In snapshot mode OpenDSS draws each load at ``kW`` x ``LoadMult``
    (folded into the loads, :func:`_fold_load_mult`) with no shape, every solve, so every
    OpenDSS figure and the model are at that one load level. ``Set mode`` marks the circuit
    changed (``SystemYChanged``): :func:`_solve_unless_solved` solves it again. The daily
    shapes themselves are read as scenarios (``feederopt.io.opendss_shapes``)."""
    dss = _dss()
    mode = int(dss.Solution.Mode())
    if mode == 0:
        return
    name = str(dss.Solution.ModeID())
    hour, seconds = int(dss.Solution.Hour()), float(dss.Solution.Seconds())
    clock = f"{hour + seconds / 3600.0:g}"
    _run("set mode=snapshot")
    warnings.append(
        f"the file solves in {name} mode (clock at hour {clock}): feederopt solves it in "
        "snapshot mode (Set mode=snapshot), every load at its kW (nameplate x LoadMult) "
        "with no load shape, in OpenDSS's figures as in the model; give the loads' shapes "
        "as scenarios (feederopt scenarios FILE.dss --load-shapes daily) for the other load levels")


def _solve_unless_solved(warnings: list[str] | None = None) -> None:
    """Solve the compiled circuit (its power flow and controls, e.g. regulator taps) unless the
    script's own ``Solve`` is its current solution.

    A script that solved is kept as it solved: solving again starts from that solution and
    moves the losses within OpenDSS's tolerance (by about 1e-4 relative on IEEE 37), so the
    figures would no longer be OpenDSS's own for the file. A script without a final ``Solve``
    (or edited after it) is solved here, which gives exactly what ``Solve`` at its end gives.
    A solve that ends unconverged at the file's ``MaxIterations`` is continued with
    :data:`RETRY_ITERATIONS` (the setting stays for later solves of the circuit), with a
    warning.
    """
    dss = _dss()
    if not script_solved():
        try:
            dss.Solution.Solve()
        except Exception as exc:
            raise DSSFailure(*_split_error(exc)) from None
    limit = int(dss.Solution.MaxIterations())
    if not dss.Solution.Converged() and limit < RETRY_ITERATIONS:
        dss.Solution.MaxIterations(RETRY_ITERATIONS)
        try:
            dss.Solution.Solve()
        except Exception as exc:
            raise DSSFailure(*_split_error(exc)) from None
        if warnings is not None:
            warnings.append(
                f"OpenDSS's power flow does not converge in the file's {limit} iterations "
                f"(MaxIterations); it is solved with MaxIterations={RETRY_ITERATIONS}"
                + ("" if dss.Solution.Converged() else ", and does not converge either"))


def compile_circuit(path: str | Path) -> list[str]:
    """Compile ``path`` in OpenDSS and solve it; return warnings.

    The circuit is always left solved with its controls (regulator taps) as OpenDSS's ``Solve``
    leaves it: a script that ends with ``CalcVoltageBases`` and no ``Solve`` (the stock IEEE
    and EPRI master files) is solved here (:func:`_solve_unless_solved`).

    Reading leaves the user's folders as they were (:func:`_neutral_output`): the script's
    output commands (``Show``, ``Export``, ``Plot``, ``Save``, ...:
    :data:`~feederopt.io.dss_files.OUTPUT_COMMANDS`) are not run, with a warning naming them
    (:func:`_run_script`), OpenDSS's ``DataPath`` (where its reports go) is a temporary folder
    for the whole read, and OpenDSS's editor is off. Until user test ut37 a ``Show Voltages``
    at the end of IEEE 13 replaced ``IEEE13Nodeckt_VLN.txt`` in the current folder and ran
    ``xdg-open`` on it. Every OpenDSS check (AC check, partition check, Monte-Carlo) compiles
    through here.

    A switch line with zero impedance (``Switch=y r1=0 x1=0``, as PowerModelsONM writes them) makes
    OpenDSS's Y matrix singular; such switches get OpenDSS's own ``Switch=yes`` impedance
    (:data:`SWITCH_DEFAULT`) and the rest of the script is run (:func:`_resume_script`), also
    when the switch is defined in a file the script reaches by ``Redirect``/``Compile`` (user
    test ut49_part #2). The user's files are not changed. Raises :class:`InputError` with
    OpenDSS's message for any other error.
    """
    dss = _dss()
    path = Path(path).resolve()
    if not path.is_file():
        raise _file_problem(path, -1, "no such file", "check the path")
    crashing_capacitors(path)  # before OpenDSS runs it: such a bank kills the process
    warnings: list[str] = []
    skipped: list[str] = []
    with _neutral_output():
        dss.Text.Command("clear")
        dss.Error.EarlyAbort(True)
        try:
            _run_script(path, skipped)
            _snapshot_mode(warnings)
            _fold_load_mult(warnings)
            _solve_unless_solved(warnings)
        except DSSFailure as exc:
            where = re.search(r'\[file: "([^"]+)", line: (\d+)\]', exc.message)
            if exc.number == 485 or "max control iterations" in exc.message.lower():
                raise _control_problem(path, exc.message, where) from None
            bad = _zero_impedance_switches() if "Matrix Inversion" in exc.message else []
            frames = _failure_frames(exc.message)
            coords = "bus coordinate file" in exc.message.lower() and bool(frames)
            if not coords and (not bad or (frames and not _same_file(str(frames[-1][0]),
                                                                     path))):
                raise _file_problem(path, exc.number, exc.message) from None
            if coords:
                # coordinates only place the buses in the plots: a missing or unreadable
                # BusCoords file is a warning, and the script goes on after that command
                # (user test ut50_dss3 #5: refused, exit 2)
                warnings.append(_coords_warning(exc.message, frames[0]))
                frames = [(frames[0][0], frames[0][1] + 1), *frames[1:]]
            else:
                # Repair the zero-impedance switches, then run the rest of the script from
                # the command that failed, one command at a time (none when the failure was
                # the solve after the script, which has no file position): the rest of the
                # file that failed, then the rest of each file that redirected to it,
                # innermost first (user test ut49_part #2: a switch of a Redirected file was
                # refused).
                for name in bad:
                    _run(f"edit Line.{name} {SWITCH_DEFAULT}")
                warnings.append(
                    f"{len(bad)} switch line(s) with zero impedance ({', '.join(bad)}) get "
                    "OpenDSS's switch impedance (1 mOhm + j1 mOhm) for OpenDSS's solution; the "
                    "models take switches as ideal"
                )
            try:
                _resume_script(frames, skipped)
                _snapshot_mode(warnings)
                _fold_load_mult(warnings)
                _solve_unless_solved(warnings)
            except DSSFailure as final:
                raise _file_problem(path, final.number, final.message) from None
        except Exception as exc:
            raise _file_problem(path, *_split_error(exc)) from None
    if skipped:
        shown = ", ".join(skipped[:MAX_SKIPPED_NAMED])
        more = (f" and {len(skipped) - MAX_SKIPPED_NAMED} more"
                if len(skipped) > MAX_SKIPPED_NAMED else "")
        warnings.append(
            f"{len(skipped)} OpenDSS output command(s) of the script not run: {shown}{more}; "
            "reading a feeder writes no report file and opens no editor (run the script in "
            "OpenDSS for its reports)")
    return warnings


#: How many skipped output commands the reader's warning names.
MAX_SKIPPED_NAMED = 5


@contextmanager
def _neutral_output() -> Iterator[None]:
    """OpenDSS with no output outside a temporary folder while the block runs: its editor off
    (``AllowEditor``, which ``Show`` runs: ``xdg-open`` on Linux) and no forms
    (``AllowForms``), its ``DataPath`` (where reports without a file name of their own go) a
    temporary folder, removed afterwards, and the working directory and ``DataPath`` as they
    were after it. The output commands themselves are skipped by :func:`_run_script`."""
    dss = _dss()
    dss.Basic.AllowEditor(False)
    dss.Basic.AllowForms(False)
    before = str(dss.Basic.DataPath())
    with tempfile.TemporaryDirectory(prefix="feederopt-dss-") as scratch, _keep_cwd():
        dss.Basic.DataPath(scratch)
        try:
            yield
        finally:
            with suppress(Exception):
                dss.Basic.DataPath(before)


def _failure_frames(message: str) -> list[tuple[Path, int]]:
    """The file positions of an OpenDSS error, innermost first: ``Redirect`` (OpenDSS's own,
    and :func:`_run_script`'s) adds ``[file: "...", line: n]`` for the command that failed and
    then one for each ``Redirect``/``Compile`` that ran its file, up to the top-level script
    (checked with OpenDSSDirect.py: a master file that only Redirects IEEE 13 mod fails with
    ``[file: ".../network.ieee13mod.dss", line: 166] [file: ".../master.dss", line: 1]``)."""
    return [(Path(name).resolve(), int(line))
            for name, line in re.findall(r'\[file: "([^"]+)", line: (\d+)\]', message)]


def _resume_script(frames: list[tuple[Path, int]], skipped: list[str]) -> None:
    """Run the rest of a script that failed at ``frames`` (:func:`_failure_frames`, innermost
    first): the innermost file from the command that failed (run again), then each file that
    ran it from the command after its ``Redirect``/``Compile``, as OpenDSS would have gone on.
    The ``var`` macros the outer files define before their ``Redirect`` are read first, in
    the order OpenDSS reads them (:class:`~feederopt.io.dss_files.Macros`)."""
    if not frames:
        return
    macros = Macros()
    for file, line in reversed(frames[1:]):
        text = file.read_text(errors="replace").splitlines()
        for number, raw in numbered_commands(text):
            if number >= line:
                break
            macros.expand(raw)
    inner, line = frames[0]
    _run_script(inner, skipped, start=line, macros=macros)
    for file, line in frames[1:]:
        _run_script(file, skipped, start=line + 1, macros=macros, read_before=False)


def _run_script(path: Path, skipped: list[str], start: int = 1,
                macros: Macros | None = None, read_before: bool = True) -> None:
    """Run the script ``path`` (from its line ``start``) in OpenDSS, as ``Redirect`` runs it,
    without its output commands (:data:`~feederopt.io.dss_files.OUTPUT_COMMANDS`), each
    recorded in ``skipped`` with its file and line.

    A script with none (nor any script it runs) is OpenDSS's own ``Redirect``. Otherwise its
    commands are run one at a time in its folder, as ``Redirect`` does; a ``Redirect`` or
    ``Compile`` of another script is run the same way (``Compile`` as ``Redirect``: it
    would move ``DataPath`` into the script's folder); an error gets the file and line that
    ``Redirect`` adds to it (``[file: "...", line: n]``). A command is judged with its
    ``var`` macros expanded (:class:`~feederopt.io.dss_files.Macros`: ``@x voltages f.csv``
    with ``var @x=Export`` wrote ``f.csv`` beside the script) and run as written (OpenDSS
    expands it itself). The commands before ``start`` are not run; their macros are recorded
    unless ``read_before`` is False (the caller has recorded them).
    """
    if start <= 1 and not has_output_commands(path, _macros=macros):  # records its macros
        _run(f'redirect "{path}"')
        return
    macros = macros if macros is not None else Macros()
    lines = path.read_text(errors="replace").splitlines()
    with _keep_cwd():
        os.chdir(path.parent)
        for number, raw in numbered_commands(lines):
            if number < start and not read_before:
                continue
            command = macros.expand(raw)
            if number < start:
                continue
            if command_word(command) in OUTPUT_COMMANDS:
                skipped.append(f"'{raw}' ({path.name} line {number})")
                continue
            target = script_target(command)
            try:
                if target is not None:
                    _run_script((path.parent / target).resolve(), skipped, macros=macros)
                else:
                    _run(raw)
            except DSSFailure as exc:
                # this file's position after those of the files it ran, as OpenDSS adds them
                raise DSSFailure(exc.number,
                                 f'{exc.message} [file: "{path}", line: {number}]') from None


def _relative_to(file: Path, folder: Path) -> str:
    """``file`` as a path from ``folder`` (``sub/feeder.dss``; user test ut50_recheck #8: two
    files of one name in different folders), else as it is."""
    try:
        return file.resolve().relative_to(folder.resolve()).as_posix()
    except (OSError, ValueError):
        return str(file)


def _same_file(name: str, path: Path) -> bool:
    try:
        return Path(name).resolve() == path.resolve()
    except (OSError, ValueError):
        return False


#: The control classes whose actions OpenDSS's control loop iterates (``Solve``'s control
#: iterations, OpenDSS manual, "Control loop"); at most this many are tried one at a time.
LOOP_CONTROLS = ("capcontrol", "regcontrol", "invcontrol", "swtcontrol", "expcontrol",
                 "storagecontroller")
MAX_CONTROLS_TRIED = 30


def _unsettled_controls() -> list[str]:
    """The controls of the compiled circuit without which OpenDSS's solve settles: each is
    disabled in turn (``enabled=no``), the circuit solved, and enabled again. OpenDSS's error
    485 names none (its event log is empty through the API), and a control that steps
    across both of its settings (a kvar CapControl whose bank is larger than its ON-OFF band)
    switches back and forth until the iteration limit."""
    dss = _dss()
    names = [e for e in dss.Circuit.AllElementNames()
             if e.split(".", 1)[0].lower() in LOOP_CONTROLS][:MAX_CONTROLS_TRIED]
    out = []
    for element in names:
        try:
            dss.Text.Command(f"edit {element} enabled=no")
            dss.Text.Command("solve")
            if dss.Solution.Converged():
                out.append(element)
        except Exception:  # still not settling, or another error: not this one alone
            pass
        finally:
            with suppress(Exception):
                dss.Text.Command(f"edit {element} enabled=yes")
    return out


def _control_problem(path: Path, message: str, where: re.Match[str] | None) -> InputError:
    """OpenDSS error 485 ("Max Control Iterations Exceeded") as what it is: the solve's control
    loop does not settle (user test ut32_3ph D: it read "OpenDSS cannot read" with the file
    named twice), naming the controls without which it settles (:func:`_unsettled_controls`)."""
    culprits = _unsettled_controls()
    # the line number belongs to the file OpenDSS names (a Redirected one: session 49's
    # known list), not necessarily the top file
    line = ""
    if where is not None:
        inner = "" if _same_file(where.group(1), path) else \
            f" of '{_relative_to(Path(where.group(1)), path.parent)}'"
        line = f" at line {where.group(2)}{inner}"
    who = (f": {', '.join(culprits)} keep{'s' if len(culprits) == 1 else ''} switching (the "
           "solve settles without "
           f"{'it' if len(culprits) == 1 else 'any one of them'})" if culprits else "")
    return InputError([Problem(
        ProblemKind.INVALID_VALUE, "controls" if culprits else "file",
        f"OpenDSS's control loop does not settle when it solves '{path.name}'{line} (OpenDSS "
        f"error 485, Max Control Iterations Exceeded){who}",
        tuple(culprits) or (str(path),), None,
        "widen the control's dead band so that one step does not cross both settings (a "
        "CapControl's ONsetting/OFFsetting further apart than its bank's effect, a "
        "RegControl's band wider than a tap step), or disable it (enabled=no); Set "
        "MaxControlIter=... only helps a loop that settles slowly")])


def _negative_impedance(line: str) -> list[Problem]:
    """The negative or NaN length and impedances of ``Line.<line>`` in the circuit as far as
    OpenDSS compiled it (:func:`_line_value_problems`): the cause of its matrix inversion
    error when there is one, named by its field rather than the line's length."""
    dss = _dss()
    try:
        if str(dss.Lines.Name(line) or "").lower() != line.lower() \
                and str(dss.Lines.Name()).lower() != line.lower():
            return []
        return _line_value_problems(line, int(dss.Lines.Phases()))
    except Exception:  # the circuit is in no state to read it: OpenDSS's message stands
        return []


def _undefined_spacing(text: str) -> tuple[str, str] | None:
    """``(line, spacing)`` of OpenDSS's "You must assign the LineSpacing before the Wires
    Property ("Line.l67")": the ``spacing=`` that the failing command (its file and line,
    ``[file: "...", line: n]``) gives the line, which OpenDSS does not know (it drops an
    unknown spacing silently and fails on the wires). None when the command cannot be read
    back or names no spacing."""
    line = re.search(r'Wires Property \("?Line\.([^")]+)"?\)', text, re.I)
    at = re.search(r'\[file: "([^"]+)", line: (\d+)\]', text)
    if line is None or at is None:
        return None
    try:
        rows = Path(at.group(1)).read_text(errors="replace").splitlines()
        command = rows[int(at.group(2)) - 1]
    except (OSError, IndexError):
        return None
    named = re.search(r"\bspacing\s*=\s*([^\s,\]]+)", command, re.I)
    return (line.group(1), named.group(1)) if named else None


def _coords_warning(message: str, frame: tuple[Path, int]) -> str:
    """The warning for a ``BusCoords`` file that OpenDSS cannot read (``message``, its error
    at ``frame``: the script and the line of the command)."""
    text = " ".join(message.split())
    why = re.search(r'Unable to open file "([^"]+)":?\s*([^\[]*)', text)
    what = (f"'{why.group(1)}' ({why.group(2).strip() or 'unreadable'})" if why
            else "its file")
    return (f"the BusCoords command at line {frame[1]} of '{frame[0].name}' cannot read "
            f"{what}: the feeder is read without those bus coordinates, which only the plots "
            "use (the rest of the script was run)")


def _file_problem(path: Path, number: int, message: str, hint: str = "") -> InputError:
    text = " ".join(message.split())
    # error 401 is any object named before it is defined: a load's shape as well as a line code
    shape = re.search(r"(\w+)\.(daily|yearly|duty)\b", text, re.I) \
        if "loadshape object" in text.lower() else None
    field: str | None = "line_code" if number == 401 else None
    # error 401 of a line's geometry, and OpenDSS's "assign the LineSpacing before the Wires"
    # for a spacing it does not know: the undefined object named (user test ut50_dss3 #5: the
    # line code blamed, and "check the file with OpenDSS")
    geometry = re.search(r'(\w+)\.Geometry: LineGeometry object "([^"]+)" not found', text,
                         re.I)
    spacing = _undefined_spacing(text) if "linespacing before the wires" in text.lower() \
        else None
    if geometry is not None:
        kind, comp, field = ProblemKind.INVALID_VALUE, "lines", "geometry"
        hint = hint or (f"LineGeometry.{geometry.group(2)} (Line.{geometry.group(1)}'s "
                        "geometry=) is not defined before the line: define it (New "
                        f"LineGeometry.{geometry.group(2)} ...) above the line, or check its "
                        "name and the Redirects")
    elif spacing is not None:
        kind, comp, field = ProblemKind.INVALID_VALUE, "lines", "spacing"
        text += f" (Line.{spacing[0]} names spacing={spacing[1]}, which is not defined)"
        hint = hint or (f"LineSpacing.{spacing[1]} (Line.{spacing[0]}'s spacing=) is not "
                        "defined before the line: define it (New LineSpacing."
                        f"{spacing[1]} ...) above the line, or check its name and the "
                        "Redirects")
    elif shape is not None:
        kind, comp, field = ProblemKind.INVALID_VALUE, "loadshapes", shape.group(2).lower()
        hint = hint or ("the load shape is not defined before the load that names it; check "
                        "its name and the Redirects")
    elif number == 401 or "LineCode object" in text:
        kind, comp = ProblemKind.INVALID_VALUE, "lines"
    elif number == 243 or ("not found" in text.lower() and "redirect" in text.lower()):
        kind, comp = ProblemKind.UNREADABLE_FILE, "file"
    elif (bad_z := re.search(r'Matrix Inversion Error for Line "([^"]+)"', text, re.I)) \
            and (negative := _negative_impedance(bad_z.group(1))):
        # user test ut42_badin F4: a negative r1 was reported against the line's length
        at_line = re.search(r'\[file: "[^"]+", line: (\d+)\]', text)
        at = f" ('{path.name}'{', line ' + at_line.group(1) if at_line else ''})"
        return InputError([Problem(p.kind, p.component, p.message + at, p.ids, p.field, p.hint)
                           for p in negative])
    elif bad_z:
        # user test ut_3ph #10: a zero-length or zero-impedance line named, with no fix given
        kind, comp, field = ProblemKind.BAD_IMPEDANCE, "lines", "length"
        hint = hint or (f"Line.{bad_z.group(1)} has no impedance (Length=0, or r1=x1=0 and "
                        "the like): give it a length and an impedance, or make it a switch "
                        "(Switch=y) if it is one")
    else:
        kind, comp = ProblemKind.UNREADABLE_FILE, "file"
    ids = [str(path)]
    # the ids of a file's problem are files: the one OpenDSS names at "[file: ...]" (a
    # Redirected file), not the first quoted text, which is often an example command
    # ('"new circuit.mycktname"' of error 301 was listed as a file; user test ut50_iobad #6)
    quoted = re.search(r'"([^"]+)"', text)
    missing = number == 243 or ("not found" in text.lower() and "redirect" in text.lower())
    m = (quoted if comp != "file" or missing else re.search(r'\[file: "([^"]+)"', text))
    if m and not _same_file(m.group(1), path):  # the file itself is named once
        ids.append(m.group(1))
    where = f" (OpenDSS error {number})" if number >= 0 else ""
    return InputError([
        Problem(kind, comp, f"OpenDSS cannot read '{path.name}': {text}{where}", tuple(ids),
                field, hint or _ERROR_HINTS.get(number, "check the file with OpenDSS"))
    ])


# ---------------------------------------------------------------------------------------------
# reading the compiled circuit
# ---------------------------------------------------------------------------------------------


def _spec_nodes(spec: str, n_phases: int, n_conductors: int) -> list[int]:
    """The nodes OpenDSS connects a terminal's conductors to, from its bus spec (``"x.1.2"``):
    by default ``1, 2, ..`` for the phase conductors and 0 (ground) for the others, each
    replaced by the node the spec names in its place; nodes beyond the conductors are ignored.
    Used only where OpenDSS has no connection to report (a disabled element)."""
    nodes = [k + 1 if k < n_phases else 0 for k in range(n_conductors)]
    given = [p.strip() for p in spec.split(".")[1:]]
    for k, text in enumerate(given[:n_conductors]):
        if text.isdigit():
            nodes[k] = int(text)
    return nodes


def open_at_a_terminal() -> bool:
    """Is the active (enabled) element open at either of its two terminals (``Open Line.X
    term=2``, as IEEE 123's ties are given)? OpenDSS's own terminal state, any conductor."""
    dss = _dss()
    return any(bool(dss.CktElement.IsOpen(t, 0)) for t in (1, 2))


def open_on_some_conductors() -> list[int]:
    """The conductors (1-based) that the active element's terminals open when they do not
    open all of its phase conductors (``Open Line.X term=1 conductor=2``: one phase of a
    switch, a blown fuse); empty when every terminal is open on all or none."""
    dss = _dss()
    n = int(dss.CktElement.NumPhases())
    out: set[int] = set()
    for t in (1, 2):
        state = [bool(dss.CktElement.IsOpen(t, c)) for c in range(1, n + 1)]
        if any(state) and not all(state):
            out |= {c for c, o in zip(range(1, n + 1), state, strict=True) if o}
    return sorted(out)


def out_of_service_record(element: str, bus1: str, bus2: str) -> dict[str, str]:
    """The active series element's entry of ``meta["out_of_service"]``
    (:data:`~feederopt.network.threephase.OUT_OF_SERVICE`), which the supply check names when
    it cuts buses off the source: its buses, why it is out (``enabled=no``, or open at a
    terminal) and how to put it back, in OpenDSS's words."""
    dss = _dss()
    rec = {"from_bus": bus1, "to_bus": bus2}
    if not dss.CktElement.Enabled():
        return rec | {"why": "disabled: enabled=no", "fix": f"enable {element} (enabled=yes)"}
    term = next((t for t in (1, 2) if dss.CktElement.IsOpen(t, 0)), 1)
    return rec | {"why": f"open at terminal {term}: Open {element} term={term}",
                  "fix": f"close {element} (Close {element} term={term})"}


def terminals() -> list[tuple[str, list[int]]]:
    """The active element's terminals as OpenDSS connected them: per terminal, the bus name
    (lower case, without node suffix) and the node of each of its conductors.

    The nodes come from ``CktElement.NodeOrder()``, not from the bus name the file wrote:
    OpenDSS fills a bus spec that lists fewer nodes than the element has conductors with its
    defaults (a 3-phase line with ``bus2=x.1.2`` is connected to ``x.1.2.3``; a 1-phase delta
    load with ``bus1=x.1`` to ``x.1.0``, i.e. phase to ground), and ignores extra ones. Reading
    the suffix ourselves would model a different circuit from the one OpenDSS solves. A
    disabled element is not in OpenDSS's system and has no ``NodeOrder``; its nodes are
    OpenDSS's rule applied to its bus spec (:func:`_spec_nodes`).
    """
    dss = _dss()
    names = list(dss.CktElement.BusNames())
    nc = int(dss.CktElement.NumConductors())
    try:
        order = [int(n) for n in dss.CktElement.NodeOrder()]
    except Exception:  # DSSException 15013 "Nodes are not initialized" (disabled element)
        order = []
    if len(order) != nc * len(names):
        nph = int(dss.CktElement.NumPhases())
        order = [n for bus in names for n in _spec_nodes(bus, nph, nc)]
    return [(bus.split(".")[0].lower(), order[k * nc:(k + 1) * nc])
            for k, bus in enumerate(names)]


def _winding_nodes(nodes: list[int]) -> str:
    """A transformer terminal's nodes as ``from_nodes``/``to_nodes`` text, e.g. ``"1.2.3"``:
    trailing grounded conductors (node 0, OpenDSS's default neutral) are left out, since the
    model takes a missing neutral as ground."""
    while nodes and nodes[-1] == 0:
        nodes = nodes[:-1]
    return ".".join(map(str, nodes))


def _load_parts(nodes: list[int], nph: int, delta: bool,
                kv: float) -> list[tuple[str, str, float]]:
    """A load's parts ``(conn, phases, rated kV across the part)`` for its conductors' nodes as
    OpenDSS connected them (:func:`terminals`); ``[]`` if the model cannot represent it.

    As OpenDSS's Load connects them: a wye load has its phases to its neutral conductor (the
    last node; node 0, ground, by default); a 1-phase wye load whose neutral is another phase
    (``bus1=x.1.2``) is between the two phases. A 3-phase delta load is between its phase
    pairs; a 1-phase delta load has two conductors, and is phase to phase (``bus1=x.1.2``) or,
    when its bus spec names one node (``bus1=x.1``, IEEE 34's distributed loads), phase to
    ground, since OpenDSS connects the unnamed second conductor to node 0. The model takes a
    neutral on a node other than 1-3 as ground, as before; it has no 2-phase delta (open
    delta) load, and no load whose neutral is on a phase node unless it is one 1-phase load
    between two phases.
    """
    def live(n: int) -> bool:
        return 1 <= n <= 3

    phase_nodes = nodes[:nph]
    other = nodes[nph] if len(nodes) > nph else 0
    if len(phase_nodes) != nph or not all(live(n) for n in phase_nodes) or len(
            set(phase_nodes)) != nph:
        return []
    if live(other):  # the neutral (wye) or the second conductor (1-phase delta) on a phase
        if nph != 1 or other == phase_nodes[0]:
            return []
        return [("delta", _letters([phase_nodes[0], other]), kv)]
    if delta and nph == 1:
        return [("wye", _letters(phase_nodes), kv)]  # kV is the rating across the load
    if delta and nph == 3:
        ph = _letters(phase_nodes)
        return [("delta", ph[k] + ph[(k + 1) % 3], kv) for k in range(3)]
    if delta:
        return []  # a 2-phase delta load (open delta)
    v = kv if nph == 1 else kv / math.sqrt(3)
    return [("wye", _letters([n]), v) for n in phase_nodes]


class _NodeUsers:
    """Which elements connect to each ``(bus, node)`` of the solved circuit, built on first
    use (only a bank with a node 4+ asks): a bank's neutral that nothing else connects to is
    floating (:mod:`feederopt.io.opendss_shunts`)."""

    def __init__(self) -> None:
        self._users: dict[tuple[str, int], set[str]] | None = None

    def floating(self, element: str,
                 terms: list[tuple[str, list[int]]]) -> set[tuple[str, int]]:
        """The nodes 4+ of ``element`` (OpenDSS's full name) that no other enabled element
        uses; ``element`` is the active one again afterwards (its class's too)."""
        candidates = floating_candidates(terms)
        if not candidates:
            return set()
        if self._users is None:
            self._users = {}
            dss = _dss()
            for name in dss.Circuit.AllElementNames():
                dss.Circuit.SetActiveElement(name)
                if not dss.CktElement.Enabled():
                    continue
                for bus, nodes in terminals():
                    for n in nodes:
                        self._users.setdefault((bus, n), set()).add(name.lower())
            dss.Circuit.SetActiveElement(element)
        own = element.lower()
        return {key for key in candidates if self._users.get(key, set()) <= {own}}


def _shunt_shape_problem(element: str, name: str, component: str,
                         terms: list[tuple[str, list[int]]], nph: int, delta: bool,
                         floating: set[tuple[str, int]]) -> Problem:
    """The ``unsupported_element`` problem of a shunt bank (``Capacitor`` or ``Reactor``) that
    :func:`~feederopt.io.opendss_shunts.shunt_row` has no row for, naming its branches as
    OpenDSS connects them."""
    branches = ", ".join(f"{a}-{b}" for a, b in branch_nodes(terms, nph, delta))
    free = sorted({n for _, n in floating})
    afloat = (f"; node(s) {', '.join(map(str, free))} connect to nothing else (floating)"
              if free else "")
    return Problem(
        ProblemKind.UNSUPPORTED_ELEMENT, component,
        f"{element} ({nph}-phase, {'delta' if delta else 'wye'}) on bus {terms[0][0]} "
        f"has branches between nodes {branches} (as OpenDSS connects it; node 0, or 4+ that "
        f"another element connects to, is ground{afloat}): the model holds a shunt bank as "
        "phase-to-ground branches (wye), one branch between two phases, or a closed delta "
        "of equal branches on all three (an ungrounded wye of equal branches is one)",
        (name,), "conn",
        "give it as a 3-phase bank (bus1=x.1.2.3, wye or delta; ungrounded wye: "
        "bus2=x.4.4.4), a 1-phase bank phase to ground (bus1=x.1) or a 1-phase delta bank "
        "between two phases (bus1=x.1.2 phases=1 conn=delta), or as several such elements")


def _floating_der_problem(full: str, name: str, bus: str, nodes: list[int], nph: int,
                          floating: set[tuple[str, int]], vn_kv: float) -> Problem:
    """The ``invalid_value`` problem of a generator, PV system or storage unit of one or two
    phases whose neutral (its conductor after the phases, ``bus1=x.2.4``) is on a node 4+ that
    nothing else connects (:class:`_NodeUsers`; user test ut39_tph #1).

    OpenDSS connects the unit between its phase node(s) and that node, which nothing ties to
    ground or a phase: the node floats. A 1-phase unit then sees ``V_2 - V_4 = 0`` and injects
    nothing (its kV rating is not the cause), or, with ``Vminpu`` low enough that it stays a
    constant-power source, drives its current into the floating node (hundreds of kW, the
    node at twice the phase voltage, no converged solution); a 2-phase unit's two halves are
    in series between its phases. The model holds a unit phase to ground or between two
    phases, so it is refused by name. The hint gives the line-to-neutral kV of the bus,
    ``vn_kv / sqrt(3)``, which a unit phase to ground is rated at."""
    free = sorted({n for _, n in floating})
    phase_spec = ".".join(str(n) for n in nodes[:nph])
    kv = (f" kV={vn_kv / math.sqrt(3):.4g}" if nph == 1 else f" kV={vn_kv:.4g}"
          ) if vn_kv > 0 else ""
    sees = ("the node floats at the phase's voltage, so the unit sees no voltage and "
            "OpenDSS's solution has it at 0 kW (not a kV mismatch); with a low Vminpu it "
            "drives its current into the floating node" if nph == 1 else "the node floats "
            f"between phase nodes {phase_spec}, so OpenDSS runs the unit's two phases in "
            "series between them, not phase to ground")
    return Problem(
        ProblemKind.INVALID_VALUE, "generators",
        f"{full} has its {'second' if nph == 1 else 'neutral'} conductor on node "
        f"{', '.join(map(str, free))} of bus {bus} (bus1={bus}.{'.'.join(map(str, nodes))}), "
        f"which nothing connects to ground or a phase: {sees}", (name,), "bus1",
        f"ground node {free[0]} of bus {bus} (e.g. a Reactor from {bus}.{free[0]} to ground), "
        f"or connect the unit phase to ground: bus1={bus}.{phase_spec}{kv}")


#: The balanced readers' "absurdly large" power [kW, kvar, kVA, kWh]:
#: :data:`~feederopt.network.validate.LOAD_PU_MAX` p.u. of
#: :data:`~feederopt.network.validate.MAGNITUDE_BASE_MVA` (1e6 MW).
HUGE_KW = LOAD_PU_MAX * MAGNITUDE_BASE_MVA * 1000.0


def _load_value_problem(ld: str, kw: float, kvar: float, kv: float) -> Problem | None:
    """A ``bad_load`` problem for a load whose kW is negative, whose kW/kvar is not finite or
    whose rated kV is not a positive number.

    A negative kW would be generation hidden in a load (the pandapower and folder readers refuse
    it too: model generation as a Generator or PVSystem); NaN or inf spoils OpenDSS's solution,
    and so does ``kV=0`` (its power flow ends in NaN, which read as NaN outputs of the DERs,
    naming them instead of the load).
    """
    if not (math.isfinite(kv) and kv > 0):
        return Problem(ProblemKind.BAD_LOAD, "loads", f"Load.{ld}: kV is {kv:g}, not a "
                       "positive number", (ld,), "kV", "give the load's rated kV (line to line "
                       "for a 3-phase or delta load, across the load otherwise), e.g. kV=4.16")
    if not math.isfinite(kw):
        return Problem(ProblemKind.BAD_LOAD, "loads", f"Load.{ld}: kW is {kw}, not a finite "
                       "number", (ld,), "kW", "give the load's kW as a number, e.g. kW=170")
    if not math.isfinite(kvar):
        return Problem(ProblemKind.BAD_LOAD, "loads", f"Load.{ld}: kvar is {kvar}, not a "
                       "finite number", (ld,), "kvar",
                       "give the load's kvar as a number, e.g. kvar=80")
    for prop, value in (("kW", kw), ("kvar", kvar)):
        if abs(value) > HUGE_KW:  # user test ut42_badin F2: kW=1e300 was read, exit 0
            return Problem(ProblemKind.BAD_LOAD, "loads", f"Load.{ld}: {prop} is absurdly "
                           f"large ({value:.3g}): above {HUGE_KW:g} {prop} ({LOAD_PU_MAX:g} "
                           f"p.u. of {MAGNITUDE_BASE_MVA:g} MVA)", (ld,), prop,
                           f"give the load's {prop} in {prop} (not W), e.g. {prop}=170")
    if kw < 0:
        return Problem(ProblemKind.BAD_LOAD, "loads", f"Load.{ld}: kW is negative ({kw:g})",
                       (ld,), "kW", "give the load's consumption as kW >= 0; model "
                       "generation as a Generator or PVSystem element")
    return None


#: The properties of a DER class that must be finite numbers, and whether each must be >= 0
#: (a rating or a stored energy); OpenDSS reads ``kW=nan`` as NaN (``----``) and takes
#: a negative rating as it is.
DER_VALUES = {
    "generator": (("kW", True), ("kVA", True), ("kvar", False)),
    "pvsystem": (("Pmpp", True), ("kVA", True), ("irradiance", True), ("kvar", False)),
    "storage": (("kWrated", True), ("kVA", True), ("kWhrated", True), ("kWhstored", True),
                ("kW", False), ("kvar", False)),
}


def _der_value_problems() -> list[Problem]:
    """An ``invalid_value`` problem per DER property (:data:`DER_VALUES`) that is not a finite
    number or is a negative rating, naming the element and the property. A NaN spoils
    OpenDSS's solution, so that every DER's solved output reads NaN (before: a problem naming
    every generator for one NaN); a negative rating made ``partition`` report "no robustly
    feasible partition" (exit 1), a negative kVA was taken silently."""
    dss = _dss()
    out: list[Problem] = []
    for cls, coll in (("generator", dss.Generators), ("pvsystem", dss.PVsystems),
                      ("storage", dss.Storages)):
        for el in _iterate(coll):
            full = dss.CktElement.Name()
            for prop, rating in DER_VALUES[cls]:
                dss.Text.Command(f"? {cls}.{el}.{prop}")
                text = dss.Text.Result().strip()
                try:
                    v = float(text)
                except ValueError:
                    v = math.nan  # OpenDSS writes NaN as '----'
                if not math.isfinite(v):
                    why = f"{prop} is {v}, not a finite number"
                elif abs(v) > HUGE_KW and prop != "irradiance":
                    why = (f"{prop} is absurdly large ({v:.3g}): above {HUGE_KW:g} "
                           f"({LOAD_PU_MAX:g} p.u. of {MAGNITUDE_BASE_MVA:g} MVA)")
                elif rating and v < 0:
                    why = f"{prop} is negative ({v:g}); a rating must be >= 0"
                else:
                    continue
                out.append(Problem(ProblemKind.INVALID_VALUE, "generators", f"{full}: {why}",
                                   (full,), prop, f"give the element's {prop} as a number"
                                   + (" >= 0" if rating else "")))
    return out


def _line_nodes_problem(line: str, n: int, end1: tuple[str, list[int]],
                        end2: tuple[str, list[int]]) -> Problem:
    """The problem of the active line ``line`` (``n`` phases) whose nodes the model cannot
    take, its ends ``(bus, nodes as OpenDSS connects them)``: a node used twice at an end (a
    bus spec with fewer nodes than the line has phases, which OpenDSS fills with its defaults:
    ``bus1=x.2.3`` on a 3-phase line code is ``x.2.3.3``; or a node written twice), else
    different phases or orders at the two ends."""
    dss = _dss()
    for key, (bus, nodes), spec in (("bus1", end1, dss.Lines.Bus1()),
                                    ("bus2", end2, dss.Lines.Bus2())):
        twice = sorted({x for x in nodes if nodes.count(x) > 1})
        if not twice:
            continue
        given = len([p for p in str(spec).split(".")[1:] if p.strip()])
        code = str(dss.Lines.LineCode() or "")
        has = f"{n} phases (its line code {code} has {n})" if code else f"{n} phases"
        if 0 < given < n:
            return Problem(
                ProblemKind.INVALID_VALUE, "lines",
                f"Line.{line} uses node {twice[0]} of bus {bus} twice: it has {has} but "
                f"{key}={spec} gives {given} node{'s' if given != 1 else ''}, so OpenDSS "
                f"connects its conductors to nodes {nodes}", (line,), key,
                f"give as many nodes as the line has phases, each once: a {given}-phase "
                f"line code for {key}={spec}, or {n} nodes")
        return Problem(
            ProblemKind.INVALID_VALUE, "lines",
            f"Line.{line} uses node {twice[0]} of bus {bus} twice ({key}={spec}: OpenDSS "
            f"connects its {n} conductors to nodes {nodes})", (line,), key,
            "give each of the line's phases its own node, e.g. bus1=x.1.2 bus2=y.1.2")
    b1, n1 = end1
    b2, n2 = end2
    extra = [x for x in n1 if x > 3]
    if n1 == n2 and extra and all(1 <= x <= 3 for x in n1[:len(n1) - len(extra)]) \
            and n1[len(n1) - len(extra):] == extra:
        # user test ut32_3ph H1/H12: a 4-wire line (phases=4 on x.1.2.3.4) or a LineGeometry
        # with nconds=4 nphases=3 reduce=no keeps its neutral as a conductor on node 4; the
        # hint was about dots in bus names. The model is three-wire: the neutral is Kron-
        # reduced out, z_abc = z_pp - z_pn z_nn^-1 z_np (Kersting, Distribution System
        # Modeling and Analysis, 4.2), which OpenDSS does with reduce=yes / Kron=yes
        geometry = str(dss.Lines.Geometry() or "")
        code = str(dss.Lines.LineCode() or "")
        fix = (f"Kron-reduce the neutral: reduce=yes on LineGeometry.{geometry}"
               if geometry else
               f"Kron-reduce the neutral: Kron=yes (neutral={extra[-1]}) on LineCode.{code}"
               if code else
               "give the line its phase conductors only, with the neutral Kron-reduced into "
               "its matrices (a LineCode with Kron=yes, or a LineGeometry with reduce=yes)")
        on = ", ".join(map(str, extra))
        return Problem(
            ProblemKind.UNSUPPORTED_ELEMENT, "lines",
            f"Line.{line} has a neutral conductor (OpenDSS connects it to node(s) {on} "
            f"of buses {b1} and {b2}): the model is three-wire and holds phase "
            "conductors 1-3 only, with the neutral reduced out", (line,),
            "geometry" if geometry else "linecode" if code else "phases",
            f"{fix}, and connect it as bus1={b1}.1.2.3 bus2={b2}.1.2.3 (Kron reduction keeps "
            "the neutral's effect in the phase impedances)")
    # the end whose nodes are no phase (a bus name with a dot, F1.680, is node 680 of bus
    # f1) is the one to name; the field said bus2 whichever end it was (user test ut_dss)
    odd = [(key, [x for x in nodes if not 1 <= x <= 3], spec) for key, nodes, spec in (
        ("bus1", n1, dss.Lines.Bus1()), ("bus2", n2, dss.Lines.Bus2()))]
    bad = [(key, xs, spec) for key, xs, spec in odd if xs]
    key = bad[0][0] if len(bad) == 1 else "bus2"
    dotted = "".join(
        f"; {k}={spec} has node{'s' if len(xs) > 1 else ''} {', '.join(map(str, xs))}, "
        f"which {'are' if len(xs) > 1 else 'is'} no phase (OpenDSS reads what follows a bus "
        "name's first dot as its nodes)" for k, xs, spec in bad)
    return Problem(
        ProblemKind.INVALID_VALUE, "lines",
        f"Line.{line} connects nodes {n1} of bus {b1} to nodes {n2} of bus {b2} (as OpenDSS "
        "connects them): the model needs the same phases 1-3, in the same order, at both "
        f"ends{dotted}", (line,), key,
        "".join(f"if {spec} names one bus, its name cannot hold a dot (e.g. "
                f"{str(spec).replace('.', '_', 1)}); " for _, _, spec in bad[:1])
        + "connect the same phases at both ends, e.g. bus1=x.1.2 bus2=y.1.2")


def _letters(nodes: list[int]) -> str:
    return "".join(PHASES[n - 1] for n in nodes if 1 <= n <= 3)


def _iterate(collection: Any) -> Iterator[str]:
    for name in collection.AllNames() or []:
        if name == "NONE":
            continue
        collection.Name(name)
        yield name


def _line_matrices(n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Whole-line series impedance [Ohm] and shunt susceptance [S] from the primitive Y."""
    dss = _dss()
    raw = np.asarray(dss.CktElement.YPrim(), float)
    if raw.size != 2 * (2 * n) ** 2:
        return None
    y = (raw[0::2] + 1j * raw[1::2]).reshape(2 * n, 2 * n)
    ys = -y[:n, n:]
    if not np.all(np.isfinite(ys)) or abs(np.linalg.det(ys)) < 1e-300:
        return None
    z = np.linalg.inv(ys)
    b = 2 * (y[:n, :n] + y[:n, n:]).imag
    return z, b


#: OpenDSS's ``Units`` codes of a line, as the names a file writes.
_UNIT_NAMES = {0: "unit length", 1: "mi", 2: "kft", 3: "km", 4: "m", 5: "ft", 6: "in", 7: "cm",
               8: "mm"}

#: Metres per OpenDSS length unit, by its code (``Lines.Units()``, ``LineCodes.Units()``: 0 none,
#: 1 mi, 2 kft, 3 km, 4 m, 5 ft, 6 in, 7 cm, 8 mm); none is read as 1 (the bare number).
UNIT_M = {0: 1.0, 1: 1609.344, 2: 304.8, 3: 1000.0, 4: 1.0, 5: 0.3048, 6: 0.0254, 7: 0.01,
          8: 0.001}

#: The length units OpenDSS knows, as the reader's hint names them.
KNOWN_UNITS = "none, mi, kft, km, m, ft, in, cm, mm"


def _length_units(code_units: Mapping[str, int]) -> int:
    """OpenDSS's unit of the active line's ``Length`` (a code of :data:`UNIT_M`): the line's
    own ``units``, or, when it gives none, its line code's. OpenDSS manual, Line, ``units``:
    "Default is None - assumes length units match impedance units", and a line code's
    impedances are per its ``units`` (checked with OpenDSSDirect.py: ``Linecode.lck
    units=kft`` with ``Line.L4 linecode=lck length=1.2`` and no unit has ``Lines.Units()`` 0,
    ``R1`` 0.1 per kft and the series impedance of 1.2 kft). ``code_units`` maps each line
    code (lower case) to its ``LineCodes.Units()``. User test ut48_dss3 #5: L4 was 1.2 m
    long, not 365.76 m, and IEEE 37 (line codes per kft, lines without a unit) had no
    length unit at all."""
    dss = _dss()
    units = int(dss.Lines.Units())
    if units == 0:
        units = code_units.get((dss.Lines.LineCode() or "").lower(), 0)
    return units


def _sequence_mode(line: str) -> bool:
    """Is the active line given by sequence impedances (``r1``, ``x1``, ``r0``, ``x0``)?
    OpenDSS reports those properties as ``----`` for a line given by matrices or a matrix line
    code, while its ``R1()`` etc. then still hold the defaults."""
    dss = _dss()
    dss.Text.Command(f"? line.{line}.r1")
    return dss.Text.Result().strip() != "----"


def _line_value_problems(line: str, n: int,
                         code_units: Mapping[str, int] | None = None,
                         vn_kv: float = 0.0) -> list[Problem]:
    """Negative or NaN length and impedances of the active line, as ``bad_impedance`` problems
    on the property that the file sets: ``length``; the line's ``linecode`` when it has one;
    else ``r1``/``x1``/``r0``/``x0`` for a line given by sequence impedances, or
    ``rmatrix``/``xmatrix`` (a negative self term, a NaN anywhere; a mutual term may be
    negative). OpenDSS accepts them, and a negative resistance gives negative losses (a
    negative length scales the whole impedance). Zero is allowed: switches and jumpers may
    have zero length or impedance. Sound values that are absurdly large are the problems of
    :func:`_huge_line_problems` (``vn_kv``: the from bus's nominal voltage, 0 unknown)."""
    out = _line_sign_problems(line, n, code_units)
    unit = _UNIT_NAMES.get(_length_units(code_units or {}), "unit length")
    return out or _huge_line_problems(line, vn_kv, unit)


#: How a line's property is said in a problem of :func:`_huge_line_problems`: its quantity, the
#: unit per unit length, and whether it is a shunt capacitance (else a series impedance).
_LINE_MAGNITUDES = {"r1": ("resistance", "Ohm", False), "x1": ("reactance", "Ohm", False),
                    "r0": ("resistance", "Ohm", False), "x0": ("reactance", "Ohm", False),
                    "c1": ("capacitance", "nF", True), "c0": ("capacitance", "nF", True),
                    "rmatrix": ("resistance", "Ohm", False),
                    "xmatrix": ("reactance", "Ohm", False),
                    "cmatrix": ("capacitance", "nF", True)}


def _huge_line_problems(line: str, vn_kv: float = 0.0, unit: str = "unit length",
                        ) -> list[Problem]:
    """``bad_impedance`` problems of the active line whose whole-line series impedance or
    shunt admittance is absurdly large: above
    :data:`~feederopt.network.validate.IMPEDANCE_PU_MAX` p.u., the bound of the balanced
    checks (:mod:`feederopt.network.validate`, ``_huge_impedance_problems``,
    ``_huge_shunt_problems``), on :data:`~feederopt.network.validate.MAGNITUDE_BASE_MVA`:

        z_pu = |r| L / Z_b,   y_pu = 2 pi f |c| 1e-9 L Z_b,   Z_b = vn_kv^2 / S_b

    with ``r`` [Ohm per unit length] each of ``r1``, ``x1``, ``r0``, ``x0`` (or the terms of
    ``rmatrix``/``xmatrix``), ``c`` [nF per unit length] ``c1``, ``c0`` (``cmatrix``), ``L``
    the ``length``, ``f`` = 60 Hz, ``vn_kv`` the from bus's nominal voltage
    (:data:`~feederopt.network.validate.VN_KV_MAX` when unknown, which errs towards
    accepting). OpenDSS takes ``c1=1e300`` as it is and solves a circuit whose every node is
    de-energised (``info`` said "problems: none", exit 0); ``r1=1e300`` failed in its matrix
    inversion and was reported as a line without impedance. The problem names the property
    that the file sets: the line's ``linecode`` when it has one, ``length`` when the values
    per unit length are sound and the length makes them huge, else the property; ``unit`` is
    the name of the line's length unit."""
    dss = _dss()
    length = float(dss.Lines.Length())
    if not math.isfinite(length):
        return []
    z_base = (vn_kv if math.isfinite(vn_kv) and vn_kv > 0 else VN_KV_MAX) ** 2 \
        / MAGNITUDE_BASE_MVA
    omega = 2 * math.pi * 60.0
    # the line's matrices hold its sequence values too (Z_s = (2 z1 + z0) / 3, Z_m = (z0 -
    # z1) / 3, so |z1| = |Z_s - Z_m| and |z0| = |Z_s + 2 Z_m| are at most 3 max|Z|): a line
    # within a third of the bound is done without asking OpenDSS how the file gives them (a
    # command per line, a third of the read time of Iowa 240)
    r, x, c = (np.abs(np.asarray(v, float)) for v in (
        dss.Lines.RMatrix(), dss.Lines.XMatrix(), dss.Lines.CMatrix()))
    if all(np.all(np.isfinite(m)) for m in (r, x, c)) and abs(length) * max(
            max(float(r.max(initial=0.0)), float(x.max(initial=0.0))) / z_base,
            float(c.max(initial=0.0)) * omega * 1e-9 * z_base) <= IMPEDANCE_PU_MAX / 3:
        return []
    if _sequence_mode(line):
        values = {"r1": [dss.Lines.R1()], "x1": [dss.Lines.X1()], "r0": [dss.Lines.R0()],
                  "x0": [dss.Lines.X0()], "c1": [dss.Lines.C1()], "c0": [dss.Lines.C0()]}
    else:
        values = {"rmatrix": dss.Lines.RMatrix(), "xmatrix": dss.Lines.XMatrix(),
                  "cmatrix": dss.Lines.CMatrix()}
    out: list[Problem] = []
    code = str(dss.Lines.LineCode() or "")
    for key, raw in values.items():
        m = np.abs(np.asarray(raw, float))
        if m.size == 0 or not np.all(np.isfinite(m)):
            continue
        what, quantity, shunt = _LINE_MAGNITUDES[key]
        per_length = float(m.max())
        scale = omega * 1e-9 * z_base if shunt else 1.0 / z_base
        pu = per_length * abs(length) * scale
        if not pu > IMPEDANCE_PU_MAX:
            continue
        base = (f"the admittance base {MAGNITUDE_BASE_MVA:g} MVA / vn_kv^2" if shunt else
                f"the impedance base vn_kv^2 / {MAGNITUDE_BASE_MVA:g} MVA") + \
            (f", vn_kv {vn_kv:g} kV" if vn_kv > 0 else
             f", the from bus's vn_kv not known, taken as {VN_KV_MAX:g} kV")
        said = f"{key}={per_length:.4g}" if len(raw) == 1 else f"{key} up to {per_length:.4g}"
        message = (f"Line.{line} has {said} {quantity} per {unit} and Length={length:g}: its "
                   f"{'shunt' if shunt else 'series'} {what} is absurdly large")
        message += f", {pu:.3g} p.u., above {IMPEDANCE_PU_MAX:g} p.u. of {base}"
        typical = ("a line's capacitance is some nF per unit length (c1 of an overhead line "
                   "about 10-15 nF/km, a cable some hundred nF/km)" if shunt else
                   "a line's resistance and reactance are a fraction of an Ohm per km")
        if code:
            field, hint = "linecode", f"correct LineCode.{code}'s {key}: {typical}"
            message = message.replace(f"Line.{line} has", f"Line.{line} (LineCode.{code}) has")
        elif per_length * scale <= IMPEDANCE_PU_MAX:
            # the length makes every sound value huge: said once, on the length
            return [Problem(ProblemKind.BAD_IMPEDANCE, "lines", message, (line,), "length",
                            f"check Line.{line}'s length and its units: {typical}, a "
                            "feeder's line some m to some km long")]
        else:
            field, hint = key, f"check {key} and its unit ({quantity} per {unit}): {typical}"
        out.append(Problem(ProblemKind.BAD_IMPEDANCE, "lines", message, (line,), field, hint))
    return out


def _line_sign_problems(line: str, n: int,
                        code_units: Mapping[str, int] | None = None) -> list[Problem]:
    """The negative and NaN problems of :func:`_line_value_problems`."""
    dss = _dss()
    element = f"Line.{line}"
    out: list[Problem] = []
    length = float(dss.Lines.Length())
    unit = _UNIT_NAMES.get(_length_units(code_units or {}), "unit length")
    if not length >= 0:  # NaN too
        out.append(Problem(
            ProblemKind.BAD_IMPEDANCE, "lines",
            f"{element} has Length={length:g}: a length cannot be negative or NaN", (line,),
            "length", f"give the line's length as a number >= 0 in its units (here {unit})"))
    seq = {"r1": dss.Lines.R1(), "x1": dss.Lines.X1(), "r0": dss.Lines.R0(),
           "x0": dss.Lines.X0()}
    bad = {k: float(v) for k, v in seq.items() if not float(v) >= 0}
    if bad and not _sequence_mode(line):
        bad = {}
    if not bad:
        for key, values in (("rmatrix", dss.Lines.RMatrix()), ("xmatrix", dss.Lines.XMatrix())):
            m = np.asarray(values, float)
            if m.size != n * n:
                continue
            m = m.reshape(n, n)
            if not np.all(np.isfinite(m)):
                bad[key] = math.nan
            elif np.any(np.diag(m) < 0):
                bad[key] = float(np.diag(m).min())
    if not bad:
        return out
    code = dss.Lines.LineCode()
    if code:
        out.append(Problem(
            ProblemKind.BAD_IMPEDANCE, "lines",
            f"{element} uses LineCode.{code}, whose {'/'.join(bad)} is negative or NaN: the "
            "line would have negative losses", (line,), "linecode",
            f"correct LineCode.{code}: resistances and reactances >= 0 (in a matrix, the "
            "diagonal terms)"))
        return out
    for key, value in bad.items():
        if not key.endswith("matrix"):
            text, hint = f"{key}={value:g}", f"give {key} >= 0, in Ohm per {unit}"
        elif math.isnan(value):
            text, hint = f"a NaN term in {key}", f"give every term of {key} as a number"
        else:
            text = f"a negative diagonal term in {key} ({value:g})"
            hint = f"give the diagonal (self) terms of {key} >= 0, in Ohm per {unit}"
        out.append(Problem(
            ProblemKind.BAD_IMPEDANCE, "lines",
            f"{element} has {text}: an impedance cannot be negative or NaN (negative losses)",
            (line,), key, hint))
    return out


def read_opendss(path: str | Path, *, name: str | None = None,
                 settings: str | Path | None = None) -> ThreePhaseNetwork:
    """A three-phase network from an OpenDSS file, compiled and solved by OpenDSS.

    ``settings`` is a PowerModelsONM settings file (JSON); its ``dss`` section marks inverters
    as grid-forming (``"inverter": "GRID_FORMING"``/``"gfm"``).
    """
    dss = _dss()
    path = Path(path).resolve()
    warnings = compile_circuit(path)
    problems: list[Problem] = []

    # ---- buses --------------------------------------------------------------------------
    bus_rows = []
    empty_buses: list[str] = []  # in the circuit, but no enabled element connects them
    for bus in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(bus)
        if not _names_of(dss.Bus.AllPDEatBus()) and not _names_of(dss.Bus.AllPCEatBus()):
            empty_buses.append(bus.lower())
        nodes = [n for n in dss.Bus.Nodes() if 1 <= n <= 3]
        kv_ln = float(dss.Bus.kVBase())
        coords = dss.Bus.Coorddefined()
        bus_rows.append({
            "id": bus.lower(),
            "phases": "".join(sorted(_letters(nodes))),
            "vn_kv": kv_ln * math.sqrt(3) if kv_ln > 0 else 0.0,
            "x": float(dss.Bus.X()) if coords else None,
            "y": float(dss.Bus.Y()) if coords else None,
        })

    if empty_buses:  # OpenDSS's solution is singular: said first, before its NaN voltages
        problems.append(_empty_bus_problem(empty_buses))
    no_phase = [b["id"] for b in bus_rows if not b["phases"]]
    if no_phase:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "buses", "bus has no phases (only node 0)",
            tuple(no_phase), "phases", "connect the bus through nodes 1, 2 or 3"))

    # disabled elements on a bus that OpenDSS's circuit does not have (no enabled element
    # touches it): not in OpenDSS's circuit, so not in the model (a note names them)
    disabled_out: list[str] = []

    # ---- sources ------------------------------------------------------------------------
    src_rows = []
    disabled_sources: list[str] = []
    for vs in _iterate(dss.Vsources):
        if not dss.CktElement.Enabled():  # not in OpenDSS's circuit: it energises nothing
            disabled_sources.append(f"Vsource.{vs}")
            continue
        bus = terminals()[0][0]
        seq = {}
        for prop in ("R1", "X1", "R0", "X0"):
            dss.Text.Command(f"? vsource.{vs}.{prop}")
            seq[prop.lower() + "_ohm"] = float(dss.Text.Result())
        set_point = {"pu": float(dss.Vsources.PU()), "angle": float(dss.Vsources.AngleDeg())}
        src_rows.append({"id": vs, "bus": bus, "v_set_pu": set_point["pu"],
                         "angle_deg": set_point["angle"],
                         "vn_kv": float(dss.Vsources.BasekV()), **seq})
        # a NaN set-point leaves OpenDSS's solution NaN, which read as NaN outputs of the DERs
        # (IEEE 13 with pu=nan named Generator.675 and the PVSystems); a source is named here
        bad_set = [(f, v) for f, v in set_point.items() if not math.isfinite(v)]
        if bad_set:
            raise InputError(problems + [Problem(
                ProblemKind.INVALID_VALUE, "sources", f"Vsource.{vs}: {f} is {v}, not a finite "
                "number", (vs,), f, "give the source's per-unit voltage (e.g. pu=1.0) and its "
                "angle in degrees as numbers") for f, v in bad_set])
    if disabled_sources and not src_rows:
        raise InputError([*problems, _disabled_sources_problem(disabled_sources)])
    if disabled_sources:
        warnings.append(f"{', '.join(disabled_sources)} disabled (enabled=no): not a source "
                        "of the model, as OpenDSS's circuit does not have it")

    # ---- switch controls ----------------------------------------------------------------
    controlled: dict[str, bool] = {}  # line -> normally open
    locked: dict[str, str] = {}  # line -> its SwtControl, Lock=yes: OpenDSS never operates it
    held_notes: list[str] = []  # the locked switches, held in their state (meta["held"])
    # what info and solve both say of the file's lines (meta["reductions"]): a disabled plain
    # line between live buses, a length unit OpenDSS does not know (ut48_dss3 #6)
    line_notes: list[str] = []
    for ctl in _iterate(dss.SwtControls):
        obj = dss.SwtControls.SwitchedObj().lower()
        if obj.startswith("line."):
            controlled[obj[5:]] = dss.SwtControls.NormalState() == 1 or (
                dss.SwtControls.State() == 1
            )
            if bool(dss.SwtControls.IsLocked()):
                locked[obj[5:]] = ctl

    # ---- centre-tapped service transformers and their secondaries -----------------------
    sec = _secondaries(src_rows, problems)
    buses_by_id = {b["id"]: b for b in bus_rows}
    for bus, unit_name in sec.bus_unit.items():
        if bus in buses_by_id:
            buses_by_id[bus]["phases"] = sec.units[unit_name].phase
            buses_by_id[bus]["vn_kv"] = sec.units[unit_name].kv_sec * math.sqrt(3)

    # ---- lines --------------------------------------------------------------------------
    line_rows, z_rows = [], []
    # the series elements out of service, why and how to put them back (meta["out_of_service"])
    out_of_service: dict[str, dict[str, str]] = {}
    dead_ties: list[str] = []  # open lines to a phase their bus does not have
    # each line code's length unit: a line without one takes it (_length_units)
    code_units = {code.lower(): int(dss.LineCodes.Units()) for code in _iterate(dss.LineCodes)}
    # the units the script writes, to name one that OpenDSS did not know (units=furlong)
    written = length_units_written(path)
    unknown_units: list[str] = []
    for code, code_unit in code_units.items():
        given = written.get(f"linecode.{code}")
        if code_unit == 0 and given and not "none".startswith(given.lower()):
            unknown_units.append(
                f"LineCode.{code} units={given} (its impedances are taken per the length "
                "unit of each line that uses it)")
    # lines with a length but no unit, neither their own nor their line code's (OpenDSS's
    # units=none): read as metres
    unitless = 0
    for line in _iterate(dss.Lines):
        n = int(dss.Lines.Phases())
        (b1, n1), (b2, n2) = terminals()
        enabled = bool(dss.CktElement.Enabled())
        is_switch = bool(dss.Lines.IsSwitch()) or line in controlled
        problems += _line_value_problems(
            line, n, code_units, float(buses_by_id.get(b1, {}).get("vn_kv") or 0.0))
        unit = sec.unit_of(b1) if line in sec.lines else None
        if unit is None and (_letters(n1) != _letters(n2) or len(set(_letters(n1))) != n
                             or len(n1) != n):
            problems.append(_line_nodes_problem(line, n, (b1, n1), (b2, n2)))
            continue
        # ``open Line.X term=2`` (IEEE 123's tie switches) keeps the line enabled but open at
        # a terminal: OpenDSS's own terminal state, on any conductor, makes it open.
        term_open = enabled and open_at_a_terminal()
        some = open_on_some_conductors() if term_open else []
        if some:
            # user test ut_3ph2 D3: read as open on every phase, where OpenDSS feeds the others
            problems.append(Problem(
                ProblemKind.UNSUPPORTED_ELEMENT, "lines",
                f"Line.{line} is open on conductor(s) {', '.join(map(str, some))} only: the "
                "model opens or closes a switch on all its phases, and would cut off the "
                "phases that OpenDSS still feeds", (line,), "open",
                "open it on every conductor (Open Line.X term=1) or close it; a phase that is "
                "out is modelled by leaving its loads out"))
            continue
        if not enabled or term_open:
            out_of_service[f"Line.{line}"] = out_of_service_record(f"Line.{line}", b1, b2)
        if unit is None and (not enabled or term_open):
            # IEEE 8500's WD701_48332_sw: phase b to a phase-a lateral; EPRI ckt5's ties to
            # the neighbouring feeders, whose buses are not in the circuit
            lacking = [bb for bb in (b1, b2) if bb not in buses_by_id
                       or not set(_letters(n1)) <= set(buses_by_id[bb]["phases"])]
            if lacking:
                has = (f"which has {buses_by_id[lacking[0]]['phases'] or 'no phase'}"
                       if lacking[0] in buses_by_id else "which is not in the circuit")
                dead_ties.append(f"{line} ({_letters(n1)} to {lacking[0]}, {has})")
                continue
        mats = _line_matrices(n) if enabled and not term_open else None
        if mats is None:
            length = float(dss.Lines.Length())
            r = np.asarray(dss.Lines.RMatrix(), float).reshape(n, n) * length
            x = np.asarray(dss.Lines.XMatrix(), float).reshape(n, n) * length
            c = np.asarray(dss.Lines.CMatrix(), float).reshape(n, n) * length
            z = r + 1j * x
            b = 2 * math.pi * 60.0 * c * 1e-9
        else:
            z, b = mats
        phases = _letters(n1)
        i_max = float(dss.Lines.NormAmps()) or None
        if i_max is not None and not i_max > 0:  # negative or NaN: OpenDSS accepts both
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "lines",
                f"Line.{line} has normamps={i_max:g}: a rating cannot be negative or NaN",
                (line,), "normamps",
                "give normamps in A as a number > 0, 0 for no rating, or leave it out for "
                "OpenDSS's default (400 A)"))
            i_max = None
        if unit is not None:  # a 120/240 V secondary line: its 240 V equivalent
            eq = line_equivalent(z, b, n1, n2, unit.hot)
            if eq is None:
                problems.append(Problem(
                    ProblemKind.UNSUPPORTED_ELEMENT, "lines",
                    f"Line.{line} on the 120/240 V secondary of Transformer.{unit.name} "
                    f"connects nodes {n1} of bus {b1} to nodes {n2} of bus {b2}: a secondary "
                    f"line is read on the hot nodes {unit.hot[0]} and {unit.hot[1]} (neutral "
                    "reduced out), the same at both ends", (line,), "bus2",
                    f"connect it as bus1={b1}.{unit.hot[0]}.{unit.hot[1]} "
                    f"bus2={b2}.{unit.hot[0]}.{unit.hot[1]}"))
                continue
            z, b, phases = np.array([[eq[0]]]), np.array([[eq[1]]]), unit.phase
            if i_max is not None and n == 1:
                i_max /= 2  # a 120 V conductor's current is twice the 240 V equivalent's
        units = _length_units(code_units)
        unitless += units == 0 and float(dss.Lines.Length()) > 0 and not is_switch
        given = written.get(f"line.{line}")
        if int(dss.Lines.Units()) == 0 and given and not "none".startswith(given.lower()):
            length = float(dss.Lines.Length())
            unknown_units.append(
                f"Line.{line} units={given} (its length {length:g} is read "
                + (f"in its line code's unit, {_UNIT_NAMES[units]}: {length * UNIT_M[units]:g} m)"
                   if units else "without a unit, as the unit of its impedances)"))
        if not enabled and not is_switch:
            line_notes.append(
                f"Line.{line} ({b1} - {b2}) is disabled (enabled=no) and is not a switch: it "
                "is out of service, not a tie that the search may close; to make it one, "
                f"give it a SwtControl (New SwtControl.{line} SwitchedObj=Line.{line} "
                "Normal=open), which keeps its impedance (Switch=yes would give it OpenDSS's "
                "switch impedance), or enable it (enabled=yes) to put it in service")
        normally_open = (not enabled or term_open) if is_switch else False
        if line in controlled:
            normally_open = controlled[line] or term_open
        held = line in locked
        if held:  # held in the state the file leaves it in, as OpenDSS holds it
            normally_open = not enabled or term_open
            if normally_open:
                rec = out_of_service[f"Line.{line}"]
                rec["why"] += f", held by SwtControl.{locked[line]} (Lock=yes)"
                rec["fix"] += f" and unlock SwtControl.{locked[line]} (Lock=no)"
            held_notes.append(
                f"Line.{line} is locked by SwtControl.{locked[line]} (Lock=yes): it is held "
                f"{'open' if normally_open else 'closed'}, as OpenDSS holds it, and not "
                "switched")
        if term_open and not is_switch:
            warnings.append(f"Line.{line} is open at a terminal (Open command) and is not a "
                            "switch: it is taken as out of service")
        line_rows.append({
            "id": line, "from_bus": b1, "to_bus": b2, "phases": phases,
            "length_m": float(dss.Lines.Length()) * UNIT_M.get(units, 1.0),
            "kind": "switch" if is_switch else "line",
            "switchable": is_switch and not held, "normally_open": normally_open,
            # a held-open switch is out of service, as an open line that is no switch
            "in_service": (enabled and not term_open) or (is_switch and not held),
            "i_max_a": i_max,
            "line_code": dss.Lines.LineCode() or None,
        })
        if is_switch and not float(np.max(np.abs(z), initial=0.0)) > SWITCH_IDEAL_OHM:
            continue  # OpenDSS's tiny switch impedance: ideal in the models
        for i, pi in enumerate(phases):
            for j, pj in enumerate(phases):
                z_rows.append({"line": line, "row": pi, "col": pj, "r_ohm": float(z[i, j].real),
                               "x_ohm": float(z[i, j].imag), "b_us": float(b[i, j] * 1e6)})

    if unknown_units:
        line_notes.append(
            f"{len(unknown_units)} length unit(s) that OpenDSS does not know, so reads as "
            f"none: {'; '.join(unknown_units[:5])}{' ...' if len(unknown_units) > 5 else ''}; "
            f"give units= one of {KNOWN_UNITS}")
    if dead_ties:
        warnings.append(
            f"{len(dead_ties)} open or disabled line(s) or switch(es) end on a bus or phase that "
            f"no energised element of the circuit has ({'; '.join(dead_ties[:4])}"
            f"{' ...' if len(dead_ties) > 4 else ''}): closing them would connect nothing of "
            "this circuit, so they are left out")

    # ---- transformers ------------------------------------------------------------------
    regulated = set()
    for _ in _iterate(dss.RegControls):
        regulated.add(dss.RegControls.Transformer().lower())
    tr_rows = []
    no_load: list[dict[str, Any]] = []
    for tr in _iterate(dss.Transformers):
        if tr in sec.units:
            if tr in regulated:
                problems.append(Problem(
                    ProblemKind.UNSUPPORTED_ELEMENT, "transformers",
                    f"Transformer.{tr} is a centre-tapped service transformer under a "
                    "RegControl; the model's centre-tapped units have fixed taps", (tr,),
                    "windings", "control a two-winding regulator on the primary instead"))
                continue
            row = sec.units[tr].row()
            row.update(_transformer_ratings(tr, problems))
            tr_rows.append(row)
            if not row["in_service"]:
                out_of_service[f"Transformer.{tr}"] = out_of_service_record(
                    f"Transformer.{tr}", row["from_bus"], row["to_bus"])
            _no_load(tr, row, no_load)
            continue
        if int(dss.Transformers.NumWindings()) != 2:
            if tr not in sec.refused:
                problems.append(Problem(
                    ProblemKind.UNSUPPORTED_ELEMENT, "transformers",
                    "only two-winding transformers and single-phase centre-tapped units are "
                    "supported", (tr,), "windings",
                    "split a three-winding transformer into two-winding units (a single-phase "
                    "unit with windings 2 and 3 on X.1.0 and X.0.2 is read as a centre-tapped "
                    "service transformer)"))
            continue
        nph = int(dss.CktElement.NumPhases())
        (b1, n1), (b2, n2) = terminals()
        if _outside_circuit(buses_by_id, b1, b2):
            disabled_out.append(f"Transformer.{tr}")
            continue
        enabled = bool(dss.CktElement.Enabled())
        some = open_on_some_conductors() if enabled else []
        if some:
            problems.append(Problem(
                ProblemKind.UNSUPPORTED_ELEMENT, "transformers",
                f"Transformer.{tr} is open on conductor(s) {', '.join(map(str, some))} only: "
                "the model holds a transformer in or out of service on all its phases", (tr,),
                "open", "open it on every conductor (Open Transformer.X term=2) or close it"))
            continue
        # ``Open Transformer.X term=2`` de-energises its secondary in OpenDSS (user test
        # ut36_errs #2: read in service, the model fed the loads OpenDSS leaves dead)
        in_service = enabled and not open_at_a_terminal()
        if not in_service:
            out_of_service[f"Transformer.{tr}"] = out_of_service_record(f"Transformer.{tr}",
                                                                        b1, b2)
        wd = []
        for w in (1, 2):
            dss.Transformers.Wdg(w)
            wd.append((float(dss.Transformers.kV()), float(dss.Transformers.kVA()),
                       bool(dss.Transformers.IsDelta()), float(dss.Transformers.R()),
                       float(dss.Transformers.Tap())))
        bad_r = [w for w, d in zip((1, 2), wd, strict=True) if not d[3] >= 0]
        if bad_r:
            problems.append(Problem(
                ProblemKind.BAD_IMPEDANCE, "transformers",
                f"Transformer.{tr} has a negative or NaN %r on winding(s) "
                f"{', '.join(map(str, bad_r))}", (tr,), "%r",
                "give each winding's %r as a number >= 0 (e.g. %r=0.5, or %rs=[0.5 0.5])"))
        xhl = float(dss.Transformers.Xhl())
        if not (math.isfinite(xhl) and xhl >= 0):
            # a leakage reactance is never negative (user test ut36_errs #4: XHL=-2 was read
            # without a word; a negative series reactance is a line's series capacitor)
            problems.append(Problem(
                ProblemKind.BAD_IMPEDANCE, "transformers",
                f"Transformer.{tr} has XHL {xhl:g}: a leakage reactance is a number >= 0",
                (tr,), "xhl", "give the leakage reactance XHL in percent, e.g. XHL=2"))
        tr_rows.append({
            "id": tr, "from_bus": b1, "to_bus": b2,
            "from_nodes": _winding_nodes(n1), "to_nodes": _winding_nodes(n2),
            "n_phases": nph, "conn_from": "delta" if wd[0][2] else "wye",
            "conn_to": "delta" if wd[1][2] else "wye", "kv_from": wd[0][0], "kv_to": wd[1][0],
            "s_kva": wd[0][1], "r_pct": wd[0][3] + wd[1][3],
            "x_pct": float(dss.Transformers.Xhl()), "tap_from": wd[0][4], "tap_to": wd[1][4],
            "tap_min": float(dss.Transformers.MinTap()),
            "tap_max": float(dss.Transformers.MaxTap()),
            "tap_steps": int(dss.Transformers.NumTaps()), "is_regulator": tr in regulated,
            "in_service": in_service,
            **_transformer_ratings(tr, problems),
        })
        _no_load(tr, tr_rows[-1], no_load)
    unrated = [r["id"] for r in tr_rows if r.get("s_norm_kva") == 0]
    if unrated:
        warnings.append(
            f"{len(unrated)} transformer(s) have normhkva=0 ({', '.join(unrated[:6])}"
            f"{' ...' if len(unrated) > 6 else ''}): unrated, as OpenDSS reads it (NormAmps 0), "
            "so no rating is held for them; leave normhkva out for OpenDSS's default of 110 % "
            "of kVA")

    # ---- loads --------------------------------------------------------------------------
    load_rows = []
    delta_to_ground: list[str] = []  # 1-phase delta loads on one node
    shaped: list[str] = []  # loads with a daily load shape, read at their snapshot kW
    load_value_problems: list[Problem] = []  # NaN, infinite or negative kW/kvar
    rated_kv: list[RatedKv] = []  # each load's kV rating, against its bus's base later
    zip_unnormalised: list[tuple[str, float, float]] = []  # ZIPV sums other than 1
    solved = bool(dss.Solution.Converged())  # the file's solution, to read the loads' voltages
    for ld in _iterate(dss.Loads):
        if dss.Loads.Daily() and bool(dss.CktElement.Enabled()):
            shaped.append(ld)
        nph = int(dss.Loads.Phases())
        bus, nodes = terminals()[0]
        if _outside_circuit(buses_by_id, bus):
            disabled_out.append(f"Load.{ld}")
            continue
        delta = bool(dss.Loads.IsDelta())
        kv, kw, kvar = float(dss.Loads.kV()), float(dss.Loads.kW()), float(dss.Loads.kvar())
        bad = _load_value_problem(ld, kw, kvar, kv)
        zipv = tuple(float(z) for z in dss.Loads.ZipV()) if int(dss.Loads.Model()) == 8 else ()
        if bad is None and zipv:
            bad = _zipv_problem(ld, zipv)
        if bad is not None:
            load_value_problems.append(bad)
            continue
        pe, qe = _exponents(int(dss.Loads.Model()), dss)
        # a ZIP load draws kW (Zp + Ip + Pp) at 1 p.u. of its kV: OpenDSS does not normalise
        # ZIPV (_zip_shares); 1 for the other models
        zp, zq = _zip_shares(zipv)
        if zipv and (abs(zp - 1.0) > 1e-9 or abs(zq - 1.0) > 1e-9):
            zip_unnormalised.append((ld, zp, zq))
        nameplate = (kw, kvar)
        kw, kvar = kw * zp, kvar * zq
        unit = sec.unit_of(bus)
        if unit is not None:
            ratings = load_parts(nodes, nph, delta, kv, unit.hot)
            if ratings is None:
                problems.append(Problem(
                    ProblemKind.BAD_LOAD, "loads",
                    f"Load.{ld} is on nodes {nodes} of bus {bus}, on the 120/240 V secondary of "
                    f"Transformer.{unit.name}, whose hot nodes are {unit.hot[0]} and "
                    f"{unit.hot[1]}", (ld,), "bus1",
                    f"connect it to the hot nodes: bus1={bus}.{unit.hot[0]}.{unit.hot[1]} "
                    "(phases=2 for two 120 V halves, phases=1 for 240 V)"))
                continue
            load_rows.append({"id": ld, "bus": bus, "conn": "wye", "phase": unit.phase,
                              "p_mw": kw / 1000, "q_mvar": kvar / 1000, "vn_kv": ratings[0],
                              "p_exponent": pe, "q_exponent": qe,
                              "model": int(dss.Loads.Model()),
                              "in_service": bool(dss.CktElement.Enabled())})
            continue
        parts = _load_parts(nodes, nph, delta, kv)
        # a disabled load on a bus that no enabled element has is not in OpenDSS's circuit
        # (validation names the unknown bus); kVBase raised DSSException 8989, exit 1
        # the voltage its kV rates at 1 p.u.: line to line for a multi-phase or delta load
        # and for a 1-phase load between two phases (bus1=x.2.3, its neutral on node 3; user
        # test ut32_3ph B2: 12.47 kV, not 7.2, so a ZIP load there is not below its cutoff);
        # compared with the bus's voltage base once the bases are repaired (_rated_kv_loads)
        between = bool(parts) and parts[0][0] == "delta"
        rated = RatedKv(ld, bus, kv, nameplate[0], nameplate[1], math.sqrt(3)
                         if (nph > 1 or delta or between) else 1.0, int(dss.Loads.Model()),
                         float(dss.Loads.Vminpu()), float(dss.Loads.Vmaxpu()),
                         _load_property(ld, "Vlowpu", 0.5),
                         _zip_cutoff(int(dss.Loads.Model()), dss),
                         bool(dss.CktElement.Enabled()),
                         zipv=zipv, cvr=(float(dss.Loads.CVRwatts()), float(dss.Loads.CVRvars())))
        rated_kv.append(rated)
        dss.Circuit.SetActiveElement(f"Load.{ld}")
        if solved and parts:  # each part's voltage in OpenDSS's solution of the file
            rated.v_op = _operating_ratios(parts, nph, delta)
        if not parts:
            problems.append(Problem(
                ProblemKind.BAD_LOAD, "loads",
                f"Load.{ld}: a {nph}-phase {'delta' if delta else 'wye'} load that OpenDSS "
                f"connects to nodes {nodes} of bus {bus}; the model takes wye and delta loads "
                "on distinct phase nodes 1-3 (no 2-phase delta)", (ld,), "bus1",
                "give each phase conductor its own node 1-3, e.g. bus1=x.1.2.3 for 3 phases"))
            continue
        if delta and parts[0][0] == "wye":
            delta_to_ground.append(ld)
        for conn, ph, v in parts:
            rated.rows.append(len(load_rows))
            load_rows.append({"id": ld, "bus": bus, "conn": conn, "phase": ph,
                              "p_mw": kw / 1000 / len(parts), "q_mvar": kvar / 1000 / len(parts),
                              "vn_kv": v, "p_exponent": pe, "q_exponent": qe,
                              "model": int(dss.Loads.Model()),
                              "in_service": bool(dss.CktElement.Enabled())})

    if load_value_problems:
        # OpenDSS's solved state (the generators' output, read below) is spoilt by a NaN
        # load; report the loads alone rather than the follow-on NaN of every generator
        raise InputError(problems + load_value_problems)

    if zip_unnormalised:
        ld0, zp0, zq0 = zip_unnormalised[0]
        warnings.append(
            f"{len(zip_unnormalised)} ZIP load(s) (model 8) have ZIPV weights that do not sum "
            f"to 1 ({shown_list([x[0] for x in zip_unnormalised])}; Load.{ld0}: Zp+Ip+Pp = "
            f"{zp0:g}, Zq+Iq+Pq = {zq0:g}): OpenDSS does not normalise them and draws kW x "
            "(Zp+Ip+Pp) and kvar x (Zq+Iq+Pq) at 1 p.u. of the load's kV, and so does the model "
            "(docs/threephase.md)")
    if delta_to_ground:
        warnings.append(
            f"{len(delta_to_ground)} 1-phase delta load(s) name one node "
            f"({', '.join(delta_to_ground[:6])}{' ...' if len(delta_to_ground) > 6 else ''}): "
            "OpenDSS connects them phase to ground, at their kV rating, and so does the model")

    if shaped:
        warnings.append(
            f"{len(shaped)} load(s) have a daily load shape ({', '.join(shaped[:4])}"
            f"{' ...' if len(shaped) > 4 else ''}): the snapshot takes each at its kW (a "
            "useactual shape's peak); `feederopt scenarios FILE --load-shapes daily -o F` makes "
            "a scenario of each step, for `feederopt solve FILE --scenarios F`")

    # ---- capacitors ---------------------------------------------------------------------
    sh_rows = []
    node_users = _NodeUsers()
    cap_value_problems: list[Problem] = []  # kV not positive, kvar not finite
    for cap in _iterate(dss.Capacitors):
        nph = int(dss.CktElement.NumPhases())
        terms = terminals()
        if _outside_circuit(buses_by_id, *(b for b, _ in terms)):
            disabled_out.append(f"Capacitor.{cap}")
            continue
        on_sec = [b for b, _ in terms if b in sec.bus_unit]
        if on_sec:
            problems.append(_on_secondary(f"Capacitor.{cap}", "shunts", cap, on_sec[0], sec))
            continue
        if _is_series(terms):
            _series_capacitor(cap, terms, line_rows, z_rows, problems, warnings,
                              out_of_service)
            continue
        kv_c, kvar_c = float(dss.Capacitors.kV()), float(dss.Capacitors.kvar())
        if not (math.isfinite(kv_c) and kv_c > 0) or not math.isfinite(kvar_c):
            field, what = (("kV", f"kV is {kv_c:g}, not a positive number")
                           if not (math.isfinite(kv_c) and kv_c > 0)
                           else ("kvar", f"kvar is {kvar_c:g}, not a finite number"))
            cap_value_problems.append(Problem(
                ProblemKind.INVALID_VALUE, "shunts", f"Capacitor.{cap}: {what}", (cap,), field,
                "give the capacitor's rated kV (line to line for a 3-phase bank) and its kvar "
                "as numbers, e.g. kV=4.16 kvar=600"))
            continue
        delta = bool(dss.Capacitors.IsDelta())
        floating = node_users.floating(f"Capacitor.{cap}", terms)
        # a branch to ground at kV / sqrt(3) (a wye bank of 2 or 3 phases), else at kV
        v_branch = kv_c / math.sqrt(3) if (not delta and nph > 1) else kv_c
        cap_row = _shunt_capacitor(cap, terms, nph, delta, floating, v_branch, kv_c, problems)
        if cap_row is not None:
            sh_rows.append(cap_row)
            note = _step_note(cap, nph, delta, kv_c, cap_row)
            if note:
                warnings.append(note)

    if cap_value_problems:
        # kV=0 or a NaN kvar leaves OpenDSS's solution NaN, which read as NaN outputs of the
        # DERs below (IEEE 13: Generator.675 and the PVSystems named, not the capacitor)
        raise InputError(problems + cap_value_problems)

    # ---- reactors: series (a line) or shunt; transformers' no-load branches --------------
    _reactors(buses_by_id, sec, line_rows, z_rows, sh_rows, problems, warnings, out_of_service,
              node_users)
    sh_rows += no_load
    if no_load:
        warnings.append(
            f"{len(no_load)} transformer(s) have no-load losses or magnetizing current "
            f"(%noloadloss, %imag): {sum(r['p_mw'] for r in no_load) * 1000:.1f} kW and "
            f"{-sum(r['q_mvar'] for r in no_load) * 1000:.1f} kvar at rated voltage, modelled "
            "as constant-impedance shunts at winding 2, as OpenDSS has them")

    # ---- generators, PV, storage (their base-case output as solved) ---------------------
    der_value_problems = _der_value_problems()
    if der_value_problems:  # a NaN spoils every DER's solved output read below
        raise InputError(problems + der_value_problems)
    vmag = np.asarray(dss.Circuit.AllBusVMag(), dtype=float)
    if vmag.size and not np.all(np.isfinite(vmag)) and empty_buses:
        raise InputError(problems)  # the cause, named (_empty_bus_problem)
    if vmag.size and not np.all(np.isfinite(vmag)):
        # a NaN that no check above names: say so, rather than blame the DERs' outputs
        names = [str(b).lower() for b in dss.Circuit.AllNodeNames()]
        nan_buses = sorted({nm.split(".")[0] for nm, v in zip(names, vmag, strict=False)
                            if not math.isfinite(v)})
        raise InputError([*problems, Problem(
            ProblemKind.INVALID_VALUE, "buses", "OpenDSS's power flow of the file gives no "
            f"finite voltage at {len(nan_buses)} bus(es) (NaN)", tuple(nan_buses[:20]), "",
            "look for an element value that is not a number (NaN, a division by zero) in the "
            "file: OpenDSS takes it without an error")])
    gen_rows = []
    derated: dict[str, str] = {}  # DERs delivering less than their nameplate now, and why
    impedance_mode: list[str] = []  # generators OpenDSS runs as an impedance (kV mismatch)
    voltage_held: list[str] = []  # voltage-controlled generators (model 3), held as solved
    grid_forming = _grid_forming(settings)
    for cls, kind, coll in (("generator", "generator", dss.Generators),
                            ("pvsystem", "pv", dss.PVsystems), ("storage", "storage",
                                                                dss.Storages)):
        for el in _iterate(coll):
            full = f"{dss.CktElement.Name()}"
            nph = int(dss.CktElement.NumPhases())
            bus, nodes = terminals()[0]
            if _outside_circuit(buses_by_id, bus):
                disabled_out.append(full)
                continue
            unit = sec.unit_of(bus)
            floating = (node_users.floating(full, [(bus, nodes)])
                        if unit is None and nph < 3 else set())
            if floating:
                problems.append(_floating_der_problem(
                    full, el, bus, nodes, nph, floating, buses_by_id[bus]["vn_kv"]))
                continue
            second = [n for n in nodes[nph:] if 1 <= n <= 3]
            conn = "wye"
            if unit is None and second and nph == 1 and second[0] != nodes[0]:
                # a 1-phase unit on x.2.3 sits between two phases (user test ut32_3ph
                # B3/B4): OpenDSS drives its current out of node 2 and back into node 3, so
                # each node gets S V_k / (V_2 - V_3) (275 kW and -+154 kvar each for a 550
                # kW unit at pf 1); the model's delta DER entry (delta_shares)
                nodes = [nodes[0], second[0]]
                conn = "delta"
            elif unit is None and second:
                on, off = (".".join(str(k) for k in ks) for ks in (nodes[:nph], second))
                # a unit of two or three phases whose other conductor is a phase (an open
                # delta, x.1.2.3 with phases=2), or a 1-phase unit with both conductors on
                # one node: no single-phase unit between two phases
                problems.append(Problem(
                    ProblemKind.UNSUPPORTED_ELEMENT, "generators",
                    f"{full} is connected between phases: OpenDSS connects its "
                    f"{nph}-phase conductor(s) on node(s) {on} "
                    f"of bus {bus} and its other conductor on phase node "
                    f"{off}; the three-phase model holds generators, "
                    "PV and storage phase to ground (wye, neutral grounded), or as a "
                    "single-phase unit between two different phases", (el,),
                    "bus1",
                    f"connect it phase to ground, e.g. bus1={bus}.{nodes[0]} with its "
                    "line-to-neutral kV, or as a 1-phase unit between two phases (phases=1 "
                    f"bus1={bus}.1.2)"))
                continue
            if (unit is None and not second and nph == 3
                    and dss.Properties.Value("conn").strip().lower().startswith("d")):
                # a 3-phase unit with Conn=Delta (ieee37mod's seven DERs at kV=4.8, user
                # test ut46_dss3 #1): read as wye it was written back by model_script as a
                # grounded wye unit, 41.19 kW of losses against the file's 44.51 kW
                conn = "delta"
            if unit is not None:
                if not set(nodes[:nph]) <= set(unit.hot):
                    problems.append(_on_secondary(full, "generators", el, bus, sec))
                    continue
                nodes = [PHASES.index(unit.phase) + 1]
                nph = 1
            powers = np.asarray(dss.CktElement.Powers(), float)
            p_out = -float(powers[0::2].sum()) / 1000 if powers.size else 0.0
            q_out = -float(powers[1::2].sum()) / 1000 if powers.size else 0.0
            p_max, s_max, energy, short = _ratings(cls, el, dss)
            if short is not None:
                derated[full] = short
            if cls == "generator" and p_max > 0 and abs(p_out - p_max) > 0.1 * p_max:
                # a unit on a bus that no source energises produces nothing whatever its kV
                # (user test ut38_recheck: "-0 kW (its kV rating does not match its bus)" for
                # a 12.47 kV unit on a 12.47 kV bus cut off by an open switch)
                live = float(np.max(np.abs(np.asarray(dss.CktElement.Voltages(), float)),
                                    initial=0.0)) > 1e-6
                why = ("its kV rating does not match its bus, so OpenDSS runs it as an "
                       "impedance" if live else "its bus has no voltage in OpenDSS's solution: "
                       "no source energises it")
                warnings.append(
                    f"{full} is set to {p_max * 1000:.0f} kW but OpenDSS's solution has it at "
                    f"{p_out * 1000 + 0.0:.0f} kW ({why}); the solved output is used")
                if live:
                    impedance_mode.append(full)
            gen_rows.append({
                "id": full, "bus": bus, "phases": _letters(nodes[:nph + (conn == "delta")]),
                "conn": conn, "kind": kind,
                "p_mw": p_out, "q_mvar": q_out, "p_max_mw": p_max, "s_max_mva": s_max,
                "energy_mwh": energy, "can_grid_form": full.lower() in grid_forming,
                "in_service": bool(dss.CktElement.Enabled()),
            })
            if cls == "generator" and int(dss.Generators.Model()) == 3:
                # a voltage-controlled unit (OpenDSS's model 3: P and |V| = Vpu, Q between
                # minkvar and maxkvar): held at its solved Q (user test ut50_dss3 #6: read as
                # a fixed output without a word)
                dss.Text.Command(f"? generator.{el}.vpu")
                voltage_held.append(
                    f"{full} (model=3, Vpu={dss.Text.Result().strip()}: {p_out * 1000:.1f} kW, "
                    f"{q_out * 1000:.1f} kvar)")
    if voltage_held:
        warnings.append(
            f"{len(voltage_held)} voltage-controlled generator(s) ({'; '.join(voltage_held[:6])}"
            f"{' ...' if len(voltage_held) > 6 else ''}): their voltage control is not "
            "modelled: in the model each is held at its output as OpenDSS solved the file, "
            "as the regulator taps are")

    # ---- anything else ------------------------------------------------------------------
    ignored: dict[str, list[str]] = {}
    held_controls: dict[str, list[str]] = {}  # RegControl, CapControl: held as solved
    der_controls: dict[str, list[str]] = {}  # InvControl, ExpControl: their DERs' Q held
    for element in dss.Circuit.AllElementNames():
        cls, _, el = element.partition(".")
        low = cls.lower()
        if low in HELD_CONTROLS:
            held_controls.setdefault(cls, []).append(el)
            continue
        if low in DER_CONTROLS:
            der_controls.setdefault(cls, []).append(el)
            continue
        if low in READ_CLASSES or low == "swtcontrol":
            continue
        if low in CONTROL_CLASSES:
            ignored.setdefault(cls, []).append(el)
            continue
        problems.append(Problem(
            ProblemKind.UNSUPPORTED_ELEMENT, cls.lower(),
            f"{cls} elements are not modelled", (el,), None,
            "remove the element or replace it by a supported one (line, transformer, load, "
            "capacitor, reactor, generator, PV system, storage)"))
    if held_controls:
        warnings.append(_held_controls_note(held_controls))
    if der_controls:
        warnings.append(_der_controls_note(der_controls, gen_rows))
    for cls, els in sorted(ignored.items()):
        warnings.append(f"{len(els)} {cls} element(s) ignored (control/protection): "
                        f"{', '.join(els[:8])}{' ...' if len(els) > 8 else ''}")
    if problems:
        raise InputError(problems)

    def frame(rows: list[dict[str, Any]]) -> pl.DataFrame | None:
        return pl.DataFrame(rows) if rows else None

    # the series capacitors and reactors by their line's id, for OpenDSS's check (their
    # ratings) and the names it reports (ThreePhaseNetwork.opendss_name)
    series_elements = {r["id"]: r.pop(SERIES_ELEMENT) for r in line_rows if SERIES_ELEMENT in r}

    if disabled_out:
        warnings.append(_disabled_out_note(disabled_out))
    _drop_dangling_ties(bus_rows, line_rows, z_rows, tr_rows,
                        [*src_rows, *load_rows, *gen_rows, *sh_rows], warnings)
    reductions = _reduction_notes(sec, load_rows) + held_notes + line_notes
    warnings[:0] = reductions
    _repair_bases(bus_rows, src_rows, line_rows, tr_rows, warnings)
    band_rows: list[dict[str, Any]] = []  # rows re-rated at OpenDSS's solution, as they were
    before = len(warnings)
    rerated = rated_kv_loads(rated_kv, {r["id"]: r["vn_kv"] / math.sqrt(3) for r in bus_rows},
                             load_rows, warnings, band_rows)
    band_note = next((w for w in warnings[before:] if BAND_NOTE in w), None)
    for ld, zp, zq in zip_unnormalised:  # a daily shape's rows scale what the model holds
        rerated.setdefault(ld, [zp, zq])
    circuit = dss.Circuit.Name()
    net = ThreePhaseNetwork.from_tables(
        name=name or circuit or path.stem,
        meta={"source_format": "opendss", "source_path": str(path), "circuit": circuit,
              # what solve lists among its notes too (info says every warning)
              "warnings": warnings, "reductions": reductions,
              "secondaries": sec.meta(), "center_tapped": sorted(sec.units),
              # lines whose length has no unit in the file (length_m is the bare number)
              "unitless_lengths": unitless, "series_elements": series_elements,
              # DERs whose p_max_mw is below their nameplate in the file's state (_ratings)
              "der_derated": derated,
              "der_impedance_mode": impedance_mode,
              # loads re-rated at their bus's voltage by OpenDSS's law: [P/kW, Q/kvar] held
              # (opendss_rated_kv), which a daily shape's rows scale too (opendss_shapes)
              "rerated_loads": rerated,
              # the rows re-rated at OpenDSS's solution of the file (outside their
              # Vminpu-Vmaxpu band there) as they were, and the note saying so, which the
              # partition (islands at other voltages) puts back (nameplate_band_loads)
              "band_rerated": band_rows, "band_note": band_note,
              # series elements out of service, why and how to put them back (the supply
              # check names them when they cut buses off the source)
              OUT_OF_SERVICE: out_of_service,
              "settings_path": str(Path(settings).resolve()) if settings else None},
        buses=frame(bus_rows), sources=frame(src_rows), lines=frame(line_rows),
        impedances=frame(z_rows), transformers=frame(tr_rows), loads=frame(load_rows),
        generators=frame(gen_rows), shunts=frame(sh_rows),
    )
    # a load that no power flow can supply (128 kW typed kW=128000000): the balanced readers'
    # bad_load warning, said by info (a note) and by solve (among its notes)
    implausible = [str(p) for p in three_phase_load_plausibility(net)]
    net.meta["warnings"].extend(implausible)
    net.meta["load_warnings"] = implausible
    return net


def _names_of(elements: Any) -> list[str]:
    """The element names that OpenDSS's ``AllPDEatBus``/``AllPCEatBus`` give (``None``, an
    empty list or ``["None"]`` when there is none)."""
    return [str(e) for e in elements or [] if str(e).strip().lower() not in ("", "none")]


def _empty_bus_problem(buses: list[str]) -> Problem:
    """The buses that OpenDSS's circuit has but that no enabled element connects: a control
    (a relay, recloser or fuse) that monitors a disabled element keeps that element's buses in
    the circuit, without any admittance there, and OpenDSS's solution of the file is then
    singular (no losses, no voltages: IEEE 13 with the part behind Line.632670 disabled but its
    Recloser.671700 and Relay.801675 not; ``info`` ended in a TypeError). Names the controls
    that hold them."""
    dss = _dss()
    holders: list[str] = []
    for element in dss.Circuit.AllElementNames():
        cls = element.partition(".")[0].lower()
        if cls not in CONTROL_CLASSES:
            continue
        dss.Circuit.SetActiveElement(element)
        if not dss.CktElement.Enabled():
            continue
        for prop in ("MonitoredObj", "SwitchedObj", "Element"):
            try:
                dss.Text.Command(f"? {element}.{prop}")
            except Exception:  # the class has no such property
                continue
            target = dss.Text.Result().strip()
            if not target or dss.Circuit.SetActiveElement(target) < 0:
                continue
            if not dss.CktElement.Enabled() and any(
                    str(b).split(".")[0].lower() in buses for b in dss.CktElement.BusNames()):
                holders.append(f"{element} ({prop}={target})")
                break
    held = (f"; {', '.join(holders)} monitor a disabled element there, which keeps its "
            "buses in OpenDSS's circuit" if holders else "")
    return Problem(
        ProblemKind.ISLAND_WITHOUT_SOURCE, "buses",
        f"{len(buses)} bus(es) are in OpenDSS's circuit but no enabled element connects them "
        f"({', '.join(buses[:10])}{' ...' if len(buses) > 10 else ''}){held}: OpenDSS's "
        "solution of the file is singular there (no voltages, no losses)", tuple(buses),
        "enabled",
        ("disable " + ", ".join(h.split(" ")[0] for h in holders) + " as well (enabled=no), "
         "as the elements they monitor") if holders else
        "connect the buses with an enabled element, or remove what names them")


def _outside_circuit(buses: Mapping[str, Any], *bus_names: str) -> bool:
    """Is the active element disabled (``enabled=no``) and on a bus that OpenDSS's circuit
    does not have (``buses``: the circuit's, by id)? OpenDSS builds its circuit of the enabled
    elements only: a bus that none of them touches is not in it (``Circuit.AllBusNames``), and
    such an element is no part of the circuit. It is left out of the model as well, rather
    than read out of service on a bus that does not exist (``unknown_bus``: IEEE 13 with the
    part behind Line.632670 disabled, or a transformer disabled with every load behind it)."""
    return not bool(_dss().CktElement.Enabled()) and any(b not in buses for b in bus_names)


def _disabled_sources_problem(names: list[str]) -> Problem:
    """``no_source`` for a circuit whose every ``Vsource`` is disabled (``enabled=no``, e.g.
    ``Vsource.source.enabled=no`` after the stock IEEE 13 file): OpenDSS solves it with no
    source in its circuit, 0 V at every node and no load served. Until user test ut37 it was
    read as if the source were there (``info`` "problems: none", a LinDist3Flow "optimal"
    with losses, OpenDSS's check 0 kW), where pandapower's and the table folders' readers
    refuse the same network (no in-service ``ext_grid``; no ``is_source`` bus)."""
    one = len(names) == 1
    return Problem(
        ProblemKind.NO_SOURCE, "sources",
        f"the circuit has no source: {', '.join(names)} {'is' if one else 'are'} disabled "
        "(enabled=no), so OpenDSS energises nothing (0 V at every bus, no load served)",
        tuple(names), "enabled",
        f"enable {'it' if one else 'one'} ({names[0]}.enabled=yes), or remove the command "
        "that disables it")


def _disabled_out_note(elements: list[str]) -> str:
    """The note on the disabled elements left out (:func:`_outside_circuit`)."""
    by_class: dict[str, list[str]] = {}
    for e in elements:
        cls, _, name = e.partition(".")
        by_class.setdefault(cls, []).append(name)
    shown = "; ".join(f"{cls} {', '.join(names[:10])}"
                      + (f" +{len(names) - 10} more" if len(names) > 10 else "")
                      for cls, names in by_class.items())
    return (f"{len(elements)} disabled element(s) (enabled=no) on buses that no enabled element "
            f"touches are left out ({shown}): OpenDSS's circuit does not have them or their "
            "buses, and neither does the model")


def _look_alike(name: str) -> str:
    """``name`` with the letters that look like digits as those digits (o, l, i)."""
    return name.lower().translate(str.maketrans("oli", "011"))


def _drop_dangling_ties(bus_rows: list[dict[str, Any]], line_rows: list[dict[str, Any]],
                        z_rows: list[dict[str, Any]], tr_rows: list[dict[str, Any]],
                        carriers: list[dict[str, Any]], warnings: list[str]) -> None:
    """Leave out each normally open switch whose one end is a bus that nothing else touches
    (no other line or transformer) and that carries nothing (no source, load, generator or
    shunt), with that bus, and say so in a note, naming a close bus name (``difflib``, as the
    hint for a closed line to a misspelt bus,
    :func:`feederopt.network.threephase.close_live_names`).

    Closing such a switch energises only that empty bus, so it is no change worth offering.
    User test ut32_3ph G (``Line.t1 bus2=b1O``, ``Open Line.t1 term=1``): the answer said
    "close t1" and only OpenDSS's de-energised b1o hinted at the typo; the same tie disabled
    (``enabled=no``, its bus not in OpenDSS's circuit) was already left out, with a note."""
    touched: dict[str, int] = {}
    for row in [*line_rows, *tr_rows]:
        if row.get("in_service", True):
            for b in {row["from_bus"], row["to_bus"]}:
                touched[b] = touched.get(b, 0) + 1
    carried = {r["bus"] for r in carriers}
    dropped: dict[str, str] = {}  # line -> its dangling bus
    for row in line_rows:
        if not (row["switchable"] and row["normally_open"] and row["in_service"]):
            continue
        for b in (row["to_bus"], row["from_bus"]):
            if touched.get(b) == 1 and b not in carried:
                dropped[row["id"]] = b
                break
    if not dropped:
        return
    gone = set(dropped.values())
    line_rows[:] = [r for r in line_rows if r["id"] not in dropped]
    z_rows[:] = [r for r in z_rows if r["line"] not in dropped]
    bus_rows[:] = [r for r in bus_rows if r["id"] not in gone]
    others = sorted(r["id"] for r in bus_rows)
    said = []
    for line, b in list(dropped.items())[:4]:
        # a look-alike letter (b1O for b10: O/0, l/1, I/1) first, then a name of the same
        # length (one mistyped character), then the closest (difflib, cutoff 0.6 as
        # close_live_names)
        close = difflib.get_close_matches(b, others, n=8, cutoff=0.6)
        close.sort(key=lambda o: (_look_alike(o) != _look_alike(b), len(o) != len(b)))
        said.append(f"{line} to {b}" + (f": a misspelling of {close[0]}?" if close else ""))
    warnings.append(
        f"{len(dropped)} open switch(es) end on a bus that no other element touches and that "
        f"carries nothing ({'; '.join(said)}{' ...' if len(dropped) > 4 else ''}): closing "
        "them would energise only that empty bus, so they are left out (check the bus name)")


def _secondaries(sources: list[dict[str, Any]], problems: list[Problem]) -> Secondaries:
    """The centre-tapped service transformers and the 120/240 V secondaries behind them
    (:mod:`feederopt.io.opendss_secondary`)."""
    dss = _dss()
    refused: set[str] = set()
    units = find_center_taps(dss, terminals, problems, refused)
    if not units:
        return Secondaries(refused=refused)
    fixed: dict[str, str] = {s["bus"]: f"Vsource.{s['id']}" for s in sources}
    for tr in _iterate(dss.Transformers):
        for k, (bus, _) in enumerate(terminals()):
            if tr not in units or k == 0:
                fixed.setdefault(bus, f"Transformer.{tr}")
    ends: dict[str, tuple[str, str]] = {}
    for line in _iterate(dss.Lines):
        (b1, _), (b2, _) = terminals()
        ends[line] = (b1, b2)
    return secondary_regions(units, ends, fixed, problems, refused)


def _on_secondary(element: str, component: str, name: str, bus: str,
                  sec: Secondaries) -> Problem:
    unit = sec.unit_of(bus)
    owner = f"Transformer.{unit.name}" if unit is not None else "a centre-tapped unit"
    return Problem(
        ProblemKind.UNSUPPORTED_ELEMENT, component,
        f"{element} is on bus {bus}, on the 120/240 V secondary of {owner}: only lines, "
        "loads, generators, PV systems and storage on the hot nodes are read there", (name,),
        "bus1", "move it to the primary, or model the secondary with a two-winding unit")


def _no_load(tr: str, row: dict[str, Any], out: list[dict[str, Any]]) -> None:
    """The active transformer's no-load branch (``%noloadloss``, ``%imag``) as a
    constant-impedance shunt consuming ``P = %noloadloss / 100 kVA`` and
    ``Q = %imag / 100 kVA`` at rated voltage (OpenDSS manual, Transformer). OpenDSS puts the
    whole branch across winding 2 (its ``YPrim`` differs from the unit's without the branch
    on winding 2's conductors only; a centre-tapped unit: across its first 120 V half, which
    the 240 V equivalent has at its 240 V node), so it is at ``to_bus``, rated ``kv_to``.
    Nothing if both are zero."""
    dss = _dss()
    pct = {}
    for prop in ("%noloadloss", "%imag"):
        dss.Text.Command(f"? transformer.{tr}.{prop}")
        try:
            pct[prop] = float(dss.Text.Result())
        except ValueError:
            pct[prop] = 0.0
    if not (pct["%noloadloss"] > 0 or pct["%imag"] > 0):
        return
    nodes = [int(x) for x in row["to_nodes"].split(".") if x]
    phases = _letters(nodes[:3] if row["n_phases"] == 3 else nodes[:2])
    s_mva = row["s_kva"] / 1000
    out.append({"id": f"Transformer.{tr}", "bus": row["to_bus"], "phases": phases,
                "conn": "wye", "kind": "no-load", "p_mw": pct["%noloadloss"] / 100 * s_mva,
                "q_mvar": -pct["%imag"] / 100 * s_mva, "vn_kv": row["kv_to"],
                "in_service": row["in_service"]})


def _reactors(buses: dict[str, dict[str, Any]], sec: Secondaries,
              line_rows: list[dict[str, Any]], z_rows: list[dict[str, Any]],
              sh_rows: list[dict[str, Any]], problems: list[Problem],
              warnings: list[str], out_of_service: dict[str, dict[str, str]],
              node_users: _NodeUsers) -> None:
    """OpenDSS's ``Reactor`` elements, from their primitive admittance matrix, so that every
    way of giving one (``R``/``X``, ``Z``, ``Z1``/``Z0``, ``kvar`` and ``kV``, ``Rmatrix``/
    ``Xmatrix``, ``Rp``, ``Parallel``) is read as OpenDSS applies it. What OpenDSS does with
    them (DSS C-API 0.14, checked in ``tests/test_opendss_reactors.py``): ``R`` and ``X`` are in
    series, also with ``Parallel=yes``, which applies to ``Rmatrix``/``Xmatrix`` only (then
    ``Y = R^-1 + (jX)^-1``); ``Rp`` is in parallel with ``R + jX``; ``kvar`` and ``kV`` give
    ``X = kV^2 / Mvar`` (kV line-line and total kvar for several phases; a delta bank's branch
    is across the line-line kV); ``LmH`` gives ``X = 2 pi f L``; ``Z1``/``Z0`` the sequence
    matrix ``Zs = (Z0 + 2 Z1) / 3``, ``Zm = (Z0 - Z1) / 3``; ``bus2`` absent is ``bus1.0.0.0``.

    * **series** (``bus2`` another bus, on phase nodes): a line of zero length with the
      impedance ``Z = Ys^-1``, ``Ys = -Yprim[terminal 1, terminal 2]`` (a reactor has no
      shunt part), its ``NormAmps`` as rating, unless the reactor is given by its impedance
      and ``NormAmps`` is OpenDSS's default (the current of its default 100 kvar at 12.47 kV,
      4.63 A): then it has none;
    * **shunt** (``bus2`` absent, which OpenDSS grounds: ``bus1.0.0.0``; on ground, a
      neutral node or another phase of ``bus1``; or a delta bank): a constant-impedance shunt
      by its branches, as a capacitor (:func:`~feederopt.io.opendss_shunts.shunt_row` on its
      ``Yprim``): to ground a wye row, consuming ``S = sum_k V_k conj((Y V)_k)`` at balanced
      voltages of the bus base (``P`` of its resistance, ``Q`` of its reactance at 1 p.u.);
      one branch between two phases or a closed delta (a delta bank, or an ungrounded wye,
      ``bus2=x.4.4.4``, of equal branches: ``y / 3`` per delta branch) a delta row at the
      bus's line-to-line base; others (a 2-phase delta bank, an unequal ungrounded wye) are
      ``unsupported_element``. A reactor on neutral nodes only (a grounding reactor) does
      nothing in a model that takes neutrals as grounded, and gets a warning. Every
      parameter (``R``, ``X``, ``Rp``, ``kvar``, ``LmH``, ``Z``, ``Z1``/``Z0``, matrices,
      ``RCurve``/``LCurve`` at the solution frequency) is in ``Yprim`` as OpenDSS applies it.
      Until user test dssshunt a delta bank, a bank between two phases and an ungrounded one
      were the balanced wye equivalent (the last as grounded).
    """
    dss = _dss()
    grounding: list[str] = []
    for rx in _iterate(dss.Reactors):
        element = f"Reactor.{rx}"
        terms = terminals()
        enabled = bool(dss.CktElement.Enabled())
        b1 = terms[0][0]
        on_sec = [b for b, _ in terms if b in sec.bus_unit]
        if on_sec:
            problems.append(_on_secondary(element, "reactor", rx, on_sec[0], sec))
            continue
        series = _is_series(terms)
        raw = np.asarray(dss.CktElement.YPrim(), float) if enabled else np.zeros(0)
        nc = int(dss.CktElement.NumConductors())
        if raw.size != 2 * (nc * len(terms)) ** 2:
            if enabled:
                problems.append(Problem(
                    ProblemKind.BAD_IMPEDANCE, "reactor",
                    f"{element}: OpenDSS gives no admittance matrix for it", (rx,), "x",
                    "give the reactor's R and X (or kvar and kV)"))
            else:
                warnings.append(f"{element} is disabled and left out")
                if series:  # it cuts what lies behind it off, which the supply check says
                    out_of_service[element] = out_of_service_record(element, b1, terms[1][0])
            continue
        m = nc * len(terms)
        y = (raw[0::2] + 1j * raw[1::2]).reshape(m, m)
        if series:
            # OpenDSS fills NormAmps of a reactor given by impedance from its (default) kvar
            # and kV, 100 kvar at 12.47 kV: 4.63 A, which is no rating
            amps = float(dss.CktElement.NormalAmps())
            kv, kvar = float(dss.Reactors.kV()), float(dss.Reactors.kvar())
            if (int(dss.Reactors.SpecType()) != 1 and kv > 0
                    and abs(amps - kvar / (kv * math.sqrt(3))) <= 1e-9 * amps):
                amps = 0.0
            _series_line(element, rx, "reactor", "line", terms, y, amps, line_rows, z_rows,
                         problems, out_of_service)
            continue
        bus = buses.get(b1)
        if bus is None or not any(b == b1 and 1 <= x <= 3 for b, nodes in terms for x in nodes):
            grounding.append(rx)
            continue
        delta = bool(dss.Reactors.IsDelta())
        floating = node_users.floating(element, terms)
        bank = shunt_row(terms, delta, y, floating, bus["vn_kv"] / math.sqrt(3), bus["vn_kv"])
        if bank is None:
            problems.append(_shunt_shape_problem(element, rx, "reactor", terms,
                                                 int(dss.CktElement.NumPhases()), delta,
                                                 floating))
            continue
        if bank.p_mw < -1e-9 * math.hypot(bank.p_mw, bank.q_mvar):
            problems.append(Problem(
                ProblemKind.BAD_IMPEDANCE, "reactor",
                f"{element} has a negative resistance (negative losses)", (rx,), "r",
                "give R >= 0 and Rp >= 0"))
            continue
        sh_rows.append({"id": element, "bus": b1, "phases": _letters(list(bank.nodes)),
                        "conn": bank.conn, "kind": "reactor", "p_mw": bank.p_mw,
                        "q_mvar": bank.q_mvar, "vn_kv": bank.vn_kv, "in_service": enabled})
    if grounding:
        warnings.append(
            f"{len(grounding)} reactor(s) on neutral nodes only ({', '.join(grounding[:6])}"
            f"{' ...' if len(grounding) > 6 else ''}): the model takes neutrals as grounded, "
            "so they are left out")


#: The key of a line row read from a series element that holds the element's OpenDSS name
#: until the rows become a table (``meta["series_elements"]``).
SERIES_ELEMENT = "_opendss_element"


def _is_series(terms: list[tuple[str, list[int]]]) -> bool:
    """Is an element with the terminals ``terms`` (:func:`terminals`) in series: a second
    terminal on another bus, on a phase node (a ``bus2`` on ground, ``y.0.0.0``, or on the
    element's own bus is a shunt's)?"""
    return (len(terms) == 2 and terms[1][0] != terms[0][0]
            and any(1 <= x <= 3 for x in terms[1][1]))


def _series_line(element: str, name: str, component: str, kind: str,
                 terms: list[tuple[str, list[int]]], y: np.ndarray, amps: float,
                 line_rows: list[dict[str, Any]], z_rows: list[dict[str, Any]],
                 problems: list[Problem], out_of_service: dict[str, dict[str, str]]) -> None:
    """A two-terminal series element (a ``Reactor`` or ``Capacitor`` with ``bus2`` another
    bus, :func:`_is_series`) as a zero-length, non-switchable line of ``kind`` from its
    primitive admittance matrix ``y`` (the active element's ``YPrim``): ``Yprim = [[Ys, -Ys],
    [-Ys, Ys]]`` (no shunt part), impedance ``Z = Ys^-1`` with ``Ys = -Yprim[terminal 1,
    terminal 2]``, rating ``amps`` [A] (0: none). Its id is ``name``, or ``<component>.<name>``
    when a line has that name. A typed problem on ``element`` instead when the two ends are
    on different phases, ``Ys`` is singular or not finite, ``y`` has a shunt part, or a self
    resistance is negative (negative losses)."""
    (b1, n1), (b2, n2) = terms
    nc = len(n1)
    ys = -y[:nc, nc:]
    scale = float(np.max(np.abs(y))) if y.size and np.all(np.isfinite(y)) else 0.0
    if (_letters(n1) != _letters(n2) or len(set(_letters(n1))) != nc or not scale
            or abs(np.linalg.det(ys)) < 1e-300 or not np.all(np.isfinite(ys))):
        problems.append(Problem(
            ProblemKind.UNSUPPORTED_ELEMENT, component,
            f"{element} connects nodes {n1} of bus {b1} to nodes {n2} of bus {b2}: a "
            f"series {component} is read as a line, with the same phases 1-3 at both ends "
            "and a finite impedance", (name,), "bus2",
            "connect the same phases at both ends, e.g. bus1=x.1.2.3 bus2=y.1.2.3"))
        return
    shunt = np.concatenate([y[:nc, :nc] - ys, y[nc:, nc:] - ys, y[nc:, :nc] + ys])
    if float(np.max(np.abs(shunt))) > 1e-9 * scale:
        problems.append(Problem(
            ProblemKind.UNSUPPORTED_ELEMENT, component,
            f"{element} has a shunt part between its terminals and ground: a series "
            f"{component} is read as a line of its series impedance alone", (name,), "bus2",
            "give the series element and any shunt at its ends as separate elements"))
        return
    z_raw = np.linalg.inv(ys)
    tiny = 1e-12 * float(np.max(np.abs(z_raw)))  # round-off of the inversion
    z = (np.where(np.abs(z_raw.real) < tiny, 0.0, z_raw.real)
         + 1j * np.where(np.abs(z_raw.imag) < tiny, 0.0, z_raw.imag))
    if np.any(np.diag(z).real < 0):
        problems.append(Problem(
            ProblemKind.BAD_IMPEDANCE, component,
            f"{element} has a negative resistance (negative losses)", (name,), "r",
            "give R >= 0"))
        return
    lid = name if name not in {r["id"] for r in line_rows} else f"{component}.{name}"
    phases = _letters(n1)
    in_service = bool(_dss().CktElement.Enabled()) and not open_at_a_terminal()
    if not in_service:
        out_of_service[element] = out_of_service_record(element, b1, b2)
    line_rows.append({
        "id": lid, "from_bus": b1, "to_bus": b2, "phases": phases, "length_m": 0.0,
        "kind": kind, "switchable": False, "normally_open": False,
        "in_service": in_service,
        "i_max_a": amps or None, "line_code": None,
        SERIES_ELEMENT: element,  # meta["series_elements"], not a column
    })
    for i, pi in enumerate(phases):
        for j, pj in enumerate(phases):
            z_rows.append({"line": lid, "row": pi, "col": pj,
                           "r_ohm": float(z[i, j].real), "x_ohm": float(z[i, j].imag),
                           "b_us": 0.0})


def _series_capacitor(cap: str, terms: list[tuple[str, list[int]]],
                      line_rows: list[dict[str, Any]], z_rows: list[dict[str, Any]],
                      problems: list[Problem], warnings: list[str],
                      out_of_service: dict[str, dict[str, str]]) -> None:
    """The active ``Capacitor`` with ``bus2`` another bus (a series capacitor,
    :func:`_is_series`) as a line of kind ``capacitor`` (:func:`_series_line`), from its
    primitive admittance matrix as OpenDSS builds it: per phase ``X = -kV^2 / Mvar`` (``kV``
    line to line and ``kvar`` the total for a 3-phase bank; OpenDSS manual, Capacitor) over
    the steps that are in, plus its series ``R`` and ``XL``; ``Cuf`` and ``Cmatrix`` as
    OpenDSS applies them. Its rating is OpenDSS's ``NormAmps`` (by default 1.35 times the
    rated current ``kvar / (sqrt(3) kV)``, at which its rated kV is across it). A disabled
    capacitor, or one with every step out (``states=[0]``: OpenDSS's admittance is zero),
    connects nothing and is left out, with a warning. Before, the reader took it for a shunt on
    ``bus1`` and the ``bus1``-``bus2`` connection vanished (user test ut34)."""
    dss = _dss()
    element = f"Capacitor.{cap}"
    raw = (np.asarray(dss.CktElement.YPrim(), float) if dss.CktElement.Enabled()
           else np.zeros(0))
    m = sum(len(nodes) for _, nodes in terms)
    if raw.size != 2 * m * m or not np.any(raw):
        warnings.append(f"{element} is a series capacitor that is disabled or has every step "
                        f"out: it connects nothing and is left out")
        rec = out_of_service_record(element, terms[0][0], terms[1][0])
        if dss.CktElement.Enabled():  # enabled, every step out
            rec |= {"why": "every step out (States=[0])",
                    "fix": f"switch a step of {element} in (States=[1])"}
        out_of_service[element] = rec
        return
    y = (raw[0::2] + 1j * raw[1::2]).reshape(m, m)
    _series_line(element, cap, "capacitor", "capacitor", terms, y,
                 float(dss.CktElement.NormalAmps()), line_rows, z_rows, problems, out_of_service)


def _shunt_capacitor(cap: str, terms: list[tuple[str, list[int]]], nph: int, delta: bool,
                     floating: set[tuple[str, int]], v_branch_kv: float, kv: float,
                     problems: list[Problem]) -> dict[str, Any] | None:
    """The active shunt ``Capacitor`` (not :func:`_is_series`) as a shunt row rated at its
    ``kV`` (a branch to ground at ``v_branch_kv``, one between phases at ``kv``), from its
    primitive admittance matrix as OpenDSS builds it at the base frequency ``f`` (OpenDSS
    manual, Capacitor; DSS C-API ``Capacitor.pas``), so that every way of giving it is read:
    per step ``kvar`` (``C = kvar / (2 pi f V^2)`` per branch, ``kV`` line to line and ``kvar``
    the total for a bank of several phases), ``Cuf`` (``C`` per branch [uF]: ``Q = 2 pi f C
    V^2``) or ``Cmatrix`` (the nodal capacitance matrix [uF]), each step with its series ``R``
    and ``XL`` (a filter reactor: the branch admittance ``1 / (R + j (XL - 1 / (2 pi f C)))``,
    exact at ``f``, a row with ``p_mw > 0``; on a 3-phase delta bank OpenDSS puts them in each
    line, ``1 / (3 R + j (3 XL - Xc))`` per branch, with a leak to ground of about 2e-6 of
    the branch that the row leaves out: :data:`~feederopt.io.opendss_shunts.DELTA_LEAK`),
    summed over the steps that are in (``States``, each step its own ``kvar``/``Cuf``). A
    disabled bank is a row out of service at its admittance; one with every step out a row
    out of service of 0 kvar.

    Refused by name (``unsupported_element``, :class:`~feederopt.io.opendss_shunts.ShuntRow`'s
    ``exact``): a wye bank whose row would hold its total at balanced voltages only, not what
    it draws per phase: a ``Cmatrix`` with coupling between phases or unequal diagonal terms.
    A negative resistance is ``bad_impedance``. Until user test dsscap the reader took the
    bank's ``kvar`` and ``kV`` alone: a bank given by ``Cuf`` or ``Cmatrix`` was a bank of
    (almost) 0 kvar, ``R``/``XL`` were dropped, and a bank of unequal steps had the mean of
    its steps per step that is in."""
    dss = _dss()
    element = f"Capacitor.{cap}"
    enabled = bool(dss.CktElement.Enabled())
    raw = np.asarray(dss.CktElement.YPrim(), float)
    m = sum(len(nodes) for _, nodes in terms)
    if raw.size != 2 * m * m or not np.any(raw):  # every step out: no admittance
        # the shape of the bank (phases, conn) from a branch of unit admittance, 0 kvar
        shape = shunt_row(terms, delta, branch_yprim(terms, nph, delta, 1j), floating,
                          v_branch_kv, kv)
        if shape is None:
            problems.append(_shunt_shape_problem(element, cap, "shunts", terms, nph, delta,
                                                 floating))
            return None
        return {"id": cap, "bus": terms[0][0], "phases": _letters(list(shape.nodes)),
                "kind": "capacitor", "p_mw": 0.0, "conn": shape.conn, "q_mvar": 0.0,
                "vn_kv": shape.vn_kv, "in_service": False}
    y = (raw[0::2] + 1j * raw[1::2]).reshape(m, m)
    bank = shunt_row(terms, delta, y, floating, v_branch_kv, kv)
    if bank is None:
        problems.append(_shunt_shape_problem(element, cap, "shunts", terms, nph, delta,
                                             floating))
        return None
    if not bank.exact:
        problems.append(Problem(
            ProblemKind.UNSUPPORTED_ELEMENT, "shunts",
            f"{element} has a capacitance matrix with coupling between its phases or unequal "
            "phases (Cmatrix): the model holds a wye bank as equal branches from each phase to "
            "ground, and would draw its balanced total at any voltages", (cap,), "cmatrix",
            "give equal, uncoupled phases (a diagonal Cmatrix of equal terms, or Cuf / kvar), "
            "or one 1-phase Capacitor per phase"))
        return None
    if bank.p_mw < -1e-9 * math.hypot(bank.p_mw, bank.q_mvar):
        problems.append(Problem(
            ProblemKind.BAD_IMPEDANCE, "shunts",
            f"{element} has a negative resistance (negative losses)", (cap,), "r",
            "give R >= 0"))
        return None
    return {"id": cap, "bus": terms[0][0], "phases": _letters(list(bank.nodes)),
            "kind": "capacitor", "p_mw": max(bank.p_mw, 0.0), "conn": bank.conn,
            "q_mvar": bank.q_mvar, "vn_kv": bank.vn_kv, "in_service": enabled}


def _step_note(cap: str, nph: int, delta: bool, kv: float, row: dict[str, Any]) -> str | None:
    """A note on the active shunt ``Capacitor`` when OpenDSS solves its steps otherwise than
    the file writes them (DSS C-API 0.14.5, ``Capacitor.pas``), which the reader follows (it
    takes OpenDSS's ``Yprim``):

    - steps given by ``kvar`` of unequal sizes (``kvar=[600 300]``): OpenDSS builds every
      step's ``C`` from the *first* step's kvar (``RecalcElementData``: ``FC[i]`` from
      ``FkvarRating[1]``), so ``states=[0 1]`` solves as 600 kvar; OpenDSS's total
      (``Capacitors.kvar()``) is the sum of the steps written exactly when the bank is given
      by ``kvar`` (by ``Cuf`` or ``Cmatrix`` it is not), which tells the two apart;
    - a delta bank with two or more steps in: OpenDSS adds each delta step onto the matrix of
      the ones before it, so step ``k`` in counts ``k`` times (two equal steps in solve as
      three, three as six), by ``kvar`` or ``Cuf`` alike.

    The note names the capacitor, says how OpenDSS sizes the steps and what the model took:
    the row's kvar at its rated kV against the steps in as written."""
    dss = _dss()
    raw = str(dss.Properties.Value("kvar")).strip("[]() ").replace(",", " ").split()
    try:
        steps = [float(k) for k in raw]
    except ValueError:
        return None
    states = [int(x) for x in dss.Capacitors.States()]
    if len(steps) < 2 or len(states) != len(steps):
        return None
    by_kvar = math.isclose(float(dss.Capacitors.kvar()), sum(steps), rel_tol=1e-9)
    unequal = by_kvar and max(steps) - min(steps) > 1e-9 * max(abs(k) for k in steps)
    stacked = delta and sum(states) >= 2
    if not (unequal or stacked):
        return None
    taken = float(row["q_mvar"]) * 1000
    shown = "[" + " ".join(f"{x:g}" for x in states) + "]"
    if by_kvar:
        written = f"{sum(k for k, on in zip(steps, states, strict=True) if on):g} kvar"
    else:  # Cuf [uF] per branch, each branch at kV (a delta bank): Q = omega C kV^2
        cuf = [float(c) for c in
               str(dss.Properties.Value("cuf")).strip("[]() ").replace(",", " ").split()]
        omega = 2 * math.pi * float(dss.Solution.Frequency())
        q = sum(nph * omega * c * 1e-6 * kv**2 * 1e3 for c, on in zip(cuf, states, strict=False)
                if on)
        written = f"{q:.4g} kvar (Cuf)"
    why, fix = [], []
    if unequal:
        why.append("its kvar steps are unequal (kvar=[" + " ".join(f"{k:g}" for k in steps)
                   + f"]) and OpenDSS sizes every step at the first step's kvar ({steps[0]:g})")
        fix.append("give each step's size by Cuf (cuf=[...], each step its own) or equal kvar "
                   "steps")
    if stacked:
        why.append("it is a delta bank with several steps in, and OpenDSS adds each delta "
                   "step onto the steps before it (step k in counts k times)")
        fix.append("give the delta bank as one step, or one delta Capacitor per step")
    return (f"Capacitor.{cap}: {'; '.join(why)}: the steps in (states={shown}) are read as "
            f"OpenDSS solves them, {taken:.4g} kvar at its rated kV, where the file writes "
            f"{written} (hint: {'; '.join(fix)})")


def _reduction_notes(sec: Secondaries, loads: list[dict[str, Any]]) -> list[str]:
    """What the split-phase reduction did, for ``info`` and ``solve``."""
    if not sec.units:
        return []
    on_sec = {r["id"] for r in loads if r["bus"] in sec.bus_unit}
    return [
        f"{len(sec.units)} centre-tapped (split-phase) service transformer(s) and their "
        f"120/240 V secondaries ({len(sec.bus_unit)} buses, {len(sec.lines)} lines, "
        f"{len(on_sec)} loads) are reduced to 240 V single-phase equivalents on the primary "
        "phase: each unit is the two-winding transformer a balanced 240 V load sees, each "
        "secondary line its loop impedance (Kersting 2009); the neutral current of unequally "
        "loaded halves is not modelled"]


def _repair_bases(buses: list[dict[str, Any]], sources: list[dict[str, Any]],
                  lines: list[dict[str, Any]], transformers: list[dict[str, Any]],
                  warnings: list[str]) -> None:
    """Nominal voltages from the source through lines and transformer ratios.

    OpenDSS gives every bus the nearest of the circuit's ``VoltageBases``; a voltage level that
    the list lacks (Iowa 240's 0.48 kV secondaries) gets a base off by the transformer's ratio.
    Where OpenDSS's base is more than 10 % from the one the ratios give, the ratio's base is used
    and a warning names the buses.
    """
    by_id = {b["id"]: b for b in buses}
    expected: dict[str, float] = {}
    adj: dict[str, list[tuple[str, float]]] = {}
    for ln in lines:
        adj.setdefault(ln["from_bus"], []).append((ln["to_bus"], 1.0))
        adj.setdefault(ln["to_bus"], []).append((ln["from_bus"], 1.0))
    for tr in transformers:
        if tr["kv_from"] > 0 and tr["kv_to"] > 0:
            ratio = tr["kv_to"] / tr["kv_from"]  # line-line (3-phase) or winding (1-phase) kV
            adj.setdefault(tr["from_bus"], []).append((tr["to_bus"], ratio))
            adj.setdefault(tr["to_bus"], []).append((tr["from_bus"], 1 / ratio))
    stack = []
    for src in sources:
        expected[src["bus"]] = src["vn_kv"]
        stack.append(src["bus"])
    while stack:
        b = stack.pop()
        for o, ratio in adj.get(b, []):
            if o not in expected:
                expected[o] = expected[b] * ratio
                stack.append(o)
    fixed: list[str] = []
    unset: list[str] = []
    for bid, kv in expected.items():
        row = by_id.get(bid)
        if row is None:
            continue
        if row["vn_kv"] <= 0 or abs(row["vn_kv"] / kv - 1) > 0.1:
            (unset if row["vn_kv"] <= 0 else fixed).append(bid)
            row["vn_kv"] = kv

    def named(ids: list[str]) -> str:
        return f"{', '.join(sorted(ids)[:6])}{' ...' if len(ids) > 6 else ''}"

    src_kv = ", ".join(f"{src['vn_kv']:g}" for src in sources)
    # user test ut32_3ph P1: a file without Set VoltageBases / CalcVoltageBases leaves every
    # bus's base at 0; the note blamed the transformers' ratios of a feeder that has none
    if unset and len(unset) == len(buses):
        warnings.append(
            "OpenDSS gives no bus a voltage base (the file sets no VoltageBases, or solves "
            "before CalcVoltageBases): each bus's base is inferred from the source's kV "
            f"({src_kv}) through the lines and transformer ratios; add Set VoltageBases=[...] "
            "and CalcVoltageBases for OpenDSS's own")
    elif unset:
        warnings.append(
            f"{len(unset)} bus(es) have no OpenDSS voltage base ({named(unset)}; defined after "
            "CalcVoltageBases, which sets the bases of the buses defined before it): their "
            "base is inferred from the source's kV through the lines and transformer ratios")
    if fixed:
        warnings.append(
            f"{len(fixed)} bus(es) have an OpenDSS voltage base more than 10 % from the one "
            f"that the source's kV and the transformer ratios give ({named(fixed)}; a level not "
            "in VoltageBases gets the nearest one): the ratios' base is used")


def _load_property(ld: str, prop: str, default: float) -> float:
    """A numeric property of ``Load.<ld>`` that OpenDSSDirect.py has no getter for."""
    dss = _dss()
    dss.Text.Command(f"? load.{ld}.{prop}")
    try:
        value = float(dss.Text.Result().strip())
    except ValueError:
        return default
    return value if math.isfinite(value) else default


def _zip_cutoff(model: int, dss: Any) -> float:
    """The voltage [p.u. of the load's kV] below which OpenDSS's ZIP load (model 8) draws
    nothing: the seventh ZIPV value (OpenDSS manual, Load object); 0 for other models."""
    if model != 8:
        return 0.0
    z = list(dss.Loads.ZipV())
    return float(z[6]) if len(z) >= 7 and math.isfinite(float(z[6])) else 0.0


def _operating_ratios(parts: list[tuple[str, str, float]], nph: int,
                      delta: bool) -> list[float]:
    """The voltage across each of the active load's ``parts`` (:func:`_load_parts`) in
    OpenDSS's solution, in p.u. of the part's rated kV: as OpenDSS's ``Load`` measures the
    voltage it compares with ``Vminpu``/``Vmaxpu`` (DSS C-API's ``Load.pas``, ``VBase``: a
    3-phase delta load's conductor ``k`` against ``k + 1``, any other load's conductor ``k``
    against its last conductor, the neutral or a 1-phase load's second conductor; ``VBase``
    is ``kV / sqrt 3`` for a multi-phase wye load, ``kV`` otherwise, which is the part's
    rated kV)."""
    raw = np.asarray(_dss().CktElement.Voltages(), float)
    volts = raw[0::2] + 1j * raw[1::2]
    out: list[float] = []
    if len(volts) < len(parts):  # a disabled load: no voltages
        return out
    for k, (_, _, kv_part) in enumerate(parts):
        other = (k + 1) % 3 if delta and nph == 3 else nph
        ref = volts[other] if other < len(volts) else 0.0
        out.append(float(abs(volts[k] - ref)) / (kv_part * 1000.0) if kv_part > 0 else 0.0)
    return out


def _zip_shares(zipv: tuple[float, ...]) -> tuple[float, float]:
    """What a ZIP load (model 8, ``ZIPV = [Zp Ip Pp Zq Iq Pq cutoff]``) draws at 1 p.u. of its
    kV as shares of its ``kW`` and ``kvar``: ``Zp + Ip + Pp`` and ``Zq + Iq + Pq``. OpenDSS's
    help says the weights "should sum to 1" but does not normalise them (DSS C-API's
    ``Load.pas``, ``DoZIPVModel``: ``P = kW (Zp v^2 + Ip v + Pp)``; checked with OpenDSSDirect.py:
    ``ZIPV=[0.2 0.2 0.2 0.3 0.3 0.3 0]`` on a 1000 kW load at 0.996 p.u. draws 597.8 kW).
    ``(1, 1)`` for another model (``zipv`` empty)."""
    if len(zipv) < 6:
        return 1.0, 1.0
    return sum(zipv[0:3]), sum(zipv[3:6])


def _zipv_problem(ld: str, zipv: tuple[float, ...]) -> Problem | None:
    """A ``bad_load`` problem naming ``Load.<ld>`` and its ``ZIPV`` when the model cannot hold
    what OpenDSS draws: P weights ``Zp + Ip + Pp`` below 0 (OpenDSS's load then injects at 1
    p.u., generation hidden in a load, as a negative kW), or P or Q weights that sum to 0 while
    not all 0 (a draw of 0 at 1 p.u. but not elsewhere, which ``p0 (|V|/V0)^n`` cannot
    follow); a value that is not finite."""
    if len(zipv) < 6:
        return None
    hint = ("give ZIP weights that sum to 1 for P (Zp Ip Pp) and for Q (Zq Iq Pq), as OpenDSS's "
            "help asks, e.g. ZIPV=[0.3 0.3 0.4 0.3 0.3 0.4 0]")
    if not all(math.isfinite(z) for z in zipv):
        return Problem(ProblemKind.BAD_LOAD, "loads", f"Load.{ld}: ZIPV holds a value that is "
                       f"not a finite number ({list(zipv)})", (ld,), "ZIPV", hint)
    for part, w in (("P (Zp Ip Pp)", zipv[0:3]), ("Q (Zq Iq Pq)", zipv[3:6])):
        total = sum(w)
        if total < 0 and part.startswith("P"):
            return Problem(ProblemKind.BAD_LOAD, "loads", f"Load.{ld}: ZIPV's {part} weights "
                           f"{' '.join(f'{x:g}' for x in w)} sum to {total:g}: OpenDSS then draws "
                           "a negative kW at 1 p.u. (the load injects)", (ld,), "ZIPV",
                           hint + "; model generation as a Generator or PVSystem element")
        if total == 0 and any(x != 0 for x in w):
            return Problem(ProblemKind.BAD_LOAD, "loads", f"Load.{ld}: ZIPV's {part} weights "
                           f"{' '.join(f'{x:g}' for x in w)} sum to 0: OpenDSS draws nothing "
                           "at 1 p.u. but a power at any other voltage, which the model's "
                           "load law p0 (|V|/V0)^n cannot hold", (ld,), "ZIPV", hint)
    return None


def _exponents(model: int, dss: Any) -> tuple[float, float]:
    """Exponents ``(n_p, n_q)`` of ``p = p0 |V|^n_p``, ``q = q0 |V|^n_q`` for OpenDSS load models
    (OpenDSS manual, Load object): 1 constant PQ, 2 constant Z, 3 constant P and quadratic Q,
    4 exponential (CVRwatts, CVRvars), 5 constant current, 6 constant P and fixed Q, 7 constant P
    and fixed-impedance Q, 8 ZIP (by its slope at 1 p.u. relative to its draw there:
    ``n = (2 Z + I) / (Z + I + P)``, ``2 Z + I`` when the weights sum to 1, :func:`_zip_shares`;
    0 when they sum to 0, all 0)."""
    if model == 2:
        return 2.0, 2.0
    if model in (3, 7):
        return 0.0, 2.0
    if model == 4:
        return float(dss.Loads.CVRwatts()), float(dss.Loads.CVRvars())
    if model == 5:
        return 1.0, 1.0
    if model == 8:
        z = list(dss.Loads.ZipV())
        if len(z) >= 6:
            sp, sq = sum(z[0:3]), sum(z[3:6])
            return ((2 * z[0] + z[1]) / sp if sp else 0.0, (2 * z[3] + z[4]) / sq if sq else 0.0)
    return 0.0, 0.0


def _transformer_ratings(tr: str, problems: list[Problem]) -> dict[str, float | None]:
    """``Transformer.<tr>``'s normal and emergency ratings [kVA]: OpenDSS's ``normhkva`` and
    ``emerghkva`` (winding 1; OpenDSS defaults them to 110 % and 150 % of winding 1's
    ``kVA``, OpenDSS manual, Transformer object), as OpenDSS rates the element
    (``NormAmps = normhkva / (n kV_ph)``, the current checked in its overload report).

    ``0`` is kept: the unit is unrated (OpenDSS's ``NormAmps`` is then 0, and its ``Export
    Overloads`` gives the unit no ``%Normal``; a line's ``normamps=0`` reads the same).
    A negative or NaN value (OpenDSS accepts both: a negative ``NormAmps``) is an
    ``invalid_value`` problem on ``problems`` naming the unit and the property. A positive
    value is the file's, however small."""
    import opendssdirect as dss

    out: dict[str, float | None] = {}
    for key, prop in (("s_norm_kva", "normhkva"), ("s_emerg_kva", "emerghkva")):
        dss.Text.Command(f"? Transformer.{tr}.{prop}")
        text = dss.Text.Result()
        try:
            val = float(text)
        except ValueError:  # OpenDSS shows a NaN as "----"
            val = math.nan
        if val >= 0 and math.isfinite(val):
            out[key] = val
            continue
        out[key] = None
        shown = "NaN" if math.isnan(val) else f"{val:g}"
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "transformers",
            f"Transformer.{tr} has {prop}={shown}: a rating cannot be negative or NaN", (tr,),
            prop,
            f"give {prop} in kVA as a number > 0, 0 for no rating, or leave it out for "
            f"OpenDSS's default ({'110' if prop == 'normhkva' else '150'} % of kVA)"))
    return out


def _ratings(cls: str, name: str, dss: Any) -> tuple[float, float, float | None, str | None]:
    """The active power a DER can deliver in the file's operating state [MW], its apparent
    rating [MVA], a storage unit's energy rating [MWh], and why the active power is below
    the unit's nameplate (``None`` when it is not). ``name``'s element must be the active
    circuit element (its state variables are read).

    * **Generator:** ``kW``.
    * **PVSystem**, OpenDSS's own rule (PVSystem model, ``ComputePanelPower`` and
      ``ComputeInverterPower``): the panel gives ``P_panel = Pmpp x irradiance x`` the
      ``P-TCurve`` factor at its temperature (OpenDSS's state variables ``PanelkW`` and
      ``Efficiency``, so that the curves are OpenDSS's); the inverter, on at the start of a
      snapshot, turns off when ``P_panel`` is below its cut-out ``%cutout x kVA``, and then
      delivers 0; on, it delivers ``P_panel x`` the ``EffCurve`` efficiency, at most
      ``%Pmpp x Pmpp``. The kVA cap (OpenDSS's inverter limit) is the models' (the partition's
      ``min(p_max, s_max)``). Before (user test ut36_tph #2) it was ``Pmpp`` whatever the
      irradiance: a PVSystem at ``irradiance=0`` was dispatched at its ``Pmpp``.
    * **Storage:** ``kWrated``, or 0 when its stored energy is at or below its reserve
      (``kWhstored <= %reserve x kWhrated``): OpenDSS does not discharge it then (it idles).
      Above the reserve the energy limits nothing: the models are snapshots, without a
      horizon for it to last over (ut36_tph #2: a unit at ``%stored=0`` was dispatched at
      295 kW).
    """
    def prop(p: str) -> float:
        dss.Text.Command(f"? {cls}.{name}.{p}")
        try:
            return float(dss.Text.Result())
        except ValueError:
            return 0.0

    if cls == "generator":
        return prop("kW") / 1000, prop("kVA") / 1000, None, None
    if cls == "pvsystem":
        state = dict(zip((str(v) for v in dss.CktElement.AllVariableNames()),
                         (float(v) for v in dss.CktElement.AllVariableValues()), strict=False))
        pmpp, kva, irradiance = prop("Pmpp"), prop("kVA"), prop("irradiance")
        panel = state.get("PanelkW", pmpp * irradiance)
        cutout = prop("%cutout") / 100 * kva
        cap = prop("%Pmpp") / 100 * pmpp
        p = 0.0 if panel < cutout else min(panel * state.get("Efficiency", 1.0), cap)
        why = None
        if p < min(pmpp, kva) - 1e-9:
            why = f"irradiance {irradiance:g}: its panel gives {panel:.4g} kW of its Pmpp " \
                  f"{pmpp:g} kW"
            if panel < cutout and panel > 0:
                why += f", below its cut-out ({cutout:.4g} kW, %cutout of its {kva:g} kVA), " \
                       "so OpenDSS turns its inverter off: 0 kW"
            elif p < panel and p >= cap - 1e-9:
                why += f", limited to {p:.4g} kW by %Pmpp"
            elif p < panel:
                why += f", {p:.4g} kW after its inverter's efficiency"
        return p / 1000, kva / 1000, None, why
    rated, stored, reserve = prop("kWrated"), prop("kWhstored"), prop("%reserve")
    kwh = prop("kWhrated")
    if stored <= reserve / 100 * kwh:
        pct = 100 * stored / kwh if kwh > 0 else 0.0
        return 0.0, prop("kVA") / 1000, kwh / 1000, (
            f"{pct:.4g} % stored ({stored:g} of {kwh:g} kWh), at or below its {reserve:g} % "
            f"reserve: OpenDSS does not discharge it, 0 of its {rated:g} kW")
    return rated / 1000, prop("kVA") / 1000, kwh / 1000, None


def _grid_forming(settings: str | Path | None) -> set[str]:
    """Elements that a PowerModelsONM settings file marks as grid-forming inverters."""
    if settings is None:
        return set()
    try:
        data = json.loads(Path(settings).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise InputError([Problem(ProblemKind.UNREADABLE_FILE, "file",
                                  f"cannot read settings '{settings}': {exc}",
                                  (str(settings),))]) from None
    out = set()
    for element, attrs in (data.get("dss") or {}).items():
        inv = str((attrs or {}).get("inverter", "")).lower()
        if inv in ("grid_forming", "gfm"):
            out.add(element.lower())
    return out

"""The daily load shapes of an OpenDSS circuit as a scenario table: one scenario per time step
of the day, so that ``feederopt solve FILE.dss --scenarios`` finds one topology for the day.

OpenDSS's snapshot (what :func:`feederopt.io.opendss.read_opendss` reads) takes every load at
its ``kW``/``kvar``; in ``Set Mode=Daily`` a load with ``daily=SHAPE`` draws, at the solution
time ``t`` (hours; OpenDSS advances the clock by the step before it solves, so the first
solution is at ``t = interval``), the shape's value at its point ``k = t / interval - 1``
(counted modulo ``npts``):

* ``useactual=no``: ``P(t) = kW * pmult[k]``, ``Q(t) = kvar * qmult[k]`` (``pmult[k]`` when the
  shape has no ``qmult``);
* ``useactual=yes``: the shape holds the load itself, ``P(t) = pmult[k]`` kW, ``Q(t) =
  qmult[k]`` kvar (``P(t) * kvar / kW`` without ``qmult``: the load's power factor). OpenDSS
  then sets the load's snapshot ``kW`` to the shape's peak.

Two of OpenDSS's load models do not scale Q by the shape (``Load.pas``, ``DoFixedQ`` and
``DoFixedQZ``: their Q comes from the nameplate ``kvarBase``, not from the shaped
``varNominal``): ``model=6`` draws ``kvar`` and ``model=7`` the fixed reactance of ``kvar``
at every step, so their rows hold ``Q(t) = kvar``. A load that the reader re-rated at its bus's
voltage (rated far from it, :mod:`feederopt.io.opendss_rated_kv`) draws OpenDSS's law there,
``P(v0)`` of its setting at each step (``Q(v0)``, the same share): its rows are ``P(t) P(v0)``
and ``Q(t) Q(v0)``, the shares of the network's ``meta["rerated_loads"]``. Tested against
OpenDSS's daily mode at each step (``tests/test_opendss_shapes_rerated.py``).

Loads without a daily shape keep their ``kW`` all day (OpenDSS's "no variation") and get no
row. The horizon is the day, or the longest shape's ``npts * interval`` when that is shorter
(the 8 hourly points of PowerModelsONM's IEEE 13 give 8 scenarios; a shorter shape repeats, as
in OpenDSS). The table (:mod:`feederopt.io.scenarios`'s long format) has one ``load`` row per
shaped, in-service load and step, each step weighted equally; scenario names are the solution
times ``HH:MM`` (``01:00`` ... ``24:00`` for hourly shapes). The expected losses of a scenario solve
are then the day's mean, i.e. its energy losses over 24 h. Tested against OpenDSS's own
daily-mode solution hour by hour (``tests/test_opendss_shapes.py``).

Generating units (``PVSystem``, ``Generator``, ``Storage``) with a daily shape get a
``generator`` row per step, their output at that step (positive injects, ``der`` ``pv``,
``generator`` or ``storage``). Their model is not repeated here (a PV system's irradiance x
Pmpp, its P-T and efficiency curves, cut-in and cut-out, the inverter's kVA; a storage unit's
charge over the day): OpenDSS's own daily mode runs at the file's topology and controls, at
the loads' step and clock (the steps in order), and each unit's power at its terminals is read
at each step. Units without a daily shape get no row (their snapshot output all day, as in
OpenDSS); a shape with no points (``mult=`` given without ``npts``, as Iowa 240's
``PVScaling1``) OpenDSS does not apply, and its units' rows are their snapshot output
(:attr:`DailyShapes.unshaped_ders` names them). The horizon takes the units' shape periods
into account too.

Only shapes with a fixed interval (not a ``mult=(file=...)`` time array: ``interval=0``) and
one interval for all the shaped loads are taken; others are typed ``bad_scenario`` problems.
The loads' shapes set the step; when no load has a daily shape, the shaped units' shapes set
it (the same rules) and the loads, constant all day, get no rows. A feeder with neither is
refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io.opendss import _dss, _iterate, compile_circuit, read_opendss

#: Hours in the day that the daily shapes cover.
DAY_H = 24.0
#: The ``der`` (and the generators table's ``kind``) of each generating class.
DER_KIND = {"Generator": "generator", "PVSystem": "pv", "Storage": "storage"}


@dataclass(frozen=True)
class DailyShapes:
    """The scenario table of :func:`daily_load_scenarios`, its step and its horizon [h]."""

    table: pl.DataFrame
    interval_h: float
    horizon_h: float
    #: PVSystem, Generator and Storage elements with a daily shape that OpenDSS does not apply
    #: (a shape without points: ``mult=`` given without ``npts``): their rows hold their
    #: snapshot output, as OpenDSS's daily mode does
    unshaped_ders: list[str]
    #: The shaped units that have ``generator`` rows (OpenDSS's full names)
    shaped_ders: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Shape:
    name: str
    interval_h: float
    pmult: list[float]
    qmult: list[float]
    use_actual: bool


def _shape(name: str) -> _Shape:
    dss = _dss()
    dss.LoadShape.Name(name)
    npts = int(dss.LoadShape.Npts())
    pmult = [float(x) for x in dss.LoadShape.PMult()][:npts]
    qmult = [float(x) for x in dss.LoadShape.QMult()][:npts]
    if len(qmult) < npts:  # OpenDSS gives [0.0] (or nothing) for a shape without qmult
        qmult = []
    return _Shape(name, float(dss.LoadShape.HrInterval()), pmult, qmult,
                  bool(dss.LoadShape.UseActual()))


def _time_name(t_h: float) -> str:
    minutes = round(t_h * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def daily_load_scenarios(path: str | Path,
                         rerated: dict[str, list[float]] | None = None) -> DailyShapes:
    """The scenario table of the daily load shapes of the OpenDSS circuit ``path`` (module
    docstring), with its step and horizon: columns ``scenario``, ``kind`` (``load``, or
    ``generator`` for a shaped unit), ``element`` (the load's name, or the unit's full name,
    as the reader gives them), ``p_mw``, ``q_mvar`` (a load's demand, a unit's output),
    ``weight``, ``der`` (``load``, ``pv``, ``generator``, ``storage``). Raises
    :class:`InputError` when no in-service load nor generating unit has a daily shape (the
    units' shapes set the step when no load has one), or a shape has no fixed interval, or
    the shapes' intervals differ or do not divide the day, or OpenDSS's daily mode does not
    converge at a step (with shaped units).

    ``rerated`` is the network's ``meta["rerated_loads"]`` (the reader's shares of the loads
    re-rated at their bus's voltage); None reads the feeder for it."""
    if rerated is None:
        rerated = read_opendss(path).meta.get("rerated_loads") or {}
    compile_circuit(path)
    dss = _dss()
    loads: list[tuple[str, float, float, str, int]] = []
    for ld in _iterate(dss.Loads):
        shape = str(dss.Loads.Daily() or "").lower()
        # status=fixed: OpenDSS holds the load at its kW whatever the shape (no row)
        if shape and bool(dss.CktElement.Enabled()) and int(dss.Loads.Status()) != 1:
            loads.append((ld, float(dss.Loads.kW()), float(dss.Loads.kvar()), shape,
                          int(dss.Loads.Model())))
    ders = _shaped_ders()
    where = str(path)
    # the loads' shapes set the step; without a shaped load, the shaped units' (with points)
    names = {ld[3] for ld in loads} or {d.shape for d in ders if _shape(d.shape).pmult}
    if not names:
        raise InputError([Problem(
            ProblemKind.BAD_SCENARIO, "loads", f"no in-service load or generating unit of "
            f"{where} has a daily load shape (daily=...)", (where,), "daily",
            hint="give the loads (or the PV systems, generators, storage) "
            "daily=<LoadShape> in the file, or generate scenarios of a balanced case")])
    shapes = {name: _shape(name) for name in sorted(names)}
    problems: list[Problem] = []
    no_interval = sorted(n for n, s in shapes.items() if not s.interval_h > 0 or not s.pmult)
    if no_interval:
        problems.append(Problem(
            ProblemKind.BAD_SCENARIO, "loadshapes", "load shape(s) without a fixed interval "
            "or without points (a time array, interval=0)", tuple(no_interval), "interval",
            hint="give the shape interval=<hours> and npts points"))
    steps = sorted({s.interval_h for s in shapes.values() if s.interval_h > 0})
    if len(steps) > 1:
        by_step = {st: sorted(n for n, s in shapes.items() if s.interval_h == st)[:3]
                   for st in steps}
        problems.append(Problem(
            ProblemKind.BAD_SCENARIO, "loadshapes", "the daily load shapes have different "
            "intervals: " + "; ".join(f"{st:g} h ({', '.join(ns)})"
                                     for st, ns in by_step.items()),
            tuple(sorted(shapes)), "interval", hint="resample them to one interval"))
    elif steps and abs(DAY_H / steps[0] - round(DAY_H / steps[0])) > 1e-9:
        problems.append(Problem(
            ProblemKind.BAD_SCENARIO, "loadshapes", f"the shapes' interval {steps[0]:g} h does "
            "not divide the day", tuple(sorted(shapes)), "interval",
            hint="use an interval such as 1, 0.5 or 0.25 h"))
    if problems:
        raise InputError(problems)
    dt = steps[0]
    # the period of the shapes together (the least common multiple of their lengths), at most
    # the day: 8 hourly points are 8 scenarios; shapes of 4, 3 and 6 points repeat every 12
    day = round(DAY_H / dt)
    periods = [len(s.pmult) for s in shapes.values()] + [
        day if n is None else n for n in _der_period_steps(ders, dt)]
    count = min(day, math.lcm(*periods))
    outputs = _daily_outputs(ders, dt, count, where) if ders else []
    rows: dict[str, list[object]] = {c: [] for c in ("scenario", "kind", "element", "p_mw",
                                                     "q_mvar", "weight", "der")}
    for k in range(count):
        name = _time_name((k + 1) * dt)
        for ld, kw, kvar, shape_name, model in loads:
            s = shapes[shape_name]
            i = k % len(s.pmult)
            if s.use_actual:
                p = s.pmult[i]
                q = s.qmult[i % len(s.qmult)] if s.qmult else (p * kvar / kw if kw else 0.0)
            else:
                p = kw * s.pmult[i]
                q = kvar * (s.qmult[i % len(s.qmult)] if s.qmult else s.pmult[i])
            if model in (6, 7):  # Q from the nameplate kvar, not the shape (module docstring)
                q = kvar
            share = rerated.get(ld)
            if share:  # re-rated at its bus's voltage: OpenDSS's law there
                p, q = p * share[0], q * share[1]
            for col, val in (("scenario", name), ("kind", "load"), ("element", ld),
                             ("p_mw", p / 1000.0), ("q_mvar", q / 1000.0),
                             ("weight", 1.0 / count), ("der", "load")):
                rows[col].append(val)
        for d in ders:
            p, q = outputs[k][d.name]
            for col, val in (("scenario", name), ("kind", "generator"), ("element", d.name),
                             ("p_mw", p / 1000.0), ("q_mvar", q / 1000.0),
                             ("weight", 1.0 / count), ("der", d.kind)):
                rows[col].append(val)
    return DailyShapes(pl.DataFrame(rows, schema={
        "scenario": pl.String, "kind": pl.String, "element": pl.String, "p_mw": pl.Float64,
        "q_mvar": pl.Float64, "weight": pl.Float64, "der": pl.String}), dt, count * dt,
        [d.name for d in ders if not _shape(d.shape).pmult], [d.name for d in ders])


@dataclass(frozen=True)
class _Der:
    name: str  # the full name as the reader gives it (``PVSystem.pv1``)
    kind: str  # pv, generator, storage
    shape: str


def _shaped_ders() -> list[_Der]:
    """The in-service generating elements with a daily shape (``PVSystem``, ``Generator``,
    ``Storage``), in the reader's order (by class, then OpenDSS's)."""
    dss = _dss()
    out: list[_Der] = []
    for cls, coll in (("Generator", dss.Generators), ("PVSystem", dss.PVsystems),
                      ("Storage", dss.Storages)):
        for _ in _iterate(coll):
            name = str(dss.CktElement.Name())
            try:
                daily = str(dss.Properties.Value("daily") or "").strip()
            except Exception:  # a class without the property
                daily = ""
            if daily and bool(dss.CktElement.Enabled()):
                out.append(_Der(name, DER_KIND[cls], daily.lower()))
    return out


def _der_period_steps(ders: list[_Der], dt: float) -> list[int | None]:
    """Each shaped unit's shape period in steps of ``dt`` (None: not a whole number of steps,
    or no fixed interval: the day is the horizon); a shape without points has none."""
    out: list[int | None] = []
    for d in ders:
        sh = _shape(d.shape)
        if not sh.pmult:
            continue
        steps = len(sh.pmult) * sh.interval_h / dt
        out.append(round(steps) if sh.interval_h > 0 and abs(steps - round(steps)) < 1e-9
                   and round(steps) > 0 else None)
    return out


def _daily_outputs(ders: list[_Der], dt: float, count: int, where: str,
                   ) -> list[dict[str, tuple[float, float]]]:
    """OpenDSS's own daily mode on the compiled circuit (its file's topology and controls):
    per step ``k`` (solution time ``(k + 1) dt``, as the loads' rows) each unit's output
    ``(kW, kvar)`` at its terminals, positive injecting. The steps run in order (a storage
    unit's charge carries on from one to the next)."""
    dss = _dss()
    dss.Text.Command("set mode=daily number=1")
    dss.Solution.StepSize(dt * 3600.0)
    out: list[dict[str, tuple[float, float]]] = []
    failed: list[str] = []
    for k in range(count):
        start_s = round(k * dt * 3600.0)
        dss.Solution.Hour(start_s // 3600)  # the solve steps the clock by dt first
        dss.Solution.Seconds(float(start_s % 3600))
        dss.Solution.Solve()
        if not dss.Solution.Converged():
            failed.append(_time_name((k + 1) * dt))
        per: dict[str, tuple[float, float]] = {}
        for d in ders:
            dss.Circuit.SetActiveElement(d.name)
            pw = dss.CktElement.Powers()
            per[d.name] = (0.0 - float(sum(pw[0::2])), 0.0 - float(sum(pw[1::2])))
        out.append(per)
    dss.Text.Command("set mode=snapshot")
    if failed:
        raise InputError([Problem(
            ProblemKind.BAD_SCENARIO, "generators", "OpenDSS's daily mode did not converge at "
            f"{', '.join(failed[:6])}{' ...' if len(failed) > 6 else ''}: the shaped units' "
            "outputs there are not a solution", (where,), "daily",
            hint="check the feeder's daily solution in OpenDSS (Set Mode=Daily)")])
    return out

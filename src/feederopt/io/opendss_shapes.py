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

A shape given as a time array (``hour=(...)`` with ``mult=(...)``, or a file of hour, mult
pairs: OpenDSS's ``interval=0``) whose hours are evenly spaced takes that spacing as its
interval, and each step's value is what OpenDSS reads at its time ``t`` (DSS C-API's
``TLoadShapeObj.GetMultAtHour``, ``src/General/LoadShape.pas``): the time wraps at the array's
last hour ``H`` (``t - trunc(t / H) H`` for ``t > H``: ``hour=(0 ... 23)`` reads hour 1 at
24:00), a point at the time gives its value and others are interpolated linearly between the
points around it. A wrapped time at ``2H, 3H, ...`` reads hour 0, so the array does not
repeat as a period and its horizon is the day. An unevenly spaced array, and an array read
before its first hour (OpenDSS has no point there: ``hour=(0.25 ... 2)`` at 4:00), are typed
``bad_scenario`` problems naming the shape. Tested against OpenDSS's daily mode step by step
(``tests/test_opendss_shapes_hours.py``).

Only shapes with a fixed interval (``interval=``, or an evenly spaced time array) and one
interval for all the shaped loads are taken; others are typed ``bad_scenario`` problems.
The loads' shapes set the step; when no load has a daily shape, the shaped units' shapes set
it (the same rules) and the loads, constant all day, get no rows. A feeder with neither is
refused.
"""

from __future__ import annotations

import itertools
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


#: Two hours of a shape's ``hour=`` array closer than this are the same (OpenDSS's
#: ``LoadShape.GetMult`` takes a point within 1e-5 h of the time as the time's value).
HOUR_TOL = 1e-5


@dataclass(frozen=True)
class _Shape:
    name: str
    #: the fixed ``interval`` [h], or the step of an evenly spaced ``hour=`` array (0: an
    #: unevenly spaced one)
    interval_h: float
    pmult: list[float]
    qmult: list[float]
    use_actual: bool
    #: the ``hour=`` array (a time array: OpenDSS's ``interval=0``); empty for a fixed interval
    hours: list[float] = field(default_factory=list)


def _even_step(hours: list[float]) -> float:
    """The step of an evenly spaced, increasing ``hours`` array (every difference within
    :data:`HOUR_TOL` of the first); 0.0 for a single point or an uneven array."""
    if len(hours) < 2:
        return 0.0
    steps = [b - a for a, b in itertools.pairwise(hours)]
    step = steps[0]
    even = step > HOUR_TOL and all(abs(d - step) <= HOUR_TOL for d in steps)
    return step if even else 0.0


def _shape(name: str) -> _Shape:
    dss = _dss()
    dss.LoadShape.Name(name)
    npts = int(dss.LoadShape.Npts())
    pmult = [float(x) for x in dss.LoadShape.PMult()][:npts]
    qmult = [float(x) for x in dss.LoadShape.QMult()][:npts]
    if len(qmult) < npts:  # OpenDSS gives [0.0] (or nothing) for a shape without qmult
        qmult = []
    interval = float(dss.LoadShape.HrInterval())
    hours: list[float] = []
    if not interval > 0 and npts > 0:  # a time array (hour=, or a file of hour,mult pairs)
        hours = [float(x) for x in dss.LoadShape.TimeArray()][:npts]
        interval = _even_step(hours) if len(hours) == npts else 0.0
    return _Shape(name, interval, pmult, qmult, bool(dss.LoadShape.UseActual()), hours)


def _wrapped(s: _Shape, t_h: float) -> float:
    """The time a time-array shape reads at solution time ``t_h``: OpenDSS wraps it at the
    array's last hour ``H``, ``t - trunc(t / H) H`` when ``t > H``."""
    last = s.hours[-1]
    return t_h - math.trunc(t_h / last) * last if t_h > last > 0 else t_h


def _hour_mult(s: _Shape, t_h: float) -> tuple[float, float | None]:
    """The multipliers ``(p, q)`` (``q`` None without ``qmult``) of a time-array shape at
    solution time ``t_h``, as OpenDSS takes them when ``interval=0`` (DSS C-API's
    ``TLoadShapeObj.GetMultAtHour``, ``src/General/LoadShape.pas``):

    * the time wraps at the array's last hour ``H = hours[-1]`` (:func:`_wrapped`): so
      ``hour=(0 ... 23)`` reads its hour-1 point at 24:00, and a multiple ``m H`` (``m >= 2``)
      reads hour 0;
    * the first point within 1e-5 h of the time gives its value; before a point above the
      time, the value is interpolated linearly from the point before, ``m_{i-1} + (t -
      h_{i-1}) / (h_i - h_{i-1}) (m_i - m_{i-1})``.

    A time before the first hour has no point before it (OpenDSS then reads before the
    array): :func:`daily_load_scenarios` refuses such a shape before it gets here. Checked
    against OpenDSS's daily mode (``tests/test_opendss_shapes_hours.py``)."""
    hours = s.hours
    if len(hours) == 1:
        return s.pmult[0], (s.qmult[0] if s.qmult else None)
    t_h = _wrapped(s, t_h)

    def at(i: int, frac: float) -> tuple[float, float | None]:
        p = s.pmult[i - 1] + frac * (s.pmult[i] - s.pmult[i - 1])
        q = s.qmult[i - 1] + frac * (s.qmult[i] - s.qmult[i - 1]) if s.qmult else None
        return p, q

    for i, h in enumerate(hours):
        if abs(h - t_h) < HOUR_TOL:
            return s.pmult[i], (s.qmult[i] if s.qmult else None)
        if h > t_h and i > 0:
            return at(i, (t_h - hours[i - 1]) / (h - hours[i - 1]))
    return s.pmult[-1], (s.qmult[-1] if s.qmult else None)  # not reached: t <= H


def _before_first(s: _Shape, dt: float, count: int) -> float | None:
    """The first solution time ``(k + 1) dt`` (``k < count``) at which the time-array shape
    ``s`` reads before its first hour (:func:`_wrapped`), or None."""
    for k in range(count):
        if _wrapped(s, (k + 1) * dt) < s.hours[0] - HOUR_TOL:
            return (k + 1) * dt
    return None


def _hours_text(hours: list[float]) -> str:
    """The first hours of a time array and its steps, for a message."""
    steps = sorted({round(b - a, 6) for a, b in itertools.pairwise(hours)})
    head = " ".join(f"{h:g}" for h in hours[:6]) + (" ..." if len(hours) > 6 else "")
    return f"hour=({head}); steps of {', '.join(f'{d:g}' for d in steps[:4])} h"


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
    no_points = sorted(n for n, s in shapes.items() if not s.pmult)
    if no_points:
        problems.append(Problem(
            ProblemKind.BAD_SCENARIO, "loadshapes", "load shape(s) without points (mult= "
            "without npts=)", tuple(no_points), "npts",
            hint="give the shape npts=<points> with its mult= (and interval= or hour=)"))
    for n, s in shapes.items():
        if s.pmult and not s.interval_h > 0:  # a time array whose hours are not even
            problems.append(Problem(
                ProblemKind.BAD_SCENARIO, "loadshapes", f"load shape '{n}' has unevenly "
                f"spaced hours ({_hours_text(s.hours)}): the scenarios need one step",
                (n,), "hour", hint="give the shape evenly spaced hours, or interval=<hours> "
                "and npts points (resample it to one step)"))
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
    # a time array repeats at its last hour, but not as a period (a multiple 2H, 3H ... of
    # it reads hour 0): the day is the horizon
    periods = [day if s.hours else len(s.pmult) for s in shapes.values()] + [
        day if n is None else n for n in _der_period_steps(ders, dt)]
    count = min(day, math.lcm(*periods))
    # the loads' time arrays read before their first hour (the units' come from OpenDSS)
    early = {n: t for n in sorted({ld[3] for ld in loads}) if shapes[n].hours
             and (t := _before_first(shapes[n], dt, count)) is not None}
    if early:
        raise InputError([Problem(
            ProblemKind.BAD_SCENARIO, "loadshapes", f"load shape '{n}' "
            f"({_hours_text(shapes[n].hours)}) is read before its first hour at "
            f"{_time_name(t)} (OpenDSS wraps the time at the last hour, "
            f"{shapes[n].hours[-1]:g} h, and has no point before the first): its value there "
            "is not defined", (n,), "hour",
            hint="start the hours at 0, or give the whole day (up to 24 h)")
            for n, t in early.items()])
    outputs = _daily_outputs(ders, dt, count, where) if ders else []
    rows: dict[str, list[object]] = {c: [] for c in ("scenario", "kind", "element", "p_mw",
                                                     "q_mvar", "weight", "der")}
    for k in range(count):
        name = _time_name((k + 1) * dt)
        for ld, kw, kvar, shape_name, model in loads:
            s = shapes[shape_name]
            if s.hours:  # a time array: OpenDSS's interpolation at the step's time
                pm, qm = _hour_mult(s, (k + 1) * dt)
            else:
                i = k % len(s.pmult)
                pm, qm = s.pmult[i], (s.qmult[i % len(s.qmult)] if s.qmult else None)
            if s.use_actual:
                p = pm
                q = qm if qm is not None else (p * kvar / kw if kw else 0.0)
            else:
                p = kw * pm
                q = kvar * (qm if qm is not None else pm)
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
        out.append(round(steps) if sh.interval_h > 0 and not sh.hours
                   and abs(steps - round(steps)) < 1e-9
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

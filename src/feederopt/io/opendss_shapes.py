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

Loads without a daily shape keep their ``kW`` all day (OpenDSS's "no variation") and get no
row. The horizon is the day, or the longest shape's ``npts * interval`` when that is shorter
(the 8 hourly points of PowerModelsONM's IEEE 13 give 8 scenarios; a shorter shape repeats, as
in OpenDSS). The table (:mod:`feederopt.io.scenarios`'s long format) has one ``load`` row per
shaped, in-service load and step, each step weighted equally; scenario names are the solution
times ``HH:MM`` (``01:00`` ... ``24:00`` for hourly shapes). The expected losses of a scenario solve
are then the day's mean, i.e. its energy losses over 24 h. Tested against OpenDSS's own
daily-mode solution hour by hour (``tests/test_opendss_shapes.py``).

Only shapes with a fixed interval (not a ``mult=(file=...)`` time array: ``interval=0``) and
one interval for all the shaped loads are taken; others are typed ``bad_scenario`` problems.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io.opendss import _dss, _iterate, compile_circuit

#: Hours in the day that the daily shapes cover.
DAY_H = 24.0


@dataclass(frozen=True)
class DailyShapes:
    """The scenario table of :func:`daily_load_scenarios`, its step and its horizon [h]."""

    table: pl.DataFrame
    interval_h: float
    horizon_h: float
    #: PVSystem, Generator and Storage elements with a daily shape, which the table does not
    #: follow: they stay at their snapshot output in every scenario
    unshaped_ders: list[str]


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


def daily_load_scenarios(path: str | Path) -> DailyShapes:
    """The scenario table of the daily load shapes of the OpenDSS circuit ``path`` (module
    docstring), with its step and horizon: columns ``scenario``, ``kind`` (``load``),
    ``element`` (the load's name as the reader gives it), ``p_mw``, ``q_mvar``, ``weight``,
    ``der`` (``load``). Raises :class:`InputError` when no in-service load has a daily shape,
    or a shape has no fixed interval, or the shapes' intervals differ or do not divide the
    day."""
    compile_circuit(path)
    dss = _dss()
    loads: list[tuple[str, float, float, str]] = []
    for ld in _iterate(dss.Loads):
        shape = str(dss.Loads.Daily() or "").lower()
        # status=fixed: OpenDSS holds the load at its kW whatever the shape (no row)
        if shape and bool(dss.CktElement.Enabled()) and int(dss.Loads.Status()) != 1:
            loads.append((ld, float(dss.Loads.kW()), float(dss.Loads.kvar()), shape))
    ders = _shaped_ders()
    where = str(path)
    if not loads:
        raise InputError([Problem(
            ProblemKind.BAD_SCENARIO, "loads", f"no in-service load of {where} has a daily "
            "load shape (daily=...)", (where,), "daily",
            hint="give the loads daily=<LoadShape> in the file, or generate scenarios of a "
            "balanced case")])
    shapes = {name: _shape(name) for name in sorted({s for *_, s in loads})}
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
    count = min(round(DAY_H / dt), math.lcm(*(len(s.pmult) for s in shapes.values())))
    rows: dict[str, list[object]] = {c: [] for c in ("scenario", "kind", "element", "p_mw",
                                                     "q_mvar", "weight", "der")}
    for k in range(count):
        name = _time_name((k + 1) * dt)
        for ld, kw, kvar, shape_name in loads:
            s = shapes[shape_name]
            i = k % len(s.pmult)
            if s.use_actual:
                p = s.pmult[i]
                q = s.qmult[i % len(s.qmult)] if s.qmult else (p * kvar / kw if kw else 0.0)
            else:
                p = kw * s.pmult[i]
                q = kvar * (s.qmult[i % len(s.qmult)] if s.qmult else s.pmult[i])
            for col, val in (("scenario", name), ("kind", "load"), ("element", ld),
                             ("p_mw", p / 1000.0), ("q_mvar", q / 1000.0),
                             ("weight", 1.0 / count), ("der", "load")):
                rows[col].append(val)
    return DailyShapes(pl.DataFrame(rows, schema={
        "scenario": pl.String, "kind": pl.String, "element": pl.String, "p_mw": pl.Float64,
        "q_mvar": pl.Float64, "weight": pl.Float64, "der": pl.String}), dt, count * dt, ders)


def _shaped_ders() -> list[str]:
    """The generating elements with a daily shape (``PVSystem``, ``Generator``, ``Storage``):
    the scenarios do not follow them (they stay at their snapshot output)."""
    dss = _dss()
    out: list[str] = []
    for cls in ("PVSystem", "Generator", "Storage"):
        for name in dss.Circuit.AllElementNames() or []:
            if not name.lower().startswith(cls.lower() + "."):
                continue
            dss.Circuit.SetActiveElement(name)
            try:
                daily = dss.Properties.Value("daily")
            except Exception:  # a class without the property
                daily = ""
            if str(daily or "").strip():
                out.append(name)
    return out

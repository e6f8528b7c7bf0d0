"""Time series and scheduling devices: hourly profiles and the component tables of a day-ahead
schedule (seed 004: fossil DG, energy storage, PV, wind, EV charging stations).

Component tables (Polars, one row per device; the unit is in the column name):

==========  =================================================================================
table       columns
==========  =================================================================================
dg          id, bus, p_max_mw, q_max_mvar, fuel (gas | diesel | unknown), cost_per_mwh;
            optional p_min_mw (minimum output when committed), no_load_cost ($ per committed
            hour): used with day-ahead commitment (``ScheduleSettings.dg_commitment``)
ess         id, bus, e_max_mwh, p_max_mw, eta_ch, eta_dis, soc0 (share of e_max at 0 and 24 h)
pv          id, bus, p_max_mw, deviation (share of the forecast it may fall short by)
wind        id, bus, p_max_mw, deviation
ev          id, bus, p_max_mw, energy_mwh (energy the station must deliver over the day)
==========  =================================================================================

Profiles (:class:`Profiles`) are a long table ``(time, element, value)``: ``time`` an hour
index ``0..H-1`` (or timestamps one hour apart), ``element`` a load id, or a PV, wind or EV id,
and ``value`` a dimensionless factor: a load's demand is ``value * (p_mw, q_mvar)`` of its
nominal row, a PV or wind unit's forecast is ``value * p_max_mw`` (``0 <= value <= 1``), an EV
station's charging availability is ``value * p_max_mw`` (``0 <= value <= 1``). The reserved
element ``price`` (:data:`PRICE`) is not a factor but the substation's purchase price in $/MWh
(absolute, ``>= 0``) at that hour, which replaces the scalar ``c_buy`` there; no load, generator
or device may then be named ``price``. Reading and validation are in
:mod:`feederopt.io.timeseries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import polars as pl


class DeviceKind(StrEnum):
    DG = "dg"
    ESS = "ess"
    PV = "pv"
    WIND = "wind"
    EV = "ev"


#: Required numeric columns of each component table (``id`` and ``bus`` are strings).
DEVICE_COLUMNS: dict[DeviceKind, tuple[str, ...]] = {
    DeviceKind.DG: ("p_max_mw", "q_max_mvar", "cost_per_mwh"),
    DeviceKind.ESS: ("e_max_mwh", "p_max_mw", "eta_ch", "eta_dis", "soc0"),
    DeviceKind.PV: ("p_max_mw", "deviation"),
    DeviceKind.WIND: ("p_max_mw", "deviation"),
    DeviceKind.EV: ("p_max_mw", "energy_mwh"),
}

#: Optional numeric columns and their defaults (a table without them gets the default): the
#: unit-commitment data of a fossil DG (minimum output when on, no-load cost per hour on).
OPTIONAL_COLUMNS: dict[DeviceKind, dict[str, float]] = {
    DeviceKind.DG: {"p_min_mw": 0.0, "no_load_cost": 0.0},
}

#: The columns of the long profile table, all required; any other column is refused
#: (``unknown_column``), as in the device tables.
PROFILE_COLUMNS = ("time", "element", "value")

#: Device kinds that have an hourly profile (besides loads).
PROFILED = (DeviceKind.PV, DeviceKind.WIND, DeviceKind.EV)

#: The reserved profile element of the hourly substation purchase price [$/MWh], absolute
#: (not a factor): ``c_buy`` of the hour (:func:`feederopt.problems.schedule.build_schedule_data`).
PRICE = "price"


def empty_table(kind: DeviceKind) -> pl.DataFrame:
    cols: dict[str, pl.DataType | type[pl.DataType]] = {"id": pl.Utf8, "bus": pl.Utf8}
    cols.update({c: pl.Float64 for c in DEVICE_COLUMNS[kind]})
    cols.update({c: pl.Float64 for c in OPTIONAL_COLUMNS.get(kind, {})})
    if kind is DeviceKind.DG:
        cols["fuel"] = pl.Utf8
    return pl.DataFrame(schema=cols)


@dataclass(frozen=True)
class Devices:
    """The scheduling devices of a feeder, one table per kind."""

    dg: pl.DataFrame
    ess: pl.DataFrame
    pv: pl.DataFrame
    wind: pl.DataFrame
    ev: pl.DataFrame

    def table(self, kind: DeviceKind) -> pl.DataFrame:
        table: pl.DataFrame = getattr(self, kind.value)
        return table

    @classmethod
    def empty(cls) -> Devices:
        return cls(**{k.value: empty_table(k) for k in DeviceKind})

    def ids(self, kind: DeviceKind) -> list[str]:
        return [str(x) for x in self.table(kind)["id"].to_list()]

    def kind_of(self) -> dict[str, DeviceKind]:
        """Device id -> kind (ids are unique across kinds; see the validation)."""
        return {i: k for k in DeviceKind for i in self.ids(k)}


@dataclass(frozen=True)
class Profiles:
    """Hourly factors: ``values[h, e]`` for element ``elements[e]`` at hour ``h`` (for the
    element :data:`PRICE` the purchase price in $/MWh, not a factor).

    A table with timestamps counts its hours from the first one (hour 0 is the earliest
    timestamp, which need not be midnight): ``clock[h]`` is hour ``h``'s timestamp as ISO
    text (``2024-06-01T06:00``, with its UTC offset where the table gives one), empty for a
    table of hour indices. ``left_out``: the timestamps of a 25-hour day (the change from
    summer to winter time) beyond the horizon that ``--hours`` chose, to be noted.
    ``blank_rows``: the data rows (counted from 1) at the end of the table read whose every
    field was empty (a spreadsheet's leftover rows), left out, to be noted."""

    hours: int
    elements: list[str]
    values: np.ndarray  # (hours, len(elements))
    clock: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()
    blank_rows: tuple[int, ...] = ()

    @property
    def start(self) -> str | None:
        """Hour 0's timestamp (ISO), None for a table of hour indices."""
        return self.clock[0] if self.clock else None

    def of(self, element: str, default: float | None = None) -> np.ndarray:
        """The hourly factors of ``element`` (``default`` everywhere when it has none)."""
        if element in self.elements:
            return np.asarray(self.values[:, self.elements.index(element)], float)
        if default is None:
            raise KeyError(element)
        return np.full(self.hours, float(default))

    def first(self, hours: int) -> Profiles:
        """The first ``hours`` hours (small instances)."""
        return Profiles(hours, list(self.elements), self.values[:hours].copy(),
                        self.clock[:hours], self.left_out, self.blank_rows)

    def to_long(self) -> pl.DataFrame:
        h, e = np.meshgrid(np.arange(self.hours), np.arange(len(self.elements)), indexing="ij")
        return pl.DataFrame({
            "time": h.ravel().astype(np.int64),
            "element": [self.elements[i] for i in e.ravel()],
            "value": self.values.ravel(),
        })


def clock_text(stamp: str) -> str:
    """An ISO timestamp as a note or a plot names it: ``2024-06-01T06:00:00`` ->
    ``2024-06-01 06:00``, ``2024-10-27T02:00:00+01:00`` -> ``2024-10-27 02:00+01:00``."""
    t = datetime.fromisoformat(stamp)
    off = t.strftime("%z")
    return t.strftime("%Y-%m-%d %H:%M") + (f"{off[:3]}:{off[3:]}" if off else "")

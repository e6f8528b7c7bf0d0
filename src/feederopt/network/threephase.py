"""The three-phase (unbalanced) data model: per-phase tables in SI units, next to the balanced one.

Phases are the letters ``a``, ``b``, ``c`` (OpenDSS nodes 1, 2, 3); a ``phases`` column holds the
phases an element uses, in order (``"abc"``, ``"ca"``, ``"b"``). Every table is a Polars DataFrame
validated by a Patito model, with the unit in every column name, as in
:mod:`feederopt.network.schemas`:

* ``buses``: one row per bus, with its phases and nominal voltage;
* ``sources``: voltage sources (the substation) and their sequence impedances;
* ``lines``: lines, switches and series capacitors (kind ``capacitor``, a negative self
  reactance); ``impedances`` holds their full series impedance and shunt susceptance matrices,
  one row per (line, row phase, column phase), whole-line values in Ohm and uS (per-length
  values times length);
* ``transformers``: two-winding transformers and single-phase regulator units, one row each,
  with their terminal nodes as OpenDSS numbers them (``"1.2"`` is a winding between nodes 1 and
  2, ``"1"`` one between node 1 and ground);
* ``loads``: one row per load and phase (wye: ``"a"``) or phase pair (delta: ``"ab"``), with the
  exponents of the exponential load model ``p = p0 (|V| / V0) ** p_exponent``;
* ``generators``: generators, PV systems and storage (``kind``), their base-case output and
  ratings; the output is split equally over their phases (phase to ground), or a single-phase
  unit sits between two phases (``conn`` delta);
* ``shunts``: constant-impedance shunts: capacitor banks, shunt reactors and transformers'
  no-load (core loss and magnetizing) branches (``kind``).
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import patito as pt
import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.network.magnitudes import IMPEDANCE_PU_MAX, LOAD_PU_MAX, MAGNITUDE_BASE_MVA
from feederopt.network.schemas import complete_table, empty_table

PHASES = "abc"

Connection = Literal["wye", "delta"]


class PhaseBus(pt.Model):
    """A three-phase (or one-, two-phase) node."""

    id: str = pt.Field(description="Unique bus id.")
    phases: str = pt.Field(description="The phases present, e.g. 'abc' or 'ac'.")
    vn_kv: float = pt.Field(description="Nominal line-to-line voltage [kV].")
    v_min_pu: float = pt.Field(default=0.9, description="Lower phase-voltage limit [p.u.].")
    v_max_pu: float = pt.Field(default=1.1, description="Upper phase-voltage limit [p.u.].")
    x: float | None = pt.Field(default=None, description="x coordinate, optional.")
    y: float | None = pt.Field(default=None, description="y coordinate, optional.")


class VoltageSource(pt.Model):
    """A Thevenin source: fixed balanced voltage behind a sequence impedance."""

    id: str = pt.Field(description="Unique source id.")
    bus: str = pt.Field(description="Bus id.")
    v_set_pu: float = pt.Field(default=1.0, description="Voltage set-point [p.u.].")
    angle_deg: float = pt.Field(default=0.0, description="Phase-a angle [deg].")
    vn_kv: float = pt.Field(description="Base line-to-line voltage [kV].")
    r1_ohm: float = pt.Field(default=0.0, description="Positive-sequence resistance [Ohm].")
    x1_ohm: float = pt.Field(default=0.0, description="Positive-sequence reactance [Ohm].")
    r0_ohm: float = pt.Field(default=0.0, description="Zero-sequence resistance [Ohm].")
    x0_ohm: float = pt.Field(default=0.0, description="Zero-sequence reactance [Ohm].")


class PhaseLine(pt.Model):
    """A line or switch; its matrices are in the ``impedances`` table."""

    id: str = pt.Field(description="Unique line id.")
    from_bus: str = pt.Field(description="Bus id at the from end.")
    to_bus: str = pt.Field(description="Bus id at the to end.")
    phases: str = pt.Field(description="Phases of the conductors, in matrix order.")
    length_m: float = pt.Field(default=0.0, description="Length [m].")
    kind: Literal["line", "switch", "capacitor"] = pt.Field(
        default="line", description="line | switch | capacitor (a series capacitor: the one "
        "kind whose self reactance may be negative).")
    switchable: bool = pt.Field(default=False, description="Can the optimiser open it?")
    normally_open: bool = pt.Field(default=False, description="Open in the base case.")
    in_service: bool = pt.Field(default=True, description="False removes the line.")
    i_max_a: float | None = pt.Field(default=None, description="Normal current rating [A].")
    line_code: str | None = pt.Field(default=None, description="OpenDSS line code, if any.")


class LineImpedance(pt.Model):
    """One entry of a line's series impedance and shunt susceptance matrices (whole line)."""

    line: str = pt.Field(description="Line id.")
    row: str = pt.Field(description="Row phase.")
    col: str = pt.Field(description="Column phase.")
    r_ohm: float = pt.Field(description="Series resistance [Ohm].")
    x_ohm: float = pt.Field(description="Series reactance [Ohm].")
    b_us: float = pt.Field(default=0.0, description="Total shunt susceptance [uS].")


class PhaseTransformer(pt.Model):
    """A two-winding transformer (a three-phase unit or one single-phase unit of a bank)."""

    id: str = pt.Field(description="Unique transformer id.")
    from_bus: str = pt.Field(description="Winding-1 bus.")
    to_bus: str = pt.Field(description="Winding-2 bus.")
    from_nodes: str = pt.Field(description="Winding-1 terminal nodes, e.g. '1.2.3' or '1.2'.")
    to_nodes: str = pt.Field(description="Winding-2 terminal nodes.")
    n_phases: int = pt.Field(description="1 or 3.")
    conn_from: Literal["wye", "delta"] = pt.Field(description="Winding-1 connection.")
    conn_to: Literal["wye", "delta"] = pt.Field(description="Winding-2 connection.")
    kv_from: float = pt.Field(description="Winding-1 rated voltage [kV] (line-line if 3-phase).")
    kv_to: float = pt.Field(description="Winding-2 rated voltage [kV].")
    s_kva: float = pt.Field(description="Rating [kVA].")
    s_norm_kva: float | None = pt.Field(
        default=None, description="Normal loading limit [kVA] (OpenDSS normhkva; None: s_kva; "
        "0: unrated).")
    s_emerg_kva: float | None = pt.Field(
        default=None, description="Emergency loading limit [kVA] (OpenDSS emerghkva; None: "
        "s_norm_kva; 0: unrated).")
    r_pct: float = pt.Field(default=0.0, description="Series resistance, both windings [%].")
    x_pct: float = pt.Field(default=0.0, description="Leakage reactance X_HL [%].")
    tap_from: float = pt.Field(default=1.0, description="Winding-1 tap [p.u.].")
    tap_to: float = pt.Field(default=1.0, description="Winding-2 tap [p.u.] (as solved).")
    tap_min: float = pt.Field(default=0.9, description="Lowest tap [p.u.].")
    tap_max: float = pt.Field(default=1.1, description="Highest tap [p.u.].")
    tap_steps: int = pt.Field(default=32, description="Number of tap steps.")
    is_regulator: bool = pt.Field(default=False, description="Controlled by a RegControl.")
    in_service: bool = pt.Field(default=True)


class PhaseLoad(pt.Model):
    """The part of a load on one phase (wye) or one phase pair (delta)."""

    id: str = pt.Field(description="Load id (several rows per load).")
    bus: str = pt.Field(description="Bus id.")
    conn: Literal["wye", "delta"] = pt.Field(description="wye | delta.")
    phase: str = pt.Field(description="'a' (wye) or 'ab' (delta, from-to).")
    p_mw: float = pt.Field(description="Active power at rated voltage [MW].")
    q_mvar: float = pt.Field(description="Reactive power at rated voltage [MVAr].")
    vn_kv: float = pt.Field(description="Rated voltage across this part [kV].")
    p_exponent: float = pt.Field(default=0.0, description="p ~ |V|**p_exponent (0: const P).")
    q_exponent: float = pt.Field(default=0.0, description="q ~ |V|**q_exponent (2: const Z).")
    model: int = pt.Field(default=1, description="OpenDSS load model number.")
    in_service: bool = pt.Field(default=True)


class PhaseGenerator(pt.Model):
    """A generator, PV system or storage unit, balanced over its phases (``conn`` ``wye``:
    phase to ground), or a single-phase unit between two phases (``conn`` ``delta``,
    ``phases`` the pair, e.g. ``"bc"``: OpenDSS's ``phases=1 bus1=x.2.3``), which injects its
    ``s`` as ``s V_i / V_ik`` into phase ``i`` and ``-s V_k / V_ik`` into phase ``k``, or a
    balanced 3-phase delta unit (``conn`` ``delta``, ``phases`` ``"abc"``: OpenDSS's
    ``phases=3 conn=delta``), ``s / 3`` on each branch between two phases."""

    id: str = pt.Field(description="Unique id, e.g. 'Generator.675' or 'Storage.b1'.")
    bus: str = pt.Field(description="Bus id.")
    phases: str = pt.Field(description="Phases it connects to.")
    conn: Literal["wye", "delta"] = pt.Field(default="wye", description=(
        "wye: phase to ground, the output split equally over its phases; delta: one unit "
        "between the two phases of 'phases', or with 'abc' a 3-phase delta unit."))
    kind: Literal["generator", "pv", "storage"] = pt.Field(description="The element class.")
    p_mw: float = pt.Field(default=0.0, description="Base-case output [MW] (all phases).")
    q_mvar: float = pt.Field(default=0.0, description="Base-case output [MVAr].")
    p_max_mw: float = pt.Field(default=0.0, description=(
        "Active power it can deliver [MW]: a Generator's kW, a PVSystem's panel power at its "
        "irradiance (Pmpp x irradiance, OpenDSS's cut-out and %Pmpp applied), a Storage's "
        "kWrated, 0 at or below its reserve (io.opendss._ratings)."))
    s_max_mva: float = pt.Field(default=0.0, description="Apparent power rating [MVA].")
    energy_mwh: float | None = pt.Field(default=None, description="Storage capacity [MWh].")
    can_grid_form: bool = pt.Field(default=False, description="Grid-forming capable.")
    in_service: bool = pt.Field(default=True)


class PhaseShunt(pt.Model):
    """A constant-impedance shunt: a capacitor bank, a shunt reactor or a transformer's no-load
    branch, consuming ``p = p_mw (|V| / V_rated)**2`` and supplying
    ``q = q_mvar (|V| / V_rated)**2`` (a reactor or magnetizing branch has ``q_mvar < 0``)."""

    id: str = pt.Field(description="Unique id.")
    bus: str = pt.Field(description="Bus id.")
    phases: str = pt.Field(description="Phases it connects to.")
    conn: Literal["wye", "delta"] = pt.Field(default="wye")
    q_mvar: float = pt.Field(description="Reactive power supplied at rated voltage [MVAr] "
                             "(all phases; < 0 absorbs).")
    vn_kv: float = pt.Field(description="Rated voltage [kV] (line-line if more than 1 phase).")
    in_service: bool = pt.Field(default=True)
    p_mw: float = pt.Field(default=0.0, description="Active power consumed at rated voltage "
                           "[MW] (all phases).")
    kind: Literal["capacitor", "reactor", "no-load"] = pt.Field(
        default="capacitor", description="capacitor | reactor | no-load (a transformer's "
        "core loss and magnetizing branch).")


#: Every table of a three-phase network, in a fixed order, with its schema.
TABLES_3PH: dict[str, type[pt.Model]] = {
    "buses": PhaseBus,
    "sources": VoltageSource,
    "lines": PhaseLine,
    "impedances": LineImpedance,
    "transformers": PhaseTransformer,
    "loads": PhaseLoad,
    "generators": PhaseGenerator,
    "shunts": PhaseShunt,
}


@dataclass
class ThreePhaseNetwork:
    """A three-phase feeder: the tables of :data:`TABLES_3PH`.

    ``meta`` records where it came from (``source_path``, ``source_format``) and ``warnings``
    about elements the model approximates or leaves out; ``series_elements`` maps the ids of
    the lines read from an OpenDSS series ``Capacitor`` or ``Reactor`` to that element's name
    (:meth:`opendss_name`).
    """

    tables: dict[str, pl.DataFrame]
    name: str = "network"
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, name: str = "network", meta: dict[str, Any] | None = None,
                    **tables: pl.DataFrame | None) -> ThreePhaseNetwork:
        unknown = set(tables) - set(TABLES_3PH)
        if unknown:
            raise TypeError(f"unknown three-phase tables: {sorted(unknown)}")
        done: dict[str, pl.DataFrame] = {}
        for key, model in TABLES_3PH.items():
            df = tables.get(key)
            done[key] = empty_table(model) if df is None else complete_table(model, df)
        return cls(done, name=name, meta=dict(meta or {}))

    def __getattr__(self, key: str) -> pl.DataFrame:
        tables = self.__dict__.get("tables", {})
        if key in tables:
            return tables[key]
        raise AttributeError(key)

    def replace_tables(self, **changes: pl.DataFrame) -> ThreePhaseNetwork:
        return replace(self, tables={**self.tables, **changes})

    def nameplate_band_loads(self) -> ThreePhaseNetwork:
        """The network with the load rows that the OpenDSS reader re-rated at OpenDSS's
        solution of the file (``meta["band_rerated"]``: outside their ``Vminpu``-``Vmaxpu``
        band there, :mod:`feederopt.io.opendss_rated_kv`) put back as they were, their model at
        their kV, and without the reader's note about them (``meta["band_note"]``): for a
        problem whose grid runs far from the file's operating point (the partition's islands).
        ``self`` when there are none."""
        rows = self.meta.get("band_rerated") or []
        if not rows:
            return self
        cols = ("p_mw", "q_mvar", "vn_kv", "p_exponent", "q_exponent")
        back = {(r["id"], r["phase"]): r for r in rows}
        values = {c: self.loads[c].to_list() for c in cols}
        keys = zip(self.loads["id"].to_list(), self.loads["phase"].to_list(), strict=True)
        for k, key in enumerate(keys):
            if key in back:
                for c in cols:
                    values[c][k] = float(back[key][c])
        loads = self.loads.with_columns(
            *(pl.Series(c, values[c], dtype=self.loads[c].dtype) for c in cols))
        note = self.meta.get("band_note")
        meta = {**self.meta, "band_rerated": [], "band_note": None,
                "warnings": [w for w in self.meta.get("warnings", []) if w != note]}
        return replace(self, tables={**self.tables, "loads": loads}, meta=meta)

    def opendss_name(self, line_id: str) -> str:
        """OpenDSS's name of the element the model's line ``line_id`` stands for:
        ``"Capacitor.<name>"`` or ``"Reactor.<name>"`` for a series capacitor or reactor (its
        line id is ``<name>``, or ``capacitor.<name>`` when a line has that name), else
        ``"Line.<line_id>"``."""
        series: dict[str, str] = self.meta.get("series_elements") or {}
        return series.get(line_id, f"Line.{line_id}")

    def line_of(self, element: str) -> str:
        """The model's line id of OpenDSS's element name (:meth:`opendss_name`'s inverse):
        ``"Line.x"`` is ``x``, a series capacitor's or reactor's name its line's id."""
        series: dict[str, str] = self.meta.get("series_elements") or {}
        for line_id, name in series.items():
            if name.lower() == element.lower():
                return line_id
        return element.partition(".")[2]

    def validate(self) -> list[Problem]:
        """Every problem found (see :func:`validate_three_phase`)."""
        return validate_three_phase(self)

    def check(self) -> ThreePhaseNetwork:
        problems = self.validate()
        if problems:
            raise InputError(problems)
        return self

    @property
    def phase_count(self) -> int:
        """Bus phases: the number of single-phase nodes."""
        return int(self.buses["phases"].str.len_chars().sum())

    def summary(self) -> dict[str, Any]:
        ln = self.lines.filter(pl.col("in_service"))
        ld = self.loads.filter(pl.col("in_service"))
        gen = self.generators.filter(pl.col("in_service"))
        tr = self.transformers.filter(pl.col("in_service"))
        by_phase = {}
        for ph in PHASES:
            rows = ld.filter(pl.col("phase").str.contains(ph))
            # a delta load on 'ab' counts half on each of its phases
            share = rows.select(
                (pl.col("p_mw") / pl.col("phase").str.len_chars()).sum()
            ).item()
            by_phase[ph] = float(share or 0.0)
        return {
            "name": self.name,
            "buses": self.buses.height,
            "phases": self.phase_count,
            "branches": ln.height + tr.height,
            "lines": ln.filter(pl.col("kind") == "line").height,
            "transformers": tr.height,
            "regulators": int(tr["is_regulator"].sum()),
            "switchable": int(ln["switchable"].sum()),
            "normally_open": int(ln["normally_open"].sum()),
            "sources": self.sources.height,
            "loads": ld["id"].n_unique(),
            "delta_loads": ld.filter(pl.col("conn") == "delta")["id"].n_unique(),
            "generators": gen.height,
            "shunts": self.shunts.filter(pl.col("in_service")
                                          & (pl.col("kind") != "no-load")).height,
            "total_load_mw": float(ld["p_mw"].sum()),
            "total_load_mvar": float(ld["q_mvar"].sum()),
            **self.load_drawn_at_nominal(),
            **self.load_nameplate(),
            "load_mw_by_phase": by_phase,
        }

    def load_nameplate(self) -> dict[str, float]:
        """``load_nominal_mw`` and ``load_nominal_mvar``: the in-service loads' nameplate kW and
        kvar as the file gives them. A load that the reader re-rated at its bus's voltage by
        OpenDSS's law (``meta["rerated_loads"]``: ``{id: [P share, Q share]}``, the draw at
        1 p.u. of the bus as a share of the nameplate, :mod:`feederopt.io.opendss_rated_kv`)
        holds ``kW x share`` in its rows; it counts ``p_mw / share`` here. User test
        ut50_recheck #4: ``Load.ld1 kV=4.16`` (model 1) on a 12.47 kV bus held 2445 of its
        300 kW, and ``info`` gave "total load 3.3451 MW" with no nominal sum (1.2 MW)."""
        ld = self.loads.filter(pl.col("in_service"))
        shares = self.meta.get("rerated_loads") or {}
        p = q = 0.0
        for row in ld.iter_rows(named=True):
            sp_, sq_ = (shares.get(row["id"]) or [1.0, 1.0])[:2]
            p += row["p_mw"] / sp_ if sp_ and sp_ > 0 else row["p_mw"]
            q += row["q_mvar"] / sq_ if sq_ and sq_ > 0 else row["q_mvar"]
        return {"load_nominal_mw": p, "load_nominal_mvar": q}

    def load_drawn_at_nominal(self) -> dict[str, float]:
        """``load_drawn_mw`` and ``load_drawn_mvar``: what the in-service loads draw at 1 p.u.
        of their buses by the model's voltage law, ``p (1 - n/2 + n/2 (V/kV)^2)`` per row
        (``n`` its exponent, ``V`` the voltage across it at 1 p.u.: the bus's ``vn_kv /
        sqrt(3)`` for a wye row, ``vn_kv`` for a delta one; ``kV`` the row's ``vn_kv``), the
        linear form in ``|V|^2`` of :mod:`feederopt.network.threephase_perunit` (exact for a
        constant-impedance load, ``n = 2``: ``p (V/kV)^2``, OpenDSS's ``kW (V/kV)^2``). It
        equals the nominal total but for a load rated at a kV far from its bus's (user test
        ut50_dss3 #3: ``Load.kvx kV=4.16 model=2`` on a 12.47 kV bus draws 2696 kW of its
        300 kW, the total 6.9 MW where the nominal is 4.5 MW)."""
        ld = self.loads.filter(pl.col("in_service"))
        if ld.is_empty():
            return {"load_drawn_mw": 0.0, "load_drawn_mvar": 0.0}
        base = dict(zip(self.buses["id"].to_list(), self.buses["vn_kv"].to_list(), strict=True))
        p = q = 0.0
        for row in ld.iter_rows(named=True):
            vn = base.get(row["bus"])
            kv = row["vn_kv"]
            if vn is None or kv is None or not kv > 0:
                ratio = 1.0
            else:
                across = vn if row["conn"] == "delta" else vn / math.sqrt(3)
                ratio = (across / kv) ** 2
            p += row["p_mw"] * (1 - row["p_exponent"] / 2 + row["p_exponent"] / 2 * ratio)
            q += row["q_mvar"] * (1 - row["q_exponent"] / 2 + row["q_exponent"] / 2 * ratio)
        return {"load_drawn_mw": p, "load_drawn_mvar": q}


def _dupes(df: pl.DataFrame, column: str = "id") -> list[str]:
    return sorted(k for k, n in Counter(df[column].to_list()).items() if n > 1)


def _problem(kind: ProblemKind, component: str, message: str, ids: list[str] | tuple[str, ...],
             field_name: str | None = None, hint: str = "") -> Problem:
    return Problem(kind, component, message, tuple(ids), field_name, hint)


def _impedance_problems(net: ThreePhaseNetwork) -> list[Problem]:
    """``bad_impedance`` for a negative or NaN line length, an impedance matrix entry that is
    NaN or infinite or a negative self (diagonal) resistance or reactance, and a negative or NaN
    transformer resistance or NaN reactance: a negative resistance would give negative losses,
    and a negative reactance on a line is a typo, as in the balanced checks
    (:mod:`feederopt.network.validate`). A series capacitor (kind ``capacitor``) is the
    exception: its self reactance is negative (``X = -1 / (omega C)``). Zero is allowed:
    switches and jumpers may have no length or impedance. Mutual (off-diagonal) terms may be
    negative."""
    out: list[Problem] = []
    lines, z, tr = net.lines, net.impedances, net.transformers
    ids = lines.filter(pl.col("length_m").is_nan() | (pl.col("length_m") < 0))["id"].to_list()
    if ids:
        out.append(_problem(ProblemKind.BAD_IMPEDANCE, "lines", "length_m is negative or NaN",
                            ids, "length_m", "give the length in m, >= 0"))
    capacitors = lines.filter(pl.col("kind") == "capacitor")["id"].to_list()
    for col in ("r_ohm", "x_ohm"):
        negative = (pl.col("row") == pl.col("col")) & (pl.col(col) < 0)
        if col == "x_ohm":
            negative = negative & ~pl.col("line").is_in(capacitors)
        bad = ~pl.col(col).is_finite() | negative
        ids = sorted(set(z.filter(bad)["line"].to_list()))
        if ids:
            out.append(_problem(ProblemKind.BAD_IMPEDANCE, "impedances",
                                f"{col} is NaN or infinite, or negative on the diagonal", ids,
                                col, "series impedances must be finite, with self terms >= 0"))
    ids = tr.filter(~(pl.col("r_pct") >= 0) | ~pl.col("x_pct").is_finite())["id"].to_list()
    if ids:
        out.append(_problem(ProblemKind.BAD_IMPEDANCE, "transformers",
                            "r_pct is negative or NaN, or x_pct is not finite", ids, "r_pct",
                            "give the resistance of both windings in percent, >= 0"))
    return out


def _huge_magnitude_problems(net: ThreePhaseNetwork) -> list[Problem]:
    """``bad_impedance`` for a line whose whole-line series impedance ``|r_ohm|``, ``|x_ohm|``
    or shunt susceptance ``|b_us|`` (any matrix entry) is above
    :data:`~feederopt.network.validate.IMPEDANCE_PU_MAX` p.u., and ``bad_load`` /
    ``invalid_value`` for a load, generator or shunt whose ``|p_mw|`` or ``|q_mvar|`` is above
    :data:`~feederopt.network.validate.LOAD_PU_MAX` p.u., the bounds of the balanced checks
    (:mod:`feederopt.network.validate`), on
    :data:`~feederopt.network.validate.MAGNITUDE_BASE_MVA` and the from bus's ``vn_kv``:
    ``z_pu = |z| S_b / vn_kv^2``, ``y_pu = |b| 1e-6 vn_kv^2 / S_b``. The OpenDSS reader
    names the file's property first (``c1``, ``r1``, ``kW``); this holds a network built
    otherwise. Non-finite values are the finite checks'."""
    out: list[Problem] = []
    vn = {b: float(v) for b, v in zip(net.buses["id"].to_list(), net.buses["vn_kv"].to_list(),
                                      strict=True) if v is not None and math.isfinite(v) and v > 0}
    from_bus = dict(zip(net.lines["id"].to_list(), net.lines["from_bus"].to_list(), strict=True))
    z = net.impedances
    for col, shunt in (("r_ohm", False), ("x_ohm", False), ("b_us", True)):
        if col not in z.columns or not z.height:
            continue
        huge: list[str] = []
        worst = (0.0, "", 0.0)
        for line, value in zip(z["line"].to_list(), z[col].to_list(), strict=True):
            kv = vn.get(from_bus.get(line, ""))
            if kv is None or value is None or not math.isfinite(value):
                continue
            pu = (abs(value) * 1e-6 * kv ** 2 / MAGNITUDE_BASE_MVA if shunt
                  else abs(value) * MAGNITUDE_BASE_MVA / kv ** 2)
            if pu > IMPEDANCE_PU_MAX:
                if line not in huge:
                    huge.append(line)
                if pu > worst[0]:
                    worst = (pu, line, float(value))
        if huge:
            unit = "uS" if shunt else "Ohm"
            out.append(_problem(
                ProblemKind.BAD_IMPEDANCE, "impedances",
                f"{col} is absurdly large: above {IMPEDANCE_PU_MAX:g} p.u. of the "
                + (f"admittance base {MAGNITUDE_BASE_MVA:g} MVA / vn_kv^2" if shunt else
                   f"impedance base vn_kv^2 / {MAGNITUDE_BASE_MVA:g} MVA")
                + f" (e.g. line {worst[1]}: {worst[2]:.4g} {unit} = {worst[0]:.3g} p.u.)",
                huge, col, "a line's shunt susceptance is its total in microsiemens, some uS "
                "to some thousand uS" if shunt else "a line's series impedance is a fraction "
                "of an Ohm to some hundred Ohm (its length in km times its Ohm/km)"))
    limit = LOAD_PU_MAX * MAGNITUDE_BASE_MVA
    # not the generators: an OpenDSS feeder's unit output is read from OpenDSS's solved state,
    # which in a dead island left by "Set Voltagebases" after calcv was over 1e6 MW on a
    # clean-clone CI run (Generator.675, test_the_same_line_before_calcv_stays_accepted)
    for table, kind in (("loads", ProblemKind.BAD_LOAD), ("shunts", ProblemKind.INVALID_VALUE)):
        df = net.tables[table]
        for col, unit in (("p_mw", "MW"), ("q_mvar", "MVAr")):
            if col not in df.columns:
                continue
            ids = sorted(set(df.filter(pl.col(col).is_finite() & (pl.col(col).abs() > limit)
                                       )["id"].to_list()))
            if ids:
                out.append(_problem(kind, table, f"{col} is absurdly large: above {limit:g} "
                                    f"{unit} ({LOAD_PU_MAX:g} p.u. of {MAGNITUDE_BASE_MVA:g} "
                                    "MVA)", ids, col, f"{col} is in {unit}: 500 kW is written "
                                    "0.5; check the value and its unit"))
    return out


def supplied_nodes(net: ThreePhaseNetwork, *, base_case: bool = False,
                   ) -> set[tuple[str, str]]:
    """The nodes ``(bus, phase)`` that the sources can reach with every switch closed (normally
    open or not: reconfiguration may close it; ``base_case``: the normally open switches
    open): from every phase of a source's bus, along each phase of an in-service line, and
    through an in-service transformer from each phase of
    its winding-1 nodes to each phase of its winding-2 nodes (the bus's phases where the nodes
    name none of them). A disabled line that is no switch connects nothing, as in OpenDSS.

    The transformer rule is generous (a delta unit on nodes 1.2 joins phases a and b of its
    primary through its secondary), so a node it misses is surely cut off; OpenDSS solves
    such a node at zero voltage."""
    phases_of = dict(zip(net.buses["id"].to_list(), net.buses["phases"].to_list(), strict=True))
    adj: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def join(a: tuple[str, str], b: tuple[str, str]) -> None:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)

    lines = net.lines.filter(pl.col("in_service"))
    if base_case:
        lines = lines.filter(~(pl.col("switchable") & pl.col("normally_open")))
    for f, t, phs in lines.select("from_bus", "to_bus", "phases").iter_rows():
        for ph in phs:
            join((f, ph), (t, ph))

    def winding(bus: str, nodes: str) -> str:
        has = phases_of.get(bus, "")
        named = [PHASES[int(n) - 1] for n in nodes.split(".") if n in ("1", "2", "3")]
        return "".join(ph for ph in named if ph in has) or has

    for f, t, nf, nt in net.transformers.filter(pl.col("in_service")).select(
            "from_bus", "to_bus", "from_nodes", "to_nodes").iter_rows():
        for pf in winding(f, nf):
            for pt_ in winding(t, nt):
                join((f, pf), (t, pt_))
    todo = [(b, ph) for b in net.sources["bus"].to_list() for ph in phases_of.get(b, "")]
    seen = set(todo)
    while todo:
        for nxt in adj.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def dead_end_buses(net: ThreePhaseNetwork) -> dict[str, str]:
    """The buses that one in-service line or transformer alone touches and that carry no
    load, generator, shunt or source, each with that element (``Line.<id>``,
    ``Transformer.<id>``). Real feeders have a few (IEEE 13's 680, IEEE 37's 775); a bus name
    misspelt in a line's ``Bus2`` makes one, and cuts the bus it meant off."""
    touched: dict[str, list[str]] = {}
    for cls, table in (("Line", net.lines), ("Transformer", net.transformers)):
        df = table.filter(pl.col("in_service")) if "in_service" in table.columns else table
        for eid, f, t in df.select("id", "from_bus", "to_bus").iter_rows():
            for b in {f, t}:
                touched.setdefault(b, []).append(f"{cls}.{eid}")
    carried: set[str] = set(net.sources["bus"].to_list())
    for name in ("loads", "generators", "shunts"):
        carried |= set(net.tables[name]["bus"].to_list())
    return {b: els[0] for b, els in touched.items() if len(els) == 1 and b not in carried}


def misspelt_bus_hint(bus: str, dead_ends: dict[str, str], island: set[str]) -> str:
    """``bus 675x ends Line.692675 and carries nothing: a misspelling of 675?`` for the dead-end
    bus (:func:`dead_end_buses`) outside ``island`` (the buses cut off with ``bus``,
    :func:`island_of`: a misspelt ``Bus2`` leaves the line's end on the feeder and the bus it
    meant cut off) whose name is closest to ``bus``, or ``""``. A dead end cut off with the
    bus is no misspelling of it (user test ut36_errs #2: IEEE 13's 680, behind a disabled
    line with 670, was "a misspelling of 670?")."""
    live_ends = [b for b in dead_ends if b not in island]
    close = difflib.get_close_matches(bus.lower(), [b.lower() for b in live_ends], n=1,
                                      cutoff=0.6)
    if not close:
        return ""
    name = next(b for b in live_ends if b.lower() == close[0])
    return (f"bus {name} ends {dead_ends[name]} and carries nothing: a misspelling of "
            f"{bus}?")


def island_of(net: ThreePhaseNetwork, bus: str, live_buses: set[str], *,
              base_case: bool = False) -> list[str]:
    """The buses of the island that holds ``bus``: those that in-service lines (every switch
    closed; ``base_case``: the normally open switches open) and transformers join to it, none
    of them in ``live_buses`` (the buses that :func:`supplied_nodes` reaches), ``bus`` first,
    then sorted."""
    adj: dict[str, set[str]] = {}
    for table in (net.lines, net.transformers):
        df = table.filter(pl.col("in_service")) if "in_service" in table.columns else table
        if base_case and "normally_open" in df.columns:
            df = df.filter(~(pl.col("switchable") & pl.col("normally_open")))
        for f, t in df.select("from_bus", "to_bus").iter_rows():
            adj.setdefault(f, set()).add(t)
            adj.setdefault(t, set()).add(f)
    seen, todo = {bus}, [bus]
    while todo:
        for nxt in adj.get(todo.pop(), ()):
            if nxt not in seen and nxt not in live_buses:
                seen.add(nxt)
                todo.append(nxt)
    return [bus, *sorted(seen - {bus})]


def island_ends(island: list[str], dead_ends: dict[str, str], live_buses: set[str],
                ) -> tuple[str, str]:
    """What cuts an island (:func:`island_of`) off, in words for a problem's message and hint:
    its dead-end buses (:func:`dead_end_buses`) with the element that reaches each,
    ``"Line.684652 leads to it from bus lat_648, which no other element connects"``, and the
    fix ``"connect bus lat_648 of Line.684652 to the feeder"`` with, for each, the hint
    ``"lat_648: a misspelling of lat_684?"`` when a bus that a source reaches (``live_buses``)
    has a close name (``difflib``, as :func:`misspelt_bus_hint`): a line whose ``Bus1`` is
    misspelt reaches the bus it meant from a bus that leads nowhere (user test ut_dss: the
    message blamed the load's bus, "connect bus 652 to the feeder with a line", though
    Line.684652 did). ``("", "")`` when the island has no dead end."""
    ends = [b for b in island if b in dead_ends]
    if not ends:
        return "", ""
    said = "; ".join(f"{dead_ends[b]} leads to it from bus {b}" for b in ends)
    which = "which no other element connects" if len(ends) == 1 else \
        "none of which another element connects"
    fix = ("connect " + ", ".join(f"bus {b} of {dead_ends[b]}" for b in ends)
           + " to the feeder" + "".join(f" ({g})" for g in close_live_names(ends, live_buses)))
    return f"{said}, {which}", fix


def close_live_names(buses: list[str], live_buses: set[str]) -> list[str]:
    """``"lat_648: a misspelling of lat_684?"`` for each of ``buses`` (cut off from the
    source) whose name is close (``difflib``, cutoff 0.6, as :func:`misspelt_bus_hint`) to a
    bus that a source reaches (``live_buses``)."""
    lower = {b.lower(): b for b in sorted(live_buses)}
    out = []
    for b in buses:
        close = difflib.get_close_matches(b.lower(), list(lower), n=1, cutoff=0.6)
        if close:
            out.append(f"{b}: a misspelling of {lower[close[0]]}?")
    return out


#: ``meta`` key of a reader's record of the series elements that the file disables or opens
#: (OpenDSS: ``enabled=no``, ``Open Line.X term=1``), those it left out of the tables too:
#: element name (``Line.632670``, ``Transformer.xfm1``, ``Reactor.r1``) -> ``{"from_bus",
#: "to_bus", "why", "fix"}``, e.g. ``why`` "disabled: enabled=no" and ``fix`` "enable
#: Line.632670 (enabled=yes)". A switch among them that the lines table holds in service is
#: normally open (reconfiguration may close it), not out of service.
OUT_OF_SERVICE = "out_of_service"


@dataclass(frozen=True)
class OutOfService:
    """A series element that would join ``from_bus`` and ``to_bus`` but is out of service:
    its ``component`` and ``id`` (a table's, or OpenDSS's class and name for an element the
    reader left out), its name as the file gives it (``Line.632670``), why it is out and how
    to put it back."""

    component: str
    id: str
    element: str
    from_bus: str
    to_bus: str
    why: str
    fix: str


def out_of_service_branches(net: ThreePhaseNetwork) -> list[OutOfService]:
    """The lines and transformers whose ``in_service`` is false (every switch counts as closed
    for supply, so a switch is one only when held open), and the series elements that a
    reader recorded as disabled or open and left out of the tables (``meta["out_of_service"]``,
    :data:`OUT_OF_SERVICE`: a disabled series reactor or capacitor), each with the reader's
    reason where it gave one."""
    record: dict[str, dict[str, str]] = net.meta.get(OUT_OF_SERVICE) or {}
    out: list[OutOfService] = []
    seen = {net.opendss_name(i) for i in net.lines["id"].to_list()}
    seen |= {f"Transformer.{i}" for i in net.transformers["id"].to_list()}
    for component, table in (("lines", net.lines), ("transformers", net.transformers)):
        if "in_service" not in table.columns:
            continue
        for eid, f, t in table.filter(~pl.col("in_service")).select(
                "id", "from_bus", "to_bus").iter_rows():
            element = net.opendss_name(eid) if component == "lines" else f"Transformer.{eid}"
            said = record.get(element, {})
            out.append(OutOfService(component, eid, element, f, t,
                                    said.get("why", "out of service (in_service is false)"),
                                    said.get("fix", f"put {element} in service")))
    for element, said in record.items():
        if element not in seen:
            cls, _, eid = element.partition(".")
            out.append(OutOfService(cls.lower(), eid, element, said["from_bus"], said["to_bus"],
                                    said["why"], said["fix"]))
    return out


def island_cuts(island: list[str], branches: list[OutOfService], live_buses: set[str],
                ) -> list[OutOfService]:
    """The out-of-service elements (:func:`out_of_service_branches`) between a bus of
    ``island`` and a bus that a source reaches (``live_buses``): putting one back supplies
    the island."""
    inside = set(island)
    return [b for b in branches
            if (b.from_bus in inside and b.to_bus in live_buses)
            or (b.to_bus in inside and b.from_bus in live_buses)]


def _first(items: list[str], most: int = 6) -> str:
    """``items`` for a message: the first ``most`` and how many more."""
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more


def _cut_island_problem(cuts: list[OutOfService], island: list[str], elements: list[str],
                        ) -> Problem:
    """One ``island_without_source`` problem on the out-of-service element(s) ``cuts`` that
    cut ``island`` (its buses) with ``elements`` (its loads, generators and shunts, by name)
    off the source."""
    first = cuts[0]
    ids = [c.id for c in cuts if c.component == first.component]
    names = " and ".join(f"{c.element} ({c.why})" for c in cuts)
    fixes = "; or ".join(c.fix for c in cuts)
    buses = sorted(island)
    return _problem(
        ProblemKind.ISLAND_WITHOUT_SOURCE, first.component,
        f"{names} {'cuts' if len(cuts) == 1 else 'cut'} {len(buses)} bus(es) off the source "
        f"({_first(buses)}), with {len(elements)} load(s), generator(s) or shunt(s) on them "
        f"({_first(elements)}): no other line or transformer connects them to a source (even "
        "with every switch closed), and OpenDSS solves them without voltage", ids,
        "in_service",
        f"{fixes}; or leave the island out: disable (enabled=no) or remove its loads, "
        "generators, capacitors and lines, as OpenDSS then leaves them out (feederopt "
        "models no de-energised part without a source; with only its loads disabled, solve "
        "finds no radial topology that feeds its buses)")


def unsupplied_elements(net: ThreePhaseNetwork, *, base_case: bool = False) -> list[str]:
    """The in-service loads (``Load.<id>``) and generators on a node that
    :func:`supplied_nodes` does not reach (``base_case``: with the normally open switches
    open), sorted."""
    live = supplied_nodes(net, base_case=base_case)
    out = {f"Load.{i}" for i, b, ph in net.loads.filter(pl.col("in_service")).select(
        "id", "bus", "phase").iter_rows() if any((b, p) not in live for p in ph)}
    out |= {i for i, b, ph in net.generators.filter(pl.col("in_service")).select(
        "id", "bus", "phases").iter_rows() if any((b, p) not in live for p in ph)}
    return sorted(out)


def _rewired_spec(bus: str, phases: str, conn: str, vn_kv: float) -> str:
    """The OpenDSS spec of an element moved onto ``phases`` of ``bus`` (the hint of
    :func:`_supply_problems`), with the rating it needs there (user test ut39_tph #2: a
    ``bus1=b6.1.2 kV=12.47`` unit moved to ``bus1=b6.1`` at its 12.47 kV ran at 39 % of its
    kW, as OpenDSS runs a unit off its rating as an impedance): on one phase the element is
    phase to ground at the bus's line-to-neutral kV, ``vn_kv / sqrt(3)``; on two or three the
    line-to-line ``vn_kv`` (OpenDSS's kV of an element of several phases, and across a
    1-phase one between two phases, ``conn`` delta, whose ``phases`` stays 1)."""
    nodes = ".".join(str(PHASES.index(p) + 1) for p in phases)
    n_phases = 1 if (conn == "delta" and len(phases) == 2) or len(phases) == 1 else len(phases)
    kv = vn_kv / math.sqrt(3) if len(phases) == 1 else vn_kv
    rating = f" kV={kv:.4g}" if vn_kv > 0 else ""
    return f"phases={n_phases} bus1={bus}.{nodes}{rating}"


def _supply_problems(net: ThreePhaseNetwork, phases_of: dict[str, str]) -> list[Problem]:
    """A load, generator or shunt on a node that no line or transformer connects to a source
    with every switch closed (:func:`supplied_nodes`): on a bus that nothing connects
    (``island_without_source``, one problem per island, :func:`_island_problems`), or on a
    phase that its bus has only because the element itself names it (``invalid_value``;
    OpenDSS makes the node for it). OpenDSS solves both with the node dead; the models have no
    way to feed it (LinDist3Flow is infeasible)."""
    if net.sources.height == 0:
        return []  # said as no_source
    live = supplied_nodes(net)
    live_buses = {b for b, _ in live}
    base_kv = dict(zip(net.buses["id"].to_list(), net.buses["vn_kv"].to_list(), strict=True))
    out: list[Problem] = []
    cut_off: list[tuple[str, str, str, str]] = []  # (table, id, element, bus), island ones
    # OpenDSS's names (generators, reactors and no-load branches have them as their ids)
    for table, column in (("loads", "phase"), ("generators", "phases"), ("shunts", "phases")):
        df = net.tables[table].filter(pl.col("in_service"))
        kinds = df["kind"].to_list() if table == "shunts" else [None] * df.height
        conns = df["conn"].to_list() if "conn" in df.columns else ["wye"] * df.height
        done: set[str] = set()
        for (eid, bus, phs), kind, conn in zip(df.select("id", "bus", column).iter_rows(),
                                               kinds, conns, strict=True):
            if bus not in phases_of or eid in done:
                continue  # an unknown bus is said apart; a load's parts once
            element = (f"Load.{eid}" if table == "loads" else
                       f"Capacitor.{eid}" if kind == "capacitor" else eid)
            if bus not in live_buses:
                done.add(eid)
                cut_off.append((table, eid, element, bus))
                continue
            dead = [ph for ph in phs if (bus, ph) not in live]
            if not dead:
                continue
            done.add(eid)
            fed = "".join(ph for ph in PHASES if (bus, ph) in live)
            nodes = ", ".join(str(PHASES.index(ph) + 1) for ph in dead)
            out.append(_problem(
                ProblemKind.INVALID_VALUE, table,
                f"{element} uses phase {', '.join(dead)} (node {nodes}) of bus {bus}, which "
                f"no line or transformer supplies: bus {bus} has only phase "
                f"{', '.join(fed)} (node {', '.join(str(PHASES.index(p) + 1) for p in fed)})",
                [eid], column,
                f"connect {element} to the phases bus {bus} has (OpenDSS: "
                f"{_rewired_spec(bus, fed[:len(phs)], conn, base_kv[bus])}), or bring "
                "the phase to the bus with a line; OpenDSS leaves the node without voltage"))
    out[:0] = _island_problems(net, cut_off, live_buses)
    # a line that carries a phase which neither of its buses gets from a source (user test
    # ut_3ph #3: ``Phases=3 Bus1=684`` where 684 has only phases a and c; OpenDSS makes node
    # 684.2 for the line alone, ``info`` said "problems: none" and ``solve`` blamed the current
    # and then the voltage limits)
    lines = net.lines.filter(pl.col("in_service")) if "in_service" in net.lines.columns \
        else net.lines
    for lid, fb, tb, phs in lines.select("id", "from_bus", "to_bus", "phases").iter_rows():
        if fb not in phases_of or tb not in phases_of:
            continue  # an unknown bus is said apart
        if fb not in live_buses and tb not in live_buses:
            continue  # a whole island: said where a load or generator sits on it
        dead = [ph for ph in phs if (fb, ph) not in live and (tb, ph) not in live]
        if not dead:
            continue
        end = fb if fb in live_buses else tb
        fed = "".join(ph for ph in PHASES if (end, ph) in live)
        nodes = ", ".join(str(PHASES.index(ph) + 1) for ph in dead)
        out.append(_problem(
            ProblemKind.INVALID_VALUE, "lines",
            f"Line.{lid} carries phase {', '.join(dead)} (node {nodes}) from bus {end}, which "
            f"no line or transformer supplies with it: bus {end} has only phase "
            f"{', '.join(fed)}", [lid], "phases",
            f"connect Line.{lid} to the phases bus {end} has (OpenDSS: Phases="
            f"{min(len(phs), len(fed))} bus1={end}."
            f"{'.'.join(str(PHASES.index(p) + 1) for p in fed[:len(phs)])}), or bring the "
            "phase to the bus with a line; OpenDSS leaves those nodes without voltage"))
    return out


def _island_problems(net: ThreePhaseNetwork, cut_off: list[tuple[str, str, str, str]],
                     live_buses: set[str]) -> list[Problem]:
    """One ``island_without_source`` problem per island (:func:`island_of`) of the loads,
    generators and shunts ``cut_off`` (``(table, id, element name, bus)``, in the order read).

    An island that an out-of-service element cuts off (:func:`island_cuts`: OpenDSS's
    ``enabled=no`` line, transformer or series element, a line ``Open`` at a terminal) is said
    on that element, with the island's buses and elements (:func:`_cut_island_problem`); user
    test ut36_errs #2: IEEE 13 with ``Line.632670`` disabled gave 26 problems, one per element
    downstream, each blaming the dead end 680 ("a misspelling of 650?"), and none named the
    line. Any other island is said on its elements (the table of the first, its ids there),
    with its dead ends (:func:`island_ends`: a misspelt ``Bus1``) and a dead end that a source
    reaches of a close name (:func:`misspelt_bus_hint`: a misspelt ``Bus2``)."""
    branches = out_of_service_branches(net)
    dead_ends = dead_end_buses(net)
    groups: list[tuple[list[str], list[tuple[str, str, str, str]]]] = []
    where: dict[str, int] = {}  # bus -> its island's index in groups
    for item in cut_off:
        bus = item[3]
        if bus not in where:
            island = island_of(net, bus, live_buses)
            where.update(dict.fromkeys(island, len(groups)))
            groups.append((island, []))
        groups[where[bus]][1].append(item)
    out: list[Problem] = []
    for island, items in groups:
        names = [e for _, _, e, _ in items]
        cuts = island_cuts(island, branches, live_buses)
        if cuts:
            out.append(_cut_island_problem(cuts, island, names))
            continue
        table = items[0][0]
        ids = list(dict.fromkeys(i for t, i, _, _ in items if t == table))
        buses = list(dict.fromkeys(b for _, _, _, b in items))
        ends, fix = island_ends(island, dead_ends, live_buses)
        misspelt = list(dict.fromkeys(h for b in buses
                                      for h in [misspelt_bus_hint(b, dead_ends, set(island))]
                                      if h))
        on = (f"{names[0]} is on bus {buses[0]}, which" if len(names) == 1 else
              f"{len(names)} loads, generators or shunts ({_first(names)}) are on bus(es) "
              f"{_first(buses)}, which")
        out.append(_problem(
            ProblemKind.ISLAND_WITHOUT_SOURCE, table,
            f"{on} no line or transformer connects to a source (even with every switch "
            "closed)" + (f": {ends}" if ends else ""), ids, "bus",
            (f"{fix}; or " if fix else "")
            + f"connect bus {_first(buses, 3)} to the feeder with a line, transformer or "
            f"switch, or remove {'the element' if len(names) == 1 else 'them'}; OpenDSS "
            f"leaves {'it' if len(names) == 1 else 'them'} without voltage"
            + "".join(f" ({h})" for h in misspelt)))
    return out


def _unsourced_buses(net: ThreePhaseNetwork, no_kv: list[str]) -> list[Problem]:
    """The buses of ``no_kv`` (no nominal voltage) that no line or transformer connects to a
    source, one ``island_without_source`` problem per island (:func:`island_of`) naming its
    buses, the elements on them and a close name of a bus that a source reaches
    (:func:`close_live_names`). OpenDSS gives a bus its base voltage at ``CalcVoltageBases``
    (``calcv``) from the source's voltage, so a bus defined after it that connects to no
    source has none; "nominal voltage must be > 0 (hint: set the voltage bases of the
    circuit)" pointed at the voltage bases where the fault is the island (user test ut_dss:
    ``New Line.stub Bus1=nowhere1 Bus2=nowhere2`` after the final ``Solve``). (Defined before
    ``calcv``, such an island gets a base all the same, 66.4 kV on IEEE 13, and the reader
    sees no fault: OpenDSS solves its nodes de-energised. A bus defined after ``calcv`` that
    a source reaches gets its base from its transformer's ratio or its neighbours, in the
    reader.)"""
    if not no_kv or net.sources.height == 0:
        return []
    live = {b for b, _ in supplied_nodes(net)}
    todo = [b for b in no_kv if b not in live]
    on: dict[str, list[str]] = {}
    for cls, table in (("Line", net.lines), ("Transformer", net.transformers)):
        for eid, f, t in table.select("id", "from_bus", "to_bus").iter_rows():
            for b in dict.fromkeys((f, t)):
                on.setdefault(b, []).append(f"{cls}.{eid}")
    for name, label in (("loads", "Load."), ("generators", ""), ("shunts", "")):
        for eid, b in net.tables[name].select("id", "bus").iter_rows():
            on.setdefault(b, []).append(f"{label}{eid}")
    out: list[Problem] = []
    while todo:
        group = sorted(island_of(net, todo[0], live))
        todo = [b for b in todo if b not in group]
        elements = list(dict.fromkeys(e for b in group for e in on.get(b, [])))
        one = len(group) == 1
        names = ", ".join(elements) or "no element"
        guesses = "".join(f" ({g})" for g in close_live_names(group, live))
        out.append(_problem(
            ProblemKind.ISLAND_WITHOUT_SOURCE, "buses",
            f"no nominal voltage: {'this bus connects' if one else 'these buses connect'} to "
            "no source (no line or transformer joins "
            f"{'it' if one else 'them'} to one, even with every switch closed), and "
            f"{names} {'is' if len(elements) == 1 else 'are'} on {'it' if one else 'them'}; "
            "OpenDSS sets a bus's base voltage from the source at CalcVoltageBases, so a bus "
            "that connects to no source, defined after the voltage bases were set, has none",
            group, "vn_kv",
            f"connect {' or '.join(group)} to the feeder{guesses}, or remove "
            + (", ".join(elements) or "the bus")))
    return out


def validate_three_phase(net: ThreePhaseNetwork) -> list[Problem]:
    """Typed problems of a three-phase network: duplicate ids, unknown buses, buses without
    phases, phases that an element uses but its bus lacks, lines from a bus to itself, loads,
    generators and shunts on a node that nothing connects to a source
    (:func:`supplied_nodes`), lines without impedances, negative or NaN lengths and
    impedances, absurdly large impedances and powers (:func:`_huge_magnitude_problems`), bad
    voltages and ratings, and a network without a source."""
    out: list[Problem] = []
    buses = net.buses
    phases_of = dict(zip(buses["id"].to_list(), buses["phases"].to_list(), strict=True))
    for key in ("buses", "lines", "transformers", "generators", "shunts", "sources"):
        d = _dupes(net.tables[key])
        if d:
            out.append(_problem(ProblemKind.DUPLICATE_ID, key, "ids are not unique", d, "id",
                                "give every element its own id"))
    empty = buses.filter(pl.col("phases").str.len_chars() == 0)["id"].to_list()
    if empty:
        out.append(_problem(ProblemKind.INVALID_VALUE, "buses", "bus has no phases", empty,
                            "phases", "connect the bus through nodes 1, 2 or 3 (not only .0)"))
    bad = [p for p in buses["phases"].to_list() if set(p) - set(PHASES)]
    if bad:
        out.append(_problem(ProblemKind.INVALID_VALUE, "buses", "phases must be a, b or c",
                            bad, "phases"))
    bad_kv = buses.filter(~(pl.col("vn_kv") > 0))["id"].to_list()
    islands = _unsourced_buses(net, bad_kv)
    out += islands
    said = {b for p in islands for b in p.ids}
    bad_kv = [b for b in bad_kv if b not in said]
    if bad_kv:
        out.append(_problem(ProblemKind.INVALID_VALUE, "buses", "nominal voltage must be > 0",
                            bad_kv, "vn_kv", "set the voltage bases of the circuit"))
    if net.sources.height == 0:
        out.append(_problem(ProblemKind.NO_SOURCE, "sources", "the network has no source", [],
                            hint="add a voltage source (OpenDSS: the circuit's Vsource)"))

    def refs(table: str, column: str, phase_column: str | None) -> None:
        df = net.tables[table]
        if df.height == 0:
            return
        unknown = sorted({b for b in df[column].to_list() if b not in phases_of})
        if unknown:
            out.append(_problem(ProblemKind.UNKNOWN_BUS, table, "refers to an unknown bus",
                                unknown, column, "check the bus names"))
        if phase_column is None:
            return
        missing = sorted({
            i for i, b, ph in zip(df["id"].to_list(), df[column].to_list(),
                                  df[phase_column].to_list(), strict=True)
            if b in phases_of and set(ph) - set(phases_of[b])
        })
        if missing:
            out.append(_problem(ProblemKind.INVALID_VALUE, table,
                                "uses a phase that its bus does not have", missing,
                                phase_column, "check the node numbers of the bus connection"))

    refs("lines", "from_bus", "phases")
    refs("lines", "to_bus", "phases")
    # a line or switch from a bus to itself joins nothing; solve 'opened' such a switch as a
    # switching action (user test ut34: Line.sb1 bus1=b1 bus2=b1 switch=yes, a typo)
    loops = net.lines.filter(pl.col("from_bus") == pl.col("to_bus"))
    if loops.height:
        buses_of = sorted(set(loops["from_bus"].to_list()))
        out.append(_problem(ProblemKind.SELF_LOOP, "lines",
                            "from_bus equals to_bus: both ends on bus "
                            f"{', '.join(buses_of[:6])}{' ...' if len(buses_of) > 6 else ''}, "
                            "so it joins nothing", loops["id"].to_list(), "to_bus",
                            "a line or switch must join two different buses: give the bus at "
                            "its other end, OpenDSS's bus2 of the line"))
    refs("transformers", "from_bus", None)
    refs("transformers", "to_bus", None)
    refs("loads", "bus", "phase")
    refs("generators", "bus", "phases")
    refs("shunts", "bus", "phases")
    refs("sources", "bus", None)
    out += _supply_problems(net, phases_of)
    with_z = set(net.impedances["line"].to_list())
    no_z = sorted(set(net.lines.filter(pl.col("kind") != "switch")["id"].to_list()) - with_z)
    if no_z:
        out.append(_problem(ProblemKind.BAD_IMPEDANCE, "lines", "line has no impedance matrix",
                            no_z, "impedances", "give a line code or r/x values"))
    out += _impedance_problems(net)
    out += _huge_magnitude_problems(net)
    bad_s = net.transformers.filter(~(pl.col("s_kva") > 0) | ~(pl.col("kv_from") > 0)
                                    | ~(pl.col("kv_to") > 0))["id"].to_list()
    if bad_s:
        out.append(_problem(ProblemKind.INVALID_VALUE, "transformers",
                            "rating and winding voltages must be > 0", bad_s, "s_kva"))
    for col in ("s_norm_kva", "s_emerg_kva"):  # None: not given, 0: unrated
        if col in net.transformers.columns:
            bad = net.transformers.filter((pl.col(col) < 0) | pl.col(col).is_nan()
                                          )["id"].to_list()
            if bad:
                out.append(_problem(ProblemKind.INVALID_VALUE, "transformers",
                                    "a loading limit must be >= 0 (0: unrated) or empty", bad,
                                    col))
    loads = net.loads
    bad_conn = loads.filter(
        ((pl.col("conn") == "wye") & (pl.col("phase").str.len_chars() != 1))
        | ((pl.col("conn") == "delta") & (pl.col("phase").str.len_chars() != 2))
    )["id"].to_list()
    if bad_conn:
        out.append(_problem(ProblemKind.BAD_LOAD, "loads",
                            "a wye part names one phase, a delta part two", sorted(set(bad_conn)),
                            "phase"))
    gens = net.generators
    if "conn" in gens.columns:
        # a unit between phases names two different ones, or all three (a 3-phase delta)
        bad_gen = gens.filter((pl.col("conn") == "delta")
                              & ((pl.col("phases").str.len_chars() != 2)
                                 | (pl.col("phases").str.slice(0, 1)
                                    == pl.col("phases").str.slice(1, 1)))
                              & (pl.col("phases") != "abc"))["id"].to_list()
        if bad_gen:
            out.append(_problem(ProblemKind.INVALID_VALUE, "generators",
                                "a unit between phases (conn delta) names two different "
                                "phases", sorted(set(bad_gen)), "phases",
                                "give the pair of phases it sits between, e.g. 'bc'"))
    # OpenDSS reads 'kW=nan' as NaN: without this 'info' printed a NaN load (and NaN in its
    # JSON) and 'solve' blamed the current limits ("infeasible: the current limits bind")
    for table, kind in (("loads", ProblemKind.BAD_LOAD), ("generators", ProblemKind.INVALID_VALUE)):
        df = net.tables[table]
        for col in ("p_mw", "q_mvar"):
            bad = sorted(set(df.filter(~pl.col(col).is_finite())["id"].to_list()))
            if bad:
                unit = "kW" if col == "p_mw" else "kvar"
                out.append(_problem(kind, table, f"{col} is not a finite number (NaN or "
                                    "infinite)", bad, col,
                                    f"give the element's {unit} as a number"))
    return out

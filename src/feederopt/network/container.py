"""The :class:`Network` container: the user's tables in SI units, validated."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from feederopt.errors import InputError, OptionNameError, Problem, ProblemKind
from feederopt.forking import check_not_forked
from feederopt.network.float_ids import float_ids
from feederopt.network.limits import held_by_generator, held_set_points
from feederopt.network.per_km import from_per_km
from feederopt.network.schemas import (
    RENAMED_COLUMNS,
    SET_POINT_RANGES,
    TABLES,
    cast_failures,
    complete_table,
    empty_table,
    null_is_refused,
    polars_schema,
    without_limits,
)
from feederopt.network.topology import DisjointSets
from feederopt.scalars import is_finite

#: ``Network.meta`` key of :attr:`Network.loading_limit_percent` (set by
#: :meth:`Network.with_limits`; absent: the data's ratings, 100 %).
LOADING_LIMIT_KEY = "loading_limit_percent"
#: ``Network.meta`` key of the data's ratings that :meth:`Network.with_limits` dropped
#: (``thermal_limits=False``, ``--no-thermal-limits``): ``{branch id: [i_max_ka, s_max_mva]}``
#: of each rated branch, so that the AC check still reports the loading against them
#: (:attr:`Network.data_ratings`; user test ut48_iobad #2).
DATA_RATINGS_KEY = "data_ratings"
#: ``Network.meta`` key of the notes on how the tables were given (float ids read as whole
#: numbers, a column read under its name with its unit, a folder's files not read), also in
#: ``meta["warnings"]``; not about the network itself, so a folder written from it
#: (:func:`feederopt.io.folder.write_folder`, which stores the ids as text) leaves them out.
READ_NOTES_KEY = "read_notes"
#: ``Network.meta`` key of the importer's modelling approximations: where the tables differ
#: from the source's data on purpose (a pandapower trafo3w's negative star resistance taken as
#: 0, README "pandapower"), each a sentence, also in ``meta["warnings"]``. A folder written from
#: the network (:func:`feederopt.io.folder.write_folder`) stores the approximated tables, so it
#: warns and says so in its ``meta.json`` (user test ut46_iobad #2).
APPROXIMATIONS_KEY = "approximations"


@dataclass
class Network:
    """A feeder: Polars tables whose schemas live in :mod:`feederopt.network.schemas`.

    Build one with :meth:`from_tables`, which completes optional columns with their defaults.
    ``integer_ids`` records that the source format numbered its buses and branches (MATPOWER
    bus numbers, pandapower indices); the ids are strings all the same, in the tables and in
    every result.
    ``origin`` is the object the network was read from when results go back into it (the
    user's pandapower net: the AC check runs pandapower on a copy of it); it is never saved.
    """

    buses: pl.DataFrame
    branches: pl.DataFrame
    loads: pl.DataFrame
    generators: pl.DataFrame
    shunts: pl.DataFrame
    name: str = "network"
    integer_ids: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    origin: Any = field(default=None, repr=False, compare=False)
    #: The tables as they were read from ``origin`` (set by the pandapower reader): a copy
    #: (:meth:`replace`) carries them along, so that the AC check can tell whether the tables
    #: were edited since and the origin net no longer describes them
    #: (:func:`feederopt.io.pandapower.origin_edits`). Never saved.
    origin_tables: dict[str, pl.DataFrame] | None = field(default=None, repr=False,
                                                          compare=False)
    #: The :meth:`fingerprint` of the tables that :meth:`check` passed and the warnings it
    #: found: a network checked once is not checked again while its tables' content stays the
    #: same (:attr:`is_checked`). A table assigned since, or edited in place
    #: (``net.loads[7, "p_mw"] = -3.0``, which keeps the DataFrame object), is checked again.
    _checked: tuple[str, tuple[Problem, ...]] | None = field(
        default=None, init=False, repr=False, compare=False)
    #: The :meth:`fingerprint` of the tables whose warnings :meth:`unreported_warnings` gave
    #: already (a copy starts afresh; tables edited since are warned about again).
    _warnings_reported: str | None = field(default=None, init=False, repr=False,
                                           compare=False)

    @classmethod
    def from_tables(
        cls,
        *,
        buses: pl.DataFrame,
        branches: pl.DataFrame,
        loads: pl.DataFrame | None = None,
        generators: pl.DataFrame | None = None,
        shunts: pl.DataFrame | None = None,
        name: str = "network",
        integer_ids: bool = False,
        meta: dict[str, Any] | None = None,
        origin: Any = None,
    ) -> Network:
        """A network from its tables, Polars or pandas DataFrames (a pandas frame is converted;
        anything else is an :class:`~feederopt.errors.InputError` naming the table), typed as
        :func:`typed_tables` does (values cast to their column's type, missing optional
        columns added with their defaults, whole-number float ids read as text, columns
        under an earlier name renamed; what was read otherwise is a note in
        ``meta["notes"]``); a value that is not of its column's type is an
        :class:`~feederopt.errors.InputError` naming the table, column and rows. The values'
        sense (buses that exist, a source, positive voltages) is :meth:`check`'s.

        The tables and their required columns, SI units in the names (every column, its
        default and meaning: ``docs/columns.md``, generated from the schemas
        :class:`~feederopt.network.schemas.Bus`, ``Branch``, ``Load``, ``Generator`` and
        ``Shunt`` of :mod:`feederopt.network.schemas`):

        * ``buses``: ``id``, ``vn_kv`` [kV] (a source: ``is_source`` true, its set-point
          ``v_set_pu`` [p.u.]; limits ``v_min_pu``/``v_max_pu`` default 0.9/1.1);
        * ``branches``: ``id``, ``from_bus``, ``to_bus``, ``r_ohm``, ``x_ohm`` [Ohm]
          (``switchable``, ``normally_open``, ``kind``, ratings ``i_max_ka`` [kA] or
          ``s_max_mva`` [MVA], ``switch_cost_kw`` [kW] optional);
        * ``loads`` (None: no load): ``id``, ``bus``, ``p_mw`` [MW], ``q_mvar`` [MVAr];
        * ``generators`` (None: none): ``id``, ``bus`` (``p_mw`` [MW], ``q_mvar`` [MVAr]
          set-points and their ranges ``p_min_mw``.. ``q_max_mvar`` optional);
        * ``shunts`` (None: none): ``id``, ``bus``, ``q_mvar_per_step`` [MVAr at 1 p.u.].

        ``name`` is the network's name (a result's ``case``). ``integer_ids``: the ids were
        integers where they came from (MATPOWER bus numbers, pandapower indices): a record
        that the folder format keeps, nothing more; the tables, every result and every
        write-back give the ids as text whatever its value (docs/columns.md).
        ``meta``: what a reader recorded (``source_format``, notes, warnings, pandapower's
        ``operated_by``), carried along and copied. ``origin``: the object the network was
        read from (a pandapower net, for the AC check on the user's own net and
        ``result.to_pandapower``); None for tables built by hand.

        Example::

            net = Network.from_tables(
                buses=pl.DataFrame({"id": ["0", "1"], "vn_kv": [12.66, 12.66],
                                    "is_source": [True, False]}),
                branches=pl.DataFrame({"id": ["l1"], "from_bus": ["0"], "to_bus": ["1"],
                                       "r_ohm": [0.5], "x_ohm": [0.3]}),
                loads=pl.DataFrame({"id": ["d1"], "bus": ["1"], "p_mw": [0.1],
                                    "q_mvar": [0.05]}))
        """
        check_not_forked("feederopt.Network.from_tables")
        given = {
            "buses": buses,
            "branches": branches,
            "loads": loads,
            "generators": generators,
            "shunts": shunts,
        }
        tables, problems, notes = typed_tables(given)
        if not isinstance(name, str) or not name.strip():
            # a name is a result's case and a file name: 5 or None were taken against the
            # str hint (user test ut41_pyapi)
            problems = [*problems, Problem(
                ProblemKind.INVALID_VALUE, "network", "name must be a non-empty string (the "
                f"network's name, a result's case), not {name!r} ({type(name).__name__})",
                field="name", hint='e.g. name="my_feeder", or leave it out ("network")')]
        if problems:
            raise InputError(problems)
        meta = with_read_notes(dict(meta or {}), notes)
        return cls(buses=tables["buses"], branches=tables["branches"], loads=tables["loads"],
                   generators=tables["generators"], shunts=tables["shunts"], name=name,
                   integer_ids=integer_ids, meta=meta, origin=origin)

    def tables(self) -> dict[str, pl.DataFrame]:
        return {key: getattr(self, key) for key in TABLES}

    def replace(self, **changes: Any) -> Network:
        """A copy with some fields changed. A table given goes through what
        :meth:`from_tables` does to one (:func:`typed_tables`: a pandas frame converted,
        whole-number float ids read as text, optional columns completed with their defaults,
        every column cast to its schema's type, a value that does not cast a typed
        :class:`InputError` naming the table, column and rows), and its notes join the copy's
        ``meta["warnings"]``. A string ``p_mw`` otherwise reached validation as text and failed
        inside Polars (``is_nan not supported for dtype str``; user test ut_api2); a typed
        table of the required columns only lacked ``in_service`` in the per-unit model (user
        test ut36_api #1). A table that is complete already is kept as the same object."""
        check_not_forked("feederopt.Network.replace")
        _refuse_unknown_fields(changes)
        given = {key: changes[key] for key in TABLES if key in changes}
        if given:
            typed, problems, notes = typed_tables(given, self.tables())
            if problems:
                raise InputError(problems)
            changes.update(typed)
            if notes:
                changes["meta"] = with_read_notes(dict(changes.get("meta", self.meta)), notes)
        return replace(self, **changes)

    def validate(self) -> list[Problem]:
        """Every problem found; see :func:`feederopt.network.validate.validate`."""
        check_not_forked("feederopt.Network.validate")
        from feederopt.network.validate import validate

        return validate(self)

    def check(self) -> Network:
        """Raise :class:`InputError` with every problem (warnings too) when there is an error,
        or return ``self``."""
        check_not_forked("feederopt.Network.check")
        if self.is_checked:
            return self
        # a table assigned since (net.loads = ..., untyped, or typed with empty v_set_pu
        # cells): typed as replace types it, its problems said as replace says them
        typed, typing, notes = typed_tables(self.tables())
        if typing:
            raise InputError(typing)
        for key, table in typed.items():
            if table is not getattr(self, key):
                setattr(self, key, table)
        if notes:
            self.meta = with_read_notes(dict(self.meta), notes)
        problems = self.validate()
        if any(p.is_error for p in problems):
            raise InputError(sorted(problems, key=lambda p: p.is_error, reverse=True))
        self._checked = (self.fingerprint(), tuple(problems))
        return self

    def fingerprint(self) -> str:
        """The content of the network's tables as a digest (:func:`tables_fingerprint`): what
        every check or cache that must not outlive an edit compares (:attr:`is_checked`, the
        AC check's pandapower models, :func:`feederopt.validation.ac.pandapower_model`),
        instead of the identity of the tables, which a Polars in-place assignment
        (``net.loads[7, "p_mw"] = 1.6``) keeps."""
        return tables_fingerprint(self.tables())

    @property
    def is_checked(self) -> bool:
        """Has :meth:`check` passed on the tables' content the network holds now?"""
        return self._checked_problems() is not None

    def _checked_problems(self) -> tuple[Problem, ...] | None:
        """The warnings :meth:`check` found, when it passed on the tables as they are now."""
        if self._checked is None or self._checked[0] != self.fingerprint():
            return None
        return self._checked[1]

    def warnings(self) -> list[Problem]:
        """The problems of warning severity (the network is usable; the user should know)."""
        checked = self._checked_problems()
        if checked is not None:
            return list(checked)
        return [p for p in self.validate() if not p.is_error]

    def unreported_warnings(self) -> list[Problem]:
        """:meth:`warnings` the first time it is called on this network, then nothing: the
        API says each warning once as a Python warning (``feederopt.load``, then
        ``feederopt.solve`` of the same network), and the CLI, which prints them itself,
        takes them so that they are not said twice."""
        now = self.fingerprint()
        if self._warnings_reported == now:
            return []
        self._warnings_reported = now
        return self.warnings()

    # ----- convenient facts -------------------------------------------------------------
    @property
    def n_buses(self) -> int:
        return self.buses.height

    @property
    def n_branches(self) -> int:
        return self.branches.filter(pl.col("in_service")).height

    def summary(self) -> dict[str, Any]:
        """The network's counts and totals, as ``feederopt info`` shows them: ``name``, the
        number of ``buses``, in-service ``branches`` (of which ``switchable`` and
        ``normally_open``), ``sources``, in-service ``loads`` and ``generators``, and the
        in-service loads' ``total_load_mw`` [MW] and ``total_load_mvar`` [MVAr]."""
        check_not_forked("feederopt.Network.summary")
        br = self.branches.filter(pl.col("in_service"))
        ld = self.loads.filter(pl.col("in_service"))
        return {
            "name": self.name,
            "buses": self.buses.height,
            "branches": br.height,
            "switchable": int(br["switchable"].sum()),
            "normally_open": int(br["normally_open"].sum()),
            "sources": int(self.buses["is_source"].sum()),
            "loads": ld.height,
            "generators": self.generators.filter(pl.col("in_service")).height,
            "total_load_mw": float(ld["p_mw"].sum()),
            "total_load_mvar": float(ld["q_mvar"].sum()),
            "base_case_loops": self.base_case_loops(),
        }

    def base_case_loops(self) -> int:
        """The loops that the base case closes: its closed in-service branches (not
        ``normally_open``) less those of a spanning forest, the sources taken as one node (a
        closed path between two sources is one loop, as the solve's base-case verdict counts
        it: :func:`feederopt.validation.base_case.balanced_base_case`). 0 for a radial base
        case; a misspelt ``normaly_open`` column closes every tie (user test ut48_iobad #9)."""
        sets: DisjointSets[str] = DisjointSets()
        sources = [str(b) for b in self.buses.filter(pl.col("is_source"))["id"].to_list()]
        for b in sources[1:]:
            sets.union(b, sources[0])
        closed = self.branches.filter(pl.col("in_service") & ~pl.col("normally_open"))
        return sum(not sets.union(str(f), str(t))
                   for f, t in closed.select("from_bus", "to_bus").iter_rows())

    def internal_bus_ids(self) -> set[str]:
        """The buses the pandapower reader adds that are not in the user's net: a
        three-winding transformer's star point (the bus its windings share,
        ``trafo3w:<index>``) and an xward's auxiliary bus (the far end of its branch); found by
        the branches' ``pp_element``, empty for other networks (:meth:`internal_buses`)."""
        return set(self.internal_buses())

    def internal_buses(self) -> dict[str, str]:
        """Each bus of :meth:`internal_bus_ids` with what it is, in words for a message
        ("the internal star point of three-winding transformer trafo3w:0", "the auxiliary bus
        of xward 3 behind its impedance"): such a bus is the model's, no bus of the user's
        net, so a scenario row or a hold may not name it (a scenario's 1 MW at a trafo3w's
        star crashed the AC check, which has no such bus: user test ut40_realg5 #2)."""
        br = self.branches
        if "pp_element" not in br.columns:
            return {}
        out: dict[str, str] = {}
        for kind, bid, f, t in zip(br["pp_element"].to_list(), br["id"].to_list(),
                                   br["from_bus"].to_list(), br["to_bus"].to_list(),
                                   strict=True):
            if kind == "xward":
                out[str(t)] = (f"the auxiliary bus of xward {str(bid).split(':')[-1]} behind "
                               "its impedance")
            elif kind == "trafo3w":
                star = str(t) if str(bid).endswith(":hv") else str(f)
                out[star] = ("the internal star point of three-winding transformer "
                             f"{star}")
        return out

    def current_end_bus_ids(self) -> list[str]:
        """Per in-service branch (table order, as the per-unit model's), the bus at whose
        nominal voltage its current and current rating are given in kA: its from bus, but its
        to bus where the from bus is internal (:meth:`internal_bus_ids`): a three-winding
        transformer's mv and lv windings run from its star point, at the hv rated voltage, and
        are given at their own terminal, as pandapower's ``i_mv_ka``/``i_lv_ka`` and the
        nameplate give them. ``i_max_ka`` is referred to the from bus
        (:class:`~feederopt.network.schemas.Branch`); at the to end it is ``i_max_ka vn_from /
        vn_to``."""
        internal = self.internal_bus_ids()
        live = self.branches.filter(pl.col("in_service"))
        return [str(t) if str(f) in internal else str(f)
                for f, t in zip(live["from_bus"].to_list(), live["to_bus"].to_list(),
                                strict=True)]

    def user_bus_mask(self) -> np.ndarray:
        """Per bus of the bus table (the per-unit model's order too): whether it is the
        user's, not one of :meth:`internal_bus_ids` (whose 0.5..1.5 p.u. limits are no band
        of the user's); every bus when all are internal."""
        internal = self.internal_bus_ids()
        user = np.array([str(b) not in internal for b in self.buses["id"].to_list()], bool)
        return user if user.any() else np.ones(len(user), bool)

    def band_bus_mask(self) -> np.ndarray:
        """Per bus of the bus table: the user's buses (:meth:`user_bus_mask`) that neither a
        source nor a voltage-controlling generator holds
        (:func:`~feederopt.network.limits.held_by_generator`), whose voltage limits the models
        hold (such a bus is fixed at its set-point,
        :func:`feederopt.formulations.distflow.voltage_bounds`, so its own band, e.g.
        MATPOWER's case33bw slack at 1..1, is none a topology must keep); the user's buses
        when every one is held."""
        user = self.user_bus_mask()
        gen = np.array([v is not None for v in held_by_generator(self.buses, self.generators)],
                       dtype=bool)
        free = (user & ~self.buses["is_source"].fill_null(False).to_numpy().astype(bool)
                & ~gen)
        return free if free.any() else user

    def internal_branch_ids(self) -> set[str]:
        """The branches the pandapower reader adds that are no element of the user's net: an
        xward's internal branch behind its impedance (``pp_element`` ``"xward"``). A
        three-winding transformer's windings are the user's transformer and not listed."""
        br = self.branches
        if "pp_element" not in br.columns:
            return set()
        return {str(b) for b, kind in zip(br["id"].to_list(), br["pp_element"].to_list(),
                                          strict=True) if kind == "xward"}

    def resolve_branch_ids(self, refs: Iterable[str]) -> list[str]:
        """The branch ids that the user's ``refs`` name: an id of the branch table as it is,
        a circuit of a merged double circuit as its merged branch (``L1`` -> ``L1+L1b``,
        :func:`member_map`: the user names the lines of their grid, the
        results the model's branch), anything else as it is (for the caller to refuse)."""
        ids = [str(b) for b in self.branches["id"].to_list()]
        return resolve_branch_ids(refs, ids, member_map(ids))

    def element_names(self, table: str) -> dict[str, str]:
        """Per id of ``table`` (``buses``, ``branches``, ``loads``, ``generators``,
        ``shunts``), the element's user name (the schemas' ``name`` column: pandapower's
        ``net.bus.name``, ``net.line.name``, ...; a table folder's own), for the ids that have
        one: the one lookup by which every result names its rows (``name`` beside ``id``)."""
        df = getattr(self, table)
        if "name" not in df.columns or not df.height:
            return {}
        return {str(i): str(n) for i, n in zip(df["id"].to_list(), df["name"].to_list(),
                                               strict=True) if n is not None and str(n) != ""}

    def bus_id_out(self, bus_id: str) -> str:
        """A bus id as results give it: the string of the tables, for every format (an
        integer-numbered format's ``7`` is ``"7"``, as in the tables and Parquet files, so that
        one result never holds the same id as two types)."""
        return str(bus_id)

    def with_limits(
        self,
        *,
        v_min_pu: float | None = None,
        v_max_pu: float | None = None,
        max_loading_percent: float | None = None,
        thermal_limits: bool = True,
    ) -> Network:
        """A copy with other limits: the voltage band (where given) of every bus but one held
        at its set-point (:func:`~feederopt.network.limits.held_set_points`: a source's
        without an OLTC, or one that voltage-controlling generators hold whatever their q; no
        band binds it, it keeps its own), every branch rating scaled to
        ``max_loading_percent`` % of itself, or no current and thermal ratings at all
        (``thermal_limits=False``). The caller checks the values. The scaling is recorded
        (:attr:`loading_limit_percent`), so that a loading is still reported in % of the
        rating, not of the limit."""
        buses, branches = self.buses, self.branches
        meta = dict(self.meta)
        held = pl.Series([v is not None for v in held_set_points(buses, self.generators)],
                         dtype=pl.Boolean)
        for col, value in (("v_min_pu", v_min_pu), ("v_max_pu", v_max_pu)):
            if value is not None:
                buses = buses.with_columns(pl.when(held).then(pl.col(col))
                                           .otherwise(pl.lit(float(value))).alias(col))
        if not thermal_limits:
            if DATA_RATINGS_KEY not in meta:
                meta[DATA_RATINGS_KEY] = self.data_ratings
            branches = branches.with_columns(
                pl.lit(None, dtype=pl.Float64).alias("i_max_ka"),
                pl.lit(None, dtype=pl.Float64).alias("s_max_mva"),
            )
            meta[LOADING_LIMIT_KEY] = None
        elif max_loading_percent is not None:
            k = float(max_loading_percent) / 100.0
            branches = branches.with_columns(pl.col("i_max_ka") * k, pl.col("s_max_mva") * k)
            held_at = self.loading_limit_percent
            if held_at is not None:
                meta[LOADING_LIMIT_KEY] = held_at * k
        return self.replace(buses=buses, branches=branches, meta=meta)

    @property
    def data_ratings(self) -> dict[str, list[float | None]]:
        """The data's rating of every rated branch, ``{id: [i_max_ka, s_max_mva]}`` (None
        where the branch has not that one): the tables' own, or, after :meth:`with_limits`
        dropped them (``thermal_limits=False``), the ones it dropped. A loading in % of these
        is what pandapower's ``loading_percent`` reports, limits held or not."""
        kept = self.meta.get(DATA_RATINGS_KEY)
        if isinstance(kept, dict):
            return {str(k): list(v) for k, v in kept.items()}
        out: dict[str, list[float | None]] = {}
        k = (self.loading_limit_percent or 100.0) / 100.0
        for bid, i_max, s_max in self.branches.select("id", "i_max_ka", "s_max_mva").iter_rows():
            if i_max is not None or s_max is not None:
                out[str(bid)] = [None if i_max is None else float(i_max) / k,
                                 None if s_max is None else float(s_max) / k]
        return out

    @property
    def loading_limit_percent(self) -> float | None:
        """The share [%] of each branch's rating that its ``i_max_ka`` and ``s_max_mva`` hold:
        100 for the data's ratings, ``PCT`` after :meth:`with_limits` scaled them to
        ``max_loading_percent=PCT`` (``--max-loading PCT``; the product when scaled again),
        None when :meth:`with_limits` dropped them (``--no-thermal-limits``). A loading in %
        of the rating is ``loading_limit_percent`` times the current over ``i_max_ka``
        (user test ut35_dopf #1: a transformer at 49.95 % of its rating, pandapower's
        ``loading_percent``, was reported at 83.24 %, its share of the 60 % limit)."""
        if LOADING_LIMIT_KEY not in self.meta:
            return 100.0
        value = self.meta[LOADING_LIMIT_KEY]
        return None if value is None else float(value)

    def with_loads_scaled(self, factor: float) -> Network:
        """A copy with every load (``p_mw`` and ``q_mvar``) multiplied by ``factor``, a finite
        number >= 0; anything else is a typed :class:`InputError` naming ``factor`` (a string
        ``"2"`` reached Polars as a column name: ``ColumnNotFoundError``, user test
        ut37_api2)."""
        if not is_finite(factor) or float(factor) < 0:
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "with_loads_scaled",
                f"factor is {factor!r} ({type(factor).__name__}), not a finite number >= 0",
                field="factor", hint="give the factor as a number, e.g. "
                "net.with_loads_scaled(1.2) for 120 % of every load")])
        k = float(factor)
        loads = self.loads.with_columns(pl.col("p_mw") * k, pl.col("q_mvar") * k)
        return self.replace(loads=loads)


#: Names a user may give :meth:`Network.replace` for one of its tables (pandapower's element
#: tables, graph words), with the table that holds them.
_TABLE_WORDS = {"lines": "branches", "line": "branches", "trafos": "branches",
                "trafo": "branches", "transformers": "branches", "switches": "branches",
                "edges": "branches", "bus": "buses", "nodes": "buses", "load": "loads",
                "sgens": "generators", "sgen": "generators", "gens": "generators",
                "gen": "generators", "shunt": "shunts"}


def _refuse_unknown_fields(changes: Mapping[str, Any]) -> None:
    """:class:`OptionNameError` (an :class:`InputError` and a :class:`TypeError`, as the
    solve options' is) naming each keyword of :meth:`Network.replace` that is no field of a
    network, with the field it is close to (``lines=`` -> ``branches``): before, Python's
    bare ``TypeError: Network.__init__() got an unexpected keyword argument 'lines'``."""
    known = sorted(f for f, spec in Network.__dataclass_fields__.items() if spec.init)
    problems = []
    for name in changes:
        if name in known:
            continue
        close = ([_TABLE_WORDS[name]] if name in _TABLE_WORDS
                 else difflib.get_close_matches(name, known, n=1))
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "Network.replace", f"a network has no field {name!r}",
            field=name, hint=(f"did you mean {close[0]!r}? " if close else "")
            + "the fields are " + ", ".join(known)))
    if problems:
        raise OptionNameError(problems)


def tables_fingerprint(tables: Mapping[str, pl.DataFrame]) -> str:
    """A SHA-256 of the content of ``tables`` (by name): each table's name, its columns'
    names and dtypes, its height and the row hashes of Polars' ``DataFrame.hash_rows`` (a
    fixed seed, so equal within one process; not meant to be stored), in row order. Equal for
    equal tables whatever the objects, different as soon as one cell differs, which a
    comparison of identities (``a is b``) misses after an in-place assignment
    (``df[7, "p_mw"] = 1.6`` keeps the DataFrame; user test ut37_api2: the AC check ran on
    the old loads, and a negative load went unchecked). Linear in the cells, cheap beside a
    validation or a power flow (about a millisecond for ten thousand rows)."""
    h = hashlib.sha256()
    for key, df in tables.items():
        h.update(f"\x1e{key}\x1f{df.height}\x1f".encode())
        h.update("\x1f".join(f"{c}:{t}" for c, t in df.schema.items()).encode())
        if not df.height or not df.width:
            continue
        try:
            rows = df.hash_rows(seed=0)
            h.update(rows.to_numpy().tobytes())
        except pl.exceptions.PolarsError:  # a column Polars cannot hash (Object dtype)
            h.update(repr(df.rows()).encode())
    return h.hexdigest()


def resolve_branch_ids(refs: Iterable[str], branch_ids: Iterable[str],
                       members: Mapping[str, str] | None = None) -> list[str]:
    """:meth:`Network.resolve_branch_ids` for callers that hold the branch ids only (the
    per-unit model, a resilience problem): ``members`` is
    :func:`member_map` of ``branch_ids`` when not given."""
    own = {str(b) for b in branch_ids}
    members = member_map(own) if members is None else members
    return [r if r in own else members.get(r, r) for r in (str(x).strip() for x in refs)]


def _cast_problems(key: str, model: Any, df: pl.DataFrame) -> list[Problem]:
    """A value of a typed column that is not of its type (``"0.1 kA"`` as ``i_max_ka``, text
    as a Boolean, a list as ``r_ohm``): a typed problem naming the table, the column and the
    rows' ids, as the folder reader reports the same value in a CSV file. Cast to null, it read
    as "not given" (no rating, the default band) and changed the answer without a word (user
    test ut_api #1-#2)."""
    out = []
    ids = df["id"].cast(pl.String, strict=False).to_list() if "id" in df.columns else None
    for col, rows in cast_failures(model, df).items():
        dtype = polars_schema(model)[col]
        kind = ("true or false" if dtype == pl.Boolean else
                "a number" if dtype.is_numeric() else f"of type {dtype}")
        if rows == [-1]:
            out.append(Problem(ProblemKind.INVALID_VALUE, key,
                               f"column {col} ({df[col].dtype}) cannot be read as {kind}",
                               field=col, hint=f"give {key}.{col} as {kind} on every row"))
            continue
        where = [str(ids[i]) if ids is not None and ids[i] is not None else f"row {i + 1}"
                 for i in rows]
        sample = ", ".join(repr(df[col][i]) for i in rows[:3])
        # null only where the column may be empty: a required one's null is refused too
        out.append(Problem(ProblemKind.INVALID_VALUE, key,
                           f"{len(rows)} value(s) of {col} are not {kind}: {sample}",
                           tuple(where), col,
                           f"give {key}.{col} as {kind} (units go in the column name, "
                           "not the value)" + ("" if null_is_refused(model, col) else
                                               ", or null where it is not given")))
    return out


def typed_tables(given: Mapping[str, Any], context: Mapping[str, pl.DataFrame] | None = None
                 ) -> tuple[dict[str, pl.DataFrame], list[Problem], list[str]]:
    """The tables ``given`` (by name; None: an empty table) as a network holds them, the
    problems of values that are not of their column's type, and notes on what was read
    otherwise than given. The one path of a table given in memory (:meth:`Network.from_tables`,
    :meth:`Network.replace`, a table assigned and then :meth:`Network.check`ed; the readers
    build theirs by :meth:`Network.from_tables`):

    1. a pandas frame converted to Polars (anything else is a problem naming the table);
    2. a column under an earlier name (:data:`~feederopt.network.schemas.RENAMED_COLUMNS`)
       renamed, with a note; a branches table's per-km impedances (``r_ohm_per_km`` ..,
       ``length_km``) turned into the totals, ``r_ohm = r_ohm_per_km * length_km`` as
       pandapower's ``create_line_from_parameters``, by the folder reader's own
       :func:`~feederopt.network.per_km.from_per_km`, with a note;
    3. whole-number float ids read as text (7.0 as ``"7"``) with a note, a float id that is
       no whole number a problem (:func:`~feederopt.network.float_ids.float_ids`, the folder
       reader's rule; ``context`` holds the network's other tables, whose bus ids the given
       ones must keep matching);
    4. every column cast to its schema's type, a value that does not cast a problem
       (:func:`_cast_problems`), and the missing optional columns added with their defaults
       (:func:`~feederopt.network.schemas.complete_table`; a table complete already is
       returned as the same object).
    """
    problems: list[Problem] = []
    notes: list[str] = []
    frames: dict[str, pl.DataFrame | None] = {}
    for key in given:
        try:
            df = _polars_table(key, given[key])
        except InputError as e:
            problems += e.problems
            continue
        for old, new in RENAMED_COLUMNS.get(key, {}).items():
            if df is not None and old in df.columns and new not in df.columns:
                df = df.rename({old: new})
                notes.append(f"{key}.{old} read as {new} (the name with its unit)")
        if key == "branches" and df is not None:
            # r_ohm_per_km, x_ohm_per_km and length_km: the totals computed as the folder
            # reader computes them (user test ut46_recheck perkm_mem: ColumnNotFoundError)
            df, km_problems, km_notes = from_per_km(df)
            problems += km_problems
            notes += km_notes
        frames[key] = df
    converted, id_notes, id_problems = float_ids({**(context or {}), **frames})
    notes += id_notes
    problems += id_problems
    out: dict[str, pl.DataFrame] = {}
    for key, df in frames.items():
        model = TABLES[key]
        if df is None:
            out[key] = empty_table(model)
            continue
        fixed = [series for (name, _), series in converted.items() if name == key]
        if fixed:
            df = df.with_columns(fixed)
        found = _cast_problems(key, model, df)
        problems += found
        if not found:
            notes += _set_point_notes(key, model, df)
        out[key] = df if found else complete_table(model, df)
    return out, problems, notes


def _set_point_notes(key: str, model: Any, df: pl.DataFrame) -> list[str]:
    """A note naming the rows of ``df`` that give a set-point other than 0 but neither of its
    limits, which :func:`~feederopt.network.schemas.complete_table` holds at the set-point
    (:data:`~feederopt.network.schemas.SET_POINT_RANGES`): a fixed injection, not a range the
    optimiser may dispatch within."""
    notes = []
    fixed = without_limits(model, df)
    for point, lo, hi in SET_POINT_RANGES.get(model, ()):
        if point not in df.columns or "id" not in df.columns or not fixed[point].any():
            continue
        value = df[point].cast(pl.Float64, strict=False)
        rows = df.filter(fixed[point] & value.is_not_null() & (value != 0))
        if not rows.height:
            continue
        ids = [str(i) for i in rows["id"].to_list()]
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        notes.append(f"{key} {shown}: {point} given without {lo} and {hi}, read as a fixed "
                     f"injection ({lo} = {hi} = {point}); give {lo} and {hi} for a range "
                     "the optimiser may dispatch within")
    return notes


def with_read_notes(meta: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """``meta`` with ``notes`` (:func:`typed_tables`') added to its warnings and to its
    :data:`READ_NOTES_KEY`, each once."""
    new = [n for n in notes if n not in meta.get("warnings", [])]
    if new:
        meta["warnings"] = [*meta.get("warnings", []), *new]
        meta[READ_NOTES_KEY] = [*meta.get(READ_NOTES_KEY, []), *new]
    return meta


def _polars_table(key: str, df: Any) -> pl.DataFrame | None:
    """``df`` as a Polars table: a pandas DataFrame is converted (``pl.from_pandas``, its
    index dropped); anything else is a typed problem naming the table (a user who passed a
    dict or a path gets more than an AttributeError).

    A pandas ``object`` column that mixes text with other values (``["1 MW", 0.8, 0.5]``),
    which ``pl.from_pandas`` refuses with a bare TypeError, is read as text, each value as
    ``str`` gives it and a missing one (None, NaN) missing: the schema's cast then names the
    values that are no number, as for a column of text (user test ut46_pyapi t20: "loads
    [la].p_mw: 1 value(s) of p_mw are not a number: '1 MW'")."""
    if df is None or isinstance(df, pl.DataFrame):
        return df
    if type(df).__name__ == "DataFrame" and hasattr(df, "to_numpy"):  # pandas, not imported
        try:
            return pl.from_pandas(df)
        except Exception:  # pyarrow's or polars' own: the mixed columns as text, below
            pass
        try:
            return pl.from_pandas(_mixed_columns_as_text(df))
        except Exception as err:  # still no table: a typed problem
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, key, f"{key} cannot be read as a table: "
                f"{type(err).__name__}: {str(err)[:200]}",
                hint=f"give each column of {key} values of one type")]) from None
    raise InputError([Problem(
        ProblemKind.INVALID_VALUE, key, f"{key} is a {type(df).__name__}, not a table",
        hint=f"give {key} as a Polars (or pandas) DataFrame, e.g. pl.read_csv('{key}.csv')")])


def _is_missing(value: Any) -> bool:
    """Whether a cell of a pandas ``object`` column is missing: None or a float NaN."""
    return value is None or (isinstance(value, float) and value != value)


def _mixed_columns_as_text(df: Any) -> Any:
    """A copy of the pandas frame ``df`` whose ``object`` columns holding values of more than
    one type (missing values aside) are text: ``str(value)``, missing values None."""
    out = df.copy()
    for col in out.columns:
        if str(out[col].dtype) != "object":
            continue
        values = out[col].tolist()
        if len({type(v) for v in values if not _is_missing(v)}) > 1:
            out[col] = [None if _is_missing(v) else str(v) for v in values]
    return out


def member_map(branch_ids: Iterable[str]) -> dict[str, str]:
    """Each circuit of a merged double circuit -> the merged branch (``L1`` -> ``L1+L1b``).

    A user names the circuits of their own grid (``--hold-open L1``, a scenario's ``broken``
    list), not the model's merged branch, so every lookup of a user's branch id goes through
    this map (:meth:`Network.resolve_branch_ids`). It is read off the ids themselves, because
    the merged id is all the network keeps of the merge (a folder written and read again has
    the row ``L1+L1b`` and no record of :func:`feederopt.io.parallel.merge_parallel_branches`):
    an id joined by ``+`` whose parts are no branch ids of their own. A part that is itself a
    branch id, or that two such ids share, is left alone (no guess)."""
    ids = [str(b) for b in branch_ids]
    own = set(ids)
    out: dict[str, str] = {}
    shared: set[str] = set()
    for bid in ids:
        parts = bid.split("+")
        if len(parts) < 2 or any(not p or p in own for p in parts):
            continue
        for p in parts:
            if p in out:
                shared.add(p)
            out[p] = bid
    return {p: b for p, b in out.items() if p not in shared}

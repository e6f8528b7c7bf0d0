"""SimBench grids by code: ``simbench:<code>``, e.g. ``simbench:1-MV-rural--0-sw``, and in
one of SimBench's study cases: ``simbench:1-MV-rural--0-sw@lPV``.

SimBench (Meinecke et al., "SimBench - A Benchmark Dataset of Electric Power Systems to
Compare Innovative Solutions Based on Power Flow Analysis", Energies 13(12):3290, 2020) is a
set of German benchmark grids from LV to EHV, shipped with their data in the ``simbench``
package on PyPI (``pip install "feederopt[simbench]"``; nothing is downloaded at run time).
A code names the voltage levels, the grid type, the scenario (0: today, 1 and 2: future with
more PV, wind, EVs, heat pumps and storage) and whether the grid keeps its switches (``sw``)
or not (``no_sw``). ``simbench.get_simbench_net(code)`` builds a pandapower net, which
:func:`feederopt.io.pandapower.from_pandapower` reads like any user's net: the model
reproduces pandapower's power flow of it (the tests compare the losses and voltages).

SimBench's study cases (``hL`` high load, ``n1`` high load for (n-1), ``hW``/``hPV`` high
wind/PV feed-in, ``lW``/``lPV`` low load with high wind/PV) scale the loads and generators
and set the slack voltage (:func:`apply_study_case`); the net as built is the base case
``bc``. Of ``n1`` only its factors are taken (the same as ``hL``'s in SimBench's grids): no
(n-1) analysis is done, and the network says so in a note (:data:`N1_NOTE`).

The MV grids with switches (``1-MV-rural--0-sw``, ``-semiurb-``, ``-urban-``, ``-comm-``)
are open rings whose normally-open switches make them reconfigurable; the LV grids are
radial (nothing to reconfigure, but their base case and AC check work the same way).

Building a grid takes simbench 5-30 s (it reads its complete data set and cuts the grid out),
so a built net is kept on disk (``$XDG_CACHE_HOME/feederopt`` or ``~/.cache/feederopt``, by
simbench, pandapower and pandas version; ``FEEDEROPT_CACHE_DIR`` names another folder, ``off``
turns it off) and read back in well under a second by the next command.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from feederopt.cases.registry import quiet_pandapower
from feederopt.errors import FeederoptWarning, InputError, Problem, ProblemKind
from feederopt.network.container import Network

#: The prefix of a SimBench case name.
PREFIX = "simbench:"

#: What ``@n1`` gives (user test ut42_journey #3: it was taken silently, and is ``hL``'s
#: factors on every SimBench grid).
N1_NOTE = (
    "{name}: SimBench's n1 is a study case for (n-1) analysis; feederopt takes its loadcase "
    "factors only (loads, generators and slack voltage{same}) and does no (n-1) analysis: "
    "every branch is in service and no outage is studied")


def is_simbench_name(name: str) -> bool:
    """Does ``name`` ask for a SimBench grid (``simbench:<code>``)?"""
    return name.lower().startswith(PREFIX)


def _module() -> Any:
    try:
        import simbench
    except ImportError:
        raise InputError([Problem(
            ProblemKind.UNKNOWN_CASE, "case", "SimBench grids need the simbench package, which "
            "is not installed", ids=("simbench",),
            hint='pip install "feederopt[simbench]"')]) from None
    return simbench


@lru_cache(maxsize=1)
def simbench_codes() -> tuple[str, ...]:
    """Every SimBench code the installed ``simbench`` package knows."""
    return tuple(str(c) for c in _module().collect_all_simbench_codes())


def simbench_net(code: str) -> Any:
    """The pandapower net of SimBench grid ``code`` (without the ``simbench:`` prefix).

    Raises :class:`InputError` (``UNKNOWN_CASE``) when simbench is not installed or the code
    is not a SimBench code (the hint names the closest codes).
    """
    codes = simbench_codes()
    if code not in codes:
        close = difflib.get_close_matches(code, codes, n=4, cutoff=0.5) or [
            "1-MV-rural--0-sw", "1-MV-urban--0-sw", "1-LV-rural1--0-sw"]
        raise InputError([Problem(
            ProblemKind.UNKNOWN_CASE, "case", f"'{code}' is not a SimBench code",
            ids=(f"{PREFIX}{code}",),
            hint="e.g. " + ", ".join(f"{PREFIX}{c}" for c in close)
            + " (simbench.collect_all_simbench_codes() lists all)")])
    import copy

    return copy.deepcopy(_built_net(code))


#: The environment variable naming the folder of feederopt's cache of built SimBench nets;
#: ``off`` (or ``0``, ``no``, ``false``) turns the cache off. Unset: ``$XDG_CACHE_HOME/feederopt``
#: or ``~/.cache/feederopt``.
CACHE_ENV = "FEEDEROPT_CACHE_DIR"


def _cache_file(code: str) -> Path | None:
    """Where the built net of ``code`` is kept between runs: one pandapower JSON file per
    code, in a folder named by the simbench, pandapower and pandas versions (another version
    builds its own); ``None`` when the cache is off."""
    root = os.environ.get(CACHE_ENV)
    if root is not None and root.strip().lower() in ("off", "0", "no", "false"):
        return None
    if not root:
        root = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                   / "feederopt")
    try:
        import pandapower
        import pandas

        versions = (f"simbench-{_module().__version__}-pandapower-{pandapower.__version__}"
                    f"-pandas-{pandas.__version__}")
    except Exception:  # a package without a version: no cache
        return None
    return Path(root) / versions / f"{code}.json"


@lru_cache(maxsize=4)
def _built_net(code: str) -> Any:
    """``simbench.get_simbench_net(code)``, built once per process and kept on disk
    (:func:`_cache_file`) between processes: simbench reads its complete data set's tables
    (``simbench.complete_data_path``) and cuts the grid from them, which takes 5-30 s for every
    code, and each ``feederopt`` command, a solve and the ``check`` of its result, or a test's
    several runs read the same grid again. A cached net is pandapower's JSON of the built one
    (``pandapower.to_json``; not a pickle, which would run whatever code a file put in the cache
    holds), read in about a second; an unreadable one is built again. :func:`simbench_net` hands out
    copies."""
    path = _cache_file(code)
    if path is not None and path.is_file():
        try:
            with quiet_pandapower():
                return _pandapower().from_json(str(path))
        except Exception:  # a torn or stale file: built again and rewritten below
            pass
    sb = _module()
    with quiet_pandapower():
        net = sb.get_simbench_net(code)
    if path is not None:
        _write_cache(path, net)
    return net


def _pandapower() -> Any:
    """pandapower, imported when a cached net is read or written."""
    import pandapower

    return pandapower


def _write_cache(path: Path, net: Any) -> None:
    """Write ``net`` to ``path`` (pandapower's JSON) through a temporary file renamed into
    place (two processes building the same grid never leave a half-written file); a folder
    that cannot be written leaves the cache empty, never an error."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        os.close(fd)
        _pandapower().to_json(net, tmp)
        os.replace(tmp, path)
        tmp = None
    except Exception:  # read-only home, full disk, a net pandapower cannot write: no cache
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


#: SimBench's voltage levels (``simbench.get_voltlvl``: 1 EHV, 3 HV, 5 MV, 7 LV; the even
#: levels are the transformations between them) by the names a SimBench code uses.
LEVELS = {"EHV": 1, "HV": 3, "MV": 5, "LV": 7}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}


def study_case_table(code: str) -> Any:
    """SimBench's study-case factors of every voltage level for grid ``code``: the
    ``StudyCases.csv`` of the complete data set the grid is cut from
    (``simbench.complete_data_path(scenario)``), indexed by ``(voltLvl, Study Case)``, with
    columns ``pload``, ``qload``, ``Wind_p``, ``PV_p``, ``RES_p``, ``Slack_vm``; ``None`` when
    the file cannot be read.

    ``simbench.get_simbench_net`` keeps of this table only the rows of the LOWEST voltage level
    that has more than two buses (``simbench.networks.loadcases.filter_loadcases_df``), so a
    combined grid's ``net.loadcases`` (``1-MVLV-*-all-*``: LV's, ``1-HVMV-*``: MV's) is not
    the level of its source.
    """
    import os

    import pandas as pd

    sb = _module()
    try:
        scenario = sb.get_simbench_code_and_parameters(code)[1][5]
        path = os.path.join(sb.complete_data_path(int(scenario)), "StudyCases.csv")
        table = pd.read_csv(path, sep=";")
        return table.set_index(["voltLvl", "Study Case"])
    except Exception:  # an absent or unreadable file: SimBench's filtered table
        return None


def source_level(code: str) -> int | None:
    """The voltage level whose study-case slack voltage belongs to the source of SimBench grid
    ``code``: the code's upper level (``1-MVLV-urban-all-0-sw``: MV, 5; ``1-HVMV-...``: HV,
    3), the grid the external grid feeds (SimBench's MV grids have their source on the 110 kV
    side of the HV/MV substation and their own level's ``Slack_vm``; Meinecke et al. 2020,
    section 4.3); ``None`` when the code names no level (``complete_data``)."""
    try:
        return LEVELS.get(str(_module().get_simbench_code_and_parameters(code)[1][1]))
    except Exception:  # not a code simbench parses: no level
        return None


def _filtered_level(net: Any) -> int:
    """The level of SimBench's own ``net.loadcases``: the lowest voltage level with more than
    two buses (``simbench.networks.loadcases.filter_loadcases_df``)."""
    from simbench import get_voltlvl

    counts = net.bus.vn_kv.value_counts()
    return int(get_voltlvl(float(counts.loc[counts > 2].index.min())))


def _bus_levels(net: Any, element: str) -> Any:
    """SimBench's voltage level (1, 3, 5, 7) of each ``element`` row's bus."""
    from simbench import get_voltlvl

    return get_voltlvl(net.bus.vn_kv.loc[net[element].bus].to_numpy())


def study_cases_of(net: Any) -> list[str]:
    """The study cases of SimBench ``net``: ``bc`` (the net as built) and those of its
    ``net.loadcases`` table."""
    table = net.get("loadcases", None)
    return ["bc", *[str(c) for c in table.index]] if table is not None else ["bc"]


def apply_study_case(net: Any, study_case: str, code: str | None = None,
                     notes: list[str] | None = None) -> Any:
    """A copy of SimBench ``net`` in one of its study cases (``hL``, ``n1``, ``hW``, ``hPV``,
    ``lW``, ``lPV``; ``bc`` is the net as built): SimBench's own absolute values
    (``simbench.get_absolute_values(net, profiles_instead_of_study_cases=False)``): the loads'
    p and q scaled by ``pload``/``qload``, the sgens' p by ``Wind_p``, ``PV_p`` or ``RES_p``
    by their type, and the slack voltage ``Slack_vm`` (Meinecke et al. 2020, section 4.3).

    SimBench defines the factors per voltage level, and its net keeps only the lowest level's
    (:func:`study_case_table`). With the grid's ``code`` given, a combined grid takes the
    level each value belongs to from the full table: the external grids' ``vm_pu`` is the
    ``Slack_vm`` of :func:`source_level` (``1-MVLV-urban-all-0-sw@hL``: MV's 1.035 at the
    110 kV source, not LV's 0.965), and each load and sgen is scaled by the factors of its
    bus's level (``1-HVMV-*@lW``: ``pload`` 0.25 at 110 kV, 0.1 at MV). Single-level grids
    are SimBench's values unchanged. A value the full table does not hold stays SimBench's,
    and ``notes`` (when given) gets a line naming the level it belongs to and the source's kV;
    a slack voltage that differs from SimBench's own gets a line too.

    Raises :class:`InputError` (``UNKNOWN_CASE``) for a study case the net does not have.
    """
    import copy

    sb = _module()
    table = net.get("loadcases", None)
    cases = study_cases_of(net)
    if study_case not in cases:
        raise InputError([Problem(
            ProblemKind.UNKNOWN_CASE, "case", f"'{study_case}' is not a study case of this "
            "SimBench grid", ids=(study_case,), hint="one of " + ", ".join(cases))])
    out = copy.deepcopy(net)
    if study_case == "bc":
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = sb.get_absolute_values(out, profiles_instead_of_study_cases=False)
    for (element, column), rows in values.items():
        row = rows.loc[study_case]
        out[element].loc[row.index, column] = row.to_numpy()
    if code is None:
        return out
    full = study_case_table(code)
    own = _filtered_level(net)
    src = source_level(code)
    held = set() if full is None else {int(lv) for lv, c in full.index if c == study_case}
    kv = sorted({float(v) for v in net.bus.vn_kv.loc[net.ext_grid.bus]})
    kv_text = "/".join(f"{v:g}" for v in kv) + " kV"
    slack = float(table.loc[study_case, "Slack_vm"])
    if src is not None and src != own:
        if src in held:
            mine = float(full.loc[(src, study_case), "Slack_vm"])
            out.ext_grid["vm_pu"] = mine
            if notes is not None and mine != slack:
                notes.append(
                    f"@{study_case}: the source ({kv_text}) takes {LEVEL_NAMES[src]}'s "
                    f"Slack_vm {mine:g}, the level it feeds; SimBench's net.loadcases (and "
                    f"simbench.get_absolute_values) holds only {LEVEL_NAMES[own]}'s "
                    f"({slack:g}), the grid's lowest level")
        elif notes is not None:
            notes.append(
                f"@{study_case}: the source ({kv_text}) takes Slack_vm {slack:g}, SimBench's "
                f"value of the {LEVEL_NAMES.get(own, own)} level (its net.loadcases holds no "
                f"other); SimBench's data hold no {LEVEL_NAMES[src]} row for {study_case}, the "
                "level the source feeds")
    levels = {int(lv) for el in ("load", "sgen") if len(out[el]) for lv in _bus_levels(out, el)}
    scaled = sorted(lv for lv in levels if lv != own and lv in held)
    scratch = copy.deepcopy(net) if scaled and full is not None else None
    for level in scaled:
        if scratch is None or full is None:
            break
        scratch.loadcases = full.xs(level, level="voltLvl")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            per_level = sb.get_absolute_values(scratch, profiles_instead_of_study_cases=False)
        for (element, column), rows in per_level.items():
            if element in ("load", "sgen"):
                idx = net[element].index[_bus_levels(net, element) == level]
                out[element].loc[idx, column] = rows.loc[study_case, idx].to_numpy()
    return out


def load_simbench(name: str, *, check: bool = True) -> Network:
    """The network of ``simbench:<code>`` or ``simbench:<code>@<study case>``, validated unless
    ``check=False``."""
    from feederopt.io.pandapower import from_pandapower

    code, at, study_case = name[len(PREFIX):].partition("@")
    net = simbench_net(code)
    if at and not study_case:  # "simbench:<code>@" was read as the base case (ut50_simb #4)
        raise InputError([Problem(
            ProblemKind.UNKNOWN_CASE, "case", f"'{name}' names no study case after '@'",
            ids=(name,), hint=f"one of {', '.join(study_cases_of(net))} after '@' "
            f"({PREFIX}{code}@hL), or no '@' for the grid as built ({PREFIX}{code})")])
    same = ""
    if study_case == "n1":  # SimBench's grids give it hL's factors: said when so
        table = net.get("loadcases", None)
        if table is not None and "hL" in table.index and "n1" in table.index and bool(
                (table.loc["n1"] == table.loc["hL"]).all()):
            same = ", the same as hL's on this grid"
    notes: list[str] = []
    if study_case:
        net = apply_study_case(net, study_case, code=code, notes=notes)
    label = f"{code}@{study_case}" if study_case else code
    network = from_pandapower(net, name=label)
    network.meta.setdefault("case", f"{PREFIX}{label}")
    if notes:
        network.meta.setdefault("warnings", []).extend(f"{PREFIX}{code}{n}" for n in notes)
    if study_case == "n1":
        network.meta.setdefault("warnings", []).append(N1_NOTE.format(name=name, same=same))
    if code.endswith("-no_sw") and network.branches.height:
        switchable = network.branches["switchable"].fill_null(False)
        network.meta.setdefault("warnings", []).append(NO_SW_NOTE.format(
            name=name, ties=int(switchable.sum()), branches=network.branches.height,
            variant=_variant_text(code, study_case)))
    return network.check() if check else network


#: What a ``-no_sw`` grid says (user test ut50_simb #2): SimBench's grids without switches
#: keep switch elements only at their normally-open ties.
NO_SW_NOTE = (
    "{name}: SimBench's no_sw grids keep switches only at their normally-open ties "
    "({ties} switchable branch(es) of {branches}): little or nothing can be "
    "reconfigured; {variant}")


def _variant_text(code: str, study_case: str) -> str:
    """Where a ``-no_sw`` grid's switches are: its ``-sw`` variant when SimBench has one, and
    the .json route (every line switchable under ``--ties out_of_service``)."""
    at = f"@{study_case}" if study_case else ""
    sw = code[:-len("no_sw")] + "sw" if code.endswith("-no_sw") else None
    variant = (f"take the grid with its switches, {PREFIX}{sw}{at}, or " if sw is not None
               and sw in simbench_codes() else "")
    return (variant + "write the net to a .json file (simbench.get_simbench_net, "
            "pandapower.to_json) and give that file with --ties out_of_service (every line "
            "switchable, the out-of-service ones normally open; ties=\"out_of_service\" in "
            "Python)")


def fixed_loop_hint(name: str) -> str | None:
    """The hint of a loop of branches that cannot open (``not_radial``) in SimBench grid
    ``name`` (``simbench:<code>[@<study case>]``): a grid read by its name cannot be edited
    (\"make one of them switchable\" cannot be done), so the hint names the ``-sw`` variant
    of a ``-no_sw`` grid and the .json route with ``--ties out_of_service``
    (:func:`_variant_text`; user test ut50_simb #2); None for another name."""
    if not is_simbench_name(name):
        return None
    code, _, study_case = name[len(PREFIX):].partition("@")
    head = ("a SimBench grid read by its name cannot be edited; "
            + ("a no_sw grid keeps switches only at its normally-open ties, so little or "
               "nothing in it can be reconfigured: " if code.endswith("-no_sw") else ""))
    return head + _variant_text(code, study_case)


def study_case_problems(name: str, study_cases: Sequence[str],
                        weights: Sequence[float] | None = None) -> list[Problem]:
    """The problems of :func:`study_case_scenarios`'s arguments, found without reading the
    grid: a ``name`` that is not ``simbench:<code>`` (or has a study case), an empty study-case
    list or entry, a study case given twice, weights that are not one positive number per
    study case. ``feederopt scenarios --study-cases`` reports them with its option problems,
    all at once (before, ``-n 3 --study-cases hL`` on a MATPOWER case named only ``--count``;
    user test ut51_cli #1)."""
    import math

    problems: list[Problem] = []
    code = name[len(PREFIX):] if is_simbench_name(name) else ""
    if not code or "@" in code:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "options", "study-case scenarios are built from a "
            f"SimBench grid as built: '{name}' is not simbench:<code>", ids=(name,),
            field="study_cases",
            hint=(f"drop '@{code.partition('@')[2]}' and list the study cases instead: "
                  f"simbench:{code.partition('@')[0]} --study-cases hL,lW"
                  if "@" in code else "e.g. feederopt scenarios simbench:1-MV-rural--0-sw "
                  "--study-cases hL,lW --out cases.parquet")))
    cases = [str(c).strip() for c in study_cases]
    if not cases or any(not c for c in cases):
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options", "the study-case list "
                                "is empty or has an empty entry", ids=(",".join(cases),),
                                field="study_cases", hint="e.g. hL,hW,hPV,lW,lPV"))
    repeated = sorted({c for c in cases if cases.count(c) > 1})
    if repeated:
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options", "a study case is "
                                "given twice", ids=tuple(repeated), field="study_cases",
                                hint="name each study case once (weigh it with --weights)"))
    w = [1.0] * len(cases) if weights is None else [float(x) for x in weights]
    if len(w) != len(cases) or not all(math.isfinite(x) and x > 0 for x in w):
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "options", f"{len(w)} weight(s) for {len(cases)} study "
            "case(s): give one positive weight per study case", ids=tuple(str(x) for x in w),
            field="weights", hint="e.g. --weights 0.3,0.7 (normalised to sum to 1)"))
    return problems


def study_case_scenarios(name: str, study_cases: Sequence[str],
                         weights: Sequence[float] | None = None) -> pl.DataFrame:
    """A scenario table (:mod:`feederopt.io.scenarios`) of SimBench grid ``name``
    (``simbench:<code>``) with one scenario per study case of ``study_cases`` (``hL``, ``n1``,
    ``hW``, ``hPV``, ``lW``, ``lPV``, ``bc``), weighted by ``weights`` (default: equal).

    Each scenario is :func:`apply_study_case`'s net, read as the grid itself is read
    (:func:`~feederopt.io.pandapower.from_pandapower`), against the grid as built (the base
    case, which ``feederopt solve simbench:<code> --scenarios FILE`` optimises):

    * one ``load`` row per in-service load: its demand in the study case, ``p = pload x
      p_mw``, ``q = qload x q_mvar`` (``simbench.get_absolute_values(net,
      profiles_instead_of_study_cases=False)``);
    * one ``bus`` row (``der`` ``generator``) per bus whose sgens change: the base case's output
      less the study case's, ``sum_g p_g^bc - sum_g p_g^case`` with ``p_g^case = f x p_g``
      and ``f`` the case's ``Wind_p``, ``PV_p`` or ``RES_p`` by the sgen's type (a demand row:
      the network's own sgens stay at their base output in the model, so the bus's net
      injection is the study case's);
    * one ``source`` row per source bus with ``vm_pu`` the case's ``Slack_vm`` (Meinecke et
      al. 2020, section 4.3).

    Raises :class:`InputError` for a name that is not a SimBench grid without a study case,
    an unknown or repeated study case, and weights that are not one positive number per case.
    """
    from feederopt.io.pandapower import from_pandapower

    problems = study_case_problems(name, study_cases, weights)
    if problems:
        raise InputError(problems)
    code = name[len(PREFIX):]
    cases = [str(c).strip() for c in study_cases]
    w = [1.0] * len(cases) if weights is None else [float(x) for x in weights]
    net = simbench_net(code)
    if "n1" in cases:  # as @n1 says it (user test ut42_docs #1: the scenario was taken silently)
        table = net.get("loadcases", None)
        same = (", the same as hL's on this grid" if table is not None and "hL" in table.index
                and "n1" in table.index and bool((table.loc["n1"] == table.loc["hL"]).all())
                else "")
        warnings.warn(N1_NOTE.format(name=f"{name} --study-cases n1", same=same),
                      FeederoptWarning, stacklevel=2)
    base = from_pandapower(net, name=code)
    total = sum(w)
    cols: dict[str, list[Any]] = {k: [] for k in ("scenario", "kind", "element", "der", "p_mw",
                                                  "q_mvar", "vm_pu", "weight")}

    def row(case: str, kind: str, element: str, der: str | None, p: float | None,
            q: float | None, vm: float | None, weight: float) -> None:
        for k, v in zip(cols, (case, kind, element, der, p, q, vm, weight), strict=True):
            cols[k].append(v)

    def gen_by_bus(network: Network) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        gens = network.generators.filter(pl.col("in_service"))
        for r in gens.iter_rows(named=True):
            p0, q0 = out.get(str(r["bus"]), (0.0, 0.0))
            out[str(r["bus"])] = (p0 + float(r["p_mw"] or 0.0), q0 + float(r["q_mvar"] or 0.0))
        return out

    gen0 = gen_by_bus(base)
    for case, weight in zip(cases, w, strict=True):
        notes: list[str] = []
        study = from_pandapower(apply_study_case(net, case, code=code, notes=notes),
                                name=f"{code}@{case}")
        for note in notes:
            warnings.warn(f"{name}{note}", FeederoptWarning, stacklevel=2)
        loads = study.loads.filter(pl.col("in_service"))
        for r in loads.iter_rows(named=True):
            row(case, "load", str(r["id"]), "load", float(r["p_mw"]), float(r["q_mvar"]), None,
                weight / total)
        gen1 = gen_by_bus(study)
        for bus in sorted(set(gen0) | set(gen1), key=str):
            p0, q0 = gen0.get(bus, (0.0, 0.0))
            p1, q1 = gen1.get(bus, (0.0, 0.0))
            if p0 != p1 or q0 != q1:
                # extra demand (a bus row: positive draws) = the grid's own generation less
                # the case's; labelled generator_change, not generator, whose p_mw is an
                # output (positive injects: ut46_scen #2)
                row(case, "bus", bus, "generator_change", p0 - p1, q0 - q1, None, weight / total)
        for r in study.buses.filter(pl.col("is_source")).iter_rows(named=True):
            row(case, "source", str(r["id"]), None, None, None, float(r["v_set_pu"]),
                weight / total)
    return pl.DataFrame(cols, schema={"scenario": pl.String, "kind": pl.String,
                                      "element": pl.String, "der": pl.String,
                                      "p_mw": pl.Float64, "q_mvar": pl.Float64,
                                      "vm_pu": pl.Float64, "weight": pl.Float64})

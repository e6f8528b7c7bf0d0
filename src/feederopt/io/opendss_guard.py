"""OpenDSS scripts that would crash the OpenDSS engine itself, found from their text before
OpenDSS runs them (:func:`crashing_capacitors`, called by
:func:`feederopt.io.opendss.compile_circuit`).

**A 1-terminal ``Capacitor`` of two or more phases given by ``Cmatrix``.** DSS C-API 0.14.5
(the engine of opendssdirect 0.9) writes a ``Cmatrix`` bank into its primitive admittance as a
2-terminal wye (``Capacitor.pas``, ``MakeYprimWork``, ``SpecType`` 3: elements ``(i, j)``,
``(i + n, j + n)`` and ``(i, j + n)`` for ``n`` phases), while ``conn=delta`` has made the
bank a 1-terminal element (``Nterms := 1``) whose matrix is of order ``n`` (``n + 1`` for one
phase). For ``n >= 2`` the writes fall outside the matrix, and the first ``CalcVoltageBases``
or ``Solve`` corrupts the heap: the process dies (``double free or corruption``, SIGABRT, exit
134), with no Python exception to catch, even when the bank is disabled (``enabled=no``). A
1-phase delta bank (order 2) is written within its matrix and is read correctly; so is any bank
whose ``kvar`` or ``Cuf`` was given after its ``Cmatrix`` (the last of the three decides).

What decides is the terminal count, not the connection: ``conn=delta`` sets one terminal,
``conn=wye`` two (a new bank has two). ``Like=`` (``TCapacitorObj.MakeLike``) copies the
source's phases, connection, ``SpecType`` and ``Cmatrix`` but not its terminal count: a copy
of a delta ``Cmatrix`` bank keeps two terminals and is built without harm, while ``conn=delta``
given before or after ``like=`` makes the copy one-terminal, and one that takes a ``Cmatrix``
(its own or the source's) crashes.

The scan follows the script as OpenDSS runs it: ``Redirect``/``Compile`` targets in place
(relative to the folder of the script naming them), ``New``/``Edit Capacitor.<name>`` (the
object quoted or not, ``object=`` or not), their continuation lines (``~``, ``More``) after
``Select``, ``Edit`` or ``Set element=``/``Set object=``, ``BatchEdit Capacitor.<pattern>``
(a case-insensitive regular expression searched in each name, as OpenDSS does),
``Capacitor.<name>.<property>=`` lines, OpenDSS's abbreviated property names (``co=d``: the
first property the word starts) and positional values (``New Capacitor.c b1 b1.0.0.0 3 600
12.47 delta [...]``), ``conn`` as OpenDSS reads it (``delta``, ``d...``, ``ll``), and
``Like=`` from a bank seen before. Words are split as OpenDSS's parser splits them: on any
whitespace (spaces, tabs), commas and ``=``, with ``"..."``, ``'...'``, ``(...)``, ``[...]``,
``{...}`` as quotes. ``var`` macros are expanded as OpenDSS expands them
(:class:`~feederopt.io.dss_files.Macros`: ``var @c=Capacitor.c`` then ``New @c ...``,
``conn=@d``, ``Redirect @f``); ``Set``'s options are read abbreviated as OpenDSS reads them
(``Set elem=``, ``Set e=``, ``Set o=``, ``Set cl=``: :data:`SET_OPTIONS`); a bare name in
``Select c``, ``Set element=c`` and ``c.conn=delta`` is of the class OpenDSS last named
(``New``/``Edit``/``Select``/``Set element=`` of a ``Class.name``, an assignment, ``Set
class=``), as DSS C-API 0.14.5 resolves it (checked with OpenDSSDirect.py: each of these
spellings crashes it). The state of each bank is checked where OpenDSS builds its admittance
(``Solve``, ``CalcVoltageBases``, ``BuildY``, ...) and at the end of the script (the reader
solves the circuit). It is conservative: it refuses only what crashes for certain; a bank
redefined by a second ``New``, made ``Like=`` a bank it has not seen, edited by a
``BatchEdit`` pattern that Python cannot read, or named without its class in ``New c`` or
``Edit c`` (which DSS C-API 0.14.5 refuses itself, errors 263 and 267, rather than take the
last class) is not judged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io.dss_files import (
    Macros,
    Params,
    command_word,
    numbered_commands,
    script_target,
    split_params,
)

#: ``Capacitor``'s properties in OpenDSS's order (``Element.AllPropertyNames``, DSS C-API
#: 0.14): a positional value sets the one after the last set, an abbreviation the first that
#: it starts.
CAPACITOR_PROPERTIES = (
    "bus1", "bus2", "phases", "kvar", "kv", "conn", "cmatrix", "cuf", "r", "xl", "harm",
    "numsteps", "states", "normamps", "emergamps", "faultrate", "pctperm", "repair",
    "basefreq", "enabled", "like",
)

#: Commands after which OpenDSS has built every element's admittance.
Y_COMMANDS = frozenset({
    "solve", "calcvoltagebases", "buildy", "_initsnap", "_solvenocontrol", "_solvepflow",
    "_solvedirect", "solveall",
})

#: ``Set``'s options in OpenDSS's order (``Executive.Option(i)``, DSS C-API 0.14.5): an
#: abbreviation is the first option it starts (``Set e=``, ``Set elem=`` are ``element``,
#: ``Set o=`` is ``object``, ``Set c=`` is ``class``), an exact name first.
SET_OPTIONS = (
    "type", "element", "hour", "sec", "year", "frequency", "stepsize", "mode", "random",
    "number", "time", "class", "object", "circuit", "editor", "tolerance", "maxiterations", "h",
    "loadmodel", "loadmult", "normvminpu", "normvmaxpu", "emergvminpu", "emergvmaxpu", "%mean",
    "%stddev", "ldcurve", "%growth", "genkw", "genpf", "capkvar", "addtype", "allowduplicates",
    "zonelock", "ueweight", "lossweight", "ueregs", "lossregs", "voltagebases", "algorithm",
    "trapezoidal", "autobuslist", "controlmode", "tracecontrol", "genmult", "defaultdaily",
    "defaultyearly", "allocationfactors", "cktmodel", "pricesignal", "pricecurve", "terminal",
    "basefrequency", "harmonics", "maxcontroliter", "bus", "datapath", "keeplist",
    "reduceoption", "demandinterval", "%normal", "diverbose", "casename", "markercode",
    "nodewidth", "log", "recorder", "overloadreport", "voltexceptionreport", "cfactors",
    "showexport", "numallociterations", "defaultbasefrequency", "markswitches",
    "switchmarkercode", "daisysize", "marktransformers", "transmarkercode", "transmarkersize",
    "loadshapeclass", "earthmodel", "querylog", "markcapacitors", "markregulators",
    "markpvsystems", "markstorage", "capmarkercode", "regmarkercode", "pvmarkercode",
    "storemarkercode", "capmarkersize", "regmarkersize", "pvmarkersize", "storemarkersize",
    "neglectloady", "markfuses", "fusemarkercode", "fusemarkersize", "markreclosers",
    "reclosermarkercode", "reclosermarkersize", "registryupdate", "markrelays",
    "relaymarkercode", "relaymarkersize", "processtime", "totaltime", "steptime",
    "sampleenergymeters", "miniterations", "dssvisualizationtool", "keepload", "zmag",
    "seasonrating", "seasonsignal", "linetypes", "eventlogdefault", "longlinecorrection",
    "showreports", "numcpus", "numcores", "numactors", "activeactor", "cpu", "actorprogress",
    "parallel", "concatenatereports", "numanodes",
)

_params = split_params


def set_option(word: str) -> str | None:
    """The ``Set`` option that OpenDSS reads ``word`` as (:data:`SET_OPTIONS`), or None."""
    word = word.lower()
    if word in SET_OPTIONS:
        return word
    return next((o for o in SET_OPTIONS if o.startswith(word)), None) if word else None


@dataclass
class _Bank:
    """What decides the crash: phases (3 by default), one terminal or two (``conn=delta``
    sets one, ``conn=wye`` two; a new bank has two), and which of ``kvar`` (``SpecType`` 1,
    the default), ``cuf`` (2) or ``cmatrix`` (3) was given last. None: not known (copied
    ``Like=`` a bank not seen)."""

    phases: int | None = 3
    one_terminal: bool | None = False
    spec: str | None = "kvar"
    where: str = ""

    def crashes(self) -> bool:
        return bool(self.one_terminal) and self.spec == "cmatrix" and (self.phases or 0) >= 2


def _property(word: str) -> str | None:
    word = word.lower()
    if word in CAPACITOR_PROPERTIES:
        return word
    return next((p for p in CAPACITOR_PROPERTIES if p.startswith(word)), None)


def _apply(bank: _Bank, params: Params, banks: dict[str, _Bank | None]) -> None:
    """Set ``bank``'s properties from a command's parameters, in order; ``like=`` copies
    phases and ``SpecType`` from the bank named, when it is known (``MakeLike``: the terminal
    count is not copied), else makes them unknown."""
    index = -1
    for name, value in params:
        if name is not None:
            prop = _property(name)
            if prop is None:
                continue  # OpenDSS refuses it (error 110) before building anything
            index = CAPACITOR_PROPERTIES.index(prop)
        else:
            index += 1
            if index >= len(CAPACITOR_PROPERTIES):
                continue
            prop = CAPACITOR_PROPERTIES[index]
        if prop == "like":
            source = banks.get(value.lower())
            bank.phases = source.phases if source is not None else None
            bank.spec = source.spec if source is not None else None
        elif prop == "phases":
            bank.phases = int(value) if value.isdigit() else None
        elif prop == "conn":
            v = value.lower()
            bank.one_terminal = v.startswith("d") or v.startswith("ll")
        elif prop in ("kvar", "cuf", "cmatrix"):
            bank.spec = prop


def _target(word: str, last: str | None = None) -> str | None:
    """The capacitor's name of ``Capacitor.<name>`` (any case), or of a bare ``<name>`` when
    the class OpenDSS last named (``last``) is ``Capacitor``, else None."""
    cls, dot, name = word.partition(".")
    if not dot:
        cls, name = last or "", word
    return name.lower() if cls.lower() == "capacitor" and name else None


def _class_of(word: str) -> str | None:
    """The class ``<class>.<name>`` names (lower case), None for a bare name."""
    cls, dot, _ = word.partition(".")
    return cls.lower() if dot else None


def _object(params: Params) -> tuple[str | None, Params]:
    """The object a ``New``/``Edit``/``Select`` names (its first parameter, positional or
    ``object=``) and the parameters after it."""
    if not params or (params[0][0] is not None and params[0][0].lower() != "object"):
        return None, params
    return params[0][1], params[1:]


def _batch_targets(args: str, names: list[str]) -> tuple[list[str] | None, Params]:
    """The banks ``BatchEdit Capacitor.<pattern> ...`` edits (None for all of them, as far
    as is known, when Python cannot read the pattern) and the parameters it sets; ([], ...)
    for another class. OpenDSS searches the pattern (``TRegExpr``, case-insensitive) in each
    name."""
    m = re.match(r"\s*(\S+)(.*)$", args, re.S)
    if m is None:
        return [], []
    cls, _, pattern = m.group(1).strip("\"'").partition(".")
    if cls.lower() != "capacitor":
        return [], []
    try:
        regex = re.compile(pattern, re.I)
    except re.error:
        return None, _params(m.group(2))
    return [n for n in names if regex.search(n)], _params(m.group(2))


def crashing_capacitors(path: str | Path) -> None:
    """Raise :class:`InputError` (``unsupported_element`` on ``cmatrix``, one problem per
    bank, with its file and line) when the script ``path`` defines a 1-terminal (delta)
    ``Capacitor`` of two or more phases by ``Cmatrix`` at a point where OpenDSS builds its
    admittance, which kills the process (module docstring)."""
    banks: dict[str, _Bank | None] = {}
    active: list[str | None] = [None]
    # the class OpenDSS last named (New, Edit, Select, Set element/object/class, an
    # assignment): a bare name in Select, Set element= and name.prop= is of that class
    last: list[str | None] = [None]
    macros = Macros()

    def check() -> None:
        bad = {n: b for n, b in banks.items() if b is not None and b.crashes()}
        if not bad:
            return
        raise InputError([
            Problem(ProblemKind.UNSUPPORTED_ELEMENT, "shunts",
                    f"Capacitor.{name}: a delta bank given by Cmatrix is not supported by the "
                    f"OpenDSS engine ({bank.where}): DSS C-API writes its Cmatrix as a wye "
                    "bank's, outside the delta bank's admittance matrix, and the process "
                    "crashes when OpenDSS builds it", (name,), "cmatrix",
                    "give kvar or Cuf (per branch, uF) with conn=delta, or one 1-phase delta "
                    "Capacitor per pair of phases (bus1=x.1.2 phases=1 conn=delta cmatrix=[C])")
            for name, bank in bad.items()])

    def run(script: Path, seen: tuple[Path, ...]) -> None:
        if script in seen or not script.is_file():
            return  # OpenDSS reports a missing file itself
        lines = script.read_text(errors="replace").splitlines()
        for number, raw in numbered_commands(lines):
            where = f"{script.name} line {number}"
            command = macros.expand(raw)  # var @c=Capacitor.c, then New @c ...
            params = _params(command)
            if not params:
                continue
            head, first = params[0]
            if head is not None:  # Capacitor.c.conn=delta: a property of an object
                owner, _, prop = head.rpartition(".")
                bank_name = _target(owner, last[0])
                last[0] = _class_of(owner) or last[0]
                if bank_name is not None:
                    _edit(bank_name, [(prop, first), *params[1:]], where)
                continue
            word = command_word(first)
            args = params[1:]
            target = script_target(command)
            if target is not None:
                run((script.parent / target).resolve(), (*seen, script))
            elif word in ("clear", "clearall"):
                banks.clear()
                active[0] = None
            elif word in ("new", "edit", "select"):
                obj, props = _object(args)
                if obj is None:
                    continue
                if obj.lower().startswith("circuit."):
                    banks.clear()
                if _class_of(obj) is None and word != "select":
                    continue  # New c, Edit c: OpenDSS stops (error 263, 267)
                name = _target(obj, last[0])
                last[0] = _class_of(obj) or last[0]
                active[0] = name
                if name is None or word == "select":
                    continue
                if word == "new":
                    banks[name] = _Bank() if name not in banks else None
                _edit(name, props, where)
            elif word == "set":
                for option, value in args:
                    opt = set_option(option) if option is not None else None
                    if opt == "class":
                        last[0] = value.lower()
                    elif opt in ("element", "object"):
                        active[0] = _target(value, last[0])
                        last[0] = _class_of(value) or last[0]
            elif word == "batchedit":
                edited, props = _batch_targets(re.sub(r"^\s*\S+", "", command), list(banks))
                if edited is None:
                    banks.update(dict.fromkeys(banks))
                for name in edited or []:
                    _edit(name, props, where)
            elif word in ("~", "more", "m"):
                if active[0] is not None:
                    _edit(active[0], args, where)
            elif word in Y_COMMANDS:
                check()

    def _edit(name: str, params: Params, where: str) -> None:
        bank = banks.get(name)
        if bank is None:
            return
        before = bank.crashes()
        _apply(bank, params, banks)
        if bank.crashes() and not before:
            bank.where = where

    run(Path(path).resolve(), ())
    check()

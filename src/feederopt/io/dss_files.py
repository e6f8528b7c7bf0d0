"""The files an OpenDSS script reads, from its text: what ``Redirect``/``Compile`` run (and
what those read in turn), the data files of ``file=`` properties (a LoadShape's
``mult=(file=...)``) and ``BusCoords``/``LatLongCoords`` files, each relative to the folder of
the script that names it (OpenDSS runs a redirected script in its own folder). Used by
:mod:`feederopt.io.writing` so that no output overwrites a file the feeder reads. A text scan,
not OpenDSS; a ``var`` macro (``var @f=loads.dss`` then ``Redirect @f``) is followed as OpenDSS
expands it (:class:`Macros`).

Also the script's **output commands** (:data:`OUTPUT_COMMANDS`: ``Show``, ``Export``,
``Plot``, ``Save``, ...), which write report files and open the editor when OpenDSS runs them;
the reader (:func:`feederopt.io.opendss.compile_circuit`) skips them
(:func:`has_output_commands`, :func:`command_word`, :func:`script_target`), and its
commands line by line (:func:`numbered_commands`); and the length ``units`` it gives each
Line and LineCode (:func:`length_units_written`), so that the reader can name a word that
OpenDSS does not know and reads as none (``units=furlong``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

_WORD = r"""("[^"]+"|'[^']+'|\[[^\]]+\]|\([^)]+\)|[^\s,)(]+)"""
_SCRIPT = re.compile(rf"^\s*(?:redirect|compile)\s+{_WORD}", re.I)
_COORDS = re.compile(rf"^\s*(?:buscoords|latlongcoords)\s+{_WORD}", re.I)
_FILE = re.compile(rf"\b(?:file|dblfile|sngfile)\s*=\s*{_WORD}", re.I)


_VALUE = r"""("[^"]*"|'[^']*'|\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|[^\s,"'\[\](){}=]+)"""
_ARG = re.compile(rf"""\s*(?:([^\s=,"'\[\](){{}}]+)\s*=\s*)?{_VALUE}\s*,?""")

#: A command's parameters as OpenDSS's parser reads them: ``(name, value)``, name None for a
#: positional value, quotes removed.
Params = list[tuple[str | None, str]]


def split_params(text: str) -> Params:
    """Split ``text`` as OpenDSS's parser does (``ParserDel``): words separated by any
    whitespace, a comma or ``=`` (``name=value``), ``"..."``, ``'...'``, ``(...)``,
    ``[...]``, ``{...}`` each one word."""
    return [(m.group(1), m.group(2).strip("\"'[](){}").strip())
            for m in _ARG.finditer(text)]


#: A macro's use: a word that starts with ``@`` (up to a ``.`` or ``^``, which OpenDSS keeps
#: after the value), at the start of a word or of a quoted value, not a property's name
#: (``@p=delta``: OpenDSS expands values only).
_MACRO = re.compile(
    r"""(^|[\s,=("'\[{])(@[^\s,=()\[\]{}"'.^|]+)(?![^\s,=()\[\]{}"'.^|])(?!\s*=)""")


class Macros:
    """OpenDSS's ``var`` macros as a script defines them: ``var @a=value @b=value`` (names
    case-insensitive), then any value ``@a`` (or ``@a.rest``) of a later command, its command
    word and its object included, is ``value`` (``.rest``): OpenDSS's parser substitutes each
    word that starts with ``@`` (``ParserDel``, ``CheckForVar``; checked with OpenDSSDirect.py:
    ``var @x=Export`` then ``@x voltages f.csv`` writes ``f.csv``, ``New @c`` with ``@c`` a
    ``Capacitor.name`` builds the capacitor). An undefined macro is left as it is (OpenDSS
    stops on it, error 303). One instance follows a script and every script it runs, in
    order, as OpenDSS's one table of variables does."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def expand(self, command: str) -> str:
        """``command`` with its macros replaced by their values; a ``var`` command's own
        definitions are recorded (after their values are expanded)."""
        out = _MACRO.sub(lambda m: m.group(1) + self.values.get(m.group(2).lower(),
                                                                m.group(2)), command)
        if command_word(out) == "var":
            for name, value in split_params(out)[1:]:
                if name is not None and name.startswith("@"):
                    self.values[name.lower()] = value
        return out


def _clean(ref: str) -> str:
    return ref.strip().strip("\"'[]()").strip()


def script_files(path: str | Path, _seen: set[Path] | None = None,
                 _macros: Macros | None = None) -> list[Path]:
    """``path`` and every file it reads (module docstring), resolved; missing ones included
    (they would be read if they appeared)."""
    seen = _seen if _seen is not None else set()
    macros = _macros if _macros is not None else Macros()
    path = Path(path).resolve()
    if path in seen:
        return []
    seen.add(path)
    out = [path]
    if not path.is_file():
        return out
    for raw in path.read_text(errors="replace").splitlines():
        line = macros.expand(re.split(r"!|//", raw, maxsplit=1)[0])
        target = script_target(line)
        if target is not None:
            out += script_files(path.parent / target, seen, macros)
            continue
        m = _COORDS.match(line)
        if m:
            out.append((path.parent / _clean(m.group(1))).resolve())
        out += [(path.parent / _clean(f.group(1))).resolve() for f in _FILE.finditer(line)]
    return out


#: OpenDSS commands whose only effect is output (OpenDSS manual, "DSS commands"): report files
#: written into OpenDSS's ``DataPath`` (the folder the process started in, or the one a
#: ``Compile`` named) or into a file the command names (``Export Currents my.csv`` beside the
#: script), a circuit saved as scripts (``Save Circuit``, which writes ``Master.dss``), a plot,
#: the editor opened on the file (``Show``, ``FileEdit``: ``xdg-open`` on Linux), or a shell
#: command (``DOScmd``). None of them changes the circuit or its solution.
OUTPUT_COMMANDS = frozenset({
    "show", "export", "plot", "visualize", "save", "dump", "fileedit", "formedit", "di_plot",
    "comparecases", "yearlycurves", "closedi", "alignfile", "doscmd", "panel",
})


#: OpenDSS's executive commands in the order of its command list (``opendssdirect``'s
#: ``Executive.Command(i)``, OpenDSS 10 / DSS C-API 0.14). OpenDSS accepts any prefix of a
#: command for the command: it takes the first command of this list that the word starts
#: (``sho`` and ``sh`` run ``Show``, ``ex`` runs ``Export``, ``s`` runs ``Select``), so the
#: order decides what an abbreviation means (:func:`command_word`).
DSS_COMMANDS: tuple[str, ...] = (
    'New', 'Edit', 'More', 'M', '~', 'Select', 'Save', 'Show', 'Solve', 'Enable', 'Disable',
    'Plot', 'Reset', 'Compile', 'Set', 'Dump', 'Open', 'Close', '//', 'Redirect', 'Help', 'Quit',
    '?', 'Next', 'Panel', 'Sample', 'Clear', 'About', 'Calcvoltagebases', 'SetkVBase', 'BuildY',
    'Get', 'Init', 'Export', 'Fileedit', 'Voltages', 'Currents', 'Powers', 'Seqvoltages',
    'Seqcurrents', 'Seqpowers', 'Losses', 'Phaselosses', 'Cktlosses', 'Allocateloads', 'Formedit',
    'Totals', 'Capacity', 'Classes', 'Userclasses', 'Zsc', 'Zsc10', 'ZscRefresh', 'Ysc',
    'puvoltages', 'VarValues', 'Varnames', 'Buscoords', 'MakeBusList', 'MakePosSeq', 'Reduce',
    'Interpolate', 'AlignFile', 'TOP', 'Rotate', 'Vdiff', 'Summary', 'Distribute', 'DI_plot',
    'Comparecases', 'YearlyCurves', 'CD', 'Visualize', 'CloseDI', 'DOScmd', 'Estimate',
    'Reconductor', '_InitSnap', '_SolveNoControl', '_SampleControls', '_DoControlActions',
    '_ShowControlQueue', '_SolveDirect', '_SolvePFlow', 'AddBusMarker', 'Uuids',
    'SetLoadAndGenKV', 'CvrtLoadshapes', 'NodeDiff', 'Rephase', 'SetBusXY', 'UpdateStorage',
    'Obfuscate', 'LatLongCoords', 'BatchEdit', 'Pstcalc', 'Variable', 'ReprocessBuses',
    'ClearBusMarkers', 'RelCalc', 'var', 'Cleanup', 'FinishTimeStep', 'NodeList', 'Connect',
    'Disconnect', 'Remove', 'CalcIncMatrix', 'CalcIncMatrix_O', 'Refine_BusLevels',
    'CalcLaplacian', 'ExportOverloads', 'ExportVViolations', 'Zsc012', 'AllPCEatBus',
    'AllPDEatBus', 'TotalPowers', 'GISCoords', 'ClearAll', 'COMHelp', 'NewActor', 'Wait',
    'SolveAll', 'Abort', 'Clone',
)


def command_word(command: str) -> str:
    """The command of a script line, lower case and in full (``"show"`` for ``Show
    Voltages`` and for its abbreviation ``sho voltages``: OpenDSS runs the first command of
    :data:`DSS_COMMANDS` that the word starts, an exact name first); a line that sets a
    property of the active element (``~ x=1``) or a bare assignment (``Vsource.source.pu=1``)
    gives its first word, which is no command name."""
    word = re.split(r"[\s=]", command.strip(), maxsplit=1)[0].lower()
    if not word or "." in word:
        return word
    names = [c.lower() for c in DSS_COMMANDS]
    if word in names:
        return word
    return next((c for c in names if c.startswith(word)), word)


def script_target(command: str) -> str | None:
    """The script a ``Redirect``/``Compile`` command (or its abbreviation, ``red``,
    ``comp``) runs, as written (quotes and brackets removed), or None for any other
    command."""
    m = _SCRIPT.match(command)
    if m:
        return _clean(m.group(1))
    if command_word(command) not in ("redirect", "compile"):
        return None
    m = re.match(rf"^\s*\S+\s+{_WORD}", command)
    return _clean(m.group(1)) if m else None


def has_output_commands(path: str | Path, _seen: set[Path] | None = None,
                        _macros: Macros | None = None) -> bool:
    """Does the script ``path``, or a script it redirects to or compiles, run one of the
    :data:`OUTPUT_COMMANDS` (its ``var`` macros expanded, :class:`Macros`)? False for a file
    that does not exist."""
    seen = _seen if _seen is not None else set()
    macros = _macros if _macros is not None else Macros()
    path = Path(path).resolve()
    if path in seen or not path.is_file():
        return False
    seen.add(path)
    for raw in path.read_text(errors="replace").splitlines():
        line = macros.expand(re.split(r"!|//", raw, maxsplit=1)[0].strip())
        if command_word(line) in OUTPUT_COMMANDS:
            return True
        target = script_target(line)
        if target is not None and has_output_commands(path.parent / target, seen, macros):
            return True
    return False


def numbered_commands(lines: list[str]) -> Iterator[tuple[int, str]]:
    """The commands of script lines with their line numbers (from 1): comments (``!``,
    ``//``, ``/* */``) and blanks dropped."""
    in_block = False
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if in_block:
            if "*/" in text:
                in_block = False
            continue
        if text.startswith("/*"):
            in_block = "*/" not in text
            continue
        text = re.split(r"!|//", text, maxsplit=1)[0].strip()
        if text and text not in ("{", "}"):
            yield number, text


#: The classes whose ``units`` is a length unit that :func:`length_units_written` records.
_LENGTH_UNIT_CLASSES = ("line", "linecode")


def _units_property(name: str | None) -> bool:
    """Is ``name`` OpenDSS's ``units`` of a Line or LineCode, as OpenDSS reads a property's
    name (any prefix of it: the first property of the class that the word starts; no other
    property of either class starts with ``u``)?"""
    return name is not None and len(name) >= 1 and "units".startswith(name.lower())


def length_units_written(path: str | Path, _seen: set[Path] | None = None,
                         _macros: Macros | None = None,
                         _out: dict[str, str] | None = None) -> dict[str, str]:
    """The ``units`` value the script ``path`` (and each script it runs with ``Redirect`` or
    ``Compile``, in place) last gives each Line and LineCode, as written (quotes removed):
    ``{"line.l4": "furlong", "linecode.lck": "kft"}``, keys lower case. Read from ``New`` and
    ``Edit`` of ``Line.<name>``/``LineCode.<name>`` (the object positional or ``object=``),
    their continuation lines (``~``, ``More``, ``M``) and ``Line.<name>.units=...``
    assignments, ``var`` macros expanded (:class:`Macros`). A text scan, not OpenDSS: a
    ``units`` set by ``Like=``, ``BatchEdit`` or a bare name after ``Select`` is not seen.
    The reader compares it with the unit OpenDSS took (``Lines.Units()``: 0, none, for a
    word it does not know, such as ``furlong``) to warn of a unit OpenDSS ignored."""
    seen = _seen if _seen is not None else set()
    macros = _macros if _macros is not None else Macros()
    out = _out if _out is not None else {}
    path = Path(path).resolve()
    if path in seen or not path.is_file():
        return out
    seen.add(path)
    active: str | None = None  # the object a continuation line edits
    for _, raw in numbered_commands(path.read_text(errors="replace").splitlines()):
        command = macros.expand(raw)
        target = script_target(command)
        if target is not None:
            length_units_written(path.parent / target, seen, macros, out)
            continue
        word = command_word(command)
        params = split_params(command)
        if word in ("new", "edit"):
            rest = params[1:]
            obj = next((v for k, v in rest if k is not None and "object".startswith(
                k.lower())), None)
            if obj is None and rest and rest[0][0] is None:
                obj = rest[0][1]
            active = obj.lower() if obj else None
            props = rest
        elif word in ("~", "more", "m"):
            props = params[1:]
        elif "." in word:  # Line.l4.units=furlong
            head, _, prop = command.strip().partition("=")[0].strip().rpartition(".")
            if _units_property(prop.strip()) and len(params) >= 1:
                obj = head.lower()
                if obj.partition(".")[0] in _LENGTH_UNIT_CLASSES:
                    out[obj] = params[0][1]
            continue
        else:
            if word == "clear":
                out.clear()
            if word == "select":
                active = params[1][1].lower() if len(params) > 1 else None
            elif word != "set":
                active = None
            continue
        if active is None or active.partition(".")[0] not in _LENGTH_UNIT_CLASSES:
            continue
        for key, value in props:
            if _units_property(key):
                out[active] = value
            elif _switch_on(key, value) and active.startswith("line."):
                # OpenDSS's Switch=yes resets the line's length and units (to 0.001 and
                # none), so a unit written before it is not lost by mistake (user test
                # ut48_recheck #2: ``units=km switch=yes`` was "a unit OpenDSS does not know")
                out.pop(active, None)
    return out


def _switch_on(key: str | None, value: str) -> bool:
    """Whether ``key=value`` is a Line's ``Switch=yes`` (``sw``, ``swi``, ... abbreviate it;
    yes/true/y/t switch it on, as OpenDSS reads a boolean)."""
    return (key is not None and len(key) >= 2 and "switch".startswith(key.lower())
            and value.strip().lower()[:1] in ("y", "t"))

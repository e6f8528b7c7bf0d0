"""Typed input problems and the exceptions that carry them.

Every problem names its kind, the component (table), the ids it concerns, the field, a message,
and a hint on how to fix it (after power-grid-model's validation errors and PyPSA's consistency
checks). The CLI prints them and exits with code 2.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class ProblemKind(StrEnum):
    """The classes of bad input that loading and validation recognise."""

    MISSING_COLUMN = "missing_column"
    INVALID_VALUE = "invalid_value"
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_BUS = "unknown_bus"
    NO_SOURCE = "no_source"
    ISLAND_WITHOUT_SOURCE = "island_without_source"
    BAD_IMPEDANCE = "bad_impedance"
    BAD_LOAD = "bad_load"
    INVERTED_LIMITS = "inverted_limits"
    SELF_LOOP = "self_loop"
    UNKNOWN_FILE_TYPE = "unknown_file_type"
    UNREADABLE_FILE = "unreadable_file"
    UNKNOWN_CASE = "unknown_case"
    OUTPUT_EXISTS = "output_exists"
    BAD_OUTPUT_PATH = "bad_output_path"
    BAD_SCENARIO = "bad_scenario"
    UNSUPPORTED_ELEMENT = "unsupported_element"
    UNKNOWN_COLUMN = "unknown_column"
    DUPLICATE_COLUMN = "duplicate_column"
    NOT_RADIAL = "not_radial"
    BAD_TIMESERIES = "bad_timeseries"


class Severity(StrEnum):
    """An error makes the input unusable; a warning is printed and the input is used."""

    ERROR = "error"
    WARNING = "warning"


def _invisible(char: str) -> bool:
    """A character that a message would not show, or show as a plain space: a control or
    format character (Unicode categories ``Cc``, ``Cf``: a zero-width space, a BOM, a soft
    hyphen), a line or paragraph separator, or a space other than ``' '`` (a no-break space)."""
    category = unicodedata.category(char)
    return category in ("Cc", "Cf", "Zl", "Zp") or (category == "Zs" and char != " ")


def shown_id(value: object) -> str:
    """An id as a message shows it: as written, or quoted (``repr``) when a space or another
    blank at its start or end, an invisible character anywhere (:func:`_invisible`: ``A`` and a
    zero-width space is shown ``'A\\u200b'``, not as ``A``), or an empty id, would not be seen
    (``'B3 '``, not ``B3 ``; user tests ut_io #6, ut37_errs2 #3a)."""
    text = str(value)
    if not text or text != text.strip() or any(_invisible(c) for c in text):
        return repr(text)
    return text


#: How many items a message lists before "and N more" (:func:`shown_list`).
MAX_LISTED = 10


def shown_list(items: Sequence[object], most: int = MAX_LISTED, sep: str = ", ") -> str:
    """``a, b, c and 7 more``: the first ``most`` of ``items`` and how many more, so that a
    note or a message that lists ids stays readable however many there are (a plan of 400
    scenarios named all 400 in its "not solved to optimality" note). The one rule of every
    note that lists scenario names, ids or their parts."""
    shown = sep.join(str(x) for x in items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def visible_id(value: object) -> str:
    """``value`` as a reader sees it: without blanks at its ends and without invisible
    characters (:func:`_invisible`); the id a reference with such a character was meant to
    be."""
    return "".join(c for c in str(value) if not _invisible(c)).strip()


#: From here up to 100, a value given where a share within 0..1 is wanted plausibly is a
#: percentage (50, 95, a deviation of 20); below it it is not: an ``eta_ch`` of 1.2 is no
#: efficiency of 1.2 %, nor a ``soc0`` of 1.2 an almost empty battery (user test ut41_sched).
PERCENT_LOOKING_SHARE = 5.0


def share_hint(value: float, what: str, *, reading: str | None = None,
               otherwise: str | None = None, percent: bool = False) -> str:
    """The hint for ``value`` given where a share within 0..1 is wanted (a probability, an
    efficiency, a state of charge, a deviation); ``what`` says what the field is (``eta_ch is
    the charging efficiency``). The one rule of every such hint:

    * a value in [:data:`PERCENT_LOOKING_SHARE`, 100], or one written with a ``%`` sign
      (``percent``), looks like a percentage, and the hint says so with the share meant
      (``50 looks like a percentage: ..., write 0.5 for 50 %``);
    * ``reading`` is the field's other reading of the value as given, shown whatever the value
      looks like (a ``soc0`` at or below the unit's energy read as MWh: ``1.2 MWh of 2 MWh is
      soc0 0.6``);
    * ``otherwise`` is what is said of a value that looks like no percentage (an efficiency
      above 1: ``an efficiency cannot exceed 1``); without it such a value gets the range and
      an example.

    A value just above 1 (1.2) is never offered as a percentage: following that hint gave a
    nearly empty battery or a 1.2 % efficient one (user test ut41_sched)."""
    if percent or PERCENT_LOOKING_SHARE <= value <= 100:
        return (f"{value:g} looks like a percentage: {what}, within 0..1; write "
                f"{value / 100:g} for {value:g} %" + (f", or: {reading}" if reading else ""))
    if reading:
        return f"{what}, within 0..1: {reading}"
    return f"{what}, within 0..1: " + (otherwise or "e.g. 0.5 for 50 %")


#: Below this, a percentage looks like a factor (1.2 for 120 %): no real limit is a few % of
#: a rating.
FACTOR_LOOKING_PERCENT = 10.0


def percent_hint(value: float, what: str) -> str | None:
    """The hint for ``value`` given where a percentage is wanted, the other way round from
    :func:`share_hint`: a positive value below :data:`FACTOR_LOOKING_PERCENT` looks like a
    factor, and the hint says so with the percentage meant (``1.2 looks like a factor: it is a
    percentage of each rating, so 1.2 holds every rating to 1.2 % of itself; write 120 for
    120 %``); None for any other value. ``what`` says what the field is (``it is a percentage
    of each rating``)."""
    if not 0 < value < FACTOR_LOOKING_PERCENT:
        return None
    return (f"{value:g} looks like a factor: {what}, so {value:g} holds every rating to "
            f"{value:g} % of itself; write {value * 100:g} for {value * 100:g} %")


@dataclass(frozen=True)
class OptionRef:
    """An option named in a problem's message or hint, neutral of how the caller spells it:
    ``name`` is the option's keyword in the Python API (``v_min``, ``hold_closed``,
    ``switch_cost_kw``), ``value`` the value shown with it as the command line writes it
    (``0.9``, ``line:11,trafo:0``; None: the option alone) and ``py_value`` as Python does
    (``0.9``, ``('line:11', 'trafo:0')``, ``False``). A :data:`Spelling` renders it."""

    name: str
    value: str | None = None
    py_value: str | None = None
    #: the command line's whole spelling of this reference when the command at hand spells
    #: the keyword otherwise than its one flag (:func:`option_ref`'s ``cli``); None: by the
    #: flag of the keyword
    cli: str | None = None


#: How a caller's layer writes an option: the Python API's ``v_min=0.9``
#: (:func:`python_spelling`, the default of every problem) or the command line's
#: ``--v-min 0.9`` (:func:`feederopt.cli.app.flag_spelling`, the one map of keyword -> flag).
Spelling = Callable[[OptionRef], str]

_REF_START, _REF_SEP, _REF_END, _REF_CLI = "\ue000", "\ue001", "\ue002", "\ue003"
_FIELD = f"[^{_REF_SEP}{_REF_END}{_REF_CLI}]*"
_REF = re.compile(f"{_REF_START}({_FIELD}){_REF_SEP}({_FIELD})(?:{_REF_SEP}({_FIELD}))?"
                  f"(?:{_REF_CLI}([^{_REF_END}]*))?{_REF_END}")
_NO_VALUE = object()


def option_ref(name: str, value: Any = _NO_VALUE, *, cli: str | None = None) -> str:
    """``name`` (an option's Python keyword), with ``value`` if given, as a reference in a
    problem's ``message`` or ``hint``: each caller's layer spells it its own way when the
    problem is shown (:meth:`Problem.spelled`): ``option_ref("v_min", 0.9)`` reads
    ``v_min=0.9`` from Python, ``--v-min 0.9`` on the command line (user test ut39_api: a
    script that called ``solve_options(v_min=95)`` was told to use ``--v-min 0.9``). A value
    that is a string is shown as it is in both (``"X"``, ``"FILE"``: placeholders); a list or
    tuple is comma-separated on the command line, a Python tuple in Python.

    ``cli``, when given, is the command line's whole spelling of the reference, for a keyword
    that the command at hand spells otherwise than by the keyword's one flag
    (:data:`feederopt.cli.app.OPTION_FLAGS`): the schedule's ``budget`` and ``budget_res``
    are both ``--robust-budget GAMMA[,GAMMA_RES]``, while ``budget`` is ``solve``'s
    ``--budget``: ``option_ref("budget_res", 0, cli="--robust-budget GAMMA")`` reads
    ``budget_res=0`` from Python, ``--robust-budget GAMMA`` on the command line. Before
    (recheck_c E), such a hint wrote both (``--robust-budget GAMMA[,GAMMA_RES]; budget=,
    budget_res=``) for every caller."""
    tail = "" if cli is None else f"{_REF_CLI}{cli}"
    if value is _NO_VALUE:
        return f"{_REF_START}{name}{_REF_SEP}{tail}{_REF_END}"
    if isinstance(value, bool):
        flag_value = py = str(value)
    elif isinstance(value, float):
        flag_value = py = f"{value:g}"
    elif isinstance(value, list | tuple):
        flag_value, py = ",".join(str(v) for v in value), repr(tuple(str(v) for v in value))
    else:
        flag_value = py = str(value)
    return f"{_REF_START}{name}{_REF_SEP}{flag_value}{_REF_SEP}{py}{tail}{_REF_END}"


def python_spelling(ref: OptionRef) -> str:
    """An option as the Python API takes it: ``v_min=0.9``, or ``v_min`` without a value."""
    return ref.name if ref.py_value is None else f"{ref.name}={ref.py_value}"


def spelled(text: str, spelling: Spelling = python_spelling) -> str:
    """``text`` with every :func:`option_ref` in it written by ``spelling``."""
    if _REF_START not in text:
        return text
    return _REF.sub(lambda m: spelling(OptionRef(m[1], m[2] if m[3] is not None else None,
                                                 m[3], m[4])), text)


#: How the layer that called feederopt writes options in the notes and warnings a result
#: carries as text (:func:`note_text`): Python's keywords unless a caller's layer says
#: otherwise (:func:`caller_spelling`; the command line's flags).
_CALLER_SPELLING: ContextVar[Spelling] = ContextVar("feederopt_caller_spelling",
                                                    default=python_spelling)


@contextlib.contextmanager
def caller_spelling(spelling: Spelling) -> Iterator[None]:
    """Within it, :func:`note_text` writes options by ``spelling``: every command of the
    command line runs in ``caller_spelling(flag_spelling)``
    (:func:`feederopt.cli.app.cli_command`), so a result's notes name ``--broken`` there and
    ``broken`` from Python."""
    token = _CALLER_SPELLING.set(spelling)
    try:
        yield
    finally:
        _CALLER_SPELLING.reset(token)


def python_caller() -> bool:
    """Whether the layer that called feederopt spells options as Python's keywords (not the
    command line, :func:`caller_spelling`)."""
    return _CALLER_SPELLING.get() is python_spelling


def note_text(text: str) -> str:
    """``text`` (a note or warning a result keeps as text, which may name options by
    :func:`option_ref`) with its options written as the calling layer writes them
    (:func:`caller_spelling`; Python's keywords by default). A :class:`Problem` keeps its
    references and is spelled when shown; a note is text once made, so it is spelled here.
    Before (smalls41), the warning of a repeated id named the flag from Python too
    (``--broken names a line more than once``)."""
    return spelled(text, _CALLER_SPELLING.get())


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``message`` and ``hint`` may name options by :func:`option_ref`; they read as the Python
    API spells them (``v_min=0.9``), and :meth:`spelled` gives the problem as another layer
    spells them (the command line's ``--v-min 0.9``)."""

    kind: ProblemKind
    component: str
    message: str
    ids: tuple[str, ...] = ()
    field: str | None = None
    hint: str = ""
    severity: Severity = Severity.ERROR
    #: ``message`` and ``hint`` with their option references (:func:`option_ref`), unspelled.
    _template: tuple[str, str] = dataclasses.field(default=("", ""), init=False,
                                                   repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_template", (self.message, self.hint))
        object.__setattr__(self, "message", spelled(self.message))
        object.__setattr__(self, "hint", spelled(self.hint))

    def spelled(self, spelling: Spelling) -> Problem:
        """This problem with the options it names written by ``spelling`` (the command line's
        flags: :func:`feederopt.cli.app.flag_spelling`)."""
        message, hint = self._template
        out = replace(self, message=spelled(message, spelling), hint=spelled(hint, spelling))
        object.__setattr__(out, "_template", self._template)
        return out

    @property
    def unspelled(self) -> tuple[str, str]:
        """``message`` and ``hint`` with their option references (:func:`option_ref`) not
        yet spelled: for a caller that keeps them as text to build the problem again."""
        return self._template

    def with_hint(self, hint: str) -> Problem:
        """This problem with another ``hint`` (which may name options by
        :func:`option_ref`); the options its message names keep each layer's spelling."""
        out = replace(self, hint=hint)
        object.__setattr__(out, "_template", (self._template[0], hint))
        return out

    def renamed(self, names: Mapping[str, str]) -> Problem:
        """This problem with the options of ``names`` (keyword -> keyword) named otherwise:
        its ``field`` and every option reference (:func:`option_ref`) in its message and hint.
        For :func:`feederopt.options.option_names`, which names an option as the caller gave
        it (``v_min_pu=`` to :func:`feederopt.partition`, whose checks name ``v_min``)."""
        if not names:
            return self

        def swap(text: str) -> str:
            return _REF.sub(lambda m: m[0].replace(f"{_REF_START}{m[1]}{_REF_SEP}",
                                                   f"{_REF_START}{names[m[1]]}{_REF_SEP}", 1)
                            if m[1] in names else m[0], text)

        message, hint = (swap(t) for t in self._template)
        field = names.get(self.field, self.field) if self.field is not None else None
        return Problem(self.kind, self.component, message, self.ids, field, hint,
                       self.severity)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        where = self.component
        if self.component == "output" and self.field and self.ids:
            # an output path of an option: "output --json 'p.json'", not "output [p.json].json"
            return self._text(f"output --{self.field} " + ", ".join(
                repr(x) for x in self.ids[:10]))
        shown = (", ".join(shown_id(x) for x in self.ids[:10])
                 + (" ..." if len(self.ids) > 10 else ""))
        if self.component == "options" and self.field:
            # an option's value: "options.samples: ... (given: -1)", not "options [-1].samples",
            # which reads as an element -1 (user test ut_fresh)
            given = (f" (given: {shown})" if self.ids and shown not in self.message else "")
            return self._text(f"options.{self.field}", given)
        if self.ids:
            where += f" [{shown}]"
        if self.field:
            where += f".{self.field}"
        return self._text(where)

    def _text(self, where: str, given: str = "") -> str:
        text = f"{self.kind.value}: {where}: {self.message}{given}"
        if not self.is_error:
            text = f"{self.severity.value}: {text}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["_template"]
        out["kind"] = self.kind.value
        out["severity"] = self.severity.value
        out["ids"] = list(self.ids)
        return out


def plural(n: int, noun: str) -> str:
    """``1 problem``, ``2 problems``: ``n`` and ``noun``, with an ``s`` unless ``n`` is 1."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


class FeederoptError(Exception):
    """Base class of every error that feederopt raises on purpose."""

    exit_code = 1


#: The kinds of problem that concern an output path (``--json`` onto an existing file, onto
#: the input, a link to it, a file inside the input folder): headed "in the output", not "in
#: the input" (user test ut50_iobad #6).
OUTPUT_KINDS = frozenset({ProblemKind.OUTPUT_EXISTS, ProblemKind.BAD_OUTPUT_PATH})


@dataclass
class InputError(FeederoptError):
    """Bad input: one or more :class:`Problem` values. The CLI exits with code 2."""

    problems: Sequence[Problem] = field(default_factory=tuple)
    exit_code = 2

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def split(self) -> tuple[list[Problem], list[Problem]]:
        """The errors and, apart, the warnings among :attr:`problems` (a repeated id of
        ``--broken``, say, raised with an unknown one): the count says how many errors there
        are, and the warnings follow it, labelled (before, ``restore --broken 2,2,999`` said
        "2 problems" for one error and one warning). Problems that are all warnings are
        counted as the problems."""
        errors = [p for p in self.problems if p.is_error]
        if not errors:
            return list(self.problems), []
        return errors, [p for p in self.problems if not p.is_error]

    def headings(self) -> tuple[str, str | None]:
        """The heading of the errors (``1 problem in the input``) and of the warnings after
        them (``and 1 warning``; None without warnings), as :meth:`split` parts them: the
        command line prints the same words."""
        errors, warnings = self.split()
        output = [p.kind in OUTPUT_KINDS for p in errors]
        where = ("the output" if all(output) else "the input and the output" if any(output)
                 else "the input")
        return (f"{plural(len(errors), 'problem')} in {where}",
                f"and {plural(len(warnings), 'warning')}" if warnings else None)

    def __str__(self) -> str:
        errors, warnings = self.split()
        head, warning_head = self.headings()
        text = head + ":\n" + "\n".join(f"  - {p}" for p in errors)
        if warning_head is not None:
            text += f"\n{warning_head}:\n" + "\n".join(f"  - {p}" for p in warnings)
        return text


class OptionNameError(InputError, TypeError):
    """A keyword of the Python API that names no option (``time_limt=``, with the option it is
    close to as hint) or that names one option twice (``time_limit=`` and its alias
    ``time_limit_s=`` at once): typed problems as for any bad option, and a :class:`TypeError`
    too, as Python's own error for a wrong keyword is (:func:`feederopt.options.option_names`).
    """


@dataclass
class OutputNotWrittenError(FeederoptError):
    """A run finished, but its output could not be written: the folder was made read-only
    while it ran, another run created the file meanwhile, the disk is full. ``problems`` say
    what and where (``bad_output_path``, ``output_exists``); ``result`` is the run's answer,
    which is not lost. Not bad input: the command line prints the answer all the same, then
    says that its output could not be written and exits with code 5 (user test ut34: the
    answer of a finished solve was lost behind "1 problem in the input", exit 2). The paths
    are still checked before any solving, as bad input (exit 2)."""

    problems: Sequence[Problem] = field(default_factory=tuple)
    result: Any = None
    exit_code = 5

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "the run finished but its output could not be written:\n" + "\n".join(
            f"  - {p}" for p in self.problems)


class InfeasibleError(FeederoptError):
    """The problem has no solution, as the solver proved (not a time limit): the CLI exits
    with code 3, as for an infeasible ``solve``; the message says what binds."""

    exit_code = 3


class SolverError(FeederoptError):
    """A solver failed in a way that is not a property of the input."""

    exit_code = 1


class ForkedProcessError(FeederoptError, RuntimeError):
    """feederopt was called in a process forked from one whose Polars thread pool was running
    (:mod:`feederopt.forking`): Polars would wait forever for threads that the fork
    did not copy, so the call is refused at once; the message says to use the ``spawn`` start
    method."""

    exit_code = 1


class FeederoptWarning(UserWarning):
    """Something the user should know about an answer that is still given (a result written
    into a pandapower net that lacks the edits it was solved with, say): a Python warning, so
    that a script sees it without reading ``result.extra["notes"]``, and can filter it by
    this class."""


def warn_user(message: str) -> None:
    """``message`` as a :class:`FeederoptWarning`, attributed to the first frame outside the
    package (the user's line that called ``feederopt.load`` or ``solve``), so that Python's
    default filter shows it once per such line, whatever the depth of the calls inside. The
    frames of :mod:`contextlib` are passed over as the package's: a context manager used as a
    decorator (``solve``'s ``@handle_signals()``) runs the function from contextlib's
    ``inner``, and the warnings of ``solve`` were attributed to ``contextlib.py:81`` (user
    test ut36_api #4)."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    machinery = os.path.abspath(contextlib.__file__)
    level, frame = 1, sys._getframe(0)
    while frame is not None and (
            os.path.abspath(frame.f_code.co_filename).startswith(package)
            or os.path.abspath(frame.f_code.co_filename) == machinery):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    warnings.warn(FeederoptWarning(message), stacklevel=level)

"""OpenDSS scripts that would crash the OpenDSS engine itself, found from their text before
OpenDSS runs them (:func:`crashing_capacitors`, called by
:func:`feederopt.io.opendss.compile_circuit`).

**A delta ``Capacitor`` of two or more phases given by ``Cmatrix``.** DSS C-API 0.14.5 (the
engine of opendssdirect 0.9) writes a ``Cmatrix`` bank into its primitive admittance as a
2-terminal wye (``Capacitor.pas``, ``MakeYprimWork``, ``SpecType`` 3: elements ``(i, j)``,
``(i + n, j + n)`` and ``(i, j + n)`` for ``n`` phases), while ``conn=delta`` has made the
bank a 1-terminal element whose matrix is of order ``n`` (``n + 1`` for one phase). For
``n >= 2`` the writes fall outside the matrix, and the first ``CalcVoltageBases`` or ``Solve``
corrupts the heap: the process dies (``double free or corruption``, SIGABRT, exit 134), with
no Python exception to catch, even when the bank is disabled (``enabled=no``). A 1-phase
delta bank (order 2) is written within its matrix and is read correctly; so is any bank
whose ``kvar`` or ``Cuf`` was given after its ``Cmatrix`` (the last of the three decides).

The scan follows the script as OpenDSS runs it: ``Redirect``/``Compile`` targets in place
(relative to the folder of the script naming them), ``New``/``Edit Capacitor.<name>``, their
continuation lines (``~``, ``More``) and ``Select``, ``Capacitor.<name>.<property>=`` lines,
OpenDSS's abbreviated property names (``co=d``: the first property the word starts) and
positional values (``New Capacitor.c b1 b1.0.0.0 3 600 12.47 delta [...]``), ``conn`` as
OpenDSS reads it (``delta``, ``d...``, ``ll``). The state of each bank is checked where OpenDSS
builds its admittance (``Solve``, ``CalcVoltageBases``, ``BuildY``, ...) and at the end of
the script (the reader solves the circuit). It is conservative: it refuses only what crashes
for certain; a bank made ``Like=`` another, redefined by a second ``New``, or named without
its class (``Edit c``) is not judged (``Like`` copies ``conn`` without the terminal count:
such a bank does not crash)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io.dss_files import command_word, numbered_commands, script_target

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

_VALUE = r"""("[^"]*"|'[^']*'|\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|[^\s,"'\[\](){}=]+)"""
_ARG = re.compile(rf"""\s*(?:([^\s=,"'\[\](){{}}]+)\s*=\s*)?{_VALUE}\s*,?""")


@dataclass
class _Bank:
    """What decides the crash: phases (3 by default), delta or not, and which of ``kvar``
    (``SpecType`` 1, the default), ``cuf`` (2) or ``cmatrix`` (3) was given last."""

    phases: int | None = 3
    delta: bool = False
    spec: str = "kvar"
    where: str = ""

    def crashes(self) -> bool:
        return self.delta and self.spec == "cmatrix" and (self.phases or 0) >= 2


def _property(word: str) -> str | None:
    word = word.lower()
    if word in CAPACITOR_PROPERTIES:
        return word
    return next((p for p in CAPACITOR_PROPERTIES if p.startswith(word)), None)


def _apply(bank: _Bank, args: str) -> bool:
    """Set ``bank``'s properties from a command's arguments; False when the bank can no longer
    be judged (``Like=``)."""
    index = -1
    for m in _ARG.finditer(args):
        name, value = m.group(1), m.group(2).strip("\"'[](){}").strip()
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
            return False
        if prop == "phases":
            bank.phases = int(value) if value.isdigit() else None
        elif prop == "conn":
            v = value.lower()
            bank.delta = v.startswith("d") or v.startswith("ll")
        elif prop in ("kvar", "cuf", "cmatrix"):
            bank.spec = prop
    return True


def _target(word: str) -> str | None:
    """The capacitor's name of ``Capacitor.<name>`` (any case), else None."""
    cls, _, name = word.partition(".")
    return name.lower() if cls.lower() == "capacitor" and name else None


def crashing_capacitors(path: str | Path) -> None:
    """Raise :class:`InputError` (``unsupported_element`` on ``cmatrix``, one problem per
    bank, with its file and line) when the script ``path`` defines a delta ``Capacitor`` of
    two or more phases by ``Cmatrix`` at a point where OpenDSS builds its admittance, which
    kills the process (module docstring)."""
    banks: dict[str, _Bank | None] = {}
    active: list[str | None] = [None]

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
        for number, command in numbered_commands(lines):
            where = f"{script.name} line {number}"
            word = command_word(command)
            first, _, args = command.partition(" ")
            target = script_target(command)
            if target is not None:
                run((script.parent / target).resolve(), (*seen, script))
            elif word in ("clear", "clearall"):
                banks.clear()
                active[0] = None
            elif word in ("new", "edit", "select"):
                m = re.match(r"\s*(?:object\s*=\s*)?(\S+)\s*(.*)$", args, re.S)
                if m is None:
                    continue
                if m.group(1).lower().startswith("circuit."):
                    banks.clear()
                name = _target(m.group(1))
                active[0] = name
                if name is None or word == "select":
                    continue
                if word == "new":
                    banks[name] = _Bank() if name not in banks else None
                _edit(name, m.group(2), where)
            elif word in ("~", "more", "m"):
                if active[0] is not None:
                    _edit(active[0], args, where)
            elif "." in word and "=" in command:
                obj, _, prop = first.split("=", 1)[0].rpartition(".")
                name = _target(obj)
                if name is not None:
                    _edit(name, f"{prop}={command.split('=', 1)[1]}", where)
            elif word in Y_COMMANDS:
                check()

    def _edit(name: str, args: str, where: str) -> None:
        bank = banks.get(name)
        if bank is None:
            return
        before = bank.crashes()
        if not _apply(bank, args):
            banks[name] = None
        elif bank.crashes() and not before:
            bank.where = where

    run(Path(path).resolve(), ())
    check()

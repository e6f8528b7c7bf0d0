"""A tiny interpreter for the code that MATPOWER case files run after their data blocks.

MATPOWER's distribution cases (case33bw, case69, case118zh, ...) store r and x in Ohm and Pd, Qd
in kW, and end with code that converts them (MATPOWER 8.1, ``data/case33bw.m``, lines 114-125)::

    Vbase = mpc.bus(1, BASE_KV) * 1e3;      %% in Volts
    Sbase = mpc.baseMVA * 1e6;              %% in VA
    mpc.branch(:, [BR_R BR_X]) = mpc.branch(:, [BR_R BR_X]) / (Vbase^2 / Sbase);
    mpc.bus(:, [PD, QD]) = mpc.bus(:, [PD, QD]) / 1e3;

A text parser of the data blocks (matpowercaseframes does not run this code) would get loads
1000 times too large. This module runs exactly such statements, and nothing else:

* ``[..] = idx_bus;``, ``define_constants;`` and the like bind MATPOWER's column constants,
  which are always available here;
* ``name = expr;`` binds a scalar (a statement it cannot evaluate binds "unknown");
* ``mpc.FIELD(rows, cols) = expr;`` and ``mpc.FIELD = expr;`` change the data;
* ``if expr ... else ... end`` with a scalar condition.

An expression has numbers, names, ``+ - * / ^`` (and their element-wise forms), parentheses,
``[a b]`` lists, ``mpc.FIELD(rows, cols)`` reads (``:`` for all rows) and a few functions
(sin, cos, acos, sqrt, ...). Any statement that would change ``mpc`` and that this grammar does
not cover raises :class:`MCodeError`, so that a conversion is never skipped silently.

The column constants are those of MATPOWER's ``idx_bus``, ``idx_brch``, ``idx_gen`` and
``idx_cost`` (MATPOWER User's Manual 8.1, Appendix B, tables B-1 to B-4).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# MATPOWER column indices, 1-based (User's Manual, tables B-1 to B-4).
_IDX_BUS = [
    "BUS_I",
    "BUS_TYPE",
    "PD",
    "QD",
    "GS",
    "BS",
    "BUS_AREA",
    "VM",
    "VA",
    "BASE_KV",
    "ZONE",
    "VMAX",
    "VMIN",
    "LAM_P",
    "LAM_Q",
    "MU_VMAX",
    "MU_VMIN",
]
_IDX_BRCH = [
    "F_BUS",
    "T_BUS",
    "BR_R",
    "BR_X",
    "BR_B",
    "RATE_A",
    "RATE_B",
    "RATE_C",
    "TAP",
    "SHIFT",
    "BR_STATUS",
    "ANGMIN",
    "ANGMAX",
    "PF",
    "QF",
    "PT",
    "QT",
    "MU_SF",
    "MU_ST",
    "MU_ANGMIN",
    "MU_ANGMAX",
]
_IDX_GEN = [
    "GEN_BUS",
    "PG",
    "QG",
    "QMAX",
    "QMIN",
    "VG",
    "MBASE",
    "GEN_STATUS",
    "PMAX",
    "PMIN",
    "PC1",
    "PC2",
    "QC1MIN",
    "QC1MAX",
    "QC2MIN",
    "QC2MAX",
    "RAMP_AGC",
    "RAMP_10",
    "RAMP_30",
    "RAMP_Q",
    "APF",
    "MU_PMAX",
    "MU_PMIN",
    "MU_QMAX",
    "MU_QMIN",
]
_IDX_COST = ["MODEL", "STARTUP", "SHUTDOWN", "NCOST", "COST"]

CONSTANTS: dict[str, float] = {
    "PQ": 1,
    "PV": 2,
    "REF": 3,
    "NONE": 4,
    "PW_LINEAR": 1,
    "POLYNOMIAL": 2,
    "pi": math.pi,
    "Inf": math.inf,
    "inf": math.inf,
    "NaN": math.nan,
    "true": 1,
    "false": 0,
}
for _names in (_IDX_COST, _IDX_GEN, _IDX_BRCH, _IDX_BUS):
    for _i, _n in enumerate(_names, start=1):
        CONSTANTS.setdefault(_n, _i)

_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "exp": np.exp,
    "log": np.log,
    "log10": np.log10,
    "round": np.round,
    "floor": np.floor,
    "ceil": np.ceil,
}


class MCodeError(Exception):
    """A statement that would change the case and that the interpreter cannot run."""


class _Unknown:
    """The value of a variable whose defining statement could not be evaluated."""

    def __init__(self, source: str) -> None:
        self.source = source


@dataclass
class MCase:
    """The data the code works on: matrices by field name and scalar fields."""

    matrices: dict[str, np.ndarray]
    scalars: dict[str, float]
    applied: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# Source handling: comments, continuations, data blocks, statements.
# ----------------------------------------------------------------------------------------------


def strip_comments(text: str) -> str:
    """The text without its ``%`` comments (a ``%`` inside a string stays), line by line."""
    out = []
    for line in text.splitlines():
        in_str = False
        cut = len(line)
        for i, ch in enumerate(line):
            if ch == "'":
                # A quote after an operand is a transpose; elsewhere it opens or closes a string.
                prev = line[:i].rstrip()[-1:] if line[:i].strip() else ""
                if in_str or not (prev and (prev.isalnum() or prev in ")]}_.'")):
                    in_str = not in_str
            elif ch == "%" and not in_str:
                cut = i
                break
        out.append(line[:cut])
    return "\n".join(out)


_DATA_BLOCK = re.compile(
    r"mpc\.\w+\s*=\s*(\[.*?\]|\{.*?\}|'[^'\n]*'|[-+]?[\d.]+(?:[eE][-+]?\d+)?\s*(?=[;\n]))\s*;?",
    re.S,
)


def code_statements(text: str) -> list[tuple[int, str]]:
    """The statements of a case file other than its data blocks, with their line numbers."""
    text = strip_comments(text)
    text = re.sub(r"\.\.\.[^\n]*\n", " ", text)
    # Blank out the matrix and cell-array literals but keep the line count.
    text = _DATA_BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    out: list[tuple[int, str]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for stmt in _split_top(line, ";,"):
            stmt = stmt.strip()
            if stmt and not re.match(r"function\b", stmt):
                out.append((lineno, stmt))
    return out


def _split_top(text: str, seps: str) -> list[str]:
    """Split at separators that are not inside brackets or parentheses."""
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch in seps and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


# ----------------------------------------------------------------------------------------------
# Expressions.
# ----------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op>\.\^|\.\*|\./|==|~=|<=|>=|&&|\|\||[-+*/^()\[\],:.<>&|~]))"
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise MCodeError(f"cannot read '{text[pos:]}'")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    """Recursive-descent evaluation of one MATLAB expression (see the module docstring)."""

    def __init__(self, text: str, case: MCase, env: dict[str, Any]) -> None:
        self.text = text
        self.tokens = _tokenize(_commas(text))
        self.i = 0
        self.case = case
        self.env = env

    # -- token helpers
    def _peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise MCodeError(f"unexpected end of '{self.text}'")
        tok = self.tokens[self.i]
        if expected is not None and tok[1] != expected:
            raise MCodeError(f"expected '{expected}' in '{self.text}'")
        self.i += 1
        return tok

    def parse(self) -> Any:
        value = self._or()
        if self.i != len(self.tokens):
            raise MCodeError(f"cannot read '{self.text}'")
        return value

    # -- grammar, lowest precedence first
    def _or(self) -> Any:
        v = self._and()
        while self._peek() in ("|", "||"):
            self._take()
            v = np.logical_or(v, self._and())
        return v

    def _and(self) -> Any:
        v = self._cmp()
        while self._peek() in ("&", "&&"):
            self._take()
            v = np.logical_and(v, self._cmp())
        return v

    def _cmp(self) -> Any:
        v = self._sum()
        ops: dict[str, Callable[[Any, Any], Any]] = {
            "==": np.equal,
            "~=": np.not_equal,
            "<": np.less,
            "<=": np.less_equal,
            ">": np.greater,
            ">=": np.greater_equal,
        }
        while self._peek() in ops:
            op = self._take()[1]
            v = ops[op](v, self._sum())
        return v

    def _sum(self) -> Any:
        v = self._prod()
        while self._peek() in ("+", "-"):
            op = self._take()[1]
            rhs = self._prod()
            v = v + rhs if op == "+" else v - rhs
        return v

    def _prod(self) -> Any:
        v = self._unary()
        while self._peek() in ("*", "/", ".*", "./"):
            op = self._take()[1]
            rhs = self._unary()
            v = np.multiply(v, rhs) if op in ("*", ".*") else np.divide(v, rhs)
        return v

    def _unary(self) -> Any:
        if self._peek() in ("-", "+", "~"):
            op = self._take()[1]
            v = self._unary()
            if op == "-":
                return np.negative(v)
            if op == "~":
                return np.logical_not(v)
            return v
        return self._power()

    def _power(self) -> Any:
        v = self._primary()
        while self._peek() in ("^", ".^"):
            self._take()
            if self._peek() in ("-", "+"):
                sign = -1.0 if self._take()[1] == "-" else 1.0
                v = np.power(v, sign * self._primary())
            else:
                v = np.power(v, self._primary())
        return v

    def _primary(self) -> Any:
        kind, tok = self._take()
        if kind == "num":
            return float(tok)
        if tok == "(":
            v = self._or()
            self._take(")")
            return v
        if tok == "[":
            return self._list()
        if kind == "name":
            if tok == "mpc":
                return self._mpc_read()
            if self._peek() == "(":
                fn = _FUNCTIONS.get(tok)
                if fn is None:
                    raise MCodeError(f"unknown function '{tok}'")
                self._take("(")
                arg = self._or()
                self._take(")")
                return fn(arg)
            if tok in self.env:
                value = self.env[tok]
                if isinstance(value, _Unknown):
                    raise MCodeError(f"'{tok}' comes from '{value.source}', which cannot be run")
                return value
            if tok in CONSTANTS:
                return float(CONSTANTS[tok])
            raise MCodeError(f"unknown name '{tok}'")
        raise MCodeError(f"unexpected '{tok}' in '{self.text}'")

    def _list(self) -> np.ndarray:
        """``[a, b]`` (blank separators were turned into commas by :func:`_commas`)."""
        values: list[np.ndarray] = []
        if self._peek() == "]":
            self._take()
            return np.zeros(0)
        while True:
            values.append(np.atleast_1d(np.asarray(self._or(), dtype=float)).ravel())
            tok = self._take()[1]
            if tok == "]":
                break
            if tok != ",":
                raise MCodeError(f"unexpected '{tok}' in '{self.text}'")
        return np.concatenate(values)

    def _mpc_read(self) -> Any:
        self._take(".")
        _, name = self._take()
        if self._peek() != "(":
            if name in self.case.scalars:
                return float(self.case.scalars[name])
            if name in self.case.matrices:
                return self.case.matrices[name].copy()
            raise MCodeError(f"the case has no field '{name}'")
        mat = self._matrix(name)
        rows, cols = self._index_args(mat)
        out = mat[np.ix_(rows, cols)]
        return float(out[0, 0]) if out.size == 1 else out

    def _matrix(self, name: str) -> np.ndarray:
        if name not in self.case.matrices:
            raise MCodeError(f"the case has no matrix '{name}'")
        return self.case.matrices[name]

    def _index_args(self, mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._take("(")
        args: list[np.ndarray] = []
        while True:
            if (
                self._peek() == ":"
                and self.i + 1 < len(self.tokens)
                and self.tokens[self.i + 1][1] in (",", ")")
            ):
                self._take(":")
                args.append(np.arange(mat.shape[len(args)]) if len(args) < 2 else np.zeros(0))
            else:
                value = self._or()
                args.append(_to_index(value, mat.shape[len(args)] if len(args) < 2 else 0))
            tok = self._take()[1]
            if tok == ")":
                break
            if tok != ",":
                raise MCodeError(f"unexpected '{tok}' in '{self.text}'")
        if len(args) != 2:
            raise MCodeError(f"'{self.text}': only two-dimensional indexing is supported")
        return args[0], args[1]


def _commas(text: str) -> str:
    """Inside ``[...]``, turn blank separators into commas (``[PD QD]`` -> ``[PD,QD]``).

    As in MATLAB, ``[a -b]`` has two elements and ``[a - b]`` one.
    """
    out: list[str] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch.isspace() and depth > 0:
            j = i
            while j < n and text[j].isspace():
                j += 1
            prev = "".join(out).rstrip()[-1:]
            nxt = text[j] if j < n else ""
            after = text[j + 1] if j + 1 < n else ""
            ends_operand = bool(prev) and (prev.isalnum() or prev in "_)].")
            starts_operand = bool(nxt) and (nxt.isalnum() or nxt in "_([.")
            signed = nxt in "+-" and bool(after) and not after.isspace()
            if ends_operand and (starts_operand or signed):
                out.append(",")
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _to_index(value: Any, size: int) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value))
    if arr.dtype == bool:
        if arr.size != size:
            raise MCodeError("a logical index has the wrong length")
        return np.flatnonzero(arr)
    idx = arr.astype(float)
    if np.any(idx != np.round(idx)) or np.any(idx < 1) or np.any(idx > size):
        raise MCodeError(f"index out of range: {idx.tolist()}")
    return idx.astype(int) - 1


# ----------------------------------------------------------------------------------------------
# Statements.
# ----------------------------------------------------------------------------------------------

_IDX_CALL = re.compile(r"^(\[[^\]]*\]\s*=\s*)?(idx_\w+|define_constants)$")
_IF = re.compile(r"^if\b(.*)$")
_ELSEIF = re.compile(r"^elseif\b(.*)$")
_SLICE_SET = re.compile(r"^mpc\.(\w+)\s*\((.*?)\)\s*=(?!=)\s*(.+)$")
_FIELD_SET = re.compile(r"^mpc\.(\w+)\s*=(?!=)\s*(.+)$")
_VAR_SET = re.compile(r"^([A-Za-z_]\w*)\s*=(?!=)\s*(.+)$")


def run(statements: list[tuple[int, str]], case: MCase) -> MCase:
    """Run the statements on ``case`` (in place) and return it; see the module docstring."""
    env: dict[str, Any] = {}
    # Stack of (this branch active, some branch already taken) for if/elseif/else/end.
    stack: list[tuple[bool, bool]] = []

    def active() -> bool:
        return all(a for a, _ in stack)

    for lineno, stmt in statements:
        where = f"line {lineno}: {stmt}"
        m_if = _IF.match(stmt)
        if m_if:
            cond = _truth(m_if.group(1), case, env, where) if active() else False
            stack.append((cond, cond))
            continue
        m_elif = _ELSEIF.match(stmt)
        if m_elif and stack:
            _, taken = stack.pop()
            cond = (not taken) and active() and _truth(m_elif.group(1), case, env, where)
            stack.append((cond, taken or cond))
            continue
        if stmt == "else" and stack:
            _, taken = stack.pop()
            stack.append((not taken, True))
            continue
        if stmt in ("end", "endif"):
            if stack:
                stack.pop()
            continue  # a bare 'end' closes the case function
        if not active():
            continue
        if stmt == "return":
            break
        if _IDX_CALL.match(stmt):
            continue
        m = _SLICE_SET.match(stmt)
        if m:
            _set_slice(m.group(1), m.group(2), m.group(3), case, env, where)
            case.applied.append(stmt)
            continue
        m = _FIELD_SET.match(stmt)
        if m:
            name, expr = m.group(1), m.group(2)
            try:
                value = _Parser(expr, case, env).parse()
            except MCodeError as exc:
                raise MCodeError(f"{where}: {exc}") from None
            if np.ndim(value) == 0:
                case.scalars[name] = float(value)
            else:
                case.matrices[name] = np.atleast_2d(np.asarray(value, dtype=float))
            case.applied.append(stmt)
            continue
        m = _VAR_SET.match(stmt)
        if m:
            name, expr = m.group(1), m.group(2)
            if name == "mpc":
                raise MCodeError(f"{where}: the case is replaced by code that cannot be run")
            try:
                env[name] = _Parser(expr, case, env).parse()
            except MCodeError:
                env[name] = _Unknown(stmt)
            continue
        if re.search(r"\bmpc\b", stmt):
            raise MCodeError(f"{where}: cannot run this statement")
        case.ignored.append(stmt)
    return case


def evaluate(expr: str) -> Any:
    """The value of a constant expression (no ``mpc`` and no variables)."""
    return _Parser(expr, MCase({}, {}), {}).parse()


def _truth(expr: str, case: MCase, env: dict[str, Any], where: str) -> bool:
    try:
        value = _Parser(expr, case, env).parse()
    except MCodeError as exc:
        raise MCodeError(f"{where}: {exc}") from None
    return bool(np.all(np.asarray(value) != 0))


def _set_slice(
    name: str, index_text: str, expr: str, case: MCase, env: dict[str, Any], where: str
) -> None:
    try:
        mat = case.matrices.get(name)
        if mat is None:
            raise MCodeError(f"the case has no matrix '{name}'")
        parser = _Parser(f"({index_text})", case, env)
        rows, cols = parser._index_args(mat)
        if parser.i != len(parser.tokens):
            raise MCodeError("cannot read the index")
        value = np.asarray(_Parser(expr, case, env).parse(), dtype=float)
        shape = (len(rows), len(cols))
        if value.ndim == 1 and value.size == shape[0] * shape[1]:
            value = value.reshape(shape)
        mat[np.ix_(rows, cols)] = np.broadcast_to(value, shape)
    except (MCodeError, ValueError) as exc:
        raise MCodeError(f"{where}: {exc}") from None

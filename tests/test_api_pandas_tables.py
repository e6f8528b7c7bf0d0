"""User test ut35 #2: tables handed to the API in memory, and the refusal of anything else.

``feederopt.solve(net, scenarios=pandas_df)`` raised an InputError whose message was the
frame's repr (3,814 characters for 56 rows). A pandas DataFrame is now taken wherever a table
is (``scenarios`` of ``solve`` and ``solve_three_phase``, the disaster scenarios of ``plan``,
``resolve_scenarios``, ``write_scenarios``; ``schedule``'s profiles already were), and a
refusal names the value's type only. The truths: pandapower's ``runpp`` losses of each
scenario at the result's topology (the tiny feeder built by hand, tests/netbuild.py), the
per-bus demand summed by hand from the network's load table and the frame's rows, and the
disaster file shipped with zhang13."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import feederopt
from feederopt.errors import InputError
from netbuild import tiny, tiny_pandapower_net, tiny_tables

pd = pytest.importorskip("pandas")
pp = pytest.importorskip("pandapower")

#: Each scenario scales every load of the tiny feeder.
SCALES = {"low": 0.8, "high": 1.2}


def pandapower_losses_kw(open_ids: set[str], scale: float) -> float:
    loads = {r["id"]: (r["p_mw"] * scale, r["q_mvar"] * scale)
             for r in tiny_tables()["loads"].iter_rows(named=True)}
    net = tiny_pandapower_net(open_ids, loads=loads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    return float(net.res_line.pl_mw.sum() * 1e3)


def test_solve_takes_a_pandas_scenario_table() -> None:
    """Before: InputError (the frame's repr). Now the frame is the scenario table: each
    scenario's losses at the chosen topology are pandapower's."""
    loads = tiny_tables()["loads"]
    frame = pd.DataFrame(
        [(s, "load", r["id"], r["p_mw"] * f, r["q_mvar"] * f, 0.5)
         for s, f in SCALES.items() for r in loads.iter_rows(named=True)],
        columns=["scenario", "kind", "element", "p_mw", "q_mvar", "weight"])
    result = feederopt.solve(tiny(), scenarios=frame, time_limit=30, workers=1)
    doc = result.to_dict()
    opened = {b["id"] for b in doc["open_branches"]}
    rows = {s["scenario"]: s for s in doc["scenarios"]}
    assert set(rows) == set(SCALES)
    for name, scale in SCALES.items():
        assert rows[name]["losses_kw"] == pytest.approx(pandapower_losses_kw(opened, scale),
                                                        rel=1e-3)


def test_pandas_frame_with_mixed_id_column_is_resolved() -> None:
    """A pandas column of ids mixing numbers and text (bus 18 as an int, load '2' as text)
    has no Arrow type: it is read as text. The per-bus demand is the network's own loads
    with load 2 replaced and the bus row added, summed by hand."""
    net = feederopt.load("case33bw")
    frame = pd.DataFrame({"scenario": ["s", "s"], "kind": ["bus", "load"],
                          "element": [18, "2"], "p_mw": [-0.2, 0.15],
                          "q_mvar": [0.0, 0.05], "weight": [1.0, 1.0]})
    sset = feederopt.resolve_scenarios(net, frame)
    nominal = {r["bus"]: (r["p_mw"], r["q_mvar"]) for r in net.loads.iter_rows(named=True)}
    j18, j2 = sset.bus_ids.index("18"), sset.bus_ids.index("2")
    assert sset.p_mw[0, j18] == pytest.approx(nominal["18"][0] - 0.2)
    assert sset.q_mvar[0, j18] == pytest.approx(nominal["18"][1])
    assert sset.p_mw[0, j2] == pytest.approx(0.15)
    assert sset.q_mvar[0, j2] == pytest.approx(0.05)


def test_write_scenarios_takes_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame({"scenario": ["s"], "kind": ["bus"], "element": ["18"],
                          "p_mw": [-0.2], "q_mvar": [0.0], "weight": [1.0]})
    path = feederopt.write_scenarios(frame, tmp_path / "s.csv")
    back = pl.read_csv(path, schema_overrides={"element": pl.String})
    assert back.to_dicts() == frame.to_dict("records")


def test_plan_disasters_from_a_pandas_frame() -> None:
    """The shipped A_C_p1 file (JSON) as a pandas frame, broken ids separated by ';' as in
    the CSV format: the same scenarios as the file."""
    from feederopt.cases.registry import DATA_DIR
    from feederopt.io.disasters import frame_disasters, read_disasters

    path = DATA_DIR / "zhang13" / "disasters" / "A_C_p1.json"
    doc = json.loads(path.read_text())
    frame = pd.DataFrame([{"name": s["name"], "probability": s["probability"],
                           "broken": ";".join(s["broken"])} for s in doc["scenarios"]])
    net = feederopt.load("zhang13")
    got = frame_disasters(frame, net).scenarios
    want = read_disasters(path, net).scenarios
    assert [(d.name, d.probability, d.broken) for d in got] \
        == [(d.name, d.probability, d.broken) for d in want]


BIG = list(range(2000))


@pytest.mark.parametrize(("call", "named"), [
    (lambda: feederopt.solve(tiny(), scenarios=BIG, time_limit=5), "not a list"),
    (lambda: feederopt.solve(tiny(), scenarios=pd.Series(BIG), time_limit=5),
     "not a pandas Series"),
    (lambda: feederopt.solve_three_phase("ieee13", scenarios=pd.Series(BIG)),
     "not a pandas Series"),
    (lambda: feederopt.plan("zhang13", scenarios=BIG), "not a list"),
    (lambda: feederopt.schedule("case33bw", devices=pd.DataFrame({"a": BIG})),
     "not a pandas DataFrame"),
    (lambda: feederopt.schedule("case33bw", profiles=BIG), "not a list"),
    (lambda: feederopt.check_result(pd.DataFrame({"a": BIG}), 10, 0.1),
     "not a pandas DataFrame"),
    (lambda: feederopt.solve(tiny(), options={"a": BIG}), "not a dict"),
    (lambda: feederopt.partition("ieee13", settings=pd.DataFrame({"a": BIG})),
     "not a pandas DataFrame"),
], ids=["solve-list", "solve-series", "threephase-series", "plan-list", "schedule-devices",
        "schedule-profiles", "check-result", "solve-options", "partition-settings"])
def test_refusals_name_the_type_only(call: Any, named: str) -> None:
    """A value that is no table (or path) is refused typed, by its type: the message stays
    short and holds none of the value (before: the repr, or a bare TypeError)."""
    with pytest.raises(InputError) as info:
        call()
    text = str(info.value)
    assert named in text
    assert len(text) < 400 and "1999" not in text, text

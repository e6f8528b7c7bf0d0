"""``--hold-closed``/``--hold-open`` (``feederopt.solve(net, hold_closed=..., hold_open=...)``):
switchable branches held in a state in every method without editing the user's net (user test
ut_core2, finding 9).

Independent truth: brute force over every radial topology of a small pandapower net built here
(two feeders from one 110/20 kV transformer joined by three open ties: 11 switched lines, 71
spanning trees), each one's losses by pandapower's own ``runpp`` with the line switches set
directly in the net, and the holds imposed by filtering the trees. The tool's held answer is
the brute-force best of the trees that respect the holds (and differs from the best without
them, so the holds bind). The scenario and robust methods are checked the same way at their
load (one scenario at 90 % of the nominal loads; the robust box's worst point, every load at
105 %, which is the upper corner on this passive feeder). Bad holds are typed problems (exit
2), holds that leave no radial topology an ``infeasible`` result (exit 3) naming them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Any

import networkx as nx
import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.options import solve_options, unchecked_solve_options

runner = CliRunner()
LINE_TYPE = "NA2XS2Y 1x185 RM/25 12/20 kV"
#: MV lines (busbar = MV bus 0): feeder A 0-1-2-3-4, feeder B 0-5-6-7-8, ties 4-8, 2-6, 3-7.
PAIRS = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (4, 8), (2, 6), (3, 7)]
LENGTHS = [1.2, 2.5, 1.8, 3.1, 0.9, 2.2, 2.7, 1.6, 2.0, 1.4, 2.3]
LOADS_MW = [1.1, 0.6, 1.9, 0.8, 0.4, 1.5, 0.7, 1.3]
HOLD_CLOSED = {9}  # the tie 2-6, open in the base case and in the unheld optimum
HOLD_OPEN = {3}  # line 3-4 of feeder A, closed in both


def _net() -> Any:
    """HV bus 0 - trafo 0 - MV busbar (bus 1); 11 lines, each with one switch ``S<k>`` (index
    k) at its from bus, the ties (lines 8-10) open; a load at every other MV bus."""
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0)
    mv = [pp.create_bus(net, 20.0) for _ in range(9)]
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer(net, hv, mv[0], std_type="25 MVA 110/20 kV")
    for k, ((a, b), length) in enumerate(zip(PAIRS, LENGTHS, strict=True)):
        line = pp.create_line(net, mv[a], mv[b], length, LINE_TYPE, name=f"L{k}")
        pp.create_switch(net, mv[a], line, et="l", closed=k < 8, name=f"S{k}")
    for i, p in enumerate(LOADS_MW, start=1):
        pp.create_load(net, mv[i], p_mw=p, q_mvar=0.3 * p)
    return net


def scenario_at(net: Any, factor: float) -> pl.DataFrame:
    """One scenario ``s0`` with every load of ``net`` at ``factor`` times :data:`LOADS_MW`
    (Q at 0.3 of P)."""
    load_ids = [f"load:{k}" for k in net.load.index]
    return pl.DataFrame({
        "scenario": ["s0"] * len(load_ids), "kind": ["load"] * len(load_ids),
        "element": load_ids, "p_mw": [factor * p for p in LOADS_MW],
        "q_mvar": [factor * 0.3 * p for p in LOADS_MW], "weight": [1.0] * len(load_ids)})


def _trees(net: Any) -> list[frozenset[int]]:
    """The sets of opened lines that leave a spanning tree (networkx on the net's graph)."""
    lines = list(net.line.index)
    out = []
    for opened in itertools.combinations(lines, len(lines) + 1 - (len(net.bus) - 1)):
        g = nx.Graph()
        g.add_nodes_from(net.bus.index)
        g.add_edges_from((int(net.line.at[k, "from_bus"]), int(net.line.at[k, "to_bus"]))
                         for k in lines if k not in opened)
        g.add_edges_from((int(t.hv_bus), int(t.lv_bus)) for t in net.trafo.itertuples())
        if nx.is_tree(g):
            out.append(frozenset(opened))
    return out


#: one copy of :func:`_net` per load scale, and each (scale, opened lines)'s losses [kW]
_SCALED: dict[float, Any] = {}
_LOSSES: dict[tuple[float, frozenset[int]], float] = {}


def _losses_kw(opened: frozenset[int], scale: float = 1.0) -> float:
    """pandapower's losses [kW] of :func:`_net` with the switches of the ``opened`` lines open
    (every other one closed), the loads scaled by ``scale``. Each topology's ``runpp`` is run
    once for the module (several tests' brute forces filter the same 71 trees), on one copy of
    the net per scale whose switch states are set anew before each run (``runpp`` starts flat
    and rewrites every result table, so the order does not matter)."""
    key = (scale, opened)
    if key not in _LOSSES:
        if scale not in _SCALED:
            n = _SCALED[scale] = _net()
            n.load["p_mw"] *= scale
            n.load["q_mvar"] *= scale
        n = _SCALED[scale]
        n.switch["closed"] = [int(e) not in opened for e in n.switch["element"]]
        pp.runpp(n, numba=False)
        _LOSSES[key] = 1000.0 * float(n.res_line.pl_mw.sum() + n.res_trafo.pl_mw.sum())
    return _LOSSES[key]


def _best(net: Any, scale: float = 1.0, *, held: bool = True) -> tuple[frozenset[int], float]:
    trees = [o for o in _trees(net)
             if not held or (not (o & HOLD_CLOSED) and o >= HOLD_OPEN)]
    losses = {o: _losses_kw(o, scale) for o in trees}
    best = min(losses, key=losses.__getitem__)
    return best, losses[best]


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    net = _net()
    return {"held": _best(net), "free": _best(net, held=False)}


def _opened(result: Any) -> frozenset[int]:
    return frozenset(int(b["id"].split(":")[1]) for b in result.open_branches)


def _holds() -> dict[str, list[str]]:
    # the tie by its id, the line by its pandapower switch's name
    return {"hold_closed": ["line:9"], "hold_open": ["S3"]}


@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_held_answer_is_the_brute_force_best_of_the_topologies_that_keep_the_holds(
        method: str, truth: dict[str, Any]) -> None:
    best, losses = truth["held"]
    assert best != truth["free"][0]  # the holds bind: the free optimum breaks them
    net = _net()
    before = pp.to_json(net)
    result = feederopt.solve(net, method=method, time_limit=60, **_holds())
    assert result.status.value == "optimal"
    assert _opened(result) == best
    assert result.ac_check is not None
    assert result.ac_check.losses_kw == pytest.approx(losses, rel=1e-6)
    assert result.extra["held"] == {"closed": ["line:9"], "open": ["line:3"]}
    assert pp.to_json(net) == before  # the user's net is not edited
    # the base case stays the user's: the held tie is a change the operator makes
    sw = result.switches.filter(pl.col("id").is_in(["line:3", "line:9"])).sort("id")
    assert sw["initially_closed"].to_list() == [True, False]
    assert sw["changed"].to_list() == [True, True]


def test_without_holds_the_answer_is_the_free_brute_force_best(truth: dict[str, Any]) -> None:
    result = feederopt.solve(_net(), time_limit=60)
    assert _opened(result) == truth["free"][0]
    assert "held" not in result.extra


def test_lindistflow_keeps_the_holds() -> None:
    result = feederopt.solve(_net(), method="lindistflow", time_limit=30, **_holds())
    opened = _opened(result)
    assert opened >= HOLD_OPEN and not (opened & HOLD_CLOSED)
    assert opened in _trees(_net())


def test_scenarios_keep_the_holds_and_find_the_held_best_at_the_scenario_load() -> None:
    net = _net()
    table = scenario_at(net, 0.9)
    result = feederopt.solve(net, scenarios=table, time_limit=60, workers=1, **_holds())
    best, _ = _best(net, 0.9)
    assert _opened(result) == best
    assert result.extra["held"] == {"closed": ["line:9"], "open": ["line:3"]}


def test_robust_keeps_the_holds_and_finds_the_held_best_at_the_upper_corner() -> None:
    net = _net()
    # no AC check: the test looks at the topology only, and the robust method's check runs
    # pandapower at each of the box's 2^8 corners
    result = feederopt.solve(net, robust=0.05, time_limit=60, workers=1, ac_check=False,
                             **_holds())
    best, _ = _best(net, 1.05)
    assert _opened(result) == best


# ----- bad holds ------------------------------------------------------------------------------
def _problems(**holds: Any) -> list[Any]:
    with pytest.raises(InputError) as err:
        feederopt.solve(_net(), time_limit=10, **holds)
    return list(err.value.problems)


def test_an_unknown_id_is_a_typed_problem_with_the_id_meant() -> None:
    (p,) = _problems(hold_closed=["9"])
    assert p.field == "hold_closed" and p.ids == ("9",)
    assert "does not have" in p.message
    assert "did you mean line:9?" in p.hint and "line:N" in p.hint


def test_a_branch_held_both_closed_and_open_is_a_typed_problem() -> None:
    # the same tie by its id and by its switch's index
    (p,) = _problems(hold_closed=["line:9"], hold_open=["switch 9"])
    assert p.ids == ("line:9",) and "both closed and open" in p.message
    # and by the same text in both lists, found without the network
    problems = unchecked_solve_options(hold_closed="line:9", hold_open="line:9").check()
    assert [q.ids for q in problems] == [("line:9",)]


def test_a_branch_that_is_not_switchable_is_a_typed_problem() -> None:
    (p,) = _problems(hold_open=["trafo:0"])  # the transformer has no switch
    assert p.field == "hold_open" and p.ids == ("trafo:0",)
    assert "not switchable" in p.message


@pytest.mark.parametrize("empty", [[], ()])
def test_an_empty_list_from_python_holds_nothing(empty: Any) -> None:
    """``hold_open=[]`` from a script that holds every switch in its current state on a grid
    without an open one: nothing held open, like None, not "--hold-open names no branch"
    (user test ut37_realg #3). Truth: the brute-force best of the trees that keep line 9
    closed."""
    net = _net()
    trees = [o for o in _trees(net) if not (o & HOLD_CLOSED)]
    losses = {o: _losses_kw(o) for o in trees}
    best = min(losses, key=losses.__getitem__)
    result = feederopt.solve(net, time_limit=60, hold_closed=["line:9"], hold_open=empty)
    assert result.status.value == "optimal"
    assert _opened(result) == best
    assert result.extra["held"] == {"closed": ["line:9"], "open": []}
    assert solve_options(hold_open=empty).check() == []


def test_empty_and_repeated_lists_are_typed_problems() -> None:
    problems = unchecked_solve_options(hold_closed="", hold_open="line:1,line:1").check()
    assert {(q.field, "names no branch" in q.message, "more than once" in q.message)
            for q in problems} == {("hold_closed", True, False), ("hold_open", False, True)}


@pytest.mark.parametrize(("holds", "named"), [
    # the tie with the four lines that join its ends through the busbar: a loop
    ({"hold_closed": ["line:9", "line:1", "line:0", "line:4", "line:5"]}, "held closed"),
    # both lines out of the busbar: no source reaches the feeders
    ({"hold_open": ["line:0", "line:4"]}, "held open"),
])
def test_holds_that_leave_no_radial_topology_are_infeasible(
        holds: dict[str, list[str]], named: str) -> None:
    result = feederopt.solve(_net(), time_limit=30, **holds)
    assert result.status.value == "infeasible" and not result.has_topology
    reason = result.extra["infeasible_reason"]
    assert named in reason and all(b in reason for b in next(iter(holds.values())))


# ----- the command line -----------------------------------------------------------------------
def _write(tmp_path: Path) -> Path:
    path = tmp_path / "net.json"
    pp.to_json(_net(), str(path))
    return path


def test_cli_holds_and_writes_them_to_the_json(tmp_path: Path, truth: dict[str, Any]) -> None:
    path = _write(tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", str(path), "--time-limit", "60", "--hold-closed",
                              "line:9", "--hold-open", "S3", "--json", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["held"] == {"closed": ["line:9"], "open": ["line:3"]}
    assert frozenset(int(b["id"].split(":")[1]) for b in doc["open_branches"]) == (
        truth["held"][0])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


@pytest.mark.parametrize(("args", "code", "text"), [
    (["--hold-closed", "9"], 2, "did you mean line:9?"),
    (["--hold-closed", "S9", "--hold-open", "line:9"], 2, "both closed and open"),
    (["--hold-open", "trafo:0"], 2, "not switchable"),
    (["--hold-open", "line:0,line:4"], 3, "held open (line:0, line:4)"),
])
def test_cli_bad_holds_exit_with_their_code_and_no_traceback(
        tmp_path: Path, args: list[str], code: int, text: str) -> None:
    res = runner.invoke(app, ["solve", str(_write(tmp_path)), "--time-limit", "20", *args])
    assert res.exit_code == code, res.output
    assert text in " ".join(res.output.split())
    assert "Traceback" not in res.output


def _case33bw_switchable() -> set[str]:
    """Independent truth: the MATPOWER file's branch numbers, 1 to 37 (32 lines of the
    feeder, 5 ties), every one switchable in case33bw (Baran & Wu 1989)."""
    return {str(k) for k in range(1, 38)}


def test_the_empty_list_hint_names_ids_of_the_network_at_hand() -> None:
    """``feederopt solve case33bw --hold-open ''`` was refused with the hint "e.g. --hold-open
    line:11,trafo:0", a pandapower net's ids, none of case33bw's plain numbers (user test
    ut40_docs #3). The hint now gives two of the network's switchable ids, on the command
    line and from Python; without a network it shows their form only."""
    ids = _case33bw_switchable()
    out = CliRunner().invoke(app, ["solve", "case33bw", "--hold-open", ""],
                             env={"COLUMNS": "300"})
    text = " ".join(out.output.split())
    assert out.exit_code == 2 and "Traceback" not in text, text
    assert "--hold-open names no branch" in text
    example = re.search(r"hint: e\.g\. --hold-open (\S+):", text)
    assert example is not None, text
    named = example[1].split(",")
    assert named and set(named) <= ids and "line:11" not in text
    with pytest.raises(InputError) as exc:
        feederopt.solve("case33bw", hold_closed="")
    (p,) = exc.value.problems
    assert p.field == "hold_closed" and "hold_closed names no branch" in p.message
    shown = re.search(r"e\.g\. hold_closed=\(([^)]*)\)", p.hint)
    assert shown is not None, p.hint
    assert {x.strip(" '") for x in shown[1].split(",")} <= ids
    # no network: the form of the ids, no other network's
    (q,) = unchecked_solve_options(hold_open="").check()
    assert "line:11" not in q.hint and "hold_open=('ID', 'ID')" in q.hint


def test_a_held_open_source_transformer_is_named_as_the_cause_by_its_rating() -> None:
    """CIGRE MV (pandapower's ``create_cigre_network_mv``) with ``hold_open=["trafo:0"]``: a
    proof of infeasibility said only that the holds were part of it (session 44, savefix
    #2). By hand, from pandapower's own net: with trafo:0 open every load hangs on trafo:1
    (the tie line 14-8 joins the feeders, so no bus is cut off), whose 25 MVA at the source's
    1.03 p.u. is less than the 44.74 MW of load, while both transformers (51.5 MVA) are more:
    the held transformer is the cause, and the reason says so with those figures. Without
    current ratings (``thermal_limits=False``) no such cause is claimed."""
    import pandapower.networks as pn

    from feederopt.network import to_per_unit
    from feederopt.problems.holds import Held, held_capacity_cause

    ref = pn.create_cigre_network_mv(with_der=False)
    load_mw = float((ref.load.p_mw * ref.load.scaling)[ref.load.in_service].sum())
    vm = float(ref.ext_grid.vm_pu.iloc[0])
    one, two = (float(s) * vm for s in ref.trafo.sn_mva)
    assert one < load_mw <= one + two  # the hand reasoning's premise
    r = feederopt.solve("cigre_mv", hold_open=["trafo:0"])
    assert r.status.value == "infeasible"
    reason = r.extra["infeasible_reason"]
    assert "branches held open (trafo:0)" in reason and "(trafo:1)" in reason
    assert f"at most {two:.4g} MW" in reason and f"the {load_mw:.4g} MW" in reason
    unrated = feederopt.load("cigre_mv").with_limits(thermal_limits=False)
    assert held_capacity_cause(to_per_unit(unrated), Held(open=("trafo:0",))) is None

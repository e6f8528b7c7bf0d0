"""How loads are named in scenario files and ``--uncertain-loads`` on a pandapower net (user test
ut_core2, finding 5): a pandapower load is ``load:<index>``. An element (or uncertain load)
given as the bare index gets the hint "a pandapower load is load:<index>: did you mean
load:60?"; a ``kind=load`` row whose element is a bus id is said to name a bus, not "neither a
load nor a bus", and its hint lists the load ids at that bus.

The net is built here with pandapower's API; its load indices (5, 60, 61, 62) are chosen so
that "5" is both a bus index and a load index at another bus, as in the user's SimBench net.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError

runner = CliRunner()
LINE_TYPE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def _net() -> Any:
    """HV bus 0 - trafo - MV bus 1; feeder 1-2-3-4 and 1-5-6 (buses by index), tie 4-6 open;
    load 5 at bus 2, loads 60 and 61 at bus 5, load 62 at bus 6."""
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0)
    mv = [pp.create_bus(net, 20.0) for _ in range(6)]  # buses 1..6
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer(net, hv, mv[0], std_type="25 MVA 110/20 kV")
    for a, b in [(1, 2), (2, 3), (3, 4), (1, 5), (5, 6)]:
        pp.create_line(net, a, b, 1.5, LINE_TYPE)
    tie = pp.create_line(net, 4, 6, 2.0, LINE_TYPE)
    pp.create_switch(net, 4, tie, et="l", closed=False)
    for index, bus, p in [(5, 2, 1.0), (60, 5, 0.8), (61, 5, 0.5), (62, 6, 0.7)]:
        pp.create_load(net, bus, p_mw=p, q_mvar=0.2 * p, index=index)
    return net


def _table(element: str, kind: str | None = "load") -> pl.DataFrame:
    return pl.DataFrame({"scenario": ["s0"], "kind": [kind], "element": [element],
                         "p_mw": [0.9], "q_mvar": [0.2], "weight": [1.0]})


def _problems(**options: Any) -> list[Any]:
    with pytest.raises(InputError) as err:
        feederopt.solve(_net(), time_limit=10, workers=1, **options)
    return list(err.value.problems)


@pytest.mark.parametrize("kind", ["load", None])
def test_a_bare_pandapower_load_index_gets_the_load_id_meant(kind: str | None) -> None:
    (p,) = _problems(scenarios=_table("60", kind))
    assert p.ids == ("60",) and p.field == "element"
    assert "a pandapower load is load:<index>: did you mean load:60?" in p.hint


def test_a_load_row_naming_a_bus_says_so_and_lists_the_loads_at_the_bus() -> None:
    (p,) = _problems(scenarios=_table("5"))
    assert p.ids == ("5",)
    assert "neither" not in p.message
    assert "bus id, not a load id" in p.message
    assert "the loads at bus 5: load:60, load:61" in p.hint
    # "5" is also the index of the pandapower load at bus 2
    assert "did you mean load:5?" in p.hint


def test_a_load_row_naming_a_bus_without_loads_says_none() -> None:
    (p,) = _problems(scenarios=_table("3"))
    assert "bus id, not a load id" in p.message and "the loads at bus 3: none" in p.hint


def test_the_right_ids_are_taken() -> None:
    # no problem: the load ids as the hint gives them (the solve itself is not the point)
    table = pl.concat([_table("load:60"), _table("load:61")])
    result = feederopt.solve(_net(), scenarios=table, time_limit=30, workers=1,
                             ac_check=False)
    assert result.has_topology


def test_uncertain_loads_given_as_pandapower_indices_get_the_ids_meant() -> None:
    (p,) = _problems(robust=0.1, uncertain_loads="60,61")
    assert p.field == "uncertain_loads" and p.ids == ("60", "61")
    assert "did you mean load:60, load:61?" in p.hint
    assert "load ids are load:5, load:60, load:61" in p.hint


def test_cli_scenario_row_naming_a_bus_exits_2_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    pp.to_json(_net(), str(path))
    scen = tmp_path / "s.csv"
    _table("5").write_csv(scen)
    res = runner.invoke(app, ["solve", str(path), "--scenarios", str(scen),
                              "--time-limit", "10"])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "bus id, not a load id" in text and "neither a load nor a bus" not in text
    assert "Traceback" not in res.output


def test_check_uncertain_loads_given_as_pandapower_indices_get_the_ids_meant() -> None:
    # the resolution that `feederopt check --uncertain-loads` uses
    from feederopt.network.perunit import to_per_unit
    from feederopt.validation.montecarlo import resolve_loads

    with pytest.raises(InputError) as err:
        resolve_loads(to_per_unit(feederopt.load(_net())), ["62"])
    (p,) = err.value.problems
    assert "did you mean load:62?" in p.hint


def test_a_bus_row_naming_a_load_id_says_so_and_gives_its_bus() -> None:
    """User test ut_growth #3: a ``kind=bus`` row (a PV) whose element is the load id
    ``load:60`` was "neither a load nor a bus of the network", though load:60 exists."""
    (p,) = _problems(scenarios=_table("load:60", "bus"))
    assert p.ids == ("load:60",) and p.field == "element"
    assert "name a load id, not a bus id" in p.message
    assert "load:60 at bus 5" in p.hint

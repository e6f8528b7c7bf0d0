"""A branch given by its buses gets its id in the hint (user test ut41_cli #5).

The console prints an open branch as ``7 (7-8)``: its id and its from-to buses. ``feederopt
solve case33bw --hold-open 7-8`` was refused with the first ids of the network (``1, 10, 11,
...``) and no word of branch 7, though the README promises the id meant ("did you mean ...").
Now every option that names branches (``--hold-open``/``--hold-closed``, ``--broken`` of
``restore`` and of a disaster file, a schedule's fixed branches) says which branches join the
two buses, in either order, and with every parallel branch listed. The truth is the network's
own table, written here by hand: which branch joins which buses.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io.disasters import read_disasters
from feederopt.network.id_hints import branch_ends, ends_meant, id_hint
from feederopt.problems.holds import resolve_holds
from feederopt.problems.schedule import ScheduleSettings, settings_id_problems


def network() -> feederopt.Network:
    """S - B1 by L1; B1 - B2 by two parallel lines P1 and P2; B2 - B3 by L3; tie T4 S - B3;
    bus ids with a dash too (``N-1``)."""
    buses = pl.DataFrame({"id": ["S", "B1", "B2", "B3", "N-1"], "vn_kv": [12.66] * 5,
                          "is_source": [True, False, False, False, False]})
    branches = pl.DataFrame({
        "id": ["L1", "P1", "P2", "L3", "T4", "L5"],
        "from_bus": ["S", "B1", "B2", "B2", "S", "B3"],
        "to_bus": ["B1", "B2", "B1", "B3", "B3", "N-1"],
        "r_ohm": [0.3, 0.9, 0.9, 1.1, 1.0, 0.5], "x_ohm": [0.4, 0.7, 0.7, 0.8, 0.8, 0.4],
        "switchable": [True] * 6, "normally_open": [False, False, False, False, True, False]})
    loads = pl.DataFrame({"id": ["D2", "D3"], "bus": ["B2", "B3"], "p_mw": [0.6, 0.9],
                          "q_mvar": [0.3, 0.4]})
    return feederopt.Network.from_tables(buses=buses, branches=branches, loads=loads).check()


def test_the_rule() -> None:
    net = network()
    ends = branch_ends(net)
    ids = list(ends)
    assert ends["P2"] == ("B2", "B1")
    assert ends_meant("B2-B3", ids, ends) == ["L3"]
    assert ends_meant(" B3-B2 ", ids, ends) == ["L3"]  # either order
    assert ends_meant("B1-B2", ids, ends) == ["P1", "P2"]  # every parallel branch
    assert ends_meant("B3-N-1", ids, ends) == ["L5"]  # a bus id with a dash
    assert ends_meant("L3 (B2-B3)", ids, ends) == ["L3"]  # the console's label
    assert ends_meant("L3 'Main' (B2-B3; switch 4)", ids, ends) == ["L3"]
    assert ends_meant("x (B3-B2)", ids, ends) == ["L3"]
    assert ends_meant("S-B2", ids, ends) == []  # no branch joins them
    assert ends_meant("B2-B3", ["L1"], ends) == []  # only among the ids asked about


@pytest.mark.parametrize("option", ["hold_closed", "hold_open"])
def test_holds_name_the_branch_of_the_buses(option: str) -> None:
    closed, open_ = (["B3-B2"], None) if option == "hold_closed" else (None, ["B3-B2"])
    _, problems = resolve_holds(network(), closed, open_)
    (problem,) = problems
    assert problem.field == option and problem.ids == ("B3-B2",)
    assert "B3-B2: did you mean L3 (B2-B3)? give its id, L3" in problem.hint


def test_parallel_branches_are_all_listed() -> None:
    _, problems = resolve_holds(network(), None, ["B1-B2"])
    (problem,) = problems
    assert "did you mean P1 (B1-B2) or P2 (B2-B1)? give the id of one, P1 or P2" \
        in problem.hint


def test_broken_fixed_branches_and_disaster_files_say_it_too(tmp_path: Path) -> None:
    net = network()
    ids = [str(b) for b in net.branches["id"].to_list()]
    assert "did you mean L3 (B2-B3)?" in id_hint(["B2-B3"], ids, {}, "branch",
                                                 ends=branch_ends(net))
    (problem,) = settings_id_problems(ScheduleSettings(fixed_open=("B2-B3",)), net)
    assert problem.field == "fixed_open" and "did you mean L3 (B2-B3)?" in problem.hint
    with pytest.raises(feederopt.InputError) as err:
        feederopt.restore(net, broken=["B2-B3"], ac_check=False)
    assert any("did you mean L3 (B2-B3)?" in p.hint for p in err.value.problems)
    path = tmp_path / "storm.json"
    path.write_text(json.dumps({"scenarios": [
        {"name": "s1", "probability": 1.0, "broken": ["L3 (B2-B3)"]}]}))
    with pytest.raises(feederopt.InputError) as err:
        read_disasters(path, net)
    assert any("did you mean L3 (B2-B3)?" in (p.hint or "") for p in err.value.problems)


@pytest.mark.parametrize("given", ["7-8", "8-7", "7 (7-8)"])
def test_the_command_line_on_case33bw(given: str) -> None:
    # case33bw's branch 7 joins buses 7 and 8 (Baran & Wu 1989, line 7: 7-8), the only one
    net = feederopt.load("case33bw")
    joins = [str(r["id"]) for r in net.branches.iter_rows(named=True)
             if {str(r["from_bus"]), str(r["to_bus"])} == {"7", "8"}]
    assert joins == ["7"]
    run = CliRunner().invoke(app, ["solve", "case33bw", "--hold-open", given, "-q"])
    assert run.exit_code == 2 and "Traceback" not in run.output, run.output
    assert f"{given}: did you mean 7 (7-8)? give its id, 7" in run.output

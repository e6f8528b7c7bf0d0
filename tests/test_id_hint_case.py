"""An id given in another case gets a "did you mean" (user test ut37 gendef #3).

``feederopt solve grid2 --hold-closed t2``, where the branch is T2: the hint listed the first
switchable ids but did not say "did you mean T2?", which the README promises for ids
(``11: did you mean line:11?``). Ids stay case-sensitive (``t2`` is refused); the one rule of
the guess (:func:`feederopt.network.id_hints.meant_ids`) serves every option that names ids:
``--hold-closed``/``--hold-open``, ``--broken`` and ``--dg-sites``, a scenario's load ids.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.io.folder import write_folder
from feederopt.io.scenarios import load_id_hint
from feederopt.network.id_hints import id_hint, meant_ids
from feederopt.problems.holds import resolve_holds


def network() -> feederopt.Network:
    buses = pl.DataFrame({"id": ["S", "B1", "B2", "B3"], "vn_kv": [12.66] * 4,
                          "is_source": [True, False, False, False]})
    branches = pl.DataFrame({
        "id": ["L1", "L2", "L3", "T2"], "from_bus": ["S", "B1", "S", "B2"],
        "to_bus": ["B1", "B2", "B3", "B3"], "r_ohm": [0.3, 0.9, 1.1, 1.0],
        "x_ohm": [0.4, 0.7, 0.8, 0.8], "switchable": [False, True, True, True],
        "normally_open": [False, False, False, True]})
    loads = pl.DataFrame({"id": ["D2", "D3"], "bus": ["B2", "B3"], "p_mw": [0.6, 0.9],
                          "q_mvar": [0.3, 0.4]})
    return feederopt.Network.from_tables(buses=buses, branches=branches, loads=loads).check()


def test_the_rule() -> None:
    ids = ["L1", "T2", "line:11", "trafo:3"]
    assert meant_ids("t2", ids) == ["T2"]
    assert meant_ids(" LINE:11 ", ids) == ["line:11"]
    assert meant_ids("11", ids) == ["line:11"]  # a pandapower index, as before
    assert meant_ids("x9", ids) == []
    assert meant_ids("l1", ["L1", "1"], index=False) == ["L1"]


@pytest.mark.parametrize("option", ["hold_closed", "hold_open"])
def test_hold_options_suggest_the_id_in_its_case(option: str) -> None:
    net = network()
    refs = {"closed": ["t2"] if option == "hold_closed" else None,
            "open_": ["t2"] if option == "hold_open" else None}
    _, problems = resolve_holds(net, refs["closed"], refs["open_"])
    (problem,) = problems
    assert problem.field == option and problem.ids == ("t2",)
    assert "t2: did you mean T2?" in problem.hint


def test_broken_dg_sites_and_load_ids_suggest_it_too() -> None:
    net = network()
    branch_ids = [str(b) for b in net.branches["id"].to_list()]
    assert "l2: did you mean L2?" in id_hint(["l2"], branch_ids, {}, "branch")
    assert "b3: did you mean B3?" in id_hint(["b3"], ["S", "B1", "B2", "B3"], {}, "bus")
    assert "d2: did you mean D2?" in load_id_hint(["d2"], ["D2", "D3"])
    with pytest.raises(InputError) as err:
        feederopt.solve(net, hold_open=["l3"])
    assert any("l3: did you mean L3?" in p.hint for p in err.value.problems)


def test_the_command_line_says_it(tmp_path: Path) -> None:
    folder = tmp_path / "net"
    write_folder(network(), folder, fmt="csv")
    run = subprocess.run([sys.executable, "-m", "feederopt", "solve", str(folder),
                          "--hold-closed", "t2"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "did you mean T2?" in run.stdout + run.stderr

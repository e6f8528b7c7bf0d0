"""``iterations.parquet`` of ``solve --out`` names its bounds with their unit
(``lower_bound_kw``, ``upper_bound_kw``), as every other table of the folder does (``p_mw``,
``loss_kw``); an old folder's ``lower_bound``/``upper_bound`` are read as the new names.

Truth for the unit, independent of the tool: the brute force over the radial topologies of
the small pandapower grid built here (:func:`test_double_circuit_member_ids._net`), each
one's losses by pandapower's ``runpp`` in MW times 1000: the final lower bound of a solve
proven optimal is the least of them in kW.
"""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path

import networkx as nx
import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.report.html import read_result_folder
from test_double_circuit_member_ids import _net


def _best_losses_kw() -> float:
    best = float("inf")
    for states in itertools.product([True, False], repeat=4):
        net = _net()
        for k, closed in enumerate(states):
            net.switch.at[k, "closed"] = closed
        if not nx.is_tree(pp.topology.create_nxgraph(net, respect_switches=True,
                                                     multi=False)):
            continue
        pp.runpp(net)
        best = min(best, float(net.res_line.pl_mw.sum()) * 1e3)
    return best


def test_the_bounds_carry_their_unit(tmp_path: Path) -> None:
    grid = tmp_path / "grid.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.to_json(_net(), str(grid))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["solve", str(grid), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "result.json").read_text())["status"] == "optimal"
    frame = pl.read_parquet(out / "iterations.parquet")
    assert {"lower_bound_kw", "upper_bound_kw"} <= set(frame.columns)
    assert not {"lower_bound", "upper_bound"} & set(frame.columns)
    assert frame["lower_bound_kw"][-1] == pytest.approx(_best_losses_kw(), rel=1e-3)
    assert read_result_folder(out).iterations is not None


def test_an_old_folder_reads_with_the_new_names(tmp_path: Path) -> None:
    grid = tmp_path / "grid.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.to_json(_net(), str(grid))
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["solve", str(grid), "--out", str(out)]).exit_code == 0
    new = pl.read_parquet(out / "iterations.parquet")
    old = new.rename({"lower_bound_kw": "lower_bound", "upper_bound_kw": "upper_bound"})
    old.write_parquet(out / "iterations.parquet")
    got = read_result_folder(out).iterations
    assert got is not None and got.columns == new.columns
    assert got.equals(new)

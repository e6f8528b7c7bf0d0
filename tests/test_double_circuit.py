"""A double circuit (two branches that never open between the same two buses) from a table
folder or a MATPOWER file is one branch of the model, as from a pandapower net.

User test ut_io #4: a folder with lines L1 and L1b from S to B1, both ``switchable`` false,
was refused as ``not_radial ... loop (2 branches) that cannot open`` although its power flow is
well defined and the pandapower reader merges such lines (``line:3+line:22``). Now every reader
merges them (:mod:`feederopt.io.parallel`) into one branch named after both (``L1+L1b``).
Truth: pandapower's ``runpp`` of the same grid with the two lines as two line elements, on the
chosen topology and (MATPOWER) on every radial one.
"""

from __future__ import annotations

import itertools
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandapower as pp
import polars as pl
import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind

DATA = Path(__file__).parent / "data" / "io"


def _folder_pandapower(folder: Path, open_ids: set[str]) -> pp.pandapowerNet:
    """The folder's grid as pandapower elements: a line of 1 km per branch (both circuits),
    the branches ``open_ids`` out of service."""
    buses = pl.read_csv(folder / "buses.csv")
    branches = pl.read_csv(folder / "branches.csv")
    loads = pl.read_csv(folder / "loads.csv")
    net = pp.create_empty_network()
    idx = {b["id"]: pp.create_bus(net, vn_kv=b["vn_kv"], name=b["id"])
           for b in buses.iter_rows(named=True)}
    for b in buses.filter(pl.col("is_source")).iter_rows(named=True):
        pp.create_ext_grid(net, idx[b["id"]], vm_pu=1.0)
    for r in branches.iter_rows(named=True):
        pp.create_line_from_parameters(
            net, idx[r["from_bus"]], idx[r["to_bus"]], 1.0, r["r_ohm"], r["x_ohm"], 0.0,
            r["i_max_ka"] if r["i_max_ka"] is not None else 99.0, name=r["id"],
            in_service=r["id"] not in open_ids)
    for ld in loads.iter_rows(named=True):
        pp.create_load(net, idx[ld["bus"]], p_mw=ld["p_mw"], q_mvar=ld["q_mvar"])
    pp.runpp(net, tolerance_mva=1e-10)
    return net


def test_a_folder_double_circuit_is_one_branch_and_matches_pandapower(tmp_path: Path) -> None:
    folder = shutil.copytree(DATA / "double_circuit", tmp_path / "feeder")
    net = feederopt.load(folder)
    ids = net.branches["id"].to_list()
    assert "L1+L1b" in ids and "L1" not in ids and "L1b" not in ids
    assert any("L1, L1b" in w and "double circuit" in w for w in net.meta["warnings"])
    r = feederopt.solve(folder, time_limit=30)
    assert r.status.value == "optimal"
    opened = {b["id"] for b in r.open_branches}
    truth = _folder_pandapower(folder, opened)
    truth_kw = float(truth.res_line.pl_mw.sum()) * 1e3
    assert r.losses_kw == pytest.approx(truth_kw, rel=1e-5)
    assert r.ac_check is not None and r.ac_check.losses_kw == pytest.approx(truth_kw, rel=1e-8)
    base = _folder_pandapower(folder, {"T1"})  # the base case: the tie open
    assert r.base["losses_kw"] == pytest.approx(float(base.res_line.pl_mw.sum()) * 1e3,
                                                rel=1e-8)
    # the merged row maps back: both circuits' current, the loading of the more loaded one
    row = r.branches.filter(pl.col("id") == "L1+L1b").row(0, named=True)
    both = truth.res_line[truth.line.name.isin(["L1", "L1b"])]
    assert row["i_ac_ka"] == pytest.approx(float(both.i_from_ka.sum()), rel=1e-6)
    assert row["loading_ac_percent"] == pytest.approx(float(both.loading_percent.max()),
                                                      rel=1e-6)


def test_a_switchable_double_circuit_keeps_its_branches(tmp_path: Path) -> None:
    folder = shutil.copytree(DATA / "double_circuit", tmp_path / "feeder")
    text = (folder / "branches.csv").read_text().replace("L1b,S,B1,0.5,0.4,0.4,false",
                                                         "L1b,S,B1,0.5,0.4,0.4,true")
    (folder / "branches.csv").write_text(text)
    ids = feederopt.load(folder).branches["id"].to_list()
    assert "L1" in ids and "L1b" in ids


def test_a_row_pasted_twice_is_no_double_circuit(tmp_path: Path) -> None:
    folder = shutil.copytree(DATA / "double_circuit", tmp_path / "feeder")
    text = (folder / "branches.csv").read_text().replace("L1b,S,B1", "L1,S,B1")
    (folder / "branches.csv").write_text(text)
    with pytest.raises(InputError) as exc:
        feederopt.load(folder)
    assert [p.kind for p in exc.value.problems] == [ProblemKind.DUPLICATE_ID]


def test_parallel_transformers_that_cannot_open_are_named_a_double_circuit(
        tmp_path: Path) -> None:
    """Not merged (a transformer's tap makes the merge inexact): refused, the message says
    what the loop is."""
    folder = shutil.copytree(DATA / "double_circuit", tmp_path / "feeder")
    text = (folder / "branches.csv").read_text()
    text = text.replace("id,from_bus,to_bus,r_ohm,x_ohm,i_max_ka,switchable,normally_open",
                        "id,from_bus,to_bus,r_ohm,x_ohm,i_max_ka,switchable,normally_open,"
                        "kind,tap_ratio")
    lines = text.splitlines()
    lines = [lines[0], *(ln + (",transformer,1.02" if ln.startswith("L1") else ",line,1.0")
                         for ln in lines[1:] if ln)]
    (folder / "branches.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as exc:
        feederopt.solve(folder, time_limit=30)
    (p,) = exc.value.problems
    assert p.kind is ProblemKind.NOT_RADIAL and set(p.ids) == {"L1", "L1b"}
    assert "double circuit" in p.message and "S" in p.message and "B1" in p.message


def _mpc_losses_kw(path: Path, open_rows: set[int]) -> float:
    from pandapower.converter.matpower.from_mpc import from_mpc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = from_mpc(str(path), f_hz=50)
    assert len(net.line) == 7 and not len(net.trafo)  # the branch rows' order
    net.line["in_service"] = [k + 1 not in open_rows for k in net.line.index]
    pp.runpp(net, tolerance_mva=1e-10)
    return float(net.res_line.pl_mw.sum()) * 1e3


def test_a_matpower_double_circuit_is_one_branch_and_the_answer_is_the_brute_force_one(
        ) -> None:
    path = DATA / "double_circuit.m"
    net = feederopt.load(path)
    assert "1+7" in net.branches["id"].to_list()
    r = feederopt.solve(path, time_limit=30)
    assert r.status.value == "optimal"
    opened = {int(b["id"]) for b in r.open_branches}
    truth = _mpc_losses_kw(path, opened)
    assert r.losses_kw == pytest.approx(truth, rel=1e-5)
    assert r.ac_check is not None and r.ac_check.losses_kw == pytest.approx(truth, rel=1e-6)
    # every radial topology by pandapower (the two circuits always closed): the best
    switchable = [2, 3, 4, 5, 6]
    pairs = {2: (2, 3), 3: (3, 4), 4: (2, 5), 5: (5, 4), 6: (3, 5)}
    best = np.inf
    for open_two in itertools.combinations(switchable, 2):
        closed = [pairs[k] for k in switchable if k not in open_two] + [(1, 2)]
        parent = {b: b for b in range(1, 6)}

        def find(a: int, parent: dict[int, int] = parent) -> int:
            while parent[a] != a:
                a = parent[a]
            return a

        tree = True
        for a, b in closed:
            ra, rb = find(a), find(b)
            if ra == rb:
                tree = False
                break
            parent[ra] = rb
        if tree:
            best = min(best, _mpc_losses_kw(path, set(open_two)))
    assert r.ac_check.losses_kw == pytest.approx(best, rel=1e-6)

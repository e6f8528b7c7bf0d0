"""``check_result``'s ``network=`` and the source a result records when the network was given
as an object (user test ut46_pyapi t15-t17, t9).

* ``network=`` takes what :func:`feederopt.load` takes: a pandapower net raised
  ``AttributeError: 'pandapowerNet' instance has no attribute 'meta'``; a path is loaded too;
  anything else is a typed problem naming ``network``.
* ``pandapower.networks.case33bw()`` is named ``'case33bw'``: a result solved on it recorded
  ``case: "case33bw"`` and no source, and ``check_result``/``feederopt check``/the report's
  command line then used the built-in case33bw, another network (other ids). Such a result
  now records that its network was given in memory, and is refused without ``network=``.
* ``--switch-cost`` / ``switch_cost_kw`` is recorded in the settings, and the report's command
  line repeats it.

Independent truth: the exact words and exit codes the user should see, and the ids of the
pandapower net (``line:N``) against those of the built-in case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError

ENV = {"COLUMNS": "400"}
runner = CliRunner()


@pytest.fixture(scope="module")
def solved() -> feederopt.Result:
    return feederopt.solve(pn.case33bw(), time_limit=30, ac_check=False)


def test_a_result_of_a_pandapower_net_names_its_ids(solved: feederopt.Result) -> None:
    # the pandapower net's ids: the built-in case33bw's are "1".."37"
    assert all(str(b["id"]).startswith("line:") for b in solved.open_branches)
    assert solved.source is None and solved.case == "case33bw"


@pytest.mark.parametrize("given", ["net", "path", "Network"])
def test_check_result_takes_what_load_takes(solved: feederopt.Result, tmp_path: Path,
                                            given: str) -> None:
    net = pn.case33bw()
    network: object = net
    if given == "path":
        pp.to_json(net, str(tmp_path / "c33.json"))
        network = tmp_path / "c33.json"
    elif given == "Network":
        network = feederopt.load(net)
    mc = feederopt.check_result(solved, samples=3, uncertainty=0.05, ac=False,
                                network=network)
    assert mc.samples == 3 and mc.feasible_convex == 3


@pytest.mark.parametrize("bad", [5, 2.5, ["case33bw"]])
def test_check_result_refuses_another_network_by_type(solved: feederopt.Result,
                                                      bad: object) -> None:
    with pytest.raises(InputError) as exc:
        feederopt.check_result(solved, samples=3, uncertainty=0.05, ac=False, network=bad)
    (problem,) = exc.value.problems
    assert problem.field == "network"
    assert problem.message.startswith("network must be a network (a feederopt Network, a "
                                      "pandapower net")
    assert f"({type(bad).__name__})" in problem.message or type(bad).__name__ in problem.message


NO_SOURCE = ("the result records no source: it was solved on a network given as an object in "
             "memory (a pandapower net or a Network named 'case33bw'), which no name loads "
             "again")


def test_a_net_object_is_not_taken_for_the_built_in_case(solved: feederopt.Result,
                                                         tmp_path: Path) -> None:
    assert solved.to_dict()["source_in_memory"] is True
    with pytest.raises(InputError) as exc:
        feederopt.check_result(solved, samples=3, uncertainty=0.05, ac=False)
    (problem,) = exc.value.problems
    assert problem.message == NO_SOURCE and problem.field == "source"
    assert "network=" in problem.hint
    # read back from its file: the same, in Python and on the command line
    file = tmp_path / "r.json"
    feederopt.save_json(solved, file)
    again = feederopt.load_result(file)
    with pytest.raises(InputError, match="records no source"):
        feederopt.check_result(again, samples=3, uncertainty=0.05, ac=False)
    run = runner.invoke(app, ["check", str(file), "--samples", "3", "-u", "0.05", "--no-ac"],
                        env=ENV)
    assert run.exit_code == 2 and "records no source" in " ".join(run.output.split())
    # the report's command line does not name the built-in case either
    refused = runner.invoke(app, ["report", str(file)], env=ENV)
    assert refused.exit_code == 2, refused.output
    hint = re.search(r"run '([^']*)'", " ".join(refused.output.split()))
    assert hint is not None and "feederopt solve CASE " in hint.group(1), refused.output


@pytest.fixture(scope="module")
def named() -> feederopt.Result:
    """The built-in case33bw solved by its name, with a switch cost (one solve for the two
    tests below: the cost changes neither the source recorded nor the sampled check)."""
    return feederopt.solve("case33bw", time_limit=30, ac_check=False, switch_cost_kw=2.5)


def test_a_built_in_case_name_is_still_checked_on_the_built_in_case(
        named: feederopt.Result) -> None:
    r = named
    assert "source_in_memory" not in r.to_dict()
    mc = feederopt.check_result(r, samples=3, uncertainty=0.05, ac=False)
    assert mc.feasible_convex == 3


def test_the_report_command_line_repeats_the_switch_cost(tmp_path: Path,
                                                        named: feederopt.Result) -> None:
    file = tmp_path / "s.json"
    run = runner.invoke(app, ["solve", "case33bw", "--switch-cost", "5", "--no-ac-check",
                              "--json", str(file)], env=ENV)
    assert run.exit_code == 0, run.output
    assert json.loads(file.read_text())["settings"]["switch_cost_kw"] == 5.0
    refused = runner.invoke(app, ["report", str(file)], env=ENV)
    hint = re.search(r"run '([^']*)'", " ".join(refused.output.split()))
    assert hint is not None and "--switch-cost 5 " in hint.group(1), refused.output
    assert named.to_dict()["settings"]["switch_cost_kw"] == 2.5


def _report_hint(file: Path) -> str:
    refused = runner.invoke(app, ["report", str(file)], env=ENV)
    assert refused.exit_code == 2, refused.output
    hint = re.search(r"run '([^']*)'", " ".join(refused.output.split()))
    assert hint is not None, refused.output
    return hint.group(1)


def test_a_restoration_of_a_net_object_is_not_rerun_on_the_built_in_case(
        tmp_path: Path) -> None:
    r = feederopt.restore(pn.case33bw(), ["line:6"], time_limit_s=30, ac_check=False)
    assert r.case == "case33bw" and r.to_dict()["source_in_memory"] is True
    feederopt.save_json(r, tmp_path / "r.json")
    assert _report_hint(tmp_path / "r.json").startswith("feederopt restore CASE ")
    # the built-in case, named: its name is the command's network, and no flag is written
    named = feederopt.restore("case33bw", ["7"], time_limit_s=30, ac_check=False)
    assert "source_in_memory" not in named.to_dict()
    feederopt.save_json(named, tmp_path / "n.json")
    assert _report_hint(tmp_path / "n.json").startswith("feederopt restore case33bw ")


def test_a_plan_of_a_net_object_records_it_too() -> None:
    p = feederopt.plan(pn.case33bw(), broken=["line:6"], time_limit_s=30, ac_check=False)
    assert p.to_dict()["source_in_memory"] is True

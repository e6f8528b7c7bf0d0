"""A plan's JSON records how its scenarios were given and the options it ran under, and a
restoration's its tie rule, so that ``feederopt report FILE.json`` names the command that
writes its folder (tester's report: ``plan case33bw --broken 2,10 --harden-budget 1
--dg-budget 1 --dg-size 200 --voll 20 --time-limit 30`` was hinted as ``feederopt plan
case33bw --scenarios ... --out DIR``; a restore with ``--ties out_of_service`` on a
pandapower file was hinted without ``--ties``, whose default rule reads other switchable
branches).

The truth is the user's own command line: the hinted command holds each option the user gave
(with its value), and, run, writes the same plan or restoration as the command the user ran.
"""

from __future__ import annotations

import json
import shlex
import shutil
import warnings
from pathlib import Path
from typing import Any

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "400"})
ZHANG13 = Path(__file__).resolve().parents[1] / "src/feederopt/cases/data/zhang13"


def _hinted(json_file: Path) -> list[str]:
    """The command line that ``feederopt report FILE.json`` hints, split as a shell would."""
    hint = runner.invoke(app, ["report", str(json_file)])
    assert hint.exit_code == 2, hint.output
    flat = " ".join(hint.output.split())
    command = flat.split("run '", 1)[1].split(" (the command", 1)[0]
    return shlex.split(command.replace("'feederopt", "feederopt").replace("--out DIR'",
                                                                          "--out DIR"))


def _has(argv: list[str], option: str, value: str) -> bool:
    return option in argv and argv[argv.index(option) + 1] == value


def _run_again(argv: list[str], out: Path) -> dict[str, Any]:
    argv = list(argv)
    argv[argv.index("DIR")] = str(out)
    again = runner.invoke(app, argv[1:])
    assert again.exit_code in (0, 4), again.output  # 4: an AC limit broken, as the original
    return json.loads((out / "result.json").read_text())


def _same_plan(redone: dict[str, Any], doc: dict[str, Any]) -> None:
    assert redone["hardened"] == doc["hardened"]
    assert redone["dg_sites"] == doc["dg_sites"]
    assert redone["expected_total"] == pytest.approx(doc["expected_total"], abs=1e-6)
    assert [s["operation"]["closed_lines"] for s in redone["scenarios"]] == \
        [s["operation"]["closed_lines"] for s in doc["scenarios"]]


def test_a_broken_plan_is_hinted_with_its_broken_lines_and_options(tmp_path: Path) -> None:
    given = ["--broken", "2,10", "--harden-budget", "1", "--dg-size", "200", "--voll", "20",
             "--time-limit", "30"]
    pj = tmp_path / "pl.json"
    done = runner.invoke(app, ["plan", "case33bw", *given, "--dg-budget", "1",
                               "--json", str(pj)])
    assert done.exit_code in (0, 4), done.output
    doc = json.loads(pj.read_text())
    argv = _hinted(pj)
    assert argv[:3] == ["feederopt", "plan", "case33bw"], argv
    assert "--scenarios" not in argv and "..." not in argv, argv
    for option, value in zip(given[::2], given[1::2], strict=True):
        assert _has(argv, option, value), (option, argv)
    assert "--dg-budget" not in argv, argv  # 1 is the default: left out
    _same_plan(_run_again(argv, tmp_path / "again"), doc)


def test_a_scenario_file_plan_is_hinted_with_the_file_s_absolute_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "my plans"
    folder.mkdir()
    shutil.copy(ZHANG13 / "disasters" / "A_C_p1.json", folder / "storm A.json")
    monkeypatch.chdir(folder)  # the user names the file relative to here
    pj = tmp_path / "ps.json"
    done = runner.invoke(app, ["plan", "zhang13", "--scenarios", "storm A.json",
                               "--harden-budget", "1", "--no-measures", "--json", str(pj)])
    assert done.exit_code in (0, 4), done.output
    doc = json.loads(pj.read_text())
    argv = _hinted(pj)
    assert argv[:3] == ["feederopt", "plan", "zhang13"], argv
    assert _has(argv, "--scenarios", str(folder / "storm A.json")), argv
    assert _has(argv, "--harden-budget", "1") and "--no-measures" in argv, argv
    assert "--broken" not in argv and "..." not in argv, argv
    monkeypatch.chdir(tmp_path)  # run from elsewhere: the path still names the file
    _same_plan(_run_again(argv, tmp_path / "again"), doc)


@pytest.fixture(scope="module")
def one_switch_json(tmp_path_factory: pytest.TempPathFactory) -> str:
    """pandapower's case33bw() (its five ties out of service) with one closed switch at the
    feeder head: the default tie rule then reads only that line as switchable, and
    ``--ties out_of_service`` the five ties as well (tests/test_pandapower_tie_rule.py)."""
    net = pn.case33bw()
    pp.create_switch(net, bus=net.line.from_bus.at[0], element=0, et="l", closed=True)
    path = tmp_path_factory.mktemp("ties") / "case33bw one switch.json"
    pp.to_json(net, str(path))
    return str(path)


def test_a_restore_with_ties_is_hinted_with_its_tie_rule(one_switch_json: str,
                                                          tmp_path: Path) -> None:
    rj = tmp_path / "rj.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        done = runner.invoke(app, ["restore", one_switch_json, "--broken", "line:5",
                                   "--ties", "out_of_service", "--json", str(rj)])
        assert done.exit_code in (0, 4), done.output
        doc = json.loads(rj.read_text())
        argv = _hinted(rj)
        assert argv[:3] == ["feederopt", "restore", one_switch_json], argv
        assert _has(argv, "--ties", "out_of_service"), argv
        redone = _run_again(argv, tmp_path / "again")
        # without the rule, the rerun reads no tie as switchable: a different restoration
        auto = tmp_path / "auto.json"
        assert runner.invoke(app, ["restore", one_switch_json, "--broken", "line:5",
                                   "--json", str(auto)]).exit_code in (0, 4)
    for key in ("objective", "shed_kw"):
        assert redone[key] == pytest.approx(doc[key], abs=1e-6), key
    assert redone["operation"]["closed_lines"] == doc["operation"]["closed_lines"]
    assert json.loads(auto.read_text())["shed_kw"] > doc["shed_kw"] + 1.0


@pytest.mark.parametrize("given", [
    ["--broken", "2", "--radiality", "seed", "--method", "lshaped", "--no-ac-check"],
    ["--broken", "2", "--switch-penalty", "0.5", "--harden-cost", "300", "--dg-cost", "2",
     "--gap", "0.001", "--dg-budget", "2"],
])
def test_a_plan_s_hint_holds_exactly_the_options_given(given: list[str],
                                                        tmp_path: Path) -> None:
    """Each option the user gave is in the hint with its value, and no other: the default
    switch penalty of ``--radiality seed`` ($0.01) is not hinted as if given."""
    pj = tmp_path / "pl.json"
    done = runner.invoke(app, ["plan", "zhang13", *given, "--json", str(pj)])
    assert done.exit_code in (0, 4), done.output
    argv = _hinted(pj)
    assert argv[:3] == ["feederopt", "plan", "zhang13"] and argv[-2:] == ["--out", "DIR"]
    flags = [a for a in given if a.startswith("--") and a not in ("--no-ac-check",)]
    assert sorted(a for a in argv[3:-2] if a.startswith("--")) == sorted(
        [*flags, *(["--no-ac-check"] if "--no-ac-check" in given else [])]), argv
    for option in flags:
        value = given[given.index(option) + 1]
        assert _has(argv, option, value) or float(argv[argv.index(option) + 1]) == \
            pytest.approx(float(value)), (option, argv)

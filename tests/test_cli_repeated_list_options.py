"""A comma-list option given more than once combines its occurrences (user test ut47_recheck #1).

Before, click kept the last occurrence only: ``solve case33bw --hold-open 7,9 --hold-open 8``
held 8 alone (the answer closed 7 and 9), ``restore case33bw --broken 7 --broken 9`` broke 9
alone, ``--hold-closed 33 --hold-closed 34`` dropped 33. Now every comma-list option of every
command joins its occurrences in order, an id that an earlier occurrence gave once
(:func:`feederopt.cli.app.joined_list`), and its help says so.

Truths: Baran & Wu's 33-bus feeder (case33bw) has 37 branches on 33 buses, so a radial answer
opens 37 - 32 = 5 of them, the held-open ones among them and the held-closed ones not; a
broken line is never among a restoration's closed lines. The unknown ids are none of the
indices of the pandapower net the test builds (``tests/netbuild.nine_bus_pandapower``: lines
0-9, buses 0-8, loads 0-6) nor a bus of case33bw (999): given in a first occurrence and a
known id in a later one, they are refused, which the last occurrence alone never was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.cli.app import joined_list

pp = pytest.importorskip("pandapower")

runner = CliRunner()
ENV = {"COLUMNS": "400"}


def _refused(args: list[str]) -> str:
    res = runner.invoke(app, args, env=ENV)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.split())


def test_the_premises(nine_bus_json) -> None:
    _, net = nine_bus_json
    assert 1 in net.line.index and 77 not in net.line.index
    assert 3 in net.bus.index and 99 not in net.bus.index
    assert 1 in net.load.index and 77 not in net.load.index


def test_joined_list() -> None:
    assert joined_list(None) is None
    assert joined_list([]) is None
    assert joined_list(["7,9"]) == "7,9"
    assert joined_list(["7,9", "8"]) == "7,9,8"
    assert joined_list(["7,9", "9,8", "7"]) == "7,9,8"  # an earlier id once, in order
    assert joined_list(["7,7", "8"]) == "7,7,8"  # repeated in one: left to the check
    assert joined_list(["7,,9", "8"]) == "7,,9,8"  # an empty entry: left to the check
    assert joined_list(["", "7"]) == "7"  # --broken "" (none) adds nothing
    assert joined_list([""]) == ""
    assert joined_list(["0.5", "0.5"], unique=False) == "0.5,0.5"


def test_solve_combines_repeated_holds(tmp_path: Path) -> None:
    out = tmp_path / "hold.json"
    res = runner.invoke(app, ["solve", "case33bw", "--hold-open", "7,9", "--hold-open", "8",
                              "--hold-closed", "33", "--hold-closed", "34,33",
                              "--time-limit", "60", "--no-ac-check", "-q", "--json", str(out)],
                        env=ENV)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert sorted(doc["held"]["open"], key=int) == ["7", "8", "9"]
    assert sorted(doc["held"]["closed"], key=int) == ["33", "34"]
    opened = {str(b["id"]) for b in doc["open_branches"]}
    assert {"7", "8", "9"} <= opened  # held open: open in the answer
    assert not {"33", "34"} & opened  # held closed: closed in it
    assert len(opened) == 37 - 32  # radial: 37 branches, 33 buses


def test_restore_combines_repeated_broken_lines(tmp_path: Path) -> None:
    out = tmp_path / "rest.json"
    res = runner.invoke(app, ["restore", "case33bw", "--broken", "7", "--broken", "9",
                              "--broken", "7", "--no-ac-check", "-q", "--json", str(out)],
                        env=ENV)
    assert res.exit_code in (0, 3), res.output
    doc = json.loads(out.read_text())
    assert doc["broken"] == ["7", "9"]
    assert not {"7", "9"} & set(doc["operation"]["closed_lines"])


def test_restore_combines_repeated_dg_sites(nine_bus_json) -> None:
    path, _ = nine_bus_json
    out = _refused(["restore", str(path), "--broken", "line:1", "--dg-sites", "99",
                    "--dg-sites", "3", "--no-ac-check", "-q"])
    assert "DG sites that are not buses of the network (given: 99)" in out


def test_plan_combines_repeated_broken_lines(nine_bus_json) -> None:
    path, _ = nine_bus_json
    out = _refused(["plan", str(path), "--broken", "line:77", "--broken", "line:1",
                    "--no-ac-check", "--no-measures", "--time-limit", "5", "-q"])
    assert "branch ids that the network does not have (given: line:77)" in out


def test_check_combines_repeated_uncertain_loads_and_source_vm(nine_bus_json,
                                                               tmp_path: Path) -> None:
    path, _ = nine_bus_json
    result = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", str(path), "--no-ac-check", "-q", "--json",
                              str(result)], env=ENV)
    assert res.exit_code == 0, res.output
    out = _refused(["check", str(result), "-u", "0.1", "-n", "5", "--no-ac", "-q",
                    "--uncertain-loads", "load:77", "--uncertain-loads", "load:1"])
    assert "unknown (or out-of-service) load id(s) (given: load:77)" in out
    out = _refused(["check", str(result), "-u", "0.1", "-n", "5", "--no-ac", "-q",
                    "--source-vm", "1.5", "--source-vm", "1.0"])
    assert "--source-vm" in out and "1.5" in out


def test_partition_combines_repeated_uncertain_loads(tmp_path: Path) -> None:
    """The worst case of a +-box over n loads has 2^n extreme points: 4 for the two loads of
    ieee13mod, one per occurrence (2 for the last alone)."""
    out = tmp_path / "p.json"
    res = runner.invoke(app, ["partition", "ieee13mod", "--uncertainty", "0.2",
                              "--uncertain-loads", "801", "--uncertain-loads", "703",
                              "--json", str(out), "-q"], env=ENV)
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["extreme_points"] == 2 ** 2


def test_schedule_combines_repeated_lists() -> None:
    out = _refused(["schedule", "case33bw", "--uncertain-buses", "999", "--uncertain-buses",
                    "3", "--robust-budget", "1", "--time-limit", "5", "-q"])
    assert "uncertain bus not in the network (given: 999)" in out
    # a number list keeps every entry: three numbers for GAMMA[,GAMMA_RES]
    out = _refused(["schedule", "case33bw", "--robust-budget", "1", "--robust-budget", "1",
                    "--robust-budget", "1", "--time-limit", "5", "-q"])
    assert "--robust-budget takes GAMMA[,GAMMA_RES], 3 numbers given" in out
    out = _refused(["schedule", "case33bw", "--aggregate", "0.9,1.1", "--aggregate", "0.8",
                    "--time-limit", "5", "-q"])
    assert "--aggregate takes LOW,HIGH" in out


def test_solve_combines_repeated_controls() -> None:
    out = _refused(["solve", "case33bw", "--controls", "bogus", "--controls", "caps", "-q"])
    assert "bogus" in out


def test_scenarios_combines_repeated_weights(tmp_path: Path) -> None:
    out = _refused(["scenarios", "simbench:1-LV-rural1--0-sw", "--study-cases", "hL",
                    "--weights", "1", "--weights", "2", "-o", str(tmp_path / "s.csv")])
    assert "2 weight(s) for 1 study case(s)" in out


def _list_options() -> list[tuple[str, Any]]:
    group = typer.main.get_command(app)
    found = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            if param.param_type_name == "option":
                found.append((name, param))
    return found


def test_every_comma_list_option_may_be_repeated_and_says_so() -> None:
    """An option whose help or metavar speaks of a comma list (ids, ``A,B``) is a
    ``multiple`` option, and its help says "comma-separated; may be repeated"."""
    listed = []
    for name, opt in _list_options():
        text = f"{opt.help or ''} {opt.metavar or ''}".lower()
        if "comma" in text or "<ids>" in text or ",..." in text or "," in (opt.metavar or ""):
            listed.append(f"{name} {opt.opts[0]}")
            assert opt.multiple, f"{name} {opt.opts[0]}"
            assert "comma-separated; may be repeated" in (opt.help or ""), \
                f"{name} {opt.opts[0]}"
    for must in ("solve --hold-open", "solve --hold-closed", "solve --uncertain-loads",
                 "solve --controls", "restore --broken", "restore --dg-sites", "plan --broken",
                 "check --uncertain-loads", "check --source-vm", "partition --uncertain-loads",
                 "schedule --uncertain-buses", "schedule --robust-budget",
                 "schedule --aggregate", "scenarios --study-cases", "scenarios --weights"):
        assert must in listed, must

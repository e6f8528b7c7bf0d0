"""The partition's switches fixed by the settings, user test ut51_part #1 and #2, on the
tester's 5-switch ring feeder (tests/data/ut51_part/ring.dss: the substation switch ``swsub``,
four blocks b1+b2, b3, b4, b5+b6 joined by s23, s34, s45, s51, s24).

#1: ``s23``, ``s34``, ``s24`` fixed CLOSED close a loop b2-b3-b4; the run said "no robustly
feasible partition found (infeasible)", exit 1, nothing written. It is now a typed problem
naming the three switches and the field, exit code 2, before any solve.
#2: ``swsub`` fixed CLOSED joins the lost substation; the plan opened it without a word. A
note now names it.

The truth is the feeder's own text (its buses and which lines are switches, read here with
a regular expression, not through feederopt) and the settings files as written.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "ut51_part"


def _lines() -> dict[str, tuple[str, str, bool]]:
    """Line name -> (bus1, bus2, is a switch), from the .dss text."""
    out = {}
    for m in re.finditer(r"^New Line\.(\S+)\s+(.*)$", (DATA / "ring.dss").read_text(),
                         re.MULTILINE | re.IGNORECASE):
        kv = dict(re.findall(r"(\w+)=(\S+)", m.group(2)))
        out[m.group(1).lower()] = (kv["bus1"].split(".")[0], kv["bus2"].split(".")[0],
                                   kv.get("switch", "n").lower().startswith("y"))
    return out


def _fixed_closed(name: str) -> list[str]:
    sw = json.loads((DATA / name).read_text())["switch"]
    return [k for k, v in sw.items() if v.get("dispatchable") == "NO"
            and v.get("state", "CLOSED") == "CLOSED"]


def _closes_a_loop(closed: list[str]) -> bool:
    """Whether the switches ``closed`` close a loop between the blocks (the buses joined by
    the lines that are no switches): the cyclomatic number of the contracted graph."""
    lines = _lines()
    block: dict[str, str] = {}
    for a, b, _ in lines.values():
        for x in (a, b):
            block.setdefault(x, x)

    def root(x: str) -> str:
        while block[x] != x:
            x = block[x]
        return x

    for a, b, sw in lines.values():
        if not sw:
            block[root(a)] = root(b)
    edges = [(root(lines[s][0]), root(lines[s][1])) for s in closed]
    nodes = {x for e in edges for x in e}
    comp = {x: x for x in nodes}

    def find(x: str) -> str:
        while comp[x] != x:
            x = comp[x]
        return x

    for a, b in edges:
        comp[find(a)] = find(b)
    n_comp = len({find(x) for x in nodes})
    return len(edges) - len(nodes) + n_comp > 0


def test_the_files_are_what_the_tests_say():
    lines = _lines()
    assert all(lines[s][2] for s in ("swsub", "s23", "s34", "s24", "s45", "s51"))
    assert lines["swsub"][0] == "sourcebus"
    assert re.search(r"New Circuit\.ring .*bus1=sourcebus", (DATA / "ring.dss").read_text())
    assert sorted(_fixed_closed("loop.json")) == ["s23", "s24", "s34"]
    assert _closes_a_loop(_fixed_closed("loop.json"))
    assert _fixed_closed("fixc.json") == ["s23"]
    assert not _closes_a_loop(_fixed_closed("fixc.json"))
    assert _fixed_closed("subc.json") == ["swsub"]


def test_a_loop_of_fixed_closed_switches_is_a_typed_problem():
    from feederopt.api_partition import partition

    with pytest.raises(InputError) as err:
        partition(str(DATA / "ring.dss"), settings=str(DATA / "loop.json"), time_limit_s=30)
    [p] = err.value.problems
    assert p.kind == ProblemKind.NOT_RADIAL
    assert sorted(p.ids) == sorted(_fixed_closed("loop.json"))
    assert p.field == "switch.state"
    assert "loop" in p.message and "fixed CLOSED" in p.message
    # the blocks of b2, b3, b4 are named with their buses
    assert all(b in p.message for b in ("b2", "b3", "b4"))


def test_a_loop_of_fixed_closed_switches_exits_2_and_writes_nothing(tmp_path):
    for name in ("ring.dss", "loop.json"):
        shutil.copy(DATA / name, tmp_path / name)
    out = tmp_path / "r.json"
    for extra in ([], ["--extensive"]):
        r = runner.invoke(app, ["partition", str(tmp_path / "ring.dss"), "--settings",
                                str(tmp_path / "loop.json"), "--json", str(out),
                                "--time-limit", "30", *extra])
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output
        assert "s23" in r.output and "s24" in r.output and "s34" in r.output
        assert "switch.state" in r.output
        assert not out.exists()


@pytest.mark.parametrize("closed", [["s23"], ["s23", "s34"], ["s23", "s34", "s45"],
                                    ["s23", "s34", "s45", "s51"], ["s23", "s24", "s34"],
                                    ["s45", "s51", "s24"], ["s24", "s34"]])
def test_fixed_closed_switches_are_refused_exactly_when_they_close_a_loop(tmp_path, closed):
    """Built without a solve; the truth is the loop test on the file's own lines."""
    from feederopt.io.opendss import read_opendss
    from feederopt.problems.partition import build_partition_data, settings_from_file

    f = tmp_path / "s.json"
    f.write_text(json.dumps({
        "dss": {"Generator.G1": {"inverter": "gfm"}, "Generator.G3": {"inverter": "gfm"}},
        "switch": {s: {"state": "CLOSED", "dispatchable": "NO"} for s in closed}}))
    net = read_opendss(DATA / "ring.dss")
    st = settings_from_file(f, net)
    if _closes_a_loop(closed):
        with pytest.raises(InputError) as err:
            build_partition_data(net, st)
        [p] = err.value.problems
        assert p.kind == ProblemKind.NOT_RADIAL and set(p.ids) <= set(closed)
        assert _closes_a_loop(list(p.ids))  # the switches named are a loop themselves
    else:
        data = build_partition_data(net, st)
        assert sorted(s for s, k in zip(data.switch_ids, data.switch_fixed, strict=True)
                      if k == 1) == sorted(closed)


def test_a_fixed_closed_substation_switch_is_opened_with_a_note():
    from feederopt.api_partition import partition

    res = partition(str(DATA / "ring.dss"), settings=str(DATA / "subc.json"),
                    time_limit_s=60, voltage_feedback=False)
    assert "swsub" not in res.closed_switches  # the substation is lost: its switch opens
    [note] = [n for n in res.notes if "swsub" in n]
    assert note.startswith("settings not applied: switch swsub state CLOSED")
    assert "lost substation" in note


def test_a_built_in_case_s_own_fixed_substation_breaker_is_not_noted():
    """ieee13mod's own PowerModelsONM settings fix cb_101 (dispatchable NO, no state: CLOSED),
    the substation breaker the seed opens: the case's model, not a user's setting."""
    from feederopt.api_partition import partition

    own = json.loads((Path(__file__).parents[1] / "src" / "feederopt" / "cases" / "data"
                      / "opendss" / "settings.ieee13mod.json").read_text())
    assert own["switch"]["cb_101"]["dispatchable"] == "NO"
    assert "state" not in own["switch"]["cb_101"]
    res = partition("ieee13mod", time_limit_s=60, voltage_feedback=False)
    assert "cb_101" not in res.closed_switches
    assert not [n for n in res.notes if "cb_101" in n]

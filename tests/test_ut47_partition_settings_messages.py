"""The partition's settings messages of user test ut47_part #3 and #4, on ieee13mod.

#3: ``{"switch": {"632670": {"state": "OPEN"}}}`` said "settings name a switch that is not in
the network", but the case's file has ``New Line.632670`` without ``switch=y``: the message
now says it is a line without switch=y, as the dss section names a load that is no DER. The
``bus`` section's and ``partition.uncertain_loads``' "not in the network" had no hint: they
now give the nearest id or a list of the network's. #4: ``{"partition": {"k_der": 1.5}}``
printed "settings [1.5].partition.k_der", the value in the id slot.

The truth is the case's own .dss file, read as text here (not through feederopt's reader).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError

runner = CliRunner()
DSS = (Path(__file__).parents[1] / "src" / "feederopt" / "cases" / "data" / "opendss"
       / "network.ieee13mod.dss").read_text()


def _problems(tmp_path: Path, settings: dict) -> list:
    from feederopt.api_partition import partition

    f = tmp_path / "s.json"
    f.write_text(json.dumps(settings))
    with pytest.raises(InputError) as err:
        partition("ieee13mod", settings=str(f), time_limit_s=5)
    return list(err.value.problems)


def _line(name: str) -> str:
    [line] = [x for x in DSS.splitlines() if re.match(rf"New Line\.{name}\s", x)]
    return line


def test_the_file_has_the_line_without_switch_and_the_bus_675():
    assert "switch=y" not in _line("632670").lower()
    assert "switch=y" in _line("671692").lower()
    assert re.search(r"Bus1=675\b", DSS)


def test_a_line_without_switch_is_named_as_such(tmp_path):
    [p] = _problems(tmp_path, {"switch": {"632670": {"state": "OPEN"}}})
    assert p.ids == ("632670",) and p.field == "switch"
    assert "Line.632670 is a line without switch=y" in p.message
    assert "not in the network" not in p.message
    assert "switch=y" in p.hint and "671692" in p.hint  # a switch of the file


def test_an_unknown_switch_gets_the_nearest(tmp_path):
    [p] = _problems(tmp_path, {"switch": {"671692x": {"state": "OPEN"}}})
    assert "not in the network" in p.message
    assert "did you mean '671692'?" in p.hint


def test_an_unknown_bus_gets_a_hint(tmp_path):
    [p] = _problems(tmp_path, {"bus": {"6755": {"vm_lb": [0.9, 0.9, 0.9]}}})
    assert p.ids == ("6755",) and "not in the network" in p.message
    assert "did you mean '675'?" in p.hint
    # no near name: the network's buses are listed
    [p] = _problems(tmp_path, {"bus": {"zzzzzz": {"vm_lb": [0.9, 0.9, 0.9]}}})
    assert "the network's buses: " in p.hint


def test_an_unknown_uncertain_load_gets_a_hint(tmp_path):
    [p] = _problems(tmp_path, {"partition": {"uncertain_loads": ["675ax"]}})
    assert p.field == "partition.uncertain_loads" and "not in the network" in p.message
    assert "did you mean '675a'?" in p.hint  # New Load.675a of the file
    [p] = _problems(tmp_path, {"partition": {"uncertain_loads": ["zzzzzz"]}})
    assert "the network's loads: " in p.hint and "671" in p.hint  # New Load.671


def test_a_partition_field_has_no_value_in_the_id_slot(tmp_path):
    f = tmp_path / "b11.json"
    f.write_text(json.dumps({"partition": {"k_der": 1.5}}))
    res = runner.invoke(app, ["partition", "ieee13mod", "--settings", str(f)])
    assert res.exit_code == 2, res.output
    assert "settings.partition.k_der" in res.output
    assert "[1.5]" not in res.output
    assert "1.5 is not an integer" in res.output

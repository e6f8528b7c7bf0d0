"""Values in a PowerModelsONM settings file (user test: /tmp/ut/part): an inverter that is
neither grid-forming nor grid-following, a switch state that is neither OPEN nor CLOSED, a
negative voltage bound, a load that the network does not have: each a typed problem naming
the element, the field and the value (the CLI exits with code 2), never silently used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt import InputError
from feederopt.api_partition import default_settings_path
from feederopt.cases import load_three_phase
from feederopt.cli import app
from feederopt.problems.partition import settings_from_file


@pytest.fixture(scope="module")
def net():
    return load_three_phase("ieee13mod")


def _shipped() -> dict:
    path = default_settings_path("ieee13mod")
    assert path is not None
    return json.loads(Path(path).read_text())


def _bad_inverter(d: dict) -> None:
    d["dss"]["Generator.675"]["inverter"] = "MAYBE"


def _bad_state(d: dict) -> None:
    d["switch"]["801675"] = {"state": "HALF", "dispatchable": "YES"}


def _neg_bus_v(d: dict) -> None:
    d["bus"]["671"]["vm_lb"] = [-1, -1, -1]


def _unknown_load(d: dict) -> None:
    d.setdefault("load", {})["nosuch_load"] = {"clpu_factor": 2.0}


CASES = [
    (_bad_inverter, "Generator.675", "dss.inverter", "MAYBE"),
    (_bad_state, "801675", "switch.state", "HALF"),
    (_neg_bus_v, "671", "bus.vm_lb", "-1"),
    (_unknown_load, "nosuch_load", "load", "not in the network"),
]


def test_the_shipped_settings_are_valid(net) -> None:
    settings_from_file(default_settings_path("ieee13mod"), net)  # type: ignore[arg-type]


@pytest.mark.parametrize(("change", "element", "field", "value"), CASES)
def test_bad_values_are_typed_problems(tmp_path, net, change, element, field, value) -> None:
    d = _shipped()
    d.setdefault("bus", {}).setdefault("671", {"vm_lb": [2.0] * 3, "vm_ub": [2.6] * 3})
    change(d)
    f = tmp_path / "s.json"
    f.write_text(json.dumps(d))
    with pytest.raises(InputError) as err:
        settings_from_file(f, net)
    probs = err.value.problems
    assert [(p.ids, p.field) for p in probs] == [((element,), field)]
    assert value in probs[0].message
    res = CliRunner().invoke(app, ["partition", "ieee13mod", "--settings", str(f)])
    assert res.exit_code == 2, res.output
    assert element in res.output and value in res.output

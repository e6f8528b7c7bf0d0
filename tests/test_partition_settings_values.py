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


def test_null_elements_and_sections_are_typed_problems(tmp_path, net) -> None:
    """User test ut_part #3: ``{"dss": {"Generator.675": null}}`` and ``{"dss": null}`` were
    accepted (the README: fields that are not an object are a problem)."""
    from feederopt.problems.partition import read_settings

    for doc in ({"dss": {"Generator.675": None}}, {"dss": None}, {"switch": {"801675": None}}):
        path = tmp_path / "s.json"
        path.write_text(json.dumps(doc))
        with pytest.raises(InputError):
            read_settings(path, net)


def test_a_cost_only_dss_section_keeps_the_grid_forming_ders(tmp_path, net) -> None:
    """User test ut_part #2: a dss section that only prices a DER took every grid-forming DER
    away (a dss section listed them). Marks change their DERs; a section without marks
    changes none: on its own the network's flags stay, over the case's settings the case's."""
    from feederopt.problems.partition import read_settings

    flags = {r["id"] for r in net.generators.iter_rows(named=True) if r["can_grid_form"]}
    cost = tmp_path / "cost.json"
    cost.write_text(json.dumps({"dss": {"Generator.675": {"cost": [9.0, 0.0]}}}))
    alone, _ = read_settings(cost, net)
    assert alone.grid_forming is None or set(alone.grid_forming) == flags
    assert alone.costs["Generator.675"] == (9.0, 0.0)
    case, _ = read_settings(default_settings_path("ieee13mod"), net)  # type: ignore[arg-type]
    over, _ = read_settings(cost, net, case)
    assert over.grid_forming == case.grid_forming
    mark = tmp_path / "mark.json"
    mark.write_text(json.dumps({"dss": {"Storage.Battery_mg1c": {"inverter": "gfl"}}}))
    marked, _ = read_settings(mark, net, case)
    assert set(marked.grid_forming or ()) == set(case.grid_forming or ()) - {
        "Storage.battery_mg1c"}


def test_a_users_file_applies_over_a_built_in_cases_settings(tmp_path) -> None:
    """User test ut_part #1: a file giving one field (the case's own k_der) replaced the
    case's settings: another objective, without a word. Restating a field must change
    nothing, and a note says the file goes over the case's settings."""
    from feederopt.api_partition import _network_and_settings

    _, own, _, _ = _network_and_settings("ieee13mod", None, None, None, None, [])
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"partition": {"k_der": own.k_der}}))
    _, st, _, notes = _network_and_settings("ieee13mod", str(path), None, None, None, [])
    assert st == own
    assert any("applied over ieee13mod's own settings" in n for n in notes)


# ----- the hints of a bad value and of a file that is no settings object (nits #3) ---------
def _problem(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    """The one problem of a settings file holding ``text``, and the CLI's output for it."""
    from feederopt.problems.partition import read_settings

    f = tmp_path / "s.json"
    f.write_text(text)
    with pytest.raises(InputError) as err:
        read_settings(f, load_three_phase("ieee13mod"))
    (p,) = err.value.problems
    res = CliRunner().invoke(app, ["partition", "ieee13mod", "--settings", str(f)])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    return p, " ".join(res.output.split())


def test_a_bad_switch_state_hint_names_the_values_allowed(tmp_path) -> None:
    p, out = _problem(tmp_path, '{"switch": {"801675": {"state": "HALFOPEN"}}}')
    assert (p.ids, p.field) == (("801675",), "switch.state")
    assert "OPEN, CLOSED" in p.hint and '{"switch": {"801675": {"state": "OPEN"}}}' in p.hint
    assert "(hint: the switch section's state takes OPEN, CLOSED" in out


def test_malformed_json_hint_gives_the_parsers_line_and_column(tmp_path) -> None:
    # the comma after line 2 is missing: the parser stops at line 3, column 3 (the quote of
    # "switch", after two spaces), counted by hand
    p, out = _problem(tmp_path, '{\n  "partition": {"k_der": 1}\n  "switch": {}\n}\n')
    assert p.kind.value == "unreadable_file"
    assert "at line 3, column 3" in p.hint and "missing comma" in p.hint
    assert "(hint: at line 3, column 3" in out


def test_an_empty_file_and_a_list_say_what_a_settings_file_is(tmp_path) -> None:
    p, _ = _problem(tmp_path, "")
    assert "the file is empty" in p.hint and '"partition": {"k_der": 1}' in p.hint
    p, _ = _problem(tmp_path, "[1, 2]")
    assert "not a list" in p.message and '"partition": {"k_der": 1}' in p.hint

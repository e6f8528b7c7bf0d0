"""The sections of a PowerModelsONM settings file beyond those ``feederopt partition`` read
before (``dss``, ``switch``, ``bus``, ``load``, ``partition``): ``line``, ``transformer``,
``voltage_source``, ``generator`` / ``solar`` / ``storage``, ``shunt``, ``settings``,
``options``, ``solvers`` and the deprecated top-level options were silently ignored, and a
misspelt section ('swich') with them. Now what the partition model applies is applied (a
switch's ``status`` DISABLED opens it; ``dispatchable`` 0/1; a storage's ``inverter``), what it
does not apply is a note in the result and on the console naming the section, the fields and
the elements, and invalid content (an unknown section, element or partition key, a status
outside the schema's) is a typed problem: the CLI exits with code 2.

The section and field names are PowerModelsONM's (schemas/input-settings.schema.json and
schemas/settings/*.schema.json of lanl-ansi/PowerModelsONM.jl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt import InputError, partition
from feederopt.api_partition import default_settings_path
from feederopt.cases import load_three_phase
from feederopt.cli import app
from feederopt.problems.partition import build_partition_data, settings_from_file

runner = CliRunner()


@pytest.fixture(scope="module")
def net():
    return load_three_phase("ieee13mod")


def _shipped() -> dict:
    path = default_settings_path("ieee13mod")
    assert path is not None
    return json.loads(Path(path).read_text())


def _write(tmp_path: Path, d: dict, name: str = "s.json") -> Path:
    f = tmp_path / name
    f.write_text(json.dumps(d))
    return f


def _notes_naming(notes: list[str], *words: str) -> list[str]:
    return [n for n in notes if all(w in n for w in words)]


# ---- what is applied --------------------------------------------------------------------


def test_a_disabled_switch_is_open(net, tmp_path) -> None:
    # 800801 can be closed (fixed closed, the plan keeps it so and holds); since ut32_part
    # the free plan leaves it open (it would only energise the load-free 800aux/800); a switch
    # whose status is DISABLED conducts nothing, so the plan must keep it open
    closed = _shipped()
    closed["switch"]["800801"].update({"state": "CLOSED", "dispatchable": "NO"})
    base = partition("ieee13mod", settings=_write(tmp_path, closed), time_limit_s=60)
    assert "800801" in base.closed_switches and not base.violations
    d = _shipped()
    d["switch"]["800801"]["status"] = "DISABLED"
    f = _write(tmp_path, d)
    st = settings_from_file(f, net)
    assert "800801" in st.fixed_open
    data = build_partition_data(net, st)
    assert data.switch_fixed[data.switch_ids.index("800801")] == 0
    res = partition("ieee13mod", settings=f, time_limit_s=60)
    assert "800801" not in res.closed_switches
    assert not res.violations


def test_dispatchable_0_fixes_a_switch_as_the_schema_allows(net, tmp_path) -> None:
    # PowerModelsONM's switch schema allows dispatchable 0/1 as well as NO/YES
    d = _shipped()
    d["switch"]["800801"].update({"state": "OPEN", "dispatchable": 0})
    st = settings_from_file(_write(tmp_path, d), net)
    assert "800801" in st.fixed_open and "800801" not in st.fixed_closed


def test_a_storage_sections_inverter_is_applied_and_dss_wins(net, tmp_path) -> None:
    # the network (with the shipped settings) has battery_mg1c grid-forming
    st0 = settings_from_file(_write(tmp_path, {}, "empty.json"), net)
    data0 = build_partition_data(net, st0)
    assert data0.der_gf[data0.der_ids.index("Storage.battery_mg1c")]
    st = settings_from_file(_write(tmp_path, {"storage": {
        "battery_mg1c": {"inverter": "GRID_FOLLOWING"}}}), net)
    data = build_partition_data(net, st)
    gf = dict(zip(data.der_ids, data.der_gf, strict=True))
    assert not gf["Storage.battery_mg1c"]
    assert gf["Storage.battery_mg1a"] and gf["Generator.675"]  # the others keep theirs
    # the dss section names the element by its OpenDSS name and wins (PowerModelsONM merges
    # it last)
    d = {"dss": {"Storage.battery_mg1c": {"inverter": "gfm"}},
         "storage": {"battery_mg1c": {"inverter": "GRID_FOLLOWING"}}}
    st = settings_from_file(_write(tmp_path, d, "both.json"), net)
    assert st.grid_forming == ("Storage.battery_mg1c",)


# ---- what is not applied is said -------------------------------------------------------------


def test_the_shipped_settings_name_what_is_not_applied(tmp_path) -> None:
    res = partition("ieee13mod", time_limit_s=60)
    notes = res.notes
    line = _notes_naming(notes, "not applied", "line", "vad_lb", "vad_ub")
    assert line and "632670" in line[0], notes
    assert _notes_naming(notes, "not applied", "voltage_source", "pg_lb", "source")
    assert _notes_naming(notes, "not applied", "load", "clpu_factor", "634a")
    assert _notes_naming(notes, "not applied", "switch", "cm_ub", "801675", "800801")
    assert _notes_naming(notes, "not applied", "transformer", "sm_ub", "xfm1")
    assert _notes_naming(notes, "not applied", "bus", "microgrid_id")
    assert _notes_naming(notes, "not applied", "options", "constraints", "objective")
    assert _notes_naming(notes, "not applied", "solvers", "HiGHS")
    assert _notes_naming(notes, "not applied", "settings", "sbase_default")
    # what agrees with the model is not worth a note: the buses' vm_lb/vm_ub are 0.9/1.1 of
    # their phase voltage, the network's limits; switch state/status are applied; cm_ub
    # [null, null, null] bounds nothing
    assert not _notes_naming(notes, "vm_lb") and not _notes_naming(notes, "vm_ub")
    assert not _notes_naming(notes, "switch", "status")
    assert not _notes_naming(notes, "line", "cm_ub")
    # the notes are in the result's JSON and on the console
    assert res.to_dict()["notes"] == notes
    out = runner.invoke(app, ["partition", "ieee13mod", "--time-limit", "60"])
    assert out.exit_code == 0, out.output
    assert "note: settings not applied: line vad_" in out.output


def test_a_status_the_model_does_not_apply_is_said(tmp_path) -> None:
    # a line's / load's in-service state comes from the .dss file; a DISABLED status that
    # disagrees is named, with the elements, not silently dropped
    d = {"line": {"632670": {"status": "DISABLED"}, "670671": {"status": "ENABLED"}},
         "load": {"671": {"status": 0, "priority": 5}},
         "dss": {"PVSystem.pv_mg1a": {"enabled": "no", "inverter": "gfl"},
                 "Storage.battery_mg1a": {"inverter": "gfm"}},
         "transformer": {"bank9": {"sm_ub": 10.0}},
         "time_elapsed": [1.0]}
    res = partition("ieee13mod", settings=_write(tmp_path, d), time_limit_s=60)
    notes = res.notes
    line = _notes_naming(notes, "not applied", "line", "status")
    assert len(line) == 1 and "632670" in line[0] and "670671" not in line[0], notes
    assert _notes_naming(notes, "not applied", "load", "status", "671")
    assert _notes_naming(notes, "not applied", "load", "priority", "671")
    assert _notes_naming(notes, "not applied", "dss", "enabled", "PVSystem.pv_mg1a")
    assert _notes_naming(notes, "not applied", "time_elapsed", "deprecated")
    # PowerModelsONM names a transformer bank by its bank= name, which the network does not
    # keep: an unknown transformer is noted with the section (nothing of it is applied)
    assert _notes_naming(notes, "not applied", "transformer", "sm_ub", "bank9")
    assert not _notes_naming(notes, "not applied", "inverter")  # applied


# ---- invalid content is a typed problem ------------------------------------------------------


def _typo_section(d: dict) -> None:
    d["swich"] = {"801675": {"state": "OPEN", "dispatchable": "NO"}}


def _line_status(d: dict) -> None:
    d["line"]["632670"]["status"] = "OFF"


def _unknown_shunt(d: dict) -> None:
    d["shunt"]["nosuch_cap"] = {"status": "ENABLED"}


def _storage_inverter(d: dict) -> None:
    d["storage"]["battery_mg1a"]["inverter"] = "MAYBE"


def _unknown_storage(d: dict) -> None:
    d["storage"]["nosuch_battery"] = {"inverter": "GRID_FORMING"}


def _dss_enabled(d: dict) -> None:
    d["dss"]["Generator.675"]["enabled"] = "perhaps"


def _switch_not_an_object(d: dict) -> None:
    d["switch"]["801675"] = "OPEN"


def _partition_typo(d: dict) -> None:
    d["partition"] = {"kder": 2}


def _partition_type(d: dict) -> None:
    d["partition"] = {"k_der": "two"}


CASES = [
    (_typo_section, "swich", "swich", "did you mean 'switch'"),
    (_line_status, "632670", "line.status", "OFF"),
    (_unknown_shunt, "nosuch_cap", "shunt", "not in the network"),
    (_storage_inverter, "battery_mg1a", "storage.inverter", "MAYBE"),
    (_unknown_storage, "nosuch_battery", "storage", "not in the network"),
    (_dss_enabled, "Generator.675", "dss.enabled", "perhaps"),
    (_switch_not_an_object, "801675", "switch", "OPEN"),
    (_partition_typo, "kder", "partition", "did you mean 'k_der'"),
    # a field of the partition section has no element: its id slot stays empty, the value is
    # in the message (user test ut47_part #4: "settings [1.5].partition.k_der")
    (_partition_type, None, "partition.k_der", "two"),
]


@pytest.mark.parametrize(("change", "element", "field", "text"), CASES,
                         ids=[c[0].__name__.strip("_") for c in CASES])
def test_bad_content_is_a_typed_problem(tmp_path, net, change, element, field, text) -> None:
    d = _shipped()
    change(d)
    f = _write(tmp_path, d)
    with pytest.raises(InputError) as err:
        settings_from_file(f, net)
    probs = err.value.problems
    ids = () if element is None else (element,)
    assert [(p.ids, p.field) for p in probs] == [(ids, field)]
    assert text in probs[0].message + (probs[0].hint or "")
    res = runner.invoke(app, ["partition", "ieee13mod", "--settings", str(f)])
    assert res.exit_code == 2, res.output
    assert (element or "") in res.output and text in res.output

"""Typed errors without a hint, and `check` on an unknown kind or another network's result
(user test ut35_errs).

The project's rule: an error names the component, the field and the id, echoes the value
given and says how to fix it. The truth each test asserts is the input it wrote (the value
echoed, the share meant: 50 % is 0.5, 95 % is 0.95), the defaults of ``PlanSettings`` as the
seed gives them (H = 2 lines, C^g = 1.5 $/kW, VOLL 14 $/kW) and Baran & Wu's published tie
switches of the 33-bus feeder (branch 33 joins buses 8 and 21, 37 joins 25 and 29).

1. ``plan --scenarios``: ``broken`` that is no list, a duplicate scenario name, a probability
   that is no number, no scenario at all, a probability in percent; ``plan --harden-budget
   -1``, ``--voll -1``, ``--dg-cost -1`` had no hint (``restore``'s equivalents had one).
2. ``schedule --devices``: a device id in two tables, ``2MW`` or ``nan`` as a rating, a
   negative energy, ``soc0 = 50``, ``eta_ch = 95``, a PV ``deviation = 20`` (percentages for
   shares); profile rows with ``nan`` or two values for one hour.
3. ``solve --scenarios`` with ``kind = feeder``: the problem named the value as if it were a
   scenario or element (``scenarios [feeder].kind``).
4. ``check`` of a result of kind ``banana`` checked it as a solve result (exit 0); ``check
   RESULT --case case69bw`` of a case33bw result said "not radial: the closed branches form a
   loop" without saying that the network given is another one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.api_schedule import schedule_inputs
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError, Problem, ProblemKind, share_hint
from feederopt.io.disasters import read_disasters
from feederopt.io.scenarios import load_scenarios
from feederopt.network.timeseries import DeviceKind

RUNNER = CliRunner()


def _text(output: str) -> str:
    return " ".join(output.split())  # the console wraps long lines


def _problems(call, *args, **kw) -> list[Problem]:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as err:
        call(*args, **kw)
    return list(err.value.problems)


# ----- 1. disaster scenarios and plan settings ----------------------------------------------
@pytest.fixture(scope="module")
def zhang13() -> feederopt.Network:
    return feederopt.load("zhang13")


def _disasters(tmp_path: Path, net: feederopt.Network, name: str, text: str) -> Problem:
    path = tmp_path / name
    path.write_text(text)
    (p,) = _problems(read_disasters, path, net)
    assert p.kind is ProblemKind.BAD_SCENARIO and p.component == "disasters"
    return p


def test_broken_as_text_gets_the_json_list_meant(tmp_path: Path, zhang13) -> None:
    p = _disasters(tmp_path, zhang13, "s.json", json.dumps(
        {"scenarios": [{"name": "A", "probability": 1.0, "broken": "2,11"}]}))
    assert (p.ids, p.field) == (("A",), "broken")
    assert "'2,11'" in p.message  # the value given
    assert '"broken": ["2", "11"]' in p.hint  # the list meant


def test_duplicate_scenario_name_says_which_and_how(tmp_path: Path, zhang13) -> None:
    p = _disasters(tmp_path, zhang13, "s.json", json.dumps({"scenarios": [
        {"name": "A", "probability": 0.5, "broken": ["2"]},
        {"name": "A", "probability": 0.5, "broken": ["5"]}]}))
    assert (p.ids, p.field) == (("A",), "name")
    assert "scenarios 1 and 2" in p.message
    assert "own name" in p.hint


@pytest.mark.parametrize(("value", "echoed"), [('"high"', "not 'high'"), ("NaN", "not NaN"),
                                               ("-0.5", "not -0.5")])
def test_bad_probability_echoes_the_value(tmp_path: Path, zhang13, value: str,
                                          echoed: str) -> None:
    p = _disasters(tmp_path, zhang13, "s.json", '{"scenarios": [{"name": "A", "probability": '
                   + value + ', "broken": ["2"]}]}')
    assert p.field == "probability" and echoed in p.message
    assert "within 0..1" in p.hint


def test_probability_in_percent_gets_the_share_meant(tmp_path: Path, zhang13) -> None:
    path = tmp_path / "pct.csv"
    path.write_text("name,probability,broken\nA,90,2;11\nC,10,2;5\n")
    hints = {p.ids: p.hint for p in _problems(read_disasters, path, zhang13)}
    assert "90 looks like a percentage" in hints[("A",)] and "write 0.9 for 90 %" in hints[("A",)]
    assert "write 0.1 for 10 %" in hints[("C",)]


@pytest.mark.parametrize(("name", "text", "example"), [
    ("e.json", '{"scenarios": []}', '{"scenarios": [{"name": "A", "probability": 1.0'),
    ("e.csv", "name,probability,broken\n", "header name,probability,broken"),
    ("blank.csv", "", "header name,probability,broken"),
])
def test_no_scenario_shows_one_in_the_files_format(tmp_path: Path, zhang13, name: str,
                                                   text: str, example: str) -> None:
    p = _disasters(tmp_path, zhang13, name, text)
    assert p.message == "no scenario given" and example in p.hint


def test_plan_cli_exits_2_with_the_hint(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"scenarios": [{"name": "A", "probability": 1.0,
                                               "broken": "2,11"}]}))
    r = RUNNER.invoke(app, ["plan", "zhang13", "--scenarios", str(path), "--no-measures",
                            "--time-limit", "30"])
    assert r.exit_code == 2, r.output
    assert '"broken": ["2", "11"]' in _text(r.output) and "Traceback" not in r.output


@pytest.mark.parametrize(("option", "field", "example", "keyword"), [
    ("--harden-budget", "harden_budget", "--harden-budget 2", "harden_budget=2"),
    ("--voll", "voll", "--voll 14", "voll=14"),
    ("--dg-cost", "dg_cost_per_kw", "--dg-cost 1.5", "dg_cost_per_kw=1.5"),
])
def test_negative_plan_settings_have_a_hint(option: str, field: str, example: str,
                                            keyword: str) -> None:
    r = RUNNER.invoke(app, ["plan", "zhang13", "--broken", "2", option, "-1",
                            "--time-limit", "30"])
    assert r.exit_code == 2, r.output
    text = _text(r.output)
    assert f"options.{field}" in text and "(hint: " in text and example in text
    # from Python, the keyword (ut40_recheck_b #1; the flag before)
    (p,) = feederopt.plan_settings(**{field: -1}).problems()
    assert p.field == field and keyword in p.hint and "--" not in p.hint


# ----- 2. schedule device tables and profiles -----------------------------------------------
def _devices(tmp_path: Path) -> Path:
    folder, _ = schedule_paths("case33bw")
    dev = tmp_path / "dev"
    dev.mkdir()
    for k in DeviceKind:
        if (folder / f"{k.value}.csv").is_file():
            shutil.copy(folder / f"{k.value}.csv", dev / f"{k.value}.csv")
    return dev


def _set(dev: Path, table: str, device: str, column: str, value: str) -> None:
    df = pl.read_csv(dev / f"{table}.csv", infer_schema_length=0)
    df.with_columns(pl.when(pl.col("id") == device).then(pl.lit(value))
                    .otherwise(pl.col(column)).alias(column)).write_csv(dev / f"{table}.csv")


@pytest.mark.parametrize(("table", "device", "column", "value", "message", "hint"), [
    ("dg", "DG6", "p_max_mw", "2MW", "not a number (DG6: '2MW')", "'2MW' -> 2"),
    ("dg", "DG6", "p_max_mw", "nan", "not a finite number (DG6: nan)", "power rating in MW"),
    ("ess", "ESS6", "e_max_mwh", "-1", "negative value (ESS6: -1)", "must be >= 0"),
    ("ess", "ESS6", "soc0", "50", "(ESS6: 50)", "50 looks like a percentage"),
    ("ess", "ESS6", "eta_ch", "95", "(ESS6: 95)", "write 0.95 for 95 %"),
    ("pv", "PV10", "deviation", "20", "(PV10: 20)", "write 0.2 for 20 %"),
])
def test_device_values_are_echoed_with_a_hint(tmp_path: Path, table: str, device: str,
                                              column: str, value: str, message: str,
                                              hint: str) -> None:
    dev = _devices(tmp_path)
    _set(dev, table, device, column, value)
    (p,) = _problems(schedule_inputs, "case33bw", devices=dev, hours=2)
    assert (p.component, p.ids, p.field) == (f"devices.{table}", (device,), column)
    assert message in p.message and hint in p.hint


def test_soc0_in_percent_is_refused_by_the_cli_with_the_share(tmp_path: Path) -> None:
    dev = _devices(tmp_path)
    _set(dev, "ess", "ESS6", "soc0", "50")
    _, profiles = schedule_paths("case33bw")
    r = RUNNER.invoke(app, ["schedule", "case33bw", "--devices", str(dev), "--profiles",
                            str(profiles), "--hours", "2", "--time-limit", "60"])
    assert r.exit_code == 2, r.output
    assert "write 0.5 for 50 %" in _text(r.output) and "Traceback" not in r.output


def test_a_device_id_in_two_tables_names_them(tmp_path: Path) -> None:
    dev = _devices(tmp_path)
    _set(dev, "pv", "PV10", "id", "DG6")
    (p,) = _problems(schedule_inputs, "case33bw", devices=dev, hours=2)
    assert (p.kind, p.ids, p.field) == (ProblemKind.DUPLICATE_ID, ("DG6",), "id")
    assert "DG6 is in dg, pv" in p.message and "own id" in p.hint


def _profile(tmp_path: Path, extra: list[str], drop: tuple[str, str] | None = None) -> Path:
    _, prof = schedule_paths("case33bw")
    rows = prof.read_text().splitlines()
    rows = [r for r in rows if drop is None or r.split(",")[:2] != list(drop)]
    path = tmp_path / "p.csv"
    path.write_text("\n".join(rows + extra) + "\n")
    return path


def test_profile_value_that_is_no_number_is_echoed(tmp_path: Path) -> None:
    path = _profile(tmp_path, ["1,2,lots"], drop=("1", "2"))
    (p,) = _problems(schedule_inputs, "case33bw", profiles=path, hours=2)
    assert (p.ids, p.field) == (("2@1",), "value")
    assert "2@1 = 'lots'" in p.message and "give every row a number" in p.hint


def test_two_values_for_one_hour_are_echoed(tmp_path: Path) -> None:
    path = _profile(tmp_path, ["0,2,0.5", "0,2,0.25"], drop=("0", "2"))
    (p,) = _problems(schedule_inputs, "case33bw", profiles=path, hours=2)
    assert (p.ids, p.field) == (("2@0",), "time")
    assert "2@0 = 0.5, 0.25" in p.message and "one row per element and hour" in p.hint


def test_share_hint_reads_a_percentage() -> None:
    assert share_hint(50, "soc0 is a share").endswith("write 0.5 for 50 %")
    assert "looks like a percentage" not in share_hint(150, "soc0 is a share")


# ----- 3. the kind of a scenario row --------------------------------------------------------
def test_bad_scenario_kind_names_the_row_and_echoes_the_value(tmp_path: Path) -> None:
    net = feederopt.load("case33bw")
    table = pl.DataFrame({"scenario": ["s0", "s0"], "kind": ["load", "feeder"],
                          "element": ["2", "7"], "p_mw": [0.1, 0.2], "q_mvar": [0.05, 0.1],
                          "weight": [1.0, 1.0]})
    (p,) = _problems(load_scenarios, net, table)
    assert p.field == "kind" and p.ids == ("row 2 (scenario s0, element 7: kind 'feeder')",)
    assert "load (the row replaces a load's demand)" in p.hint
    path = tmp_path / "s.csv"
    table.write_csv(path)
    r = RUNNER.invoke(app, ["solve", "case33bw", "--scenarios", str(path), "--time-limit", "30"])
    assert r.exit_code == 2, r.output
    assert "element 7: kind 'feeder'" in _text(r.output)


# ----- 4. check: an unknown kind, another network -------------------------------------------
#: case33bw's published optimum (Baran & Wu; branches 7, 9, 14, 32 and 37 open) and its tie
#: switches, as `feederopt solve --json` writes them: (id, from bus, to bus).
OPEN = [("7", "7", "8"), ("9", "9", "10"), ("14", "14", "15"), ("32", "32", "33"),
        ("37", "25", "29")]
TIES = [("33", "21", "8"), ("34", "9", "15"), ("35", "12", "22"), ("36", "18", "33"),
        ("37", "25", "29")]


def _result(tmp_path: Path, kind: str = "solve", opened: list = OPEN) -> Path:  # type: ignore[type-arg]
    def rows(xs: list) -> list:  # type: ignore[type-arg]
        return [{"id": i, "from_bus": f, "to_bus": t} for i, f, t in xs]

    path = tmp_path / f"{kind}.json"
    path.write_text(json.dumps({
        "kind": kind, "schema_version": 1, "case": "case33bw", "source": "case33bw",
        "method": "benders", "status": "optimal", "open_branches": rows(opened),
        "base": {"open_branches": rows(TIES)}}))
    return path


def test_check_refuses_an_unknown_kind(tmp_path: Path) -> None:
    r = RUNNER.invoke(app, ["check", str(_result(tmp_path, "banana")), "-n", "2", "-u", "0.1",
                            "--no-ac-check"])
    assert r.exit_code == 2, r.output  # before: checked as a solve result, exit 0
    text = _text(r.output)
    assert "kind is 'banana'" in text and "solve, three_phase_solve, partition, schedule" in text
    data = json.loads(_result(tmp_path, "banana").read_text())
    (p,) = _problems(feederopt.check_result, data, 2, 0.1, ac=False)
    assert p.field == "kind"
    # a kind that is no name (a list) is refused alike (before: TypeError, unhashable)
    path = tmp_path / "listed.json"
    path.write_text(json.dumps({**data, "kind": ["x"]}))
    r = RUNNER.invoke(app, ["check", str(path), "-n", "2", "-u", "0.1", "--no-ac-check"])
    assert r.exit_code == 2 and "kind is ['x']" in _text(r.output), r.output


def test_check_on_another_case_says_so_first(tmp_path: Path) -> None:
    r = RUNNER.invoke(app, ["check", str(_result(tmp_path)), "-n", "2", "-u", "0.1",
                            "--no-ac-check", "--case", "case69bw"])
    assert r.exit_code == 2, r.output
    text = _text(r.output)
    first = text.index("not the one the result was solved on")
    assert first < text.index("not radial")  # the cause before its consequence
    assert "'case33bw'" in text and "'case69bw'" in text
    assert "branch 33 joins buses 21-8 in the result" in text  # Baran & Wu's tie 8-21


def test_check_on_a_copy_under_another_name(tmp_path: Path) -> None:
    folder = tmp_path / "net33"
    feederopt.io.write_folder(feederopt.load("case33bw"), folder, fmt="csv")
    # the right network under another name: checked, with a note naming both
    ok = feederopt.check_result(json.loads(_result(tmp_path).read_text()), 2, 0.1, ac=False,
                                network=feederopt.load(str(folder)))
    (note,) = ok.notes
    assert "may not be the one" in note and "'case33bw'" in note and str(folder) in note
    # a topology that fails on it: the other name first, then the loop (37 left closed)
    bad = json.loads(_result(tmp_path, opened=OPEN[:4]).read_text())
    first, second = _problems(feederopt.check_result, bad, 2, 0.1, ac=False,
                              network=feederopt.load(str(folder)))
    assert first.field == "source" and second.kind is ProblemKind.NOT_RADIAL
    # the result's own network: no note
    assert feederopt.check_result(json.loads(_result(tmp_path).read_text()), 2, 0.1,
                                  ac=False, network=feederopt.load("case33bw")).notes == []

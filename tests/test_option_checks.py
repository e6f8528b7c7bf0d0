"""Option checks of ``partition``, ``restore``, ``plan``, ``schedule`` and ``check`` (audit A9,
A10, B1, B2, B4, B6, B7, B12): every bad option is a typed problem naming it, reported before
any solving with exit code 2, and the valid call still works.

The refusals are fast (nothing is solved); the few valid calls are small (zhang13, ieee13mod,
case33bw over one or two hours).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt import InputError, ProblemKind
from feederopt.api_partition import option_problems, partition
from feederopt.api_resilience import plan, plan_problems, restore, restore_problems
from feederopt.api_schedule import (
    ScheduleSettings,
    check_schedule_problems,
    run_problems,
    schedule,
)
from feederopt.cli import app
from feederopt.options import WORKERS_PER_CORE
from feederopt.problems.schedule import settings_problems

runner = CliRunner()
TOO_MANY = str(WORKERS_PER_CORE * (os.cpu_count() or 1) + 1)


def _fields(problems: list) -> list[str | None]:  # type: ignore[type-arg]
    return [p.field for p in problems]


def _refused(args: list[str], *fields: str, kind: ProblemKind = ProblemKind.INVALID_VALUE,
             text: str = "") -> str:
    """The command exits 2 with one problem per field in ``fields`` (and nothing solved)."""
    r = runner.invoke(app, args)
    assert r.exit_code == 2, (args, r.output)
    assert "Traceback" not in r.output
    if fields:
        n = len(fields)
        assert f"{n} problem{'s' if n != 1 else ''} in the input" in r.output, r.output
    for f in fields:
        # an output option reads "output --json 'PATH'", any other field "component.field:"
        assert f".{f}:" in r.output or f"output --{f} '" in r.output, (f, r.output)
    assert kind.value in r.output
    assert text in r.output, r.output
    return r.output


# ----- partition (A9, B6) -----------------------------------------------------------------
@pytest.mark.parametrize(("args", "field"), [
    (["--time-limit", "-1"], "time_limit"),
    (["--time-limit", "0"], "time_limit"),
    (["--workers", "0"], "workers"),
    (["--workers", TOO_MANY], "workers"),
    (["--extensive", "--workers", "2"], "workers"),
    (["--samples", "-1"], "samples"),
    (["--no-ac-check"], "ac_check"),
])
def test_partition_refuses_bad_run_options(args: list[str], field: str) -> None:
    _refused(["partition", "ieee37mod", *args], field)


def test_partition_reports_all_problems_at_once_with_the_json_path(tmp_path: Path) -> None:
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    out = _refused(["partition", "ieee13mod", "--workers", "0", "--time-limit", "-1",
                    "--k-der", "0", "--json", str(taken)], "workers", "time_limit", "k_der",
                   "json")
    assert "output_exists" in out
    assert _fields(option_problems(workers=0, time_limit_s=-1.0)) == ["workers", "time_limit"]
    assert option_problems(workers=1, time_limit_s=float("inf")) == []  # no limit
    with pytest.raises(InputError) as err:
        partition("ieee13mod", time_limit_s=float("nan"), k_der=0)
    # the option as the caller gave it (ut48_pyapi #7)
    assert _fields(list(err.value.problems)) == ["time_limit_s", "k_der"]


def test_partition_of_a_single_phase_case_says_it_needs_a_three_phase_feeder() -> None:
    out = _refused(["partition", "case33bw"], kind=ProblemKind.UNKNOWN_CASE,
                   text="partition needs a three-phase (OpenDSS) feeder")
    assert "'case33bw' is a single-phase case" in out and "no such file" not in out
    out = _refused(["partition", "no_such_case"], kind=ProblemKind.UNKNOWN_CASE,
                   text="neither a three-phase case")
    assert "ieee37mod" in out


def test_partition_single_phase_folder(tmp_path: Path) -> None:
    from feederopt import load
    from feederopt.io.folder import write_folder

    path = write_folder(load("case33bw"), tmp_path / "tab33", fmt="csv")
    _refused(["partition", str(path)], kind=ProblemKind.UNKNOWN_FILE_TYPE,
             text="is a single-phase network")


def test_partition_valid_call_still_works(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    r = runner.invoke(app, ["partition", "ieee13mod", "--uncertainty", "0.2",
                            "--uncertain-loads", "801,703", "--workers", "1", "--time-limit",
                            "120", "--json", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["violations"] == []


# ----- restore and plan (A9, A10, B12) -----------------------------------------------------
@pytest.mark.parametrize(("args", "field"), [
    (["restore", "zhang13", "--broken", "2", "--time-limit", "-1"], "time_limit"),
    (["restore", "zhang13", "--broken", " , "], "broken"),
    (["restore", "zhang13", "--broken", "2", "--dg-size", "50"], "dg_p_max_kw"),
    (["plan", "zhang13", "--scenarios", "A_C_p1", "--time-limit", "-1"], "time_limit"),
    (["plan", "zhang13", "--scenarios", "A_C_p1", "--method", "lshaped", "--workers",
      TOO_MANY], "workers"),
    (["plan", "zhang13", "--scenarios", "A_C_p1", "--method", "lshaped", "--workers", "0"],
     "workers"),
    (["plan", "zhang13", "--broken", ""], "broken"),
])
def test_resilience_refuses_bad_options(args: list[str], field: str) -> None:
    _refused(args, field)


def test_resilience_problems_all_at_once(tmp_path: Path) -> None:
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    _refused(["restore", "zhang13", "--broken", " , ", "--time-limit", "0", "--json",
              str(taken)], "broken", "time_limit", "json")
    assert _fields(restore_problems([""], time_limit_s=-1.0, dg_p_max_kw=-5.0)) == [
        "broken", "dg_p_max_kw", "time_limit"]
    assert restore_problems(["2"], time_limit_s=None) == []  # no limit
    assert _fields(plan_problems(scenarios="A_C_p1", method="lshaped", gap=1.0,
                                 time_limit_s=0.0)) == ["gap", "time_limit"]
    with pytest.raises(InputError) as err:
        plan("zhang13", scenarios="A_C_p1", method="lshaped", workers=0, time_limit_s=-1)
    assert _fields(list(err.value.problems)) == ["workers", "time_limit_s"]  # as given
    with pytest.raises(InputError):
        restore("zhang13", [""])  # only an empty entry; [] is no broken line


def test_resilience_valid_calls_still_work() -> None:
    r = runner.invoke(app, ["restore", "zhang13", "--broken", "2,11,15", "--dg-sites", "12",
                            "--dg-size", "50", "--time-limit", "60", "-q"])
    # valid options are taken (no exit 2); since resverdict, restore exits 4 when its own AC
    # check breaks a limit (zhang13 with these breaks does)
    assert r.exit_code in (0, 4) and "Traceback" not in r.output, r.output
    assert restore("zhang13", ["2", "11", "15"], time_limit_s=60).shed_kw == pytest.approx(471.0)
    res = plan("zhang13", scenarios="A_C_p1", method="lshaped", workers=1, measures=False,
               time_limit_s=120)
    assert res.status == "optimal"


# ----- schedule (A10, B4, B7) --------------------------------------------------------------
SCHED = ["schedule", "case33bw", "--hours", "2", "--no-ac-check"]


@pytest.mark.parametrize(("args", "field"), [
    (["--time-limit", "-1"], "time_limit"),
    (["--gap", "2", "--robust-budget", "2"], "gap"),
    (["--gap", "1", "--robust-budget", "2"], "gap"),
    (["--gap", "-0.1"], "gap"),
    (["--samples", "-5"], "samples"),
    (["--samples", "5"], "samples"),  # no budget set to draw from
    (["--switch-cost", "5"], "c_switch"),
    (["--gamma", "0.3"], "gamma"),
    (["--robust-budget", "0,1", "--gamma", "0.3"], "gamma"),
    (["--robust-budget", "1", "--gamma", "0"], "budget"),
    (["--uncertain-buses", "5"], "uncertain_buses"),
    (["--deterministic"], "deterministic"),
])
def test_schedule_refuses_bad_or_idle_options(args: list[str], field: str) -> None:
    out = _refused([*SCHED, *args], field)
    if field == "c_switch":
        assert "--hourly-topology" in out
    if field == "gamma":
        assert "--robust-budget" in out


def test_schedule_bad_hours_reports_only_the_hours() -> None:
    out = _refused(["schedule", "case33bw", "--hours", "-2"], "hours")
    assert "budget" not in out
    assert _fields(settings_problems(ScheduleSettings(hours=0, budget=3.0, gamma=0.1))) == [
        "hours"]
    # with a valid horizon the budget is checked against it
    assert _fields(settings_problems(ScheduleSettings(hours=2, budget=3.0, gamma=0.1))) == [
        "budget"]


def test_schedule_problems_at_once_with_the_json_path(tmp_path: Path) -> None:
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    _refused([*SCHED, "--gap", "2", "--switch-cost", "1", "--json", str(taken)], "json", "gap",
             "c_switch")
    st = ScheduleSettings(hours=2, gamma=0.1, budget=1.0)
    assert _fields(run_problems(st, time_limit_s=0.0, gap=float("nan"), samples=-1)) == [
        "time_limit", "gap", "samples"]
    assert run_problems(st, samples=3, deterministic=True) == []
    with pytest.raises(InputError) as err:
        schedule("case33bw", hours=2, c_switch=5.0, time_limit_s=-1)
    assert _fields(list(err.value.problems)) == ["c_switch", "time_limit_s"]  # as given


def test_schedule_valid_calls_still_work(schedules: dict[str, Path]) -> None:
    """The valid robust-budget call (``--robust-budget 1 --gamma 0.1 --deterministic``) is the
    module's ``set`` schedule (run once, exit 0 asserted there); here its settings are read
    back: the options given are the ones it ran with."""
    r = runner.invoke(app, [*SCHED, "--hourly-topology", "--switch-cost", "5", "--gap", "0.01",
                            "--time-limit", "120", "-q"])
    assert r.exit_code == 0, r.output
    doc = json.loads(schedules["set"].read_text())
    assert doc["method"] == "deterministic"
    assert doc["settings"]["gamma"] == 0.1 and doc["settings"]["budget"] == 1.0


@pytest.fixture(scope="module")
def schedules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two valid schedules, run once for the module: ``det`` (no budget set) and ``set`` (a
    budget set, solved deterministically; also the valid call of
    :func:`test_schedule_valid_calls_still_work`)."""
    d = tmp_path_factory.mktemp("sched")
    out = {"det": d / "det.json", "set": d / "set.json"}
    for name, extra in (("det", ["--dsm", "0.1"]),
                        ("set", ["--robust-budget", "1", "--gamma", "0.1", "--deterministic",
                                 "--time-limit", "120"])):
        r = runner.invoke(app, [*SCHED, *extra, "--json", str(out[name]), "-q"])
        assert r.exit_code == 0, r.output
    return out


# ----- check of a schedule result (B1, B2) and of a three-phase result (B12) ----------------


def test_check_schedule_refuses_options_of_other_results(schedules: dict[str, Path],
                                                         tmp_path: Path) -> None:
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    f = str(schedules["set"])
    for args, field in ((["--uncertainty", "0.2"], "uncertainty"),
                        (["--uncertain-loads", "3"], "uncertain_loads"),
                        (["--case", "case33bw"], "case"), (["--no-ac"], "no_ac"),
                        (["--samples", "-3"], "samples"), (["--samples", "0"], "samples")):
        _refused(["check", f, "--samples", "2", *args], field)
    # all at once, the output path before the sampling
    _refused(["check", f, "--samples", "-3", "--no-ac", "--json", str(taken)], "no_ac",
             "samples", "json")
    doc = json.loads(schedules["set"].read_text())
    assert _fields(check_schedule_problems(doc, samples=0)) == ["samples"]
    assert check_schedule_problems(doc, samples=1) == []


def test_check_schedule_with_a_budget_set_samples_it(schedules: dict[str, Path],
                                                     tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    r = runner.invoke(app, ["check", str(schedules["set"]), "--samples", "3", "--json",
                            str(out)])
    assert r.exit_code == 0, r.output
    assert "of 3 realisations of the budget set" in r.output and "note:" not in r.output
    rep = json.loads(out.read_text())
    assert rep["samples"] == 3 and rep["budget_set"] is True


def test_check_schedule_without_a_budget_set_says_it_is_trivial(schedules: dict[str, Path],
                                                                tmp_path: Path) -> None:
    """B2: a deterministic schedule's only realisation is the forecast: a note says so, the
    forecast is checked once (not --samples copies of it) and the report records it."""
    out = tmp_path / "c.json"
    r = runner.invoke(app, ["check", str(schedules["det"]), "--samples", "100", "--json",
                            str(out)])
    assert r.exit_code == 0, r.output
    assert "no budget set" in r.output and "--robust-budget" in r.output
    assert "100.0 % of 100" not in r.output
    rep = json.loads(out.read_text())
    assert rep["samples"] == 1 and rep["budget_set"] is False


def test_check_of_a_three_phase_result_says_it_is_not_supported(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    r = runner.invoke(app, ["solve", "ieee13mod", "--json", str(path), "--no-ac-check",
                            "--time-limit", "60", "-q"])
    # XFM1 is above its rating whatever the switches (tests/test_threephase_fixed_overloads.py):
    # the feedback's OpenDSS solve says so, exit 4; the result is written all the same
    assert r.exit_code == 4, r.output
    out = _refused(["check", str(path), "--uncertainty", "0.1"], "open_switches",
                   text="check does not support three-phase results")
    assert "no open_branches" not in out


def test_robust_budget_takes_at_most_two_numbers() -> None:
    """``--robust-budget 1,1,7``: exit 2 naming the option; before, the 7 was dropped and
    the schedule ran with budgets 1 and 1."""
    r = runner.invoke(app, [*SCHED, "--robust-budget", "1,1,7"])
    assert r.exit_code == 2 and "GAMMA[,GAMMA_RES], 3 numbers given" in r.output, r.output


def test_schedule_and_scenario_problems_name_the_option_and_value() -> None:
    """The settings' problems name the command-line option and the value given, and the
    scenario generator reports every bad option at once; before, 'eps must be within 0..1'
    (no --dsm), and only the first of --pv-share 1.5 --growth nan, as 'must be non-negative'."""
    r = runner.invoke(app, [*SCHED, "--dsm", "2", "--import-limit", "-1"])
    assert r.exit_code == 2, r.output
    assert "--dsm is 2" in r.output and "--import-limit is -1" in r.output
    r = runner.invoke(app, ["scenarios", "case33bw", "--out", "never.csv", "--pv-share", "1.5",
                            "--growth", "nan"])
    assert r.exit_code == 2 and "pv_share is 1.5" in r.output, r.output
    assert "growth is nan, must be a finite number in (-1, 10]" in r.output
    assert not Path("never.csv").exists()

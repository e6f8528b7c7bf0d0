"""Every command's ``--help`` says alike what an option takes and what it defaults to (user test
of the help texts, session 33):

* every numeric option shows its default in typer's form, ``[default: ...]`` (typer's own for a
  fixed default, written into the help where the default depends on the data, as ``solve
  --v-min`` does), and no help text gives one in another form (``(default 400)``, ``(seed:
  1)``);
* no option shows typer's bare ``<str>``: a choice shows its choices (``<forest|seed>``, as
  ``--load-shapes <daily>``), the others what they take (``<file>``, ``<folder>``, ``<ids>``);
* an option of the same name in two commands states its unit in brackets in each;
* the stated defaults and choices are the ones the code uses (its settings classes and
  enums), and the network argument names the ``simbench:<code>[@<study case>]`` form.
"""

from __future__ import annotations

import inspect
import re
import types
import typing

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()
ENV = {"COLUMNS": "240"}


def _commands() -> dict[str, typing.Any]:
    """Each command's name and its function (unwrapped from ``cli_command``)."""
    out = {}
    for cmd in app.registered_commands:
        fn = inspect.unwrap(cmd.callback)
        out[cmd.name or fn.__name__.replace("_", "-")] = fn
    return out


COMMANDS = _commands()


def _help_rows(command: str) -> dict[str, tuple[str, str]]:
    """The Options section of ``feederopt COMMAND --help``, one row per option: each of its
    names -> (the names and metavar, the help text with its wrapped lines joined)."""
    res = runner.invoke(app, [command, "--help"], env=ENV)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() in ("Options:",
                                                                        "Options"))
    rows: list[list[str]] = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        if re.match(r"^ {1,3}-", line):
            head, _, text = line.strip().partition("  ")
            rows.append([head, text.strip()])
        elif rows:
            rows[-1][1] = f"{rows[-1][1]} {line.strip()}".strip()
    table = {}
    for head, text in rows:
        for name in re.findall(r"--?[A-Za-z][\w-]*", head.split("<")[0]):
            table[name] = (head, text)
    return table


def _numeric(hint: typing.Any) -> bool:
    """Whether an option's annotation is a number (int or float, optional or not)."""
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(
        hint) is typing.Union else (hint,)
    return any(a in (int, float) for a in args)


def _options(command: str) -> list[tuple[str, typing.Any]]:
    """(the option's first long name, its annotation) of every option of ``command``."""
    fn = COMMANDS[command]
    hints = typing.get_type_hints(fn)
    out = []
    for name, param in inspect.signature(fn).parameters.items():
        decls = getattr(param.default, "param_decls", None)
        if getattr(param.default, "__class__", type).__name__ != "OptionInfo" or not decls:
            continue
        long = next(d.split("/")[0] for d in decls if d.startswith("--"))
        out.append((long, hints[name]))
    return out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_numeric_default_in_typer_form_and_no_bare_str(command: str) -> None:
    rows = _help_rows(command)
    for option, hint in _options(command):
        head, text = rows[option]
        assert "<str>" not in head, f"{command} {head}: a bare <str> metavar"
        if _numeric(hint):
            assert "[default:" in text, f"{command} {option}: no [default: ...] in {text!r}"
        assert not re.search(r"(?<!\[)\bdefault\b", text), \
            f"{command} {option}: a default not in the [default: ...] form: {text!r}"
        assert not re.search(r"\(seed: ", text), f"{command} {option}: {text!r}"


def _choices(command: str, option: str) -> list[str]:
    head, _ = _help_rows(command)[option]
    found = re.search(r"<([^>]+)>", head)
    assert found, head
    return found.group(1).split("|")


def test_choices_are_shown_and_are_the_code_s() -> None:
    from feederopt.api_resilience import PLAN_METHODS
    from feederopt.formulations.resilience import RadialityKind
    from feederopt.options import Method
    from feederopt.problems.reconfiguration import RadialityModel

    assert sorted(_choices("solve", "--method")) == sorted(m.value for m in Method)
    assert sorted(_choices("solve", "--radiality")) == sorted(r.value for r in RadialityModel)
    assert sorted(_choices("plan", "--method")) == sorted(PLAN_METHODS)
    for command in ("plan", "restore"):
        assert sorted(_choices(command, "--radiality")) == sorted(r.value
                                                                  for r in RadialityKind)


def _stated_default(command: str, option: str) -> float:
    """The number a help's ``[default: ...]`` states (after "else " when it first names where
    the data may give one)."""
    _, text = _help_rows(command)[option]
    found = re.search(r"\[default: (?:[^\]]*?else )?(-?[\d.]+)", text)
    assert found, text
    return float(found.group(1).rstrip("."))


def test_stated_defaults_are_the_settings_defaults() -> None:
    from feederopt.formulations.partition import PartitionSettings
    from feederopt.problems.resilience import PlanSettings
    from feederopt.problems.schedule import ScheduleSettings

    plan, sched, part = PlanSettings(), ScheduleSettings(), PartitionSettings()
    expected = {
        ("plan", "--harden-budget"): plan.harden_budget,
        ("plan", "--dg-budget"): plan.dg_budget,
        ("plan", "--dg-cost"): plan.dg_cost_per_kw,
        ("plan", "--dg-size"): plan.dg_p_max_kw,
        ("plan", "--harden-cost"): plan.harden_cost,
        ("plan", "--voll"): plan.voll,
        ("schedule", "--import-limit"): sched.ps_max_mw,
        ("schedule", "--buy-price"): sched.c_buy,
        ("schedule", "--loss-price"): sched.c_loss,
        ("schedule", "--shed-price"): sched.c_shed,
        ("schedule", "--spill-price"): sched.c_spill,
        ("partition", "--k-der"): part.k_der,
        ("partition", "--uncertainty"): part.uncertainty,
    }
    for (command, option), value in expected.items():
        assert _stated_default(command, option) == pytest.approx(value), (command, option)


def test_the_switching_penalty_s_seed_default_is_the_code_s() -> None:
    from feederopt.problems.resilience import SEED_PENALTY_PU, SEED_PENALTY_USD

    for command, seed in (("restore", SEED_PENALTY_PU), ("plan", SEED_PENALTY_USD)):
        _, text = _help_rows(command)["--switch-penalty"]
        found = re.search(r"\[default: 0; ([\d.]+) with --radiality seed, as that model has "
                          r"it\]", text)
        assert found and float(found.group(1)) == seed, text


@pytest.mark.parametrize(("option", "units"), [
    ("--switch-penalty", {"restore": "[p.u. of the 1 MVA base", "plan": "[$]"}),
    ("--switch-cost", {"solve": "[kW of losses]", "schedule": "[$]"}),
    ("--loss-price", {"solve": "[money per MWh", "schedule": "[$/MWh]"}),
    ("--time-limit", {c: "[s]" for c in ("solve", "restore", "plan", "partition",
                                         "schedule")}),
    ("--dg-size", {"restore": "[kW]", "plan": "[kW]"}),
])
def test_an_option_of_one_name_states_its_unit_in_each_command(option: str,
                                                               units: dict[str, str]) -> None:
    have = {c for c in COMMANDS if option in _help_rows(c)}
    assert have == set(units), have
    for command, unit in units.items():
        _, text = _help_rows(command)[option]
        assert unit in text, f"{command} {option}: {text!r}"


NETWORK_COMMANDS = ["info", "solve", "scenarios", "restore", "plan", "schedule"]


@pytest.mark.parametrize("command", NETWORK_COMMANDS)
def test_the_network_argument_names_the_simbench_form(command: str) -> None:
    res = runner.invoke(app, [command, "--help"], env=ENV)
    assert "simbench:<code>[@<study case>]" in " ".join(res.output.split())


def test_check_case_names_the_simbench_form() -> None:
    assert "simbench:<code>[@<study case>]" in _help_rows("check")["--case"][1]


@pytest.mark.parametrize(("command", "option", "stated"), [
    ("schedule", "--robust-budget", "[default: none, a deterministic schedule]"),
    ("schedule", "--aggregate", "[default: none, the temporal reading]"),
    ("solve", "--solver", "[default: CLARABEL for the slaves; for misocp a licensed GUROBI or "
     "MOSEK, else SCIP]")])
def test_an_option_without_a_value_says_what_applies(command: str, option: str,
                                                     stated: str) -> None:
    """An option whose absence selects a behaviour says which one (user test ut33 re-check:
    these three printed no default). The solver names are the code's own defaults."""
    from feederopt.algorithms.slaves import TopologyEvaluator
    from feederopt.solvers.detect import default_misocp_solver

    assert stated in _help_rows(command)[option][1]
    if option == "--solver":
        slave = inspect.signature(TopologyEvaluator.__init__).parameters["solver"]
        assert slave.default == "CLARABEL"
        assert default_misocp_solver() in stated


TIME_LIMIT_COMMANDS = ("solve", "partition", "schedule")


@pytest.mark.parametrize("command", TIME_LIMIT_COMMANDS)
def test_the_time_limit_says_what_it_does_not_cover(command: str) -> None:
    """``--time-limit`` bounds the optimisation only; every command's help says that reading,
    the power flows and writing come on top (user test ut34_realgrid #3: a 120 s limit took
    289 s of wall-clock time on SimBench 1-MVLV-comm-all-0-sw, and no help said so)."""
    _, text = _help_rows(command)["--time-limit"]
    assert "[s]" in text
    for part in ("reading the network", "the AC check", "writing the outputs come on top",
                 "wall-clock time can be several times longer"):
        assert part in text, f"{command} --time-limit: {text!r}"


def _option_infos(command: str) -> list[tuple[tuple[str, ...], typing.Any]]:
    """(the declarations, the default) of every option of ``command``."""
    out = []
    for param in inspect.signature(COMMANDS[command]).parameters.values():
        info = param.default
        if type(info).__name__ == "OptionInfo" and info.param_decls:
            out.append((tuple(info.param_decls), info.default))
    return out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_with_a_default_shows_it_and_a_lone_flag_is_off(command: str) -> None:
    """User test ut39_cli #2 read ``schedule --help``'s ``--ac-check / --no-ac-check`` as
    showing no default against the README's "every option shows its default". Every command,
    every option: an on/off pair shows the one that applies (``[default: ac-check]``, the
    code's default); a lone flag shows none and is off unless given (its default False, as
    the README says); any other option with a default shows it, and one without (None: an
    output or input not used unless given, or a required one) is the README's other kind."""
    rows = _help_rows(command)
    for decls, default in _option_infos(command):
        long = next(d for d in decls if d.startswith("--"))
        _, text = rows[long.split("/")[0]]
        if "/" in long:  # --x/--no-x
            on, off = (part.lstrip("-") for part in long.split("/"))
            if default is None:  # the data decide: the help says which
                assert "[default: " in text, f"{command} {long}: {text!r}"
                continue
            assert f"[default: {on if default else off}]" in text, f"{command} {long}: {text!r}"
        elif default is False:
            assert "[default:" not in text, f"{command} {long}: {text!r}"
        elif default is True:
            pytest.fail(f"{command} {long}: a lone flag that is on unless given")
        elif default is not None and default is not ...:
            assert "[default:" in text, f"{command} {long}: no [default: ...] in {text!r}"


def test_the_readme_says_which_options_show_no_default() -> None:
    from pathlib import Path

    text = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    assert "an on/off pair too (`--ac-check / --no-ac-check [default: ac-check]`" in text
    assert "a lone flag" in text and "is off unless given" in text


@pytest.mark.parametrize(("command", "within", "on_top"), [
    ("restore", "reading the network, building the model, the MILP and the second phase "
     "fall within it", "the AC check and writing the outputs come on top"),
    ("plan", "reading the network, building the models, the plan, the measures, the second "
     "phase and the AC checks (those past it are left out) fall within it",
     "writing the outputs comes on top")])
def test_restore_and_plan_count_the_time_limit_from_the_call(command: str, within: str,
                                                             on_top: str) -> None:
    """``restore`` and ``plan`` count ``--time-limit`` from the call, reading the network
    included (``api_resilience``: ``t0``/``deadline`` at the call; docs/resilience.md, "The
    whole command"), and their help says so; it said the limit was "of the optimisation
    alone", reading and power flows on top (user test ut39_mixed #2). Out of time, the answer
    is the shed-all fallback (tests/test_resilience_fallback_label.py: a limit of 1e-6 s,
    used up by reading the net)."""
    _, text = _help_rows(command)["--time-limit"]
    assert text.startswith("Time limit [s] counted from the call;"), text
    assert within in text and on_top in text, text
    assert "shed-all fallback" in text
    for wrong in ("optimisation alone", "reading the network, its power flows",
                  "several times longer"):
        assert wrong not in text, f"{command} --time-limit: {text!r}"

"""Warnings a result carries as notes, and the schedule's settings and run problems, name each
option as the caller writes it (smalls41): the keyword from Python (``broken``, ``eps``,
``samples``), the flag on the command line (``--broken``, ``--dsm``, ``--samples``), by
:func:`feederopt.errors.option_ref`, :func:`feederopt.errors.note_text` and the command
line's ``caller_spelling(flag_spelling)``. Before, these named the flag from Python too
(``--broken names a line more than once``, ``eps (--dsm) is 2``).

Independent truth: the options themselves (``restore``'s keyword ``broken`` and the CLI's
``--broken``, ``schedule``'s keyword ``eps`` and the CLI's ``--dsm``), and the repeated id
and the bad value given by the test.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from feederopt import InputError
from feederopt.api_resilience import restore
from feederopt.api_schedule import schedule
from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "400"})


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_repeated_broken_line_warns_by_keyword_from_python_and_by_flag_on_the_cli() -> None:
    r = restore("zhang13", ["2", "2", "11"], ac_check=False)
    (warned,) = [n for n in r.notes if n.startswith("warning:")]
    assert warned.startswith("warning: broken names a line more than once: 2")
    assert "--" not in warned
    res = runner.invoke(app, ["restore", "zhang13", "--broken", "2,2,11", "--no-ac-check"])
    assert res.exit_code == 0, res.output
    assert "warning: --broken names a line more than once: 2" in _flat(res.output)


def test_a_schedule_setting_is_named_by_keyword_from_python_and_by_flag_on_the_cli() -> None:
    with pytest.raises(InputError) as exc:
        schedule("case33bw", eps=2, hours=1)
    text = str(exc.value)
    assert "eps is 2, must be within 0..1" in text and "--dsm" not in text
    res = runner.invoke(app, ["schedule", "case33bw", "--dsm", "2", "--hours", "1"])
    assert res.exit_code == 2, res.output
    assert "--dsm is 2, must be within 0..1" in _flat(res.output)
    assert "eps is" not in res.output


def test_samples_without_a_budget_set_name_the_option_as_the_caller_writes_it() -> None:
    with pytest.raises(InputError) as exc:
        schedule("case33bw", samples=5, hours=1)
    text = str(exc.value)
    assert "samples draws realisations of the budget set" in text
    assert "--samples" not in text and "leave samples out" in text
    res = runner.invoke(app, ["schedule", "case33bw", "--samples", "5", "--hours", "1"])
    assert res.exit_code == 2, res.output
    out = _flat(res.output)
    assert "--samples draws realisations of the budget set" in out
    assert "leave --samples out" in out


def _no_mix_python(text: str) -> None:
    """A hint from Python: the budgets by keyword, no flag (``--robust-budget``, and not
    ``solve``'s ``--budget`` either)."""
    assert "--" not in text, text


def _no_mix_cli(text: str) -> None:
    """A hint on the command line: the schedule's one flag of both budgets, no keyword and not
    ``solve``'s ``--budget``."""
    assert "budget=" not in text and "budget_res=" not in text, text
    assert "--budget " not in text and "--budget-res" not in text, text


def test_deterministic_without_a_budget_set_names_the_budgets_as_the_caller_writes_them(
        ) -> None:
    """recheck_c E: the hint of ``deterministic`` (and of ``samples``) without a budget set
    said ``add a budget (--robust-budget GAMMA[,GAMMA_RES]; budget=, budget_res=)`` to every
    caller. Truth: ``schedule``'s keywords ``budget``/``budget_res`` and its flag
    ``--robust-budget GAMMA[,GAMMA_RES]`` (``feederopt schedule --help``)."""
    for kw, flag in ((dict(deterministic=True), ["--deterministic"]),
                     (dict(samples=5), ["--samples", "5"])):
        with pytest.raises(InputError) as exc:
            schedule("case33bw", hours=1, **kw)  # type: ignore[arg-type]
        text = _flat(str(exc.value))
        assert ("add a load budget (budget=GAMMA) or a renewable one (budget_res=GAMMA_RES)"
                in text), text
        _no_mix_python(text.split("add a load budget", 1)[1])
        res = runner.invoke(app, ["schedule", "case33bw", "--hours", "1", *flag])
        assert res.exit_code == 2, res.output
        out = _flat(res.output)
        assert ("add a load budget (--robust-budget GAMMA) or a renewable one "
                "(--robust-budget GAMMA,GAMMA_RES)" in out), out
        _no_mix_cli(out)
        assert "Traceback" not in res.output



def test_an_option_ref_with_its_own_command_line_spelling() -> None:
    """``option_ref(..., cli=...)``: Python's keyword (with or without a value), the given
    text on the command line; the other references of the text keep their flags."""
    from feederopt.cli.app import flag_spelling
    from feederopt.errors import option_ref, spelled

    text = (f"{option_ref('budget_res', 0, cli='--robust-budget GAMMA')}, "
            f"{option_ref('budget', cli='--robust-budget')}, {option_ref('v_min', 0.9)}")
    assert spelled(text) == "budget_res=0, budget, v_min=0.9"
    assert spelled(text, flag_spelling) == "--robust-budget GAMMA, --robust-budget, --v-min 0.9"

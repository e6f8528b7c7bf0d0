"""The options that an id-list or a restore/plan problem names read as the caller spells them
(user test ut40_recheck_b #1): ``solve_options(hold_closed="1,,2")`` said
``--hold-closed: entry 2 is empty`` to a Python caller, and ``restore(dg_p_max_kw=-1)`` said
``e.g. --dg-size 100``. From Python the keyword (``hold_closed``, ``dg_p_max_kw=100``), on the
command line the flag (``--hold-closed``, ``--dg-size 100``), by ``errors.option_ref``.

Truth by hand from the text typed: ``1,,2`` and ``3,,4`` have their second entry empty,
``3,`` its second (last) one; -1 is no size, no budget, no cost. The defaults named in the hints
are ``PlanSettings``' documented ones (H = 2, C^g = 1.5 $/kW, 100 kW).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, Problem

runner = CliRunner()


def _problems(call: Callable[[], Any]) -> list[Problem]:
    with pytest.raises(InputError) as err:
        call()
    return list(err.value.problems)


def _texts(call: Callable[[], Any]) -> str:
    return " | ".join(f"{p.message} (hint: {p.hint})" for p in _problems(call))


@pytest.mark.parametrize(("keywords", "expected"), [
    ({"hold_closed": "1,,2"}, "hold_closed: entry 2 is empty"),
    ({"hold_open": "1,,2"}, "hold_open: entry 2 is empty"),
    ({"controls": "caps,,dg"}, "controls: entry 2 is empty"),
    ({"uncertain_loads": "3,", "robust": 0.1}, "uncertain_loads: entry 2 is empty"),
])
def test_python_blank_entries_name_the_keyword(keywords: dict[str, Any], expected: str) -> None:
    text = _texts(lambda: feederopt.solve_options(**keywords))
    assert expected in text and "--" not in text


def test_restore_and_plan_blank_entries_name_the_keyword() -> None:
    text = _texts(lambda: feederopt.restore("case33bw", broken="3,,4", dg_sites="5,",
                                            ac_check=False))
    assert "broken: entry 2 is empty" in text and "dg_sites: entry 2 is empty" in text
    assert "--" not in text
    text = _texts(lambda: feederopt.plan("case33bw", broken="3,,4", ac_check=False))
    assert "broken: entry 2 is empty" in text and "--" not in text


def test_restore_options_name_the_keyword() -> None:
    text = _texts(lambda: feederopt.restore("case33bw", broken="3", dg_p_max_kw=-1,
                                            ac_check=False))
    assert "dg_p_max_kw must be a finite number >= 0" in text
    assert "dg_p_max_kw=100" in text and "--dg-size" not in text
    text = _texts(lambda: feederopt.restore("case33bw", broken="3", dg_p_max_kw=50,
                                            ac_check=False))
    assert "dg_p_max_kw sizes the backup DGs of dg_sites" in text and "--" not in text
    text = _texts(lambda: feederopt.restore("case33bw", broken=[" "], ac_check=False))
    assert "broken names no line" in text and "--" not in text


def test_plan_settings_name_the_keyword() -> None:
    st = feederopt.plan_settings(harden_budget=-1, dg_cost_per_kw=-1, switch_penalty=-1)
    text = _texts(lambda: feederopt.plan("case33bw", broken="3", settings=st,
                                         ray_address="local", ac_check=False))
    assert "harden_budget must be a finite number >= 0" in text
    assert "harden_budget=2 (the default)" in text
    assert "dg_cost_per_kw=1.5 (the default)" in text
    assert "switch_penalty must be a finite number >= 0" in text
    # a worker count is taken with the extensive form (noted as not used; ut50_par #5)
    assert "ray_address acts on the L-shaped method" in text
    assert "method=lshaped" in text
    assert "--" not in text


def _cli(args: list[str]) -> str:
    res = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.split())


def test_the_command_line_names_the_flags() -> None:
    out = _cli(["solve", "case33bw", "--hold-closed", "1,,2", "--controls", "caps,,dg"])
    assert "--hold-closed: entry 2 is empty" in out and "--controls: entry 2 is empty" in out
    out = _cli(["restore", "case33bw", "--broken", "3,,4", "--dg-sites", "5,",
                "--no-ac-check"])
    assert "--broken: entry 2 is empty" in out and "--dg-sites: entry 2 is empty" in out
    out = _cli(["restore", "case33bw", "--broken", "3", "--dg-size", "-1", "--no-ac-check"])
    assert "--dg-size must be a finite number >= 0" in out and "e.g. --dg-size 100" in out
    assert "dg_p_max_kw must" not in out
    out = _cli(["plan", "case33bw", "--broken", "3", "--harden-budget", "-1", "--dg-cost",
                "-1", "--ray", "local", "--no-ac-check"])
    assert "--harden-budget must be a finite number >= 0" in out
    assert "e.g. --harden-budget 2 (the default)" in out and "e.g. --dg-cost 1.5" in out
    assert "--ray acts on" in out and "add --method lshaped" in out
    out = _cli(["schedule", "case33bw", "--hours", "2", "--uncertain-buses", "3,,5",
                "--robust-budget", "1", "--gamma", "0.1", "--no-ac-check"])
    assert "--uncertain-buses: entry 2 is empty" in out

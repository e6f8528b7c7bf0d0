"""An unknown case name's hint names the near case names, whatever their letter case (user
test ut47_cli #3).

``info Case33BW`` and ``info ieee_13`` got "e.g. case10ba, case118zh, ..." (the first six
names: only a case-sensitive prefix counted). The truth is the catalogue itself
(``feederopt cases``: the registered names) and the user's intent read by hand: Case33BW is
case33bw but for its letters' case, ieee_13 is ieee13 with an underscore.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from feederopt.cases.registry import case_names
from feederopt.cases.threephase import THREE_PHASE_CASES
from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "300"})


def _hint(name: str) -> list[str]:
    res = runner.invoke(app, ["info", name])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    if "did you mean " in text:  # a near name: "did you mean case33bw or case33mg?"
        return text.split("did you mean ", 1)[1].split("?", 1)[0].split(" or ")
    return text.split("e.g. ", 1)[1].split(")", 1)[0].split(", ")


@pytest.mark.parametrize(("typed", "meant"), [("Case33BW", "case33bw"), ("CASE69BW", "case69bw"),
                                              ("ieee_13", "ieee13"), ("IEEE_37", "ieee37"),
                                              ("case_69", "case69")])
def test_the_hint_names_the_near_case_first(typed: str, meant: str) -> None:
    assert meant in case_names() or meant in THREE_PHASE_CASES  # the premise: it exists
    names = _hint(typed)
    assert names[0] == meant, names  # was case10ba, the first name of the list
    assert all(n in case_names() or n in THREE_PHASE_CASES for n in names), names


def test_a_name_near_nothing_still_gets_examples() -> None:
    names = _hint("zzqx")
    assert names and all(n in case_names() for n in names)

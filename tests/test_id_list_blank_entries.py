"""Empty entries of an id list given from Python as a list or tuple are refused by position,
as the comma-separated string's are (user test ut40_recheck_c #3): before,
``feederopt.solve("case33bw", hold_closed=["8", "", "9"])`` solved with the holds {8, 9},
``restore(..., broken=["8", "", "9"])`` broke lines 8 and 9 and ``dg_sites=["5", ""]`` sited
one DG, the empty entry dropped in silence, while ``"8,,9"`` was refused.

Truth by hand from the lists typed: in ``["8", "", "9"]`` the second entry is empty, in
``("5", " ")`` the second is only a blank, in ``["", "3", ""]`` the first and third.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.network.id_lists import blank_entry_problems


def _messages(call: Callable[[], Any]) -> list[str]:
    with pytest.raises(InputError) as err:
        call()
    return [p.message for p in err.value.problems]


@pytest.mark.parametrize(("keywords", "expected"), [
    ({"hold_closed": ["8", "", "9"]}, "hold_closed: entry 2 is empty"),
    ({"hold_open": ("33", " ")}, "hold_open: entry 2 is empty"),
    ({"controls": ["caps", ""]}, "controls: entry 2 is empty"),
    ({"uncertain_loads": ["", "3", ""], "robust": 0.1},
     "uncertain_loads: entries 1 and 3 are empty"),
])
def test_solve_options_refuse_blank_list_entries(keywords: dict[str, Any],
                                                 expected: str) -> None:
    messages = _messages(lambda: feederopt.solve_options(**keywords))
    assert expected in messages
    # the blank is not also reported as an unknown id ''
    assert not any("''" in m for m in messages), messages


def test_solve_refuses_a_blank_hold_entry() -> None:
    messages = _messages(lambda: feederopt.solve("case33bw", hold_closed=["8", "", "9"],
                                                 ac_check=False))
    assert messages == ["hold_closed: entry 2 is empty"]


def test_restore_and_plan_refuse_blank_list_entries() -> None:
    messages = _messages(lambda: feederopt.restore("case33bw", broken=["8", "", "9"],
                                                   dg_sites=["5", ""], ac_check=False))
    assert "broken: entry 2 is empty" in messages and "dg_sites: entry 2 is empty" in messages
    messages = _messages(lambda: feederopt.plan("case33bw", broken=("8", ""),
                                                ac_check=False))
    assert "broken: entry 2 is empty" in messages


def test_schedule_refuses_blank_list_entries() -> None:
    messages = _messages(lambda: feederopt.schedule(
        "case33bw", hours=2, uncertain_buses=["3", "", "5"], fixed_open=["33", ""],
        budget=1, gamma=0.1, ac_check=False))
    assert "uncertain_buses: entry 2 is empty" in messages
    assert "fixed_open: entry 2 is empty" in messages
    assert not any("''" in m for m in messages), messages


def test_partition_refuses_blank_list_entries() -> None:
    messages = _messages(lambda: feederopt.partition("ieee13", uncertain_loads=["671_3", ""],
                                                     uncertainty=0.1, time_limit_s=5))
    assert messages == ["uncertain_loads: entry 2 is empty"]


def test_a_list_that_names_nothing_is_left_to_the_empty_list_check() -> None:
    # [""] names nothing, as "" does: the list's own "names no ..." problem says it
    assert blank_entry_problems("hold_closed", [""]) == []
    assert blank_entry_problems("hold_closed", []) == []
    assert blank_entry_problems("hold_closed", ["8", "9"]) == []
    assert blank_entry_problems("hold_closed", None) == []

"""``to_pandapower(network, closed)`` takes the switch states as ``result.closed`` gives them (a
dict of branch id -> closed) as well as one boolean per in-service branch; a dict naming ids the
network lacks, or leaving branches out, is a typed InputError naming them (user test ut37_api2:
``to_pandapower(net, r.closed)`` raised an untyped ``ValueError: closed has 1 entries; the
network has 12 in-service branches``). The truth is pandapower's power flow of the tiny feeder
built by hand with the same branches open."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest

from feederopt.errors import InputError
from feederopt.io.pandapower import to_pandapower
from netbuild import tiny, tiny_pandapower_net

# a radial state of the tiny feeder: the tie closed, l3 open
STATES = {"l1": True, "l2": True, "l3": False, "sw1": True, "tie1": True}


def _losses_kw(net: object) -> float:
    pp.runpp(net)
    return float(net.res_line.pl_mw.sum() * 1000.0)  # type: ignore[attr-defined]


def test_a_dict_of_states_by_id_is_written_by_id() -> None:
    net = tiny()
    truth = _losses_kw(tiny_pandapower_net({"l3"}))
    shuffled = dict(reversed(list(STATES.items())))  # by id, not by position
    assert _losses_kw(to_pandapower(net, shuffled)) == pytest.approx(truth, rel=1e-9)
    as_array = np.array([STATES[b] for b in net.branches["id"].to_list()])
    assert _losses_kw(to_pandapower(net, as_array)) == pytest.approx(truth, rel=1e-9)


@pytest.mark.parametrize(("closed", "ids"), [
    ({**STATES, "nope": True}, ("nope",)),
    ({b: v for b, v in STATES.items() if b != "l2"}, ("l2",)),
])
def test_unknown_or_missing_ids_are_typed(closed: dict[str, bool], ids: tuple[str]) -> None:
    with pytest.raises(InputError) as exc:
        to_pandapower(tiny(), closed)
    assert [(p.component, p.ids) for p in exc.value.problems] == [("closed", ids)]


def test_an_array_of_another_length_is_typed() -> None:
    with pytest.raises(InputError, match="5 in-service branches"):
        to_pandapower(tiny(), np.ones(3, bool))

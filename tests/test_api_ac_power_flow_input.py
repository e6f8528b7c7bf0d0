"""``feederopt.ac_power_flow`` (public, top-level) checks its input as ``solve`` does (user test
ut41_pyapi #3): a ``closed`` of the wrong length was a bare ``ValueError``, a network without
``vn_kv`` a polars ``ColumnNotFoundError``, a pandapower net an ``AttributeError``. It takes
the ids of the branches to open too, checked against pandapower run by hand."""

from __future__ import annotations

import math

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.network.container import Network
from netbuild import tiny, tiny_tables


def _hand_losses_kw() -> float:
    """tiny() with l3 open and the tie s-c closed, built in pandapower by hand: s-a-b and
    s-c, the ideal switch c-d merging d into c."""
    net = pp.create_empty_network(sn_mva=1.0)
    b = {n: pp.create_bus(net, vn_kv=12.66) for n in "sabc"}
    pp.create_ext_grid(net, b["s"], vm_pu=1.0)
    for f, t, r, x in (("s", "a", 0.3, 0.2), ("a", "b", 0.4, 0.3), ("s", "c", 1.0, 0.8)):
        pp.create_line_from_parameters(net, b[f], b[t], 1.0, r, x, 0.0, 10.0)
    for bus, p, q in (("a", 0.2, 0.1), ("b", 0.3, 0.15), ("c", 0.25, 0.1), ("c", 0.1, 0.05)):
        pp.create_load(net, b[bus], p_mw=p, q_mvar=q)
    pp.runpp(net, tolerance_mva=1e-10)
    return float(net.res_line.pl_mw.sum() * 1000)


def test_open_ids_are_the_states_they_name_and_pandapower_agrees() -> None:
    net = tiny()
    by_ids = feederopt.ac_power_flow(net, ["l3"])
    by_states = feederopt.ac_power_flow(net, np.array([1, 1, 0, 1, 1], bool))
    assert by_ids.losses_kw == by_states.losses_kw
    assert feederopt.ac_power_flow(net, "l3").losses_kw == by_ids.losses_kw
    assert math.isclose(by_ids.losses_kw, _hand_losses_kw(), rel_tol=1e-6)


def _problem(call: object) -> object:
    with pytest.raises(InputError) as e:
        call()  # type: ignore[operator]
    (p,) = e.value.problems
    return p


def test_a_wrong_length_names_closed_and_the_length() -> None:
    p = _problem(lambda: feederopt.ac_power_flow(tiny(), np.ones(3, bool)))
    assert p.field == "closed"  # type: ignore[attr-defined]
    assert "closed has 3 entries" in p.message and "5 in this network" in p.message  # type: ignore[attr-defined]
    p = _problem(lambda: feederopt.ac_power_flow(tiny(), ["l9"]))
    assert p.field == "closed" and p.ids == ("l9",)  # type: ignore[attr-defined]


def test_a_network_is_checked_and_a_pandapower_net_refused_with_the_hint() -> None:
    t = tiny_tables()
    bad = Network.from_tables(buses=t["buses"].drop("vn_kv"), branches=t["branches"],
                              loads=t["loads"])
    p = _problem(lambda: feederopt.ac_power_flow(bad))
    assert p.field == "vn_kv"  # type: ignore[attr-defined]
    p = _problem(lambda: feederopt.ac_power_flow(pp.create_empty_network()))
    assert "feederopt.load(net)" in p.hint  # type: ignore[attr-defined]


@pytest.mark.parametrize("closed", ["l2,,l3", "l2,l3,", ",l3", ["l2", "", "l3"], ("l3", " ")])
def test_an_empty_entry_of_closed_is_refused_by_its_position_as_solve_refuses_it(
        closed: object) -> None:
    """User test ut47_docs #2: ``"7,,9"`` and ``"7,9,"`` were accepted with the empty entry
    dropped, and ``["7", "", "9"]`` refused as an unknown blank id. The entry's position is
    the user's own input's; the message is the one ``solve``'s ``hold_open`` gives for it."""
    entries = closed.split(",") if isinstance(closed, str) else list(closed)
    position = next(k + 1 for k, x in enumerate(entries) if not x.strip())
    p = _problem(lambda: feederopt.ac_power_flow(tiny(), closed))
    assert p.field == "closed"  # type: ignore[attr-defined]
    assert p.message == f"closed: entry {position} is empty"  # type: ignore[attr-defined]
    held = _problem(lambda: feederopt.solve(tiny(), hold_open=closed))
    assert held.message == f"hold_open: entry {position} is empty"  # type: ignore[attr-defined]
    assert p.hint == held.hint  # type: ignore[attr-defined]


@pytest.mark.parametrize("closed", [5, True, np.float64(1.0)])
def test_one_value_for_closed_is_told_to_be_no_list(closed: object) -> None:
    """ut48_pyapi #6: ``ac_power_flow(net, 5)`` said "closed has a 0-dimensional array"."""
    with pytest.raises(InputError) as exc:
        feederopt.ac_power_flow(tiny(), closed)
    (p,) = exc.value.problems
    assert p.field == "closed" and "not a list of states" in p.message
    assert "dimensional" not in p.message

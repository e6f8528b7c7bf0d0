"""A table of a Network edited in place after a solve (``net.loads[1, "p_mw"] = 1.5``: Polars'
in-place assignment keeps the DataFrame object) is seen by the next solve: its AC check runs on
the edited tables and the edit is validated (user test ut37_api2: the model used the new loads,
244.395 kW, while the AC check reported 85.057 kW, the old loads' losses from a pandapower
model cached by the tables' identity; a negative load edited in place was solved "optimal").

The truth is pandapower's Newton-Raphson power flow of the edited feeder built by hand
(:func:`netbuild.tiny_pandapower_net`, not feederopt's export), at the answer's states, and the
validation of a network built afresh from the same tables."""

from __future__ import annotations

import pandapower as pp
import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind
from netbuild import tiny, tiny_pandapower_net


def _row(net: feederopt.Network, load_id: str) -> int:
    return net.loads["id"].to_list().index(load_id)


def test_the_ac_check_sees_a_load_edited_in_place() -> None:
    net = tiny()
    feederopt.solve(net, time_limit=30)  # builds (and caches) the AC model of the old loads
    before = net.loads
    net.loads[_row(net, "Lb"), "p_mw"] = 1.5  # in place: 0.3 -> 1.5 MW
    assert net.loads is before
    r = feederopt.solve(net, time_limit=30)
    opened = {b for b, on in r.closed.items() if not on}
    loads = {row["id"]: (row["p_mw"], row["q_mvar"]) for row in net.loads.iter_rows(named=True)}
    assert loads["Lb"] == (1.5, 0.15)
    truth = tiny_pandapower_net(opened, loads=loads)
    pp.runpp(truth)
    truth_kw = float(truth.res_line.pl_mw.sum() * 1000.0)
    assert r.ac_check.losses_kw == pytest.approx(truth_kw, rel=1e-6)
    assert r.losses_kw == pytest.approx(truth_kw, rel=1e-4)  # the model is exact here


def test_a_negative_load_edited_in_place_is_refused() -> None:
    net = feederopt.load(tiny())  # checked once
    feederopt.solve(net, time_limit=30, ac_check=False)
    net.loads[_row(net, "Lb"), "p_mw"] = -3.0
    with pytest.raises(InputError) as fresh:  # what a network built afresh says
        feederopt.Network.from_tables(**net.tables()).check()
    with pytest.raises(InputError) as exc:
        feederopt.solve(net, time_limit=30, ac_check=False)
    said = [(p.kind, p.ids, p.field) for p in exc.value.problems if p.is_error]
    assert said == [(p.kind, p.ids, p.field) for p in fresh.value.problems if p.is_error]
    assert said == [(ProblemKind.BAD_LOAD, ("Lb",), "p_mw")]
    assert not net.is_checked
    net.loads[_row(net, "Lb"), "p_mw"] = 0.3  # edited back: valid again
    assert net.check().is_checked


def test_equal_tables_have_one_fingerprint_and_an_edit_changes_it() -> None:
    a, b = tiny(), tiny()
    assert a.fingerprint() == b.fingerprint()  # content, not the objects
    a.loads[0, "q_mvar"] = 0.1000001
    assert a.fingerprint() != b.fingerprint()

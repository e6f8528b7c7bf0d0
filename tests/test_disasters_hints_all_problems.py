"""Disaster-scenario files (user test ut_res F6 #2, #3).

#2: an unknown id in a scenario's ``broken`` list gets the hint ``restore --broken`` gives
(a pandapower line name: "LA1 is line:1"; a bare index: "3: did you mean line:3?"), not only
"give the ids of the network's branches".

#3: every probability problem at once: a probability above 1 is a problem of its own, so a
negative or non-numeric one elsewhere no longer hides it.
"""

from __future__ import annotations

import pandapower as pp
import pytest

import feederopt
from feederopt import InputError
from feederopt.api_resilience import restore
from feederopt.errors import ProblemKind
from feederopt.io.disasters import read_disasters


def _pp_net() -> pp.pandapowerNet:
    """A 5-bus radial feeder, lines named LA0..LA3 (ids line:0..line:3)."""
    net = pp.create_empty_network(sn_mva=1.0)
    for i in range(5):
        pp.create_bus(net, vn_kv=10.0, index=i)
    pp.create_ext_grid(net, 0)
    for k in range(4):
        pp.create_line_from_parameters(net, k, k + 1, 1.0, r_ohm_per_km=0.1,
                                       x_ohm_per_km=0.1, c_nf_per_km=0.0, max_i_ka=0.4,
                                       name=f"LA{k}", index=k)
        pp.create_switch(net, k, k, et="l", closed=True)
        pp.create_load(net, k + 1, p_mw=0.1, q_mvar=0.03)
    return net


def _problems(path, net) -> list:
    with pytest.raises(InputError) as err:
        read_disasters(path, feederopt.load(net))
    return list(err.value.problems)


def test_unknown_ids_in_a_scenario_file_get_restores_hint(tmp_path) -> None:
    net = _pp_net()
    f = tmp_path / "named.csv"
    f.write_text("name,probability,broken\nS1,0.5,LA1;LA3\nS2,0.5,line:0;2\n")
    by_name = {p.ids[0]: p for p in _problems(f, net)}
    s1, s2 = by_name["S1"], by_name["S2"]
    assert s1.kind is ProblemKind.BAD_SCENARIO and s1.field == "broken"
    assert "LA1 is line:1" in s1.hint and "LA3 is line:3" in s1.hint
    assert "those are line:1,line:3" in s1.hint
    assert "2: did you mean line:2?" in s2.hint
    # the same words as restore --broken's hint for the same id
    with pytest.raises(InputError) as err:
        restore(net, ["LA1"], ac_check=False)
    assert "LA1 is line:1" in err.value.problems[0].hint

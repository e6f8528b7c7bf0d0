"""Disaster-scenario files (user test ut_res F6 #2, #3).

#2: an unknown id in a scenario's ``broken`` list gets the hint ``restore --broken`` gives
(a pandapower line name: "LA1 is line:1"; a bare index: "3: did you mean line:3?"), not only
"give the ids of the network's branches".

#3: every probability problem at once: a probability above 1 is a problem of its own, so a
negative or non-numeric one elsewhere no longer hides it.
"""

from __future__ import annotations

import json

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt import InputError
from feederopt.api_resilience import restore
from feederopt.cli import app
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


def test_every_probability_problem_is_reported(tmp_path) -> None:
    net = _pp_net()
    f = tmp_path / "bad_neg.json"
    f.write_text(json.dumps({"scenarios": [
        {"name": "S1", "probability": -0.5, "broken": ["line:1"]},
        {"name": "S2", "probability": 1.5, "broken": ["line:0"]}]}))
    got = {(p.ids, p.field) for p in _problems(f, net)}
    assert got == {(("S1",), "probability"), (("S2",), "probability")}
    # a non-numeric probability hides neither one above 1 nor an unknown id
    g = tmp_path / "text.json"
    g.write_text(json.dumps({"scenarios": [
        {"name": "S1", "probability": "abc", "broken": ["line:1"]},
        {"name": "S2", "probability": 1.5, "broken": ["line:0"]},
        {"name": "S3", "probability": 0.2, "broken": ["LA1"]}]}))
    probs = _problems(g, net)
    assert {(p.ids, p.field) for p in probs} == {
        (("S1",), "probability"), (("S2",), "probability"), (("S3",), "broken")}
    assert any("above 1" in p.message for p in probs)
    # the valid probabilities adding up to more than 1 is wrong whatever the bad one becomes
    h = tmp_path / "sum.json"
    h.write_text(json.dumps({"scenarios": [
        {"name": "S1", "probability": "abc", "broken": ["line:1"]},
        {"name": "S2", "probability": 0.6, "broken": ["line:0"]},
        {"name": "S3", "probability": 0.7, "broken": ["line:2"]}]}))
    probs = _problems(h, net)
    assert {p.ids for p in probs} == {("S1",), ("S2", "S3")}


def test_cli_exit_2_names_both(tmp_path) -> None:
    net = _pp_net()
    grid = tmp_path / "grid.json"
    pp.to_json(net, str(grid))
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"scenarios": [
        {"name": "S1", "probability": -0.5, "broken": ["line:1"]},
        {"name": "S2", "probability": 1.5, "broken": ["LA0"]}]}))
    res = CliRunner().invoke(app, ["plan", str(grid), "--scenarios", str(f)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "[S1].probability" in res.output and "[S2].probability" in res.output
    assert "LA0 is line:0" in res.output

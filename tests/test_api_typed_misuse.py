"""Misuses of the Python API are typed errors naming what is wrong, and ``Result.timings``
holds seconds only (user test ut36_api #5): ``solve(net, opts, gap=0.1)`` and ``solve(net,
"misocp", options=opts)`` raised a bare ``TypeError``; ``Result.to_pandapower`` of a result
without a network or a topology an untyped ``ValueError``; ``timings`` mixed the engine's
counts (``master_nodes``, ``warm_cuts``) with seconds."""

from __future__ import annotations

import dataclasses
import warnings

import pandapower as pp
import pytest

import feederopt
from netbuild import tiny, tiny_pandapower_net


@pytest.fixture(scope="module")
def result() -> feederopt.Result:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return feederopt.solve(tiny(), time_limit=60)


@pytest.mark.parametrize("call", [
    lambda net, o: feederopt.solve(net, o, gap=0.1),
    lambda net, o: feederopt.solve(net, "misocp", options=o),
    lambda net, o: feederopt.solve(net, options=o, time_limit=5),
    lambda net, o: feederopt.solve(net, o, options=o),
], ids=["positional+keyword", "method+options", "options+keyword", "options twice"])
def test_options_with_a_method_or_keywords_is_an_option_error(call) -> None:
    opts = feederopt.solve_options("misocp", gap=1e-3)
    with pytest.raises(feederopt.OptionNameError) as err:
        call(tiny(), opts)
    assert isinstance(err.value, feederopt.InputError) and isinstance(err.value, TypeError)
    (p,) = err.value.problems
    assert p.component == "options" and p.field == "options"
    assert "given at once" in p.message


def test_the_named_keyword_or_method_is_in_the_message() -> None:
    opts = feederopt.solve_options("misocp")
    with pytest.raises(feederopt.OptionNameError, match="gap"):
        feederopt.solve(tiny(), opts, gap=0.1)
    with pytest.raises(feederopt.OptionNameError, match="misocp"):
        feederopt.solve(tiny(), "misocp", options=opts)


def test_to_pandapower_without_a_network_is_an_input_error(result) -> None:
    orphan = dataclasses.replace(result, network=None)
    with pytest.raises(feederopt.InputError) as err:
        orphan.to_pandapower(tiny_pandapower_net({"tie1"}))
    (p,) = err.value.problems
    assert p.component == "result" and p.field == "network"


def test_to_pandapower_without_a_topology_is_an_input_error() -> None:
    # holding l2 and tie1 open cuts b, c, d off the source: no radial topology (by hand)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = feederopt.solve(tiny(), hold_open=["l2", "tie1"], time_limit=60)
    assert not r.has_topology
    with pytest.raises(feederopt.InputError) as err:
        r.to_pandapower(tiny_pandapower_net({"tie1"}))
    (p,) = err.value.problems
    assert p.field == "has_topology" and "no topology" in p.message


def test_to_pandapower_of_a_solved_result_still_writes() -> None:
    pp_net = tiny_pandapower_net({"tie1"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = feederopt.solve(feederopt.load(pp_net), time_limit=60)
    out = r.to_pandapower(pp_net)
    assert isinstance(out, pp.pandapowerNet) and out is not pp_net


def test_timings_hold_seconds_and_engine_stats_the_counts(result) -> None:
    r = dataclasses.replace(result, timings={"build_s": 0.1, "master_s": 0.2,
                                             "master_nodes": 7, "warm_cuts": 3})
    assert r.timings == {"build_s": 0.1, "master_s": 0.2}
    assert r.engine_stats["master_nodes"] == 7 and r.engine_stats["warm_cuts"] == 3
    doc = r.to_dict()
    assert all(k.endswith("_s") for k in doc["timings"])
    assert doc["engine_stats"]["master_nodes"] == 7
    assert all(k.endswith("_s") for k in result.timings)

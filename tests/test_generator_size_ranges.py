"""generate_scenarios' size ranges are checked like its shares (user test ut50_scen #1): the
README promises wrong values are refused as typed problems naming the argument before any
work, and numpy's uniform(low, high) would otherwise fill a missing high with 1.0, draw
negative PV sizes, or raise its own ValueError/OverflowError/TypeError."""
from __future__ import annotations

import math
from typing import Any

import pytest

import feederopt
from feederopt.errors import InputError


@pytest.mark.parametrize(("field", "value"), [
    ("hp_size", (0.1,)),                # numpy's default high 1.0 filled in silently
    ("pv_size", (-1, 1)),               # PV drawn as demand
    ("pv_capacity_factor", (1.2, 1.5)),  # more than the nameplate
    ("pv_size", (2.0, 1.0)),            # numpy: ValueError high - low < 0
    ("ev_size", (0.1, math.nan)),       # numpy: OverflowError
    ("pv_size", (0.5, 1.5, 9.0)),       # TypeError: multiple values for 'size'
    ("hp_size", "ab"),                  # a string is no pair
    ("ev_size", 0.3),                   # one number is no pair
])
def test_a_bad_size_range_is_a_typed_problem_naming_it(field: str, value: Any) -> None:
    with pytest.raises(InputError) as exc:
        feederopt.generate_scenarios("case33bw", count=5, seed=3, hp_share=1.0,
                                     **{field: value})
    assert [p.field for p in exc.value.problems] == [field]


def test_every_bad_range_at_once_with_the_shares() -> None:
    with pytest.raises(InputError) as exc:
        feederopt.generate_scenarios("case33bw", pv_share=2.0, pv_size=(2.0, 1.0),
                                     hp_size=(0.1,))
    assert sorted(p.field for p in exc.value.problems) == ["hp_size", "pv_share", "pv_size"]


def test_a_good_range_is_kept_by_the_draws() -> None:
    # the README's formula: heat pump = U(hp_size) x the bus's nominal load (hand check of
    # every row against the network's own loads)
    net = feederopt.load("case33bw")
    t = feederopt.generate_scenarios(net, count=5, seed=3, hp_share=1.0, hp_size=(0.2, 0.25))
    loads = net.loads.to_pandas().groupby("bus")["p_mw"].sum()
    hp = t.filter(t["der"] == "hp").to_pandas()
    assert len(hp) > 0
    ratio = hp["p_mw"].to_numpy() / loads.loc[hp["element"].astype(loads.index.dtype)].to_numpy()
    assert ((ratio >= 0.2) & (ratio <= 0.25)).all()


@pytest.mark.parametrize("value", ["no", "false", 0, 1, None])
def test_growth_fixed_takes_only_true_or_false(value: Any) -> None:
    """``growth_fixed="no"`` was truthy: every scenario got exactly +growth, silently (user test
    ut51_growth #1); like every switch of the API it must be True or False."""
    with pytest.raises(InputError) as exc:
        feederopt.generate_scenarios("case33bw", count=3, seed=3, growth_fixed=value)
    assert [p.field for p in exc.value.problems] == ["growth_fixed"]


def test_growth_fixed_true_gives_every_scenario_the_growth() -> None:
    """Hand arithmetic of the documented formula: with growth_fixed and no noise every load is
    its nominal p times 1 + growth."""
    import numpy as np

    net = feederopt.load("case33bw")
    table = feederopt.generate_scenarios(net, count=3, seed=3, growth=0.3, noise=0.0,
                                         pv_share=0.0, ev_share=0.0, hp_share=0.0,
                                         growth_fixed=np.True_)
    nominal = dict(zip(net.loads["id"].cast(str), net.loads["p_mw"], strict=True))
    loads = table.filter(table["kind"] == "load")
    assert loads.height == 3 * len(nominal)
    for element, p in zip(loads["element"], loads["p_mw"], strict=True):
        assert p == pytest.approx(1.3 * nominal[element], rel=1e-12)

"""A SimBench grid whose closed branches form a loop that cannot open (user test ut50_simb #2).

``solve simbench:1-MV-urban--1-no_sw`` said "make one of them switchable or normally open",
which a grid read by its name cannot be. The hint now names the grid's ``-sw`` variant and the
.json route with ``--ties out_of_service``, and a ``no_sw`` grid says that it keeps switches
only at its ties. The truth is SimBench's own data: its list of codes (the ``-sw`` variant
exists) and the switch table of the ``no_sw`` net (every switch an open line switch).
"""

from __future__ import annotations

import pytest

import feederopt
from feederopt.errors import InputError

simbench = pytest.importorskip("simbench")
CODE = "1-MV-urban--1-no_sw"


def test_the_hint_names_the_sw_variant_and_the_json_route() -> None:
    assert "1-MV-urban--1-sw" in simbench.collect_all_simbench_codes()
    with pytest.raises(InputError) as err:
        feederopt.solve(f"simbench:{CODE}@hL", time_limit=20)
    (loop,) = [p for p in err.value.problems if p.kind.value == "not_radial"]
    assert "simbench:1-MV-urban--1-sw@hL" in loop.hint
    assert "--ties out_of_service" in loop.hint and ".json" in loop.hint
    assert "make one of them switchable" not in loop.hint


def test_a_no_sw_grid_says_where_its_switches_are() -> None:
    pp_net = simbench.get_simbench_net(CODE)
    sw = pp_net.switch
    assert (sw["et"] == "l").all() and not sw["closed"].any()  # only the open ties switch
    net = feederopt.load(f"simbench:{CODE}", check=False)
    (note,) = [str(w) for w in net.meta.get("warnings", []) if "no_sw" in str(w)]
    assert f"({sw['element'].nunique()} switchable branch(es) of {net.branches.height})" in note
    assert "simbench:1-MV-urban--1-sw" in note and "little or nothing" in note
    with_sw = feederopt.load("simbench:1-MV-urban--1-sw", check=False)
    assert not [w for w in with_sw.meta.get("warnings", []) if "no_sw" in str(w)]

"""Transformer ratings in networked-microgrid partitioning (user test ut47_part #1).

tests/data/ut47_part/tiny.dss: block 1 holds a 1 MW grid-forming generator G on the 0.48 kV bus
``gl``, which reaches a 600 kW + 100 kvar load at ``b2`` only through Transformer.T, rated
300 kVA (OpenDSS's default normhkva, 110 % of it: 330 kVA). The partition served the whole
600 kW with "all checks hold", while OpenDSS carries 88 A in T's 4.16 kV winding against
45.8 A rated. The model held the lines' ratings only; it now holds the transformer banks' as
the three-phase reconfiguration does, and the OpenDSS check of a plan names a line or
transformer over its rating.

The truth is a hand calculation: serving the load takes at least ``|S| / (sqrt(3) V)`` =
sqrt(600^2 + 100^2) / (sqrt(3) 4.16 1.1) = 76.7 A in T's primary at its upper voltage limit
1.1 p.u. (more at a lower voltage; 93.8 A at 0.9 p.u.), against its rating
``normhkva / (sqrt(3) kV)`` = 330 / (sqrt(3) 4.16) = 45.8 A.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("opendssdirect")

DATA = Path(__file__).parent / "data" / "ut47_part"
LOAD_KVA = math.hypot(600.0, 100.0)
#: T's primary (4.16 kV) rated current at OpenDSS's default normhkva = 1.1 kVA [A]
RATED_A = 1.1 * 300.0 / (math.sqrt(3) * 4.16)
#: the least current serving the load takes in that winding (at its upper voltage limit,
#: 1.1 p.u.) [A], and the most (at its lower one, 0.9 p.u.)
LEAST_A = LOAD_KVA / (math.sqrt(3) * 4.16 * 1.1)
MOST_A = LOAD_KVA / (math.sqrt(3) * 4.16 * 0.9)


def _data(path: Path):
    from feederopt.api_partition import _network_and_settings
    from feederopt.problems.partition import build_partition_data

    problems: list = []
    net, st, _, _ = _network_and_settings(str(path), str(DATA / "stiny.json"), 0.0, None,
                                          None, problems)
    assert not problems
    return net, build_partition_data(net, st)


def test_hand_calculation_rules_the_block_out():
    assert LEAST_A > 1.6 * RATED_A  # 76.7 A against 45.8 A


def test_partition_does_not_serve_a_load_beyond_a_transformer_rating():
    from feederopt.api_partition import partition

    res = partition(str(DATA / "tiny.dss"), settings=str(DATA / "stiny.json"),
                    time_limit_s=60)
    assert res.plan is not None
    # no plan can serve the 600 kW through T: the block stays dark
    assert res.served_load_kw == pytest.approx(0.0, abs=1e-6)
    assert not res.plan.energised.any()
    # and the note on the dark block names transformer ratings among the causes
    assert any("transformer ratings" in n for n in res.notes), res.notes


def test_partition_serves_the_load_through_a_large_enough_transformer(tmp_path):
    """The same feeder with T at 2000 kVA (OpenDSS's rating 2200 / (sqrt(3) 4.16) = 305 A):
    the rating is no limit, the whole 600 kW is served, and OpenDSS's check holds."""
    from feederopt.api_partition import partition

    src = (DATA / "tiny.dss").read_text().replace("kva=300", "kva=2000")
    path = tmp_path / "tiny2000.dss"
    path.write_text(src)
    res = partition(str(path), settings=str(DATA / "stiny.json"), time_limit_s=60)
    assert res.served_load_kw == pytest.approx(600.0, rel=1e-6)
    assert res.within_limits is True


def test_opendss_check_names_the_overloaded_transformer():
    """The plan the model gave before (block 1 energised by G, T's rating left out of the
    model) judged against the file's ratings: OpenDSS's island carries more than the least
    current of the hand calculation in T, over its rating, and the check says so."""
    from feederopt.algorithms.partition import solve_extensive
    from feederopt.validation.partition import AcIsland, nominal_breaches

    net, data = _data(DATA / "tiny.dss")
    _, free = _data(DATA / "tiny.dss")
    for bk in free.pu.banks:  # the model of before: no transformer rating
        bk.s_max_pri = bk.s_max_sec = None
    plan = solve_extensive(free).plan
    assert plan is not None and plan.energised[1]
    ac = AcIsland(net, data, plan).solve(np.ones(len(data.load_ids)))
    assert ac.converged
    assert not ac.within_branch_ratings and not ac.feasible
    [row] = [v for v in ac.limit_violations if v["limit"] == "i_max"]
    assert row["id"].lower() == "transformer.t"
    # the worst winding's current against its own rating (either winding: the ratio is
    # the same in a lossless bank, 0.48 kV's rating 330 / (sqrt(3) 0.48) = 396.9 A)
    kv = 4.16 if row["rating"] < 100 else 0.48
    assert row["rating"] == pytest.approx(1.1 * 300.0 / (math.sqrt(3) * kv), rel=1e-6)
    # 88 A of 45.8 A at 4.16 kV in the tester's island.py: between the currents of the hand
    # calculation at the voltage limits
    assert LEAST_A / RATED_A < row["value"] / row["rating"] < MOST_A / RATED_A
    assert ac.branch_overloads and ac.branch_overloads[0].startswith("Transformer.t")
    # the nominal verdict of a result whose kept round is this flow breaks a limit
    fb = {"enabled": True, "kept_round": 0, "rounds": [
        {"opendss_converged": True, "within_voltage_limits": True, "der_breaches": [],
         "branch_overloads": ac.branch_overloads}]}
    assert nominal_breaches(fb) == ac.branch_overloads


def test_opendss_check_judges_the_energised_blocks_only(tmp_path):
    """Only branches with a terminal in an energised block are judged: the lost substation
    keeps its source in OpenDSS (validation.partition.AcIsland), so a 1 A line feeding a
    100 kW load in its block carries about 14 A there (100 kW / (sqrt(3) 4.16 kV)), which is
    no plan's current; with T large enough the plan breaks no rating."""
    from feederopt.algorithms.partition import solve_extensive
    from feederopt.validation.opendss import branch_loading
    from feederopt.validation.partition import AcIsland

    lost = ("New Line.l0x Phases=3 Bus1=b0 Bus2=bx Linecode=lc Length=0.1 normamps=1 "
            "emergamps=1\nNew Load.Lx Phases=3 Bus1=bx kv=4.16 kW=100 kvar=10 model=1\n")
    src = (DATA / "tiny.dss").read_text().replace("kva=300", "kva=2000").replace(
        "New Generator.G", lost + "New Generator.G")
    path = tmp_path / "tinylost.dss"
    path.write_text(src)
    net, data = _data(path)
    plan = solve_extensive(data).plan
    assert plan is not None and plan.energised[1] and data.lost[0]
    ac = AcIsland(net, data, plan).solve(np.ones(len(data.load_ids)))
    # the lost block's line is over its 1 A in OpenDSS (the hand figure: 13.9 A at 1 p.u.)
    [(_, _, amps, _)] = [r for r in branch_loading(net) if r[0] == "Line.l0x"]
    assert amps > 100.0 / (math.sqrt(3) * 4.16) * 0.9
    assert ac.converged and ac.within_branch_ratings and not ac.branch_overloads

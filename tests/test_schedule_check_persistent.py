"""``feederopt check`` of a schedule result: one persistent recourse LP per first stage
(:class:`~feederopt.algorithms.worst_climb.RecourseLp`, only the right-hand sides where ``xi``
enters set per sample) gives the answers of the LP built anew for every sample (user test
ut39_sched: 57-73 s for 1,000 samples of a 6-bus, 2-hour result, about 0.06 s of building per
sample).

Truth: on a 5-bus, 20 kV chain with only loads under an import limit ``S``, a sample is served
without curtailment exactly when in every hour the realised load plus the modelled losses fits
under ``S`` (the flows of a radial net are the sums of the loads downstream). The modelled
loss (tangents of ``r (P^2 + Q^2)``) lies between 0 and ``r (P^2 + Q^2)`` with ``r`` [ohm] /
(20 kV)^2 from pandapower's line data, so a sample whose load alone exceeds ``S`` is surely not
served and one whose load plus that upper bound stays below ``S`` surely is; samples between
are not judged. Beside that, the verdicts and values against the LP built anew per sample
(the code before), also on case33bw's loop with storage, EV and DG (time-coupled recourse, where
a warm start from the previous sample's basis could matter).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pp = pytest.importorskip("pandapower")

from feederopt.algorithms.ccg import evaluate  # noqa: E402
from feederopt.algorithms.worst_climb import RecourseLp  # noqa: E402
from feederopt.api_schedule import schedule_inputs  # noqa: E402
from feederopt.formulations.schedule import ScheduleData  # noqa: E402
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data  # noqa: E402
from feederopt.validation.schedule import (  # noqa: E402
    sample_budget_set,
    served_share,
    served_verdicts,
)
from schedule_loop import TIES, one_loop_data  # noqa: E402

KV = 20.0
LOAD_P, LOAD_Q = 0.5, 0.1  # MW, MVAr at each of buses 1-4
FACTORS = (1.0, 0.95)
GAMMA = 0.2
S = 2.03  # MW: between the two hours' forecast totals plus losses, so the verdicts differ
CHAIN = [(0, 1), (1, 2), (2, 3), (3, 4)]
SAMPLES = 40


def _chain(tmp: Path) -> tuple[ScheduleData, dict[str, np.ndarray], np.ndarray]:
    """The chain 0-1-2-3-4 and a tie 2-4 (kept open here), its data, the first stage and each
    chain line's resistance [ohm] from pandapower's own table."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, KV) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for a, c in [*CHAIN, (2, 4)]:
        line = pp.create_line(net, b[a], b[c], 1.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
        pp.create_switch(net, b[a], line, "l", closed=(a, c) != (2, 4))
    for i in range(1, 5):
        pp.create_load(net, b[i], p_mw=LOAD_P, q_mvar=LOAD_Q)
    pp.to_json(net, str(tmp / "net.json"))
    rows = ["time,element,value"] + [f"{h},load:{i},{f}" for h, f in enumerate(FACTORS)
                                     for i in range(4)]
    (tmp / "prof.csv").write_text("\n".join(rows) + "\n")
    inputs = schedule_inputs(str(tmp / "net.json"), tmp / "prof.csv", None, 2)
    d = build_schedule_data(*inputs, ScheduleSettings(hours=2, gamma=GAMMA, budget=2.0,
                                                      ps_max_mw=S))
    ids = [str(i) for i in inputs[0].branches["id"].to_list()]
    x = {"y": np.array([0.0 if i == "line:4" else 1.0 for i in ids]), "z": np.zeros(0)}
    r_ohm = net.line["r_ohm_per_km"].to_numpy()[:4] * net.line["length_km"].to_numpy()[:4]
    return d, x, r_ohm


def _truth(d: ScheduleData, xi: dict[str, np.ndarray], r_ohm: np.ndarray) -> bool | None:
    """Served (True), not served (False) or too close to tell (None), by hand."""
    sure_ok = True
    for h, f in enumerate(FACTORS):
        dev = xi["xp"].reshape(2, -1)[h, 1:] - xi["xm"].reshape(2, -1)[h, 1:]
        p = LOAD_P * f * (1 + GAMMA * dev)  # buses 1-4
        q_top = LOAD_Q * f * (1 + GAMMA)  # Q's largest value: an upper bound on the losses
        flows = [p[k:].sum() for k in range(4)]  # line k feeds buses k+1..4
        qflows = [q_top * (4 - k) for k in range(4)]
        loss_hi = sum(r * (a * a + b * b) / KV**2
                      for r, a, b in zip(r_ohm, flows, qflows, strict=True))
        if p.sum() > S + 1e-4:
            return False
        sure_ok = sure_ok and p.sum() + loss_hi < S - 1e-4
    return True if sure_ok else None


def test_verdicts_against_hand_calculation(tmp_path: Path) -> None:
    d, x, r_ohm = _chain(tmp_path)
    loads = np.array([[0, *(LOAD_P * f,) * 4] for f in FACTORS])
    assert np.allclose(d.pd, loads)  # the bus order the hand calculation reads
    xis = sample_budget_set(d, SAMPLES, seed=0)
    got = served_verdicts(d, x, xis)
    truth = [_truth(d, xi, r_ohm) for xi in xis]
    judged = [(g, t) for g, t in zip(got, truth, strict=True) if t is not None]
    assert len(judged) >= SAMPLES - 4
    assert {t for _, t in judged} == {True, False}  # both verdicts occur
    assert all(g == t for g, t in judged)
    # the LP built anew for each sample (the code before) gives the same verdicts and share
    before = [float(evaluate(d, x, xi)[1]["pr"].sum()) <= 1e-6 for xi in xis]
    assert got == before
    assert served_share(d, x, xis) == pytest.approx(100.0 * sum(before) / SAMPLES)


def test_persistent_lp_equals_lp_built_anew() -> None:
    """case33bw's tie-33 loop, 3 hours, storage, EV and DG, four uncertain buses: each sample's
    value and curtailment from the persistent LP equal those of the LP built for it."""
    inputs = schedule_inputs("case33bw", hours=3)
    d = one_loop_data(inputs, 3, gamma=0.3, budget=2.0, uncertain_buses=("12", "25", "30", "31"))
    assert len(d.ess_bus) and len(d.ev_bus) and len(d.dg_bus)
    ids = [str(i) for i in inputs[0].branches["id"].to_list()]
    y = np.array([0.0 if i in ("33", *TIES) else 1.0 for i in ids])  # case33bw's base tree
    x = {"y": y, "z": np.tile([1.0, 0.0, 1.0], 3)}  # units 1 and 3 may discharge, 2 charge
    lp = RecourseLp(d, x)
    for xi in sample_budget_set(d, 12, seed=2):
        new = lp.solve(xi)
        value, point = evaluate(d, x, xi)
        assert new.value == pytest.approx(value, rel=1e-7, abs=1e-9)
        assert float(new.values["pr"].sum()) == pytest.approx(float(point["pr"].sum()),
                                                             abs=1e-7)

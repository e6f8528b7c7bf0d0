"""The served-share samples (``feederopt check``, ``schedule --samples``) come from the budget
set the schedule was made with.

Before, with ``--aggregate LO,HI`` (per hour, ``LO <= total realised load / total forecast
load <= HI``) the sampler drew from a temporal set with a budget of one hour per bus: each bus
deviated in at most one hour, and the hourly ratio band was never imposed, so a sample's total
could leave the band (``test_aggregate_samples_lie_in_the_band`` and
``test_aggregate_samples_use_many_hours_per_bus`` fail on that code, checked on b08a844).

Truth, independent of the package's model code: each bus's forecast load in each hour is the
sum, over the pandapower net's loads at that bus, of ``p_mw`` times the load's profile factor
(written here), and a realisation's load at bus ``n`` is ``pd_n (1 + gamma (xp - xm))`` (the
uncertainty set's definition, docs/schedule.md "Uncertainty and C&CG"); the band and the
budgets are the test's own settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

pp = pytest.importorskip("pandapower")

from feederopt.api_schedule import schedule_inputs  # noqa: E402
from feederopt.cli.app import app  # noqa: E402
from feederopt.problems.schedule import (  # noqa: E402
    BudgetKind,
    ScheduleSettings,
    build_schedule_data,
)
from feederopt.validation.schedule import (  # noqa: E402
    sample_budget_set,
    sampling_description,
)
from netbuild import TIE7_LOADS_MW, tie7_pandapower  # noqa: E402

HOURS = 6
FACTORS = (0.7, 0.8, 0.9, 1.0, 1.1, 0.95)  # the loads' profile per hour
PV_FACTORS = (0.0, 0.3, 0.8, 1.0, 0.6, 0.1)
P_LOAD = TIE7_LOADS_MW  # MW at bus i (load:i-1), one load per bus
BAND = (0.98, 1.03)
GAMMA = 0.5  # a bus alone may move the hour's total by up to 0.5 x 0.8 / 3.45 > 10 %
GAMMA_RES = 2
SAMPLES = 40


@pytest.fixture(scope="module")
def feeder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 7-bus 20 kV feeder (one tie), a load at each of buses 1-6 and a PV unit at bus 4."""
    tmp = tmp_path_factory.mktemp("aggsamples")
    net = tie7_pandapower()
    pp.to_json(net, str(tmp / "net.json"))
    dev = tmp / "dev"
    dev.mkdir()
    (dev / "pv.csv").write_text("id,bus,p_max_mw,deviation\nPV4,4,0.4,0.2\n")
    rows = [f"{h},load:{i},{f}" for h, f in enumerate(FACTORS) for i in range(6)]
    rows += [f"{h},PV4,{f}" for h, f in enumerate(PV_FACTORS)]
    (tmp / "prof.csv").write_text("\n".join(["time,element,value", *rows]) + "\n")
    return tmp


def _data(feeder: Path, **kw: Any) -> Any:
    net, dev, prof = schedule_inputs(str(feeder / "net.json"), feeder / "prof.csv",
                                     feeder / "dev", HOURS)
    assert [str(v) for v in net.buses["id"].to_list()] == [str(i) for i in range(7)]
    return build_schedule_data(net, dev, prof, ScheduleSettings(hours=HOURS, **kw))


def _forecast() -> np.ndarray:
    """(H, 7) forecast load [MW] of each bus, from the net's loads and their profile."""
    pd = np.zeros((HOURS, 7))
    for h, f in enumerate(FACTORS):
        for bus, p in P_LOAD.items():
            pd[h, bus] += p * f
    return pd


def _signed(xi: dict[str, np.ndarray]) -> np.ndarray:
    return (xi["xp"] - xi["xm"]).reshape(HOURS, 7)


def _check_box(xi: dict[str, np.ndarray]) -> None:
    """Fractions in [0, 1], never up and down at once, the substation never deviates."""
    for k in ("xp", "xm", "xr"):
        assert ((xi[k] >= 0) & (xi[k] <= 1 + 1e-12)).all()
    assert (np.minimum(xi["xp"], xi["xm"]) == 0).all()
    assert (_signed(xi)[:, 0] == 0).all()


@pytest.fixture(scope="module")
def aggregate(feeder: Path) -> tuple[Any, list[dict[str, np.ndarray]]]:
    d = _data(feeder, gamma=GAMMA, budget_kind=BudgetKind.AGGREGATE, aggregate=BAND,
              budget_res=GAMMA_RES)
    return d, sample_budget_set(d, SAMPLES, seed=3)


def test_aggregate_samples_lie_in_the_band(aggregate: tuple[Any, list[Any]]) -> None:
    """Every sample's hourly total / forecast total is within [LO, HI], and the samples reach
    both sides of the band (not all at the forecast)."""
    _, xis = aggregate
    pd = _forecast()
    lo, hi = BAND
    ratios = []
    for xi in xis:
        _check_box(xi)
        real = pd * (1 + GAMMA * _signed(xi))
        ratios.append(real.sum(1) / pd.sum(1))
    r = np.array(ratios)
    assert r.min() >= lo - 1e-9 and r.max() <= hi + 1e-9, (r.min(), r.max())
    assert (r > 1 + (hi - 1) / 2).any() and (r < 1 - (1 - lo) / 2).any()


def test_aggregate_samples_use_many_hours_per_bus(aggregate: tuple[Any, list[Any]]) -> None:
    """The band bounds the hour's total, not the hours per bus: a bus deviates in more than
    one hour (here in every hour: each hour allows every bus a small deviation)."""
    _, xis = aggregate
    for bus in range(1, 7):
        hours = [int((_signed(xi)[:, bus] != 0).sum()) for xi in xis]
        assert max(hours) > 1, (bus, hours)
        assert max(hours) == HOURS


def test_aggregate_renewables_keep_their_budget(aggregate: tuple[Any, list[Any]]) -> None:
    """Renewables as in the temporal set: at most GAMMA_RES hours cut per unit, and some
    sample uses more than one."""
    d, xis = aggregate
    assert len(d.res_bus) == 1
    counts = [int((xi["xr"] > 0).sum()) for xi in xis]
    assert max(counts) <= GAMMA_RES and max(counts) > 1


def test_aggregate_description_is_the_band(aggregate: tuple[Any, list[Any]]) -> None:
    d, _ = aggregate
    desc = sampling_description(d, 3)
    assert desc["kind"] == "random_fractions"
    text = desc["description"]
    assert "0.98 <= total load / forecast total <= 1.03" in text
    assert "U(-1, 1)" in text and "nearer band edge" in text
    assert "at most one hour" not in text and "not imposed" not in text
    assert "each of the 6 uncertain buses" in text and "numpy seed 3" in text


@pytest.mark.parametrize("budget", [1.0, 2.0])
def test_temporal_samples_keep_the_budget(feeder: Path, budget: float) -> None:
    """The temporal set's sampler still honours Gamma hours per bus (counted here) and
    GAMMA_RES hours per renewable unit, and uses up to Gamma hours."""
    d = _data(feeder, gamma=0.3, budget=budget, budget_res=GAMMA_RES)
    assert d.aggregate is None
    xis = sample_budget_set(d, SAMPLES, seed=1)
    most = 0
    for xi in xis:
        _check_box(xi)
        per_bus = (_signed(xi) != 0).sum(0)
        assert per_bus.max() <= budget
        most = max(most, int(per_bus.max()))
        assert int((xi["xr"] > 0).sum()) <= GAMMA_RES
    assert most == budget


def test_check_through_cli_describes_the_band(feeder: Path, tmp_path: Path) -> None:
    """``schedule --aggregate --deterministic --samples`` (the forecast schedule, checked in the
    aggregate set) then ``check``: both JSON descriptions and the console name the band."""
    out = tmp_path / "res.json"
    r = CliRunner().invoke(app, ["schedule", str(feeder / "net.json"), "--profiles",
                                 str(feeder / "prof.csv"), "--devices", str(feeder / "dev"),
                                 "--hours", "3", "--gamma", "0.3", "--aggregate", "0.98,1.03",
                                 "--no-ac-check", "--deterministic", "--samples", "4",
                                 "--json", str(out)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    text = doc["sample_check"]["sampling"]["description"]
    assert "0.98 <= total load / forecast total <= 1.03" in text
    rep_file = tmp_path / "check.json"
    r = CliRunner().invoke(app, ["check", str(out), "--samples", "4", "--json",
                                 str(rep_file)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    rep = json.loads(rep_file.read_text())
    assert "0.98 <= total load / forecast total <= 1.03" in rep["sampling"]["description"]
    assert 0.0 <= rep["served_pct"] <= 100.0
    assert "nearer band edge" in " ".join(r.output.split())

"""The schedule's presentation (user test of a DSO engineer): the hourly figure draws a panel
for each device kind the schedule has and none for the others (no empty axes), every generator
and every storage unit (SOC with its limits) is visible, the open lines carry their from-to
buses as in ``feederopt solve`` (console, JSON, report; per hour too), and ``feederopt check``
says how its samples are drawn. Truth: the inputs (the net's tables, the device tables), not
numbers copied from an output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pp = pytest.importorskip("pandapower")

from typer.testing import CliRunner  # noqa: E402

from feederopt import load  # noqa: E402
from feederopt.cli import app  # noqa: E402
from feederopt.report.schedule import LINE_UNITS, TITLES, hourly_figure  # noqa: E402

HOURS = 2
N_SGEN = 20  # a net with many of its own generators: more than a legend holds
DG = ("id,bus,p_max_mw,q_max_mvar,cost_per_mwh,fuel\n"
      "DG2,2,0.5,0.3,0.0,gas\nDG4,4,0.5,0.3,0.0,gas\nDG5,5,0.5,0.3,0.0,diesel\n")
# three alike units: their SOC series coincide unless dispatched apart
ESS = ("id,bus,e_max_mwh,p_max_mw,eta_ch,eta_dis,soc0\n"
       "B1,1,1.2,0.3,0.95,0.95,0.5\nB3,3,1.2,0.3,0.95,0.95,0.5\nB5,5,0.8,0.2,0.95,0.95,0.25\n")


def _net(tmp_path: Path) -> Path:
    net = pp.create_empty_network()
    buses = [pp.create_bus(net, 20) for _ in range(6)]
    pp.create_ext_grid(net, buses[0])
    std = "NA2XS2Y 1x95 RM/25 12/20 kV"
    for a, b in [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (3, 5), (1, 4)]:
        line = pp.create_line(net, buses[a], buses[b], 2.0, std)
        pp.create_switch(net, buses[a], line, "l", closed=(a, b) not in {(3, 5), (1, 4)})
    for k in range(1, 6):
        pp.create_load(net, buses[k], p_mw=0.4 + 0.1 * k, q_mvar=0.1)
    for g in range(N_SGEN):
        pp.create_sgen(net, buses[1 + g % 5], p_mw=0.01 + 0.002 * g)
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    return path


def _inputs(tmp_path: Path, tables: dict[str, str]) -> tuple[Path, Path, Path]:
    path = _net(tmp_path)
    prof = tmp_path / "prof.csv"
    prof.write_text("time,element,value\n" + "".join(
        f"{h},load:{k},{0.8 + 0.1 * h}\n" for h in range(HOURS) for k in range(5)))
    dev = tmp_path / "dev"
    dev.mkdir()
    for name, text in tables.items():
        (dev / f"{name}.csv").write_text(text)
    return path, prof, dev


def _schedule(tmp_path: Path, tables: dict[str, str], *extra: str) -> tuple[Any, dict[str, Any],
                                                                            Path]:
    path, prof, dev = _inputs(tmp_path, tables)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["schedule", str(path), "--profiles", str(prof), "--devices",
                                 str(dev), "--hours", str(HOURS), "--no-ac-check",
                                 "--time-limit", "60", "--out", str(out), *extra],
                           env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    return r, json.loads((out / "result.json").read_text()), path


@pytest.fixture(scope="module")
def dg_ess(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], Path]:
    """A schedule of the net with fossil DG and storage only (no EV, PV, wind, DSM)."""
    return _schedule(tmp_path_factory.mktemp("dg_ess"), {"dg": DG, "ess": ESS})


def _ids(table: str) -> list[str]:
    return [row.split(",")[0] for row in table.strip().splitlines()[1:]]


def _panels(fig: Any) -> dict[str, Any]:
    """The figure's panels by title (colour bars have none)."""
    return {ax.get_title(): ax for ax in fig.axes if ax.get_title()}


def _labels(fig: Any) -> set[str]:
    """Every name the figure shows: line labels (legend entries) and axis tick labels."""
    out: set[str] = set()
    for ax in fig.axes:
        out |= {str(line.get_label()).split(" (")[0] for line in ax.get_lines()}
        out |= {t.get_text() for t in ax.get_yticklabels()}
    return out


def test_panels_are_the_device_kinds_present(dg_ess: tuple[Any, dict[str, Any], Path]
                                             ) -> None:
    _, doc, _ = dg_ess
    fig = hourly_figure(doc)
    titles = list(_panels(fig))
    # the kinds the inputs have: DG and ESS tables, the net's sgens; none of EV, PV, wind, DSM
    present = {"substation", "dg", "ess_power", "ess_soc", "voltages", "losses", "network_gen"}
    drawn = {k for k, t in TITLES.items() if any(title.startswith(t) for title in titles)}
    assert drawn == present | ({"curtailment"} if max(doc["series"]["load_shed_mw"]) > 0
                               else set())
    assert len(titles) == len(drawn)  # one panel per kind, no untitled empty axes
    for title, ax in _panels(fig).items():  # every panel holds data
        assert ax.get_lines() or ax.get_images(), title
    note = " ".join(t.get_text() for t in fig.texts)
    assert "EV" in note and "PV and wind" in note and "DSM" in note


def test_every_generator_and_storage_unit_is_named(dg_ess: tuple[Any, dict[str, Any], Path]
                                                  ) -> None:
    _, doc, path = dg_ess
    fig = hourly_figure(doc)
    names = _labels(fig)
    gens = [str(g) for g in load(str(path)).generators["id"].to_list()]
    assert len(gens) == N_SGEN > LINE_UNITS
    assert set(gens) <= names  # all 20 of the net's own generators, not the first 8
    assert set(_ids(DG)) <= names
    assert set(_ids(ESS)) <= names


def test_many_dg_units_all_drawn() -> None:
    """A result with more DG units than lines fit: a row per unit, each named."""
    ids = [f"G{k}" for k in range(LINE_UNITS + 7)]
    h = 3
    series: dict[str, Any] = {
        "substation_p_mw": [1.0] * h, "substation_q_mvar": [0.1] * h,
        "dg_mw": {g: [0.1 * k] * h for k, g in enumerate(ids)},
        "dg_q_mvar": {g: [0.0] * h for g in ids},
        "ess_charge_mw": {}, "ess_discharge_mw": {}, "ess_soc_mwh": {}, "renewable_mw": {},
        "renewable_available_mw": {}, "ev_mw": {}, "dsm_shift_mw": {}, "v_min_pu": [0.98] * h,
        "v_max_pu": [1.0] * h, "v_mean_pu": [0.99] * h, "losses_mw": [0.01] * h,
        "load_shed_mw": [0.0] * h}
    fig = hourly_figure({"case": "x", "series": series, "settings": {"eps": 0.0}})
    assert set(ids) <= _labels(fig)


def test_soc_of_every_unit_visible_with_its_limits(dg_ess: tuple[Any, dict[str, Any], Path]
                                                   ) -> None:
    _, doc, _ = dg_ess
    ax = next(a for t, a in _panels(hourly_figure(doc)).items() if "state of charge" in t)
    rows = [r.split(",") for r in ESS.strip().splitlines()[1:]]
    units = {r[0]: (float(r[2]), float(r[2]) * float(r[6])) for r in rows}  # E, soc0 [MWh]
    lines = {str(ln.get_label()).split(" (")[0]: ln for ln in ax.get_lines()}
    soc = [lines[u] for u in units]
    # each unit its own look (colour, width, marker): a unit equal to another stays visible
    looks = {(ln.get_color(), ln.get_linewidth(), ln.get_marker()) for ln in soc}
    assert len(looks) == len(units)
    # the SOC starts at soc0 (the table's share of E) and every point lies inside the axes
    lo, hi = ax.get_ylim()
    for u, (_, s0) in units.items():
        y = np.asarray(lines[u].get_ydata(), float)
        assert y[0] == pytest.approx(s0)
        assert lo < y.min() and y.max() < hi
    # the limits: 0 and each E max (and soc0) drawn as horizontal lines, inside the axes
    flat = {round(float(ln.get_ydata()[0]), 9) for ln in ax.get_lines()
            if len(set(np.asarray(ln.get_ydata(), float))) == 1}
    assert {0.0} | {e for e, _ in units.values()} | {s for _, s in units.values()} <= flat
    assert lo < 0.0 and max(e for e, _ in units.values()) < hi


def _branch_table(path: Path) -> dict[str, tuple[str, str]]:
    br = load(str(path)).branches
    return {str(i): (str(f), str(t)) for i, f, t in
            zip(br["id"], br["from_bus"], br["to_bus"], strict=True)}


def test_open_lines_carry_their_buses(dg_ess: tuple[Any, dict[str, Any], Path]) -> None:
    r, doc, path = dg_ess
    table = _branch_table(path)
    assert [b["id"] for b in doc["open_branches"]] == doc["open_lines"]
    assert doc["open_lines"]
    for rows, bare in zip(doc["open_branches_by_hour"], doc["open_lines_by_hour"],
                          strict=True):
        assert [b["id"] for b in rows] == bare
        for b in rows:
            assert (b["from_bus"], b["to_bus"]) == table[b["id"]]
    out = " ".join(r.output.split())
    html = (path.parent / "out" / "report.html").read_text()
    for b in doc["open_branches"]:
        f, t = table[b["id"]]
        assert f"{b['id']} ({f}-{t}" in out
        assert f"{b['id']} ({f}-{t}" in html


def test_hourly_topology_carries_buses(tmp_path: Path) -> None:
    r, doc, path = _schedule(tmp_path, {"dg": DG}, "--hourly-topology")
    table = _branch_table(path)
    assert len(doc["open_branches_by_hour"]) == HOURS
    out = " ".join(r.output.split())
    for rows in doc["open_branches_by_hour"]:
        for b in rows:
            assert (b["from_bus"], b["to_bus"]) == table[b["id"]]
            f, t = table[b["id"]]
            assert f"{b['id']} ({f}-{t}" in out


def test_check_says_how_samples_are_drawn(tmp_path: Path) -> None:
    _, doc, path = _schedule(tmp_path, {"dg": DG}, "--robust-budget", "1", "--gamma", "0.1",
                             "--deterministic")
    rep_file = tmp_path / "check.json"
    r = CliRunner().invoke(app, ["check", str(tmp_path / "out"), "--samples", "3", "--json",
                                 str(rep_file)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    rep = json.loads(rep_file.read_text())
    sampling = rep["sampling"]
    assert sampling["kind"] == "random_fractions"
    text = sampling["description"]
    assert "not its binary extreme points" in text
    loads = load(str(path)).loads
    load_buses = {str(b) for b, p in zip(loads["bus"], loads["p_mw"], strict=True) if p > 0}
    assert f"each of the {len(load_buses)} uncertain buses" in text
    assert "gamma 0.1" in text and "U(0, 1)" in text
    assert "samples: random fractional points" in " ".join(r.output.split())
    # what it says is what the sampler does: fractional deviations, at most Gamma hours
    from feederopt.api_schedule import _result_settings, schedule_inputs
    from feederopt.problems.schedule import build_schedule_data
    from feederopt.validation.schedule import sample_budget_set

    st = _result_settings(doc)
    d = build_schedule_data(*schedule_inputs(str(path), doc["inputs"]["profiles"],
                                             doc["inputs"]["devices"], HOURS), st)
    xis = sample_budget_set(d, 20, 0)
    dev = np.concatenate([x["xp"] + x["xm"] for x in xis])
    assert ((dev > 0) & (dev < 1)).any()
    for x in xis:
        per_bus = ((x["xp"] + x["xm"]).reshape(HOURS, d.n) > 0).sum(0)
        assert per_bus.max() <= 1

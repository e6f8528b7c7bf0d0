"""The HTML report of a scenario (stochastic) and a robust run: the headline figures are
labelled as the nominal load's, and every scenario has a row with its probability, the model's
losses and slack, pandapower's AC losses, V min, V max and largest loading at its loads, the
verdict and the broken limits with their ids and units.

The run is the CLI's (``feederopt solve FOLDER --scenarios CSV --out DIR --report``) on the tiny
feeder of ``netbuild`` with a 0.6 kA rating on its lines. The reference is pandapower's
Newton-Raphson on a net built here from the feeder's tables by hand (not through feederopt),
at the result's topology and each scenario's loads; the probabilities are the weights 1, 1, 2
normalised by hand (0.25, 0.25, 0.5). Scenario ``big`` (Lc at 11 MW + 5 Mvar) pulls buses c and
d below 0.9 p.u. and loads the tie past its rating, so its row must list those limits.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.folder import write_folder
from feederopt.network import Network
from netbuild import tiny_pandapower_net, tiny_tables

runner = CliRunner()
RATING_KA = 0.6
#: scenario -> (load id, p_mw, q_mvar, weight); the other loads keep their nominal demand.
SCENARIOS = {"low": ("La", 0.1, 0.05, 1.0), "high": ("Lc", 1.2, 0.6, 1.0),
             "big": ("Lc", 11.0, 5.0, 2.0)}
PROBABILITY = {"low": 0.25, "high": 0.25, "big": 0.5}  # 1, 1, 2 over 4, by hand
V_MIN = 0.9  # the buses' default band


def _tables() -> dict[str, pl.DataFrame]:
    t = tiny_tables()
    t["branches"] = t["branches"].with_columns(pl.Series(
        "i_max_ka", [RATING_KA, RATING_KA, RATING_KA, None, RATING_KA]))
    return t


class _Tables(HTMLParser):
    """Every ``<table>`` of an HTML fragment as a list of rows (lists of cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def section(page: str, anchor: str) -> str:
    start = page.index(f'<section id="{anchor}">')
    return page[start:page.index("</section>", start)]


def tables(fragment: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(fragment)
    return parser.tables


def records(table: list[list[str]]) -> list[dict[str, str]]:
    head, *rows = table
    return [dict(zip(head, r, strict=True)) for r in rows]


def pandapower_point(open_ids: set[str], loads: dict[str, tuple[float, float]]) -> Any:
    """pandapower's Newton-Raphson of the rated tiny feeder with ``open_ids`` open and the
    loads ``id -> (p_mw, q_mvar)``; the net, with bus names the feeder's ids."""
    import pandapower as pp

    net = tiny_pandapower_net(open_ids, tables=_tables(), loads=loads)
    pp.runpp(net, tolerance_mva=1e-10)
    return net


def nominal_loads() -> dict[str, tuple[float, float]]:
    return {r["id"]: (r["p_mw"], r["q_mvar"]) for r in tiny_tables()["loads"].iter_rows(named=True)}


def _run(tmp: Path, *extra: str) -> tuple[dict[str, Any], str]:
    feeder = tmp / "feeder"
    if not feeder.exists():
        write_folder(Network.from_tables(**_tables(), name="tiny"), feeder)
    out = tmp / "out"
    res = runner.invoke(app, ["solve", str(feeder), *extra, "--out", str(out), "--report",
                              "--workers", "1", "--time-limit", "60"])
    assert (out / "report.html").is_file(), res.output
    return (json.loads((out / "result.json").read_text()),
            (out / "report.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scenario_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    tmp = tmp_path_factory.mktemp("fixb_scen")
    csv = tmp / "scenarios.csv"
    pl.DataFrame([{"scenario": s, "kind": "load", "element": e, "p_mw": p, "q_mvar": q,
                   "weight": w} for s, (e, p, q, w) in SCENARIOS.items()]).write_csv(csv)
    return _run(tmp, "--scenarios", str(csv))


def close(cell: str, want: float, tol: float) -> bool:
    return abs(float(cell) - want) <= tol


def test_every_scenario_row_matches_pandapower_at_its_loads(
        scenario_run: tuple[dict[str, Any], str]) -> None:
    doc, page = scenario_run
    open_ids = {b["id"] for b in doc["open_branches"]}  # the result's topology
    rows = {r["scenario"]: r for r in records(tables(section(page, "scenarios"))[0])}
    assert set(rows) == set(SCENARIOS)
    for name, (load, p, q, _) in SCENARIOS.items():
        net = pandapower_point(open_ids, {**nominal_loads(), load: (p, q)})
        vm = dict(zip(net.bus["name"], net.res_bus.vm_pu, strict=True))
        row = rows[name]
        assert close(row["probability"], PROBABILITY[name], 1e-9), row
        assert close(row["AC losses [kW]"], float(net.res_line.pl_mw.sum()) * 1e3, 1.5e-3), row
        assert close(row["AC V min [p.u.]"], min(vm.values()), 6e-5), row
        assert close(row["AC V max [p.u.]"], max(vm.values()), 6e-5), row
        assert row["AC V min at bus"] in {b for b, v in vm.items() if v <= min(vm.values()) + 1e-9}
        assert close(row["AC max loading [%]"], float(net.res_line.loading_percent.max()), 6e-3)
        low = {b for b, v in vm.items() if v < V_MIN - 1e-4}
        over = {n for n, x in zip(net.line["name"], net.res_line.loading_percent, strict=True)
                if x > 100.1}
        assert row["AC within limits"] == ("yes" if not low and not over else "no"), row
        broken = row["AC limits broken"]
        if not low and not over:
            assert broken == "none"
        for b in low:  # the bus, its voltage and limit in p.u.
            assert f"bus {b}: v_min" in broken
            assert f"{vm[b]:.4f} p.u. against {V_MIN:.4f} p.u." in broken
        for line in over:  # the branch, its loading in %
            assert f"branch {line}: i_max" in broken and " % of the limit" in broken
        # the model's answer at the same loads: within its limits exactly when pandapower's
        # is; then without slack its voltages are the power flow's (on this radial feeder)
        assert row["model within limits"] == row["AC within limits"]
        if row["model within limits"] == "yes":
            assert close(row["model V min [p.u.]"], min(vm.values()), 1e-4)
    # the premise: scenario big breaks limits at this topology, the others do not
    assert rows["big"]["AC within limits"] == "no" and "bus c: v_min" in rows["big"][
        "AC limits broken"] and "p.u." in rows["big"]["model needs slack at"]
    assert rows["low"]["AC within limits"] == "yes"


def test_headline_figures_are_labelled_and_are_the_nominal_loads(
        scenario_run: tuple[dict[str, Any], str]) -> None:
    from feederopt.api import NOMINAL_NOTE

    doc, page = scenario_run
    summary = section(page, "summary")
    assert NOMINAL_NOTE.replace("'", "&#x27;") in summary
    # the cards' figures, with their labels: pandapower at the nominal loads
    net = pandapower_point({b["id"] for b in doc["open_branches"]}, nominal_loads())
    losses = float(net.res_line.pl_mw.sum()) * 1e3
    v_min = float(net.res_bus.vm_pu.min())
    # the run is proven infeasible (scenario big breaks a limit at every topology): its kept
    # topology is the least-violating state, named so as the console names it (ut42_report #1)
    kept = (" (least-violating state, breaks the limits)" if doc["status"] == "infeasible"
            else "")
    assert (f'<div class="k">losses after (nominal load){kept}</div>'
            f'<div class="v">{losses:.2f} kW</div>') in summary
    assert (f'<div class="k">min voltage after (nominal load){kept}</div>'
            f'<div class="v">{v_min:.4f} p.u.</div>') in summary
    assert "AC check at the nominal load" in section(page, "ac-check")
    # no scenario is the nominal load: the headline is not the worst scenario's
    assert f"{losses:.2f} kW" not in section(page, "scenarios")


def test_robust_run_shows_its_extreme_points_and_the_worst_ones_ac(tmp_path: Path) -> None:
    """+-50 % on every load: the worst extreme point is every load at 1.5 x nominal (all
    loads passive: the largest demand loses most); its AC row matches pandapower there."""
    doc, page = _run(tmp_path, "--robust", "0.5")
    open_ids = {b["id"] for b in doc["open_branches"]}
    net = pandapower_point(open_ids, {k: (1.5 * p, 1.5 * q)
                                      for k, (p, q) in nominal_loads().items()})
    rob = section(page, "robust")
    points, _, worst = tables(rob)
    (ac,) = records(worst)
    assert close(ac["AC V min [p.u.]"], float(net.res_bus.vm_pu.min()), 6e-5)
    assert close(ac["AC losses [kW]"], float(net.res_line.pl_mw.sum()) * 1e3, 1.5e-3)
    assert close(ac["AC max loading [%]"], float(net.res_line.loading_percent.max()), 6e-3)
    assert ac["AC within limits"] == "yes" and ac["AC limits broken"] == "none"
    rows = records(points)
    every_up = ", ".join(f"{load}+" for load in doc["robust_summary"]["uncertain_loads"])
    assert every_up in {r["deviating loads (others at nominal)"] for r in rows}
    assert "(nominal load)" in section(page, "summary")

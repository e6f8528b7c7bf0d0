"""The solve report's generators table: id, bus, P [MW], Q [Mvar] and the limits, when the
network has generators; no section when it has none.

* A pandapower net built here (a 6-bus ring, switches on every line, the tie open) with a
  voltage-controlling ``gen`` (P 0.2 MW, |V| 0.99 p.u., Q free) and a fixed ``sgen``
  (0.15 MW, 0.05 Mvar). The reference is pandapower's own Newton-Raphson on a fresh copy of
  that net with the result's switch states: ``res_gen`` and ``res_sgen`` give each unit's P
  and Q; the gen's Q is what the power flow solves for, so it is not an input echoed back.
  The limits are the data's by hand: the sgen a fixed injection (min = max = its set-point),
  the gen's Q unbounded (no ``max_q_mvar``).
* The tiny feeder of ``netbuild`` with a dispatchable generator (0..0.3 MW, -0.1..0.1 Mvar):
  the table gives those limits and a dispatch within them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

import feederopt
from netbuild import tiny
from test_fixb_report_scenarios import records, section, tables

GEN_VM_PU = 0.99


def ring() -> Any:
    import pandapower as pp

    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, vn_kv=12.66) for _ in range(6)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    lines = [(0, 1, 0.3, 0.2), (1, 2, 0.4, 0.3), (2, 3, 0.5, 0.3), (3, 4, 0.4, 0.3),
             (4, 5, 0.3, 0.2), (0, 5, 1.0, 0.8)]
    for k, (f, t, r, x) in enumerate(lines):
        line = pp.create_line_from_parameters(net, b[f], b[t], length_km=1.0, r_ohm_per_km=r,
                                              x_ohm_per_km=x, c_nf_per_km=0.0, max_i_ka=1.0)
        pp.create_switch(net, b[f], line, et="l", closed=k != 5)  # the tie open
    for bus, p, q in [(1, .2, .1), (2, .3, .15), (3, .25, .1), (4, .2, .1), (5, .1, .05)]:
        pp.create_load(net, b[bus], p_mw=p, q_mvar=q)
    pp.create_gen(net, b[3], p_mw=0.2, vm_pu=GEN_VM_PU)
    pp.create_sgen(net, b[5], p_mw=0.15, q_mvar=0.05)
    return net


def generator_rows(folder: Path) -> dict[str, dict[str, str]]:
    page = (folder / "report.html").read_text(encoding="utf-8")
    (table,) = tables(section(page, "generators"))
    return {r["id"]: r for r in records(table)}


def close(cell: str, want: float, tol: float = 6e-5) -> bool:
    return abs(float(cell) - want) <= tol


@pytest.fixture(scope="module")
def ring_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    net = ring()
    r = feederopt.solve(net, time_limit=30)
    return feederopt.save(r, tmp_path_factory.mktemp("fixb_gen") / "ring", report=True), r


def test_generators_table_matches_pandapower_at_the_results_switch_states(
        ring_folder: tuple[Path, Any]) -> None:
    import pandapower as pp

    folder, r = ring_folder
    # the reference: the same net, built again, with the result's switches, by pandapower
    ref = ring()
    open_switches = {int(b["operated_by"].removeprefix("switch ")) for b in r.open_branches}
    assert open_switches and all(b.get("operated_by") for b in r.open_branches)
    ref.switch["closed"] = [k not in open_switches for k in ref.switch.index]
    pp.runpp(ref, tolerance_mva=1e-10)
    rows = generator_rows(folder)
    assert set(rows) == {"gen:0", "sgen:0"}
    gen, sgen = rows["gen:0"], rows["sgen:0"]
    assert gen["bus"] == str(int(ref.gen.bus.iat[0]))
    assert sgen["bus"] == str(int(ref.sgen.bus.iat[0]))
    assert close(gen["P [MW]"], float(ref.res_gen.p_mw.iat[0]))
    assert close(gen["Q [Mvar]"], float(ref.res_gen.q_mvar.iat[0]))  # the power flow's Q
    assert close(sgen["P [MW]"], float(ref.res_sgen.p_mw.iat[0]))
    assert close(sgen["Q [Mvar]"], float(ref.res_sgen.q_mvar.iat[0]))
    # the premise: the gen's Q is far from zero, so an unsolved Q would not pass
    assert abs(float(ref.res_gen.q_mvar.iat[0])) > 0.05
    assert float(ref.res_bus.vm_pu.iat[3]) == pytest.approx(GEN_VM_PU, abs=1e-9)
    # limits, by hand: the sgen is a fixed injection; the gen's P is fixed, its Q unbounded
    assert [sgen[k] for k in ("P min [MW]", "P max [MW]", "Q min [Mvar]", "Q max [Mvar]")] \
        == ["0.1500", "0.1500", "0.0500", "0.0500"]
    assert [gen[k] for k in ("P min [MW]", "P max [MW]", "Q min [Mvar]", "Q max [Mvar]")] \
        == ["0.2000", "0.2000", "none", "none"]


def test_rebuilt_report_keeps_the_generators_table(ring_folder: tuple[Path, Any],
                                                   tmp_path: Path) -> None:
    """``feederopt report DIR`` rebuilds the page from the folder: the same table."""
    from feederopt.report.html import write_report

    folder, _ = ring_folder
    again = write_report(folder, tmp_path / "again.html").read_text(encoding="utf-8")
    (table,) = tables(section(again, "generators"))
    assert {r["id"]: r for r in records(table)} == generator_rows(folder)


def test_a_dispatchable_generator_shows_its_limits_and_a_dispatch_within(
        tmp_path: Path) -> None:
    gen = pl.DataFrame({"id": ["G1"], "bus": ["c"], "p_mw": [0.0], "q_mvar": [0.0],
                        "p_min_mw": [0.0], "p_max_mw": [0.3], "q_min_mvar": [-0.1],
                        "q_max_mvar": [0.1]})
    r = feederopt.solve(tiny(generators=gen), time_limit=30)
    folder = feederopt.save(r, tmp_path / "res", report=True)
    (row,) = generator_rows(folder).values()
    assert (row["id"], row["bus"]) == ("G1", "c")
    assert [row[k] for k in ("P min [MW]", "P max [MW]", "Q min [Mvar]", "Q max [Mvar]")] \
        == ["0.0000", "0.3000", "-0.1000", "0.1000"]
    assert 0.0 <= float(row["P [MW]"]) <= 0.3 and -0.1 <= float(row["Q [Mvar]"]) <= 0.1


def test_no_generators_no_section(tmp_path: Path) -> None:
    r = feederopt.solve(tiny(), time_limit=30)
    folder = feederopt.save(r, tmp_path / "res", report=True)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert '<section id="summary">' in page  # the premise: a whole page
    assert 'id="generators"' not in page and "Generators" not in page

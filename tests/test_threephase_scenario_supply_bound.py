"""A three-phase scenario that asks more of a bus than any power flow can bring it or carry away
(kW written as MW) is bad input, as it is on a balanced network (user test ut33, finding 2).

On ieee13mod a 500 MW load at 671, the same load's 1155 kW written as MW, a -50 MW bus row at
675 and a 500 Mvar load at 634 each gave an ``infeasible`` solve (exit 3) with a hint about
the lines' ratings. Now each is a ``bad_scenario`` problem (exit 2) naming the scenario, the
bus, the column and the row, with the kW reading where it fits, as
:class:`feederopt.network.validate.SupplyCapacity` has it for balanced networks.

Independent truth: OpenDSS's own solution of the file (``opendssdirect``, no feederopt code)
with the row as a constant-power load at every voltage (``model=1 vminpu=0 vlowpu=0``, so
OpenDSS does not shed it to an impedance at low voltage) has no converged power flow for each
of the four rows, and has one for 10 MW at 671 (min 0.77 p.u.), which the check lets
through.
"""

from __future__ import annotations

from pathlib import Path

import opendssdirect as dss
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import scenario_rows
from feederopt.cases import load_three_phase
from feederopt.cases.loading import opendss_file
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from opendss_plain import compile_with_switch_impedance

#: (row: kind, element, p_mw, q_mvar), the OpenDSS edit of the same demand, the column, the
#: bus named, the row named, the kW reading in the hint (None: none fits).
ABSURD = {
    "load_500mw": (("load", "671", 500.0, 100.0), "edit Load.671 kW=500000 kvar=100000",
                   "p_mw", "671", "load 671's p_mw 500", "write 0.5"),
    "kw_as_mw": (("load", "671", 1155.0, 660.0), "edit Load.671 kW=1155000 kvar=660000",
                 "p_mw", "671", "load 671's p_mw 1155", "write 1.155"),
    "pv_50mw": (("bus", "675", -50.0, 0.0),
                "New Load.pv675 bus1=675.1.2.3 phases=3 kV=4.16 kW=-50000 kvar=0",
                "p_mw", "675", "the bus row(s) of bus 675's p_mw -50", "write -0.05"),
    "q_500mvar": (("load", "634a", 0.05, 500.0), "edit Load.634a kW=50 kvar=500000",
                  "q_mvar", "634", "load 634a's q_mvar 500", "write 0.5"),
}


def _opendss_converges(tmp_path: Path, edit: str) -> bool:
    """OpenDSS's power flow of ieee13mod with ``edit`` as a constant-power load at any voltage
    (the file's zero-impedance switches get OpenDSS's ``Switch=yes`` impedance, without which
    its Y matrix is singular)."""
    compile_with_switch_impedance(Path(opendss_file("ieee13mod")), tmp_path)
    dss.Text.Command("set maxiterations=200")
    dss.Text.Command(f"{edit} model=1 vminpu=0 vlowpu=0 vmaxpu=100")
    try:
        dss.Solution.Solve()
    except Exception:
        return False
    return bool(dss.Solution.Converged())


def _table(name: str, row: tuple[str, str, float, float]) -> pl.DataFrame:
    kind, element, p, q = row
    return pl.DataFrame({"scenario": ["ok", name], "kind": ["load", kind],
                         "element": ["671", element], "p_mw": [1.155, p], "q_mvar": [0.66, q],
                         "weight": [0.5, 0.5]})


@pytest.mark.parametrize("name", list(ABSURD))
def test_an_absurd_row_is_a_bad_scenario_naming_it(tmp_path: Path, name: str) -> None:
    row, edit, column, bus, who, reading = ABSURD[name]
    assert not _opendss_converges(tmp_path, edit)
    with pytest.raises(InputError) as err:
        scenario_rows(load_three_phase("ieee13mod"), _table(name, row))
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.BAD_SCENARIO and problem.is_error
    assert problem.ids == (name,) and problem.field == column
    verb = "injects" if row[2] < 0 else "draws"
    assert f"in scenario {name}, bus {bus} {verb}" in problem.message
    assert f"the largest part is {who}" in problem.message
    assert reading in problem.hint


def test_a_plausible_row_passes(tmp_path: Path) -> None:
    assert _opendss_converges(tmp_path, "edit Load.671 kW=10000 kvar=2000")
    rows = scenario_rows(load_three_phase("ieee13mod"),
                         _table("big", ("load", "671", 10.0, 2.0)))
    assert rows.loads[1]["671"] == (10.0, 2.0)


def test_the_cli_exits_2_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "big500.csv"
    _table("big", ABSURD["load_500mw"][0]).write_csv(path)
    res = CliRunner(env={"COLUMNS": "240"}).invoke(app, [
        "solve", "ieee13mod", "--scenarios", str(path), "--no-ac-check"])
    assert res.exit_code == 2, res.output
    assert "bad_scenario" in res.output and "in scenario big, bus 671 draws" in res.output
    assert "Traceback" not in res.output and "infeasible" not in res.output

"""A load of an OpenDSS feeder that no power flow can supply gets the balanced readers'
``bad_load`` warning (user test ut35_errs #3).

IEEE 13's ``Load.652 kW=128`` typed ``kW=128000000``: ``info`` said "problems: none" with a
total load of 128,003.7 MW, and ``solve`` ended "infeasible" (exit 3) without a word about the
load, where a balanced feeder's reader warns "the demand ... exceeds the short-circuit power
that reaches it". The bound is :class:`~feederopt.network.validate.SupplyCapacity`'s, held
here to a hand calculation: a 12.47 kV feeder whose load bus is 2 km of 0.1 + j0.2 Ohm/km
(zero- and positive-sequence alike) from a stiff source has ``S_sc = V_LL^2 / |Z_1| = 12.47^2
/ (2 |0.1 + j0.2|) = 347.7 MVA``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases.loading import load_three_phase
from feederopt.cli import app
from feederopt.io.opendss import read_opendss
from feederopt.network.validate import three_phase_load_plausibility

runner = CliRunner()

IEEE13 = Path(__file__).resolve().parents[1] / "src/feederopt/cases/data/opendss/network.ieee13.dss"

FEEDER = """Clear
New Circuit.c basekv=12.47 phases=3 bus1=src MVAsc3=1e9 MVAsc1=1e9
New Line.l1 phases=3 bus1=src bus2=b1 r1=0.1 x1=0.2 r0=0.1 x0=0.2 c1=0 c0=0 length=1 units=km
New Line.l2 phases=3 bus1=b1 bus2=b2 r1=0.1 x1=0.2 r0=0.1 x0=0.2 c1=0 c0=0 length=1 units=km
New Load.good bus1=b1 phases=3 kV=12.47 kW=100 kvar=50
New Load.big bus1=b2 phases=3 kV=12.47 kW={kw} kvar=0
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
#: The hand calculation of the module docstring [MVA].
S_SC_B2 = 12.47**2 / (2 * abs(complex(0.1, 0.2)))


def _feeder(tmp_path: Path, kw: str) -> Path:
    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(kw=kw))
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_ieee13_load_652_typed_with_six_zeros_too_many_is_warned(tmp_path: Path) -> None:
    """The tester's file; the healthy feeder gets no such warning."""
    text = IEEE13.read_text()
    assert "kW=128 " in text
    path = tmp_path / "ieee13.dss"
    path.write_text(text.replace("kW=128 ", "kW=128000000 "))
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "warning: bad_load: loads [652].p_mw" in out, out
    assert "exceeds the short-circuit power" in out and "Load.652 has kW=128000000" in out
    assert not any("bad_load" in w for w in read_opendss(IEEE13).meta["warnings"])


@pytest.mark.parametrize("case", ["ieee13", "ieee13mod", "ieee37", "iowa240", "ieee37mod"])
def test_built_in_feeders_get_no_warning(case: str) -> None:
    net = load_three_phase(case, check=False)
    assert three_phase_load_plausibility(net) == []
    assert net.meta["load_warnings"] == []


def test_the_bound_is_the_hand_calculated_short_circuit_power(tmp_path: Path) -> None:
    """Load.big at 0.99 and 1.01 times 347.7 MW: quiet below, a warning naming it above, and
    the S_sc it gives is the hand calculation's."""
    net = read_opendss(_feeder(tmp_path, "200"))
    assert three_phase_load_plausibility(net) == []

    def at(p_mw: float) -> list[str]:
        loads = net.loads.with_columns(
            pl.when(pl.col("id") == "big").then(p_mw / 3).otherwise(pl.col("p_mw"))
            .alias("p_mw"))
        return [str(p) for p in three_phase_load_plausibility(net.replace_tables(loads=loads))]

    assert at(0.99 * S_SC_B2) == []
    (warning,) = at(1.01 * S_SC_B2)
    assert "bad_load: loads [big].p_mw" in warning and "at bus b2" in warning
    found = re.search(r"S_sc = V_n\^2/\|Z\| from the nearest source is ([0-9.]+) MVA", warning)
    assert found is not None, warning
    assert float(found.group(1)) == pytest.approx(S_SC_B2, rel=1e-3)


def test_info_and_solve_say_it_and_info_no_longer_exits_1(tmp_path: Path) -> None:
    """170 GW at b2: OpenDSS leaves the bus without voltage; LinDist3Flow has no power flow at
    all, which ended ``info`` with exit 1 ("SolverError: LinDist3Flow power flow: HiGHS status
    infeasible"). Now info exits 0 with the warning and says why LinDist3Flow is not
    compared; solve prints the warning among its notes."""
    path = _feeder(tmp_path, "170000000")
    result = runner.invoke(app, ["info", str(path)])
    out = _flat(result.output)
    assert result.exit_code == 0, result.output
    assert "warning: bad_load: loads [big].p_mw" in out and "Load.big has kW=170000000" in out
    assert "LinDist3Flow has no power flow of the base case" in out
    result = runner.invoke(app, ["solve", str(path), "--time-limit", "20"])
    assert result.exit_code == 3, result.output
    assert "warning: bad_load: loads [big].p_mw" in _flat(result.output)
    assert math.isclose(S_SC_B2, 347.72, rel_tol=1e-4)  # the figure the docstring gives

"""A master file that Redirects a PowerModelsONM feeder reads as the feeder given directly
(user test ut49_part #2).

IEEE 13 mod's switches are ``Switch=y r1=0 x1=0 ...``: OpenDSS's Y matrix is singular at its
``calcv`` (line 166), and the reader gives those switches OpenDSS's own switch impedance and
runs the rest of the script. Until this fix it did so only when OpenDSS's error pointed into
the top-level file: a one-line ``Redirect .../network.ieee13mod.dss`` was refused with
"Line.801675 has no impedance ... make it a switch (Switch=y)", though it is one.

The truth is the feeder given directly (its file, as the user wrote it) and, for the commands
after the ``Redirect``, the same commands written at the end of one file that OpenDSS reads.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from feederopt.api_partition import partition
from feederopt.cases import load_three_phase
from feederopt.io.opendss import compile_circuit
from feederopt.network.threephase import ThreePhaseNetwork
from feederopt.validation.opendss import solve_opendss

DATA = Path(__file__).parents[1] / "src/feederopt/cases/data/opendss"
FEEDER = DATA / "network.ieee13mod.dss"
SETTINGS = DATA / "settings.ieee13mod.json"

#: a load added after the Redirect, its kW a ``var`` macro
EXTRA = "New Load.extra Bus1=671.1.2.3 Phases=3 Conn=Wye Model=1 kV=4.16 kW={kw} kvar=20"


def _tables_equal(a: ThreePhaseNetwork, b: ThreePhaseNetwork) -> None:
    assert set(a.tables) == set(b.tables)
    for key in a.tables:
        assert a.tables[key].equals(b.tables[key]), key


def test_a_master_that_redirects_the_feeder_reads_as_the_feeder(tmp_path: Path) -> None:
    master = tmp_path / "w_plain.dss"
    master.write_text(f"Redirect {FEEDER}\n")
    warnings = compile_circuit(master)  # raised InputError (bad_impedance) before the fix
    assert any("801675" in w and "zero impedance" in w for w in warnings)
    direct, via = load_three_phase(FEEDER), load_three_phase(master)
    _tables_equal(direct, via)
    # OpenDSS's power flow of the base case, compiled from each file
    a, b = solve_opendss(direct, with_controls=False), solve_opendss(via, with_controls=False)
    assert a.converged and b.converged
    assert b.losses_kw == pytest.approx(a.losses_kw, abs=1e-9)
    assert b.load_kw == pytest.approx(a.load_kw, abs=1e-9)
    assert b.voltages_pu == pytest.approx(a.voltages_pu, abs=1e-12)


def test_a_redirect_chain_runs_the_rest_of_every_file(tmp_path: Path) -> None:
    """The master Redirects ``sub/middle.dss``, which Redirects the feeder and then defines
    ``var @kw=42``; the master then adds a load of ``@kw`` kW. The reader resumes the feeder
    at its failed ``calcv``, then the middle file after its Redirect, then the master after
    its own. Truth: one file with the feeder's text and the two commands after it (the
    feeder's ``Clear`` would wipe a macro defined before it, in OpenDSS as here)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "middle.dss").write_text(f"Redirect {FEEDER}\nvar @kw=42\n")
    master = tmp_path / "master.dss"
    master.write_text("Redirect sub/middle.dss\n" + EXTRA.format(kw="@kw") + "\n")
    single = tmp_path / "single.dss"
    single.write_text(FEEDER.read_text() + "\nvar @kw=42\n" + EXTRA.format(kw="@kw") + "\n")
    direct, via = load_three_phase(single), load_three_phase(master)
    assert "extra" in via.loads["id"].to_list()
    _tables_equal(direct, via)
    a, b = solve_opendss(direct, with_controls=False), solve_opendss(via, with_controls=False)
    assert b.load_kw == pytest.approx(a.load_kw, abs=1e-9)
    assert b.losses_kw == pytest.approx(a.losses_kw, abs=1e-9)


def test_the_partition_of_the_master_is_that_of_the_feeder(tmp_path: Path) -> None:
    """The tester's run: the plan and its OpenDSS check are the feeder's (31,070 $)."""
    master = tmp_path / "w_plain.dss"
    master.write_text(f"Redirect {FEEDER}\n")
    direct = partition(str(FEEDER), settings=SETTINGS, time_limit_s=120)
    via = partition(str(master), settings=SETTINGS, time_limit_s=120)
    assert via.status == direct.status == "optimal"
    assert via.objective == pytest.approx(direct.objective, rel=1e-9)
    assert via.closed_switches == direct.closed_switches
    assert [b.energised for b in via.blocks] == [b.energised for b in direct.blocks]
    # OpenDSS's power flow of the plan (the voltage feedback), compiled through the master
    assert not math.isnan(direct.served_load_opendss_kw)
    assert via.served_load_opendss_kw == pytest.approx(direct.served_load_opendss_kw,
                                                       abs=1e-6)

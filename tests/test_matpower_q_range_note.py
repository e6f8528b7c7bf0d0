"""A MATPOWER generator at a PV bus whose QMAX is below QMIN (user test ut36_errs, m/qinv.m)
was read without a word. MATPOWER's ``runpf`` accepts the row (``pf.enforce_q_lims`` 0 by
default: the generator holds VG, its reactive power free), and so does pandapower's
``from_mpc`` + ``runpp``; feederopt reads it so and now says so in a note naming the mpc.gen
row and its bus (nits #5). At a PQ bus the range is used, and an inverted one stays a typed
problem. Truth: the file's row written by hand, and pandapower's power flow of the same file."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind

CASE = """function mpc = qinv
mpc.version = '2';
mpc.baseMVA = 10;
mpc.bus = [
\t1\t3\t0\t0\t0\t0\t1\t1\t0\t12.66\t1\t1.1\t0.9;
\t2\t1\t0.4\t0.2\t0\t0\t1\t1\t0\t12.66\t1\t1.1\t0.9;
\t3\t{bus3_type}\t0.3\t0.1\t0\t0\t1\t1\t0\t12.66\t1\t1.1\t0.9;
];
mpc.gen = [
\t1\t0\t0\t10\t-10\t1.02\t10\t1\t10\t0;
\t3\t0.2\t0\t{qmax}\t{qmin}\t1.0\t10\t1\t1\t0;
];
mpc.branch = [
\t1\t2\t0.01\t0.008\t0\t0\t0\t0\t0\t0\t1\t-360\t360;
\t2\t3\t0.02\t0.015\t0\t0\t0\t0\t0\t0\t1\t-360\t360;
];
"""


def _write(tmp_path: Path, *, qmax: float, qmin: float, bus3_type: int = 2) -> Path:
    path = tmp_path / "qinv.m"
    path.write_text(CASE.format(qmax=qmax, qmin=qmin, bus3_type=bus3_type))
    return path


def _q_notes(net: feederopt.Network) -> list[str]:
    return [w for w in net.meta.get("warnings", []) if "QMAX" in w]


def test_an_inverted_q_range_at_a_pv_bus_is_read_as_runpf_reads_it_with_a_note(tmp_path):
    path = _write(tmp_path, qmax=-1, qmin=1)
    net = feederopt.load(str(path))
    (note,) = _q_notes(net)
    assert "row 2 (bus 3: QMAX -1 < QMIN 1 MVAr)" in note and "swap QMAX and QMIN" in note
    gen = net.generators.row(0, named=True)
    assert gen["v_set_pu"] == pytest.approx(1.0)  # holds VG, q free
    # pandapower reads the same file so: its power flow holds bus 3 at 1.0 p.u.
    from pandapower.converter.matpower.from_mpc import from_mpc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ppnet = from_mpc(str(path), f_hz=50)
        pp.runpp(ppnet, numba=False)
    assert float(ppnet.res_bus.vm_pu.loc[2]) == pytest.approx(1.0, abs=1e-9)
    fid = feederopt.model_fidelity(net)
    true_kw = float(ppnet.res_line.pl_mw.sum()) * 1e3
    assert fid.ac_losses_kw == pytest.approx(true_kw, rel=1e-6)


def test_the_note_is_on_the_command_line(tmp_path):
    run = CliRunner().invoke(app, ["info", str(_write(tmp_path, qmax=-1, qmin=1))])
    assert run.exit_code == 0, run.output
    assert "note: mpc.gen row 2 (bus 3: QMAX -1 < QMIN 1 MVAr)" in " ".join(run.output.split())


def test_a_q_range_in_order_gets_no_note(tmp_path):
    assert _q_notes(feederopt.load(str(_write(tmp_path, qmax=1, qmin=-1)))) == []


def test_an_inverted_q_range_at_a_pq_bus_stays_a_typed_problem(tmp_path):
    with pytest.raises(InputError) as err:
        feederopt.load(str(_write(tmp_path, qmax=-1, qmin=1, bus3_type=1)))
    assert [(p.kind, p.field) for p in err.value.problems] == [
        (ProblemKind.INVERTED_LIMITS, "q_min_mvar")]

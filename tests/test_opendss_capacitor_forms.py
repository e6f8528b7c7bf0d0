"""OpenDSS ``Capacitor`` given by ``Cuf``, ``Cmatrix``, several steps or a series ``R``/``XL``
(user test dsscap).

The reader took a shunt capacitor's ``kvar`` and ``kV`` alone: a bank given by ``Cuf`` (whose
``Capacitors.kvar()`` OpenDSS reports as 0.0004) or ``Cmatrix`` (0) was a bank of (almost)
no kvar, without a word; a filter reactor's ``R``/``XL`` in series with the step was dropped,
and a bank of several steps had the mean step per step in (``kvar=[600 300] states=[0 1]``:
450 kvar, where OpenDSS solves 600, every step at the first step's kvar). The reader now takes
the bank's primitive admittance as OpenDSS builds it.

Truth: the OpenDSS manual's definitions worked by hand (``Q = 2 pi f C V^2`` per branch, the
branch admittance ``1 / (R + j (XL - Xc))``), and OpenDSS's own power flow of the file
(opendssdirect) against OpenDSS's power flow of the model written back
(:func:`~feederopt.io.opendss_write.model_script`), node voltages within 1e-6 p.u.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss import read_opendss
from feederopt.io.opendss_write import model_script
from opendss_plain import plain_solution

runner = CliRunner()

FEEDER = """Clear
Set DefaultBaseFrequency=60
New Circuit.cf basekv=12.47 pu=1.02 phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=8 units=kft
New Line.l2 bus1=b1 bus2=b2 linecode=c3 length=6 units=kft
New Load.ld bus1=b2 phases=3 kV=12.47 kW=1500 kvar=700 vminpu=0.8 vmaxpu=1.2
New Load.la bus1=b2.1 phases=1 kV=7.2 kW=300 kvar=100 vminpu=0.8 vmaxpu=1.2
{cap}
Set VoltageBases=[12.47]
CalcVoltageBases
Set ControlMode=OFF
Solve
"""
KV = 12.47
OMEGA = 2 * math.pi * 60
#: The capacitance [uF] per phase of a 3-phase wye bank of 1200 kvar at 12.47 kV:
#: ``Q = 3 omega C (kV / sqrt(3))^2 = omega C kV^2``.
C_1200 = 1.2e6 / (OMEGA * (KV * 1e3) ** 2) * 1e6  # 20.47 uF


def _y_filter(r: float, xl: float, c_uf: float) -> complex:
    """A step's branch admittance [S] with its series R and XL (OpenDSS manual, Capacitor)."""
    return 1 / complex(r, xl - 1 / (OMEGA * c_uf * 1e-6))


#: Capacitor specs and what they consume at rated voltage [MVA] (3-phase wye: ``kV^2 conj(Y)``
#: per branch admittance ``Y``; consumed ``P - j Q_supplied``), by hand from the manual.
FORMS = {
    "kvar": ("New Capacitor.c1 bus1=b1 phases=3 kV=12.47 kvar=1200", -1.2j),
    "cuf": (f"New Capacitor.c1 bus1=b1 phases=3 kV=12.47 cuf={C_1200:.12g}", -1.2j),
    "cmatrix": (f"New Capacitor.c1 bus1=b1 phases=3 kV=12.47 "
                f"cmatrix=[{C_1200:.12g} | 0 {C_1200:.12g} | 0 0 {C_1200:.12g}]", -1.2j),
    # steps given by kvar: OpenDSS builds every step's C from the FIRST step's kvar
    # (Capacitor.pas, RecalcElementData: FC[i] from FkvarRating[1]), so the second step in
    # solves as 600 kvar, not the 300 written; was 450 (the mean step)
    "kvar_steps": ("New Capacitor.c1 bus1=b1 phases=3 kV=12.47 numsteps=2 kvar=[600 300] "
                   "states=[0 1]", -0.6j),
    "cuf_steps": ("New Capacitor.c1 bus1=b1 phases=3 kV=12.47 numsteps=2 cuf=[10 20] "
                  "states=[1 0]", -1j * OMEGA * 10e-6 * KV**2),
    # a filter reactor in series with the step: Y = 1 / (R + j (XL - Xc)), Xc = kV^2 / Mvar
    "r_xl": ("New Capacitor.c1 bus1=b1 phases=3 kV=12.47 kvar=1200 R=2 XL=5",
             KV**2 * _y_filter(2, 5, C_1200).conjugate()),
    # a 1-phase bank by Cuf on phase b, its kV phase to ground: Q = omega C V^2
    "cuf_1ph": ("New Capacitor.c1 bus1=b1.2 phases=1 kV=7.2 cuf=15",
                -1j * OMEGA * 15e-6 * 7.2**2),
}


def _y_filter_delta3(r: float, xl: float, kvar_branch: float) -> complex:
    """A 3-phase delta step's branch admittance [S] with its series R and XL: the manual puts
    them "in each phase (line)", and OpenDSS adds them in series with each line conductor
    (``Capacitor.pas``, ``MakeYprimWork``: ``ZL`` added to the diagonal of the inverted
    delta matrix). A delta of ``y_c`` per branch is a wye of ``3 y_c``; with ``Z_L`` in each
    leg, ``Z_L + 1 / (3 y_c)``, back to a delta: ``1 / (3 Z_L + 1 / y_c)``, i.e. ``1 / (3 R +
    j (3 XL - Xc))``, ``Xc = kV^2 / Mvar`` of the branch."""
    xc = KV**2 / (kvar_branch / 1000)
    return 1 / complex(3 * r, 3 * xl - xc)


#: Delta banks with a filter reactor (user test ut40 recheck, the reproducers d_rxl, d1_rxl,
#: delta3_steps_rxl): spec, phases and what the row consumes at rated voltage [MVA] (a delta
#: row: ``kV^2 conj(y)`` per branch ``y``), by hand. OpenDSS's admittance has, besides, a
#: leak to ground of 1e-6 to 2e-6 of the branch (``Capacitor.pas``: the diagonal times
#: 1.000001 "so it will invert"), which perturbs the branch by as little: ``rel=1e-5``.
DELTA_FORMS = {
    "delta_rxl": ("New Capacitor.c1 bus1=b1 phases=3 conn=delta kV=12.47 kvar=900 R=1.5 XL=6",
                  "abc", 3 * KV**2 * _y_filter_delta3(1.5, 6, 300).conjugate()),
    # one branch between phases a and b, the reactor in series with it (on its conductor 1)
    "delta1_rxl": ("New Capacitor.c1 bus1=b1.1.2 phases=1 conn=delta kV=12.47 kvar=300 R=1.5 "
                   "XL=6", "ab", KV**2 * (1 / complex(1.5, 6 - KV**2 / 0.3)).conjugate()),
    # two steps, the first out: the second's branch from the FIRST step's kvar (450 / 3)
    "delta_steps_rxl_one_in": ("New Capacitor.c1 bus1=b1 phases=3 conn=delta kV=12.47 "
                               "numsteps=2 kvar=[450 450] states=[0 1] R=[1.5 1.5] XL=[6 6]",
                               "abc", 3 * KV**2 * _y_filter_delta3(1.5, 6, 150).conjugate()),
}
#: The reproducer with both steps in: OpenDSS (DSS C-API 0.14.5) builds the second delta step
#: on top of the first's finished matrix (two equal steps without R/XL solve as three), so no
#: hand value of the manual holds; it is checked as a delta row and by OpenDSS's power flow.
DELTA_STEPS_RXL = ("New Capacitor.c1 bus1=b1 phases=3 conn=delta kV=12.47 numsteps=2 "
                   "kvar=[450 450] states=[1 1] R=[1.5 1.5] XL=[6 6]")


def _write(tmp_path: Path, cap: str) -> Path:
    path = tmp_path / "cap.dss"
    path.write_text(FEEDER.format(cap=cap))
    return path


@pytest.mark.parametrize("form", list(FORMS))
def test_the_shunt_is_the_manuals_bank(tmp_path: Path, form: str) -> None:
    """The shunt row's P and Q at its rated voltage are the manual's, worked by hand; the
    ``Cuf`` and ``Cmatrix`` banks equal the ``kvar`` bank they describe. Before: ``cuf`` read
    0.0004 kvar, ``cmatrix`` 0, ``kvar_steps`` 450 kvar, ``cuf_steps`` 0.0006, ``r_xl`` no
    P."""
    spec, s_consumed = FORMS[form]
    net = read_opendss(_write(tmp_path, spec))
    row = net.shunts.row(by_predicate=pl.col("id") == "c1", named=True)
    assert row["in_service"] and row["kind"] == "capacitor" and row["conn"] == "wye"
    assert row["phases"] == ("b" if form == "cuf_1ph" else "abc")
    assert row["vn_kv"] == pytest.approx(7.2 if form == "cuf_1ph" else KV)
    assert row["q_mvar"] == pytest.approx(-s_consumed.imag, rel=1e-9)
    assert row["p_mw"] == pytest.approx(s_consumed.real, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("form", list(FORMS))
def test_the_model_solves_as_opendss(tmp_path: Path, form: str) -> None:
    """OpenDSS's power flow of the model as read (:func:`model_script`) gives OpenDSS's node
    voltages of the file within 1e-6 p.u. Before: up to 0.024 p.u. off (the ``Cuf`` and
    ``Cmatrix`` banks read as none), 7e-4 for ``r_xl`` (its R and XL dropped)."""
    path = _write(tmp_path, FORMS[form][0])
    net = read_opendss(path)
    _, truth, _ = plain_solution(path.read_text(), tmp_path)
    _, ours, _ = plain_solution(model_script(net, load_options="vminpu=0.8 vmaxpu=1.2"),
                                tmp_path)
    v_base = KV / math.sqrt(3) * 1000
    for node in ("b1.1", "b1.2", "b1.3", "b2.1", "b2.2", "b2.3"):
        assert abs(abs(ours[node]) - abs(truth[node])) / v_base <= 1e-6, node


@pytest.mark.parametrize("cmatrix", [
    "[20 | -1 20 | -1 -1 20]",  # coupled between phases
    "[20 | 0 25 | 0 0 20]",  # phases unequal
])
def test_a_bank_the_model_cannot_hold_is_refused_by_name(tmp_path: Path, cmatrix: str) -> None:
    """A ``Cmatrix`` with coupling or unequal phases has no exact wye row (the model's row
    draws its total equally per phase): ``unsupported_element`` on the capacitor's
    ``cmatrix``; ``info`` exits 2 without a traceback. Before: a bank of 0 kvar, silently."""
    path = _write(tmp_path, f"New Capacitor.c1 bus1=b1 phases=3 kV=12.47 cmatrix={cmatrix}")
    with pytest.raises(InputError) as err:
        read_opendss(path)
    [problem] = [p for p in err.value.problems if "Capacitor.c1" in p.message]
    assert problem.kind == ProblemKind.UNSUPPORTED_ELEMENT
    assert problem.ids == ("c1",) and problem.field == "cmatrix"
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Capacitor.c1" in result.output


def test_a_bank_with_every_step_out_is_out_of_service(tmp_path: Path) -> None:
    """Every step out (``states=[0 0]``): OpenDSS's admittance is zero; a row of 0 kvar, out
    of service, as before."""
    net = read_opendss(_write(tmp_path, "New Capacitor.c1 bus1=b1 phases=3 kV=12.47 "
                                        "numsteps=2 cuf=[10 20] states=[0 0]"))
    row = net.shunts.row(by_predicate=pl.col("id") == "c1", named=True)
    assert not row["in_service"] and row["q_mvar"] == 0 and row["phases"] == "abc"


@pytest.mark.parametrize("form", list(DELTA_FORMS))
def test_a_delta_bank_with_a_filter_reactor_is_the_manuals(tmp_path: Path, form: str) -> None:
    """A delta bank with a series ``R``/``XL`` is a delta row whose P and Q at its rated
    voltage are the hand value (:func:`_y_filter_delta3`; one branch ``1 / (R + j (XL -
    Xc))``). Before: refused as ``unsupported_element`` (OpenDSS's leak to ground, 2e-6 of
    the branch, was over the reader's 1e-9 x max|Yprim|: neither delta nor wye)."""
    spec, phases, s_consumed = DELTA_FORMS[form]
    net = read_opendss(_write(tmp_path, spec))
    row = net.shunts.row(by_predicate=pl.col("id") == "c1", named=True)
    assert row["in_service"] and row["kind"] == "capacitor" and row["conn"] == "delta"
    assert row["phases"] == phases and row["vn_kv"] == pytest.approx(KV)
    assert row["q_mvar"] == pytest.approx(-s_consumed.imag, rel=1e-5)
    assert row["p_mw"] == pytest.approx(s_consumed.real, rel=1e-5)


@pytest.mark.parametrize("spec", [*(f[0] for f in DELTA_FORMS.values()), DELTA_STEPS_RXL],
                         ids=[*DELTA_FORMS, "delta_steps_rxl"])
def test_a_delta_bank_with_a_filter_reactor_solves_as_opendss(tmp_path: Path,
                                                               spec: str) -> None:
    """The delta bank with a filter reactor read as a delta row and written back
    (:func:`model_script`): OpenDSS's node voltages of the model equal those of the file
    within 1e-6 p.u. Before: the file was refused."""
    path = _write(tmp_path, spec)
    net = read_opendss(path)
    assert net.shunts.row(by_predicate=pl.col("id") == "c1", named=True)["conn"] == "delta"
    _, truth, _ = plain_solution(path.read_text(), tmp_path)
    _, ours, _ = plain_solution(model_script(net, load_options="vminpu=0.8 vmaxpu=1.2"),
                                tmp_path)
    v_base = KV / math.sqrt(3) * 1000
    for node in ("b1.1", "b1.2", "b1.3", "b2.1", "b2.2", "b2.3"):
        assert abs(ours[node] - truth[node]) / v_base <= 1e-6, node


def test_a_two_phase_delta_bank_with_a_filter_reactor_is_refused(tmp_path: Path) -> None:
    """A 2-phase delta bank (OpenDSS: branches 1-2 and 2-0) with a series R/XL has a branch to
    ground as large as the one between phases, far over the leak a closed delta may have
    (:data:`~feederopt.io.opendss_shunts.DELTA_LEAK`): still refused by name."""
    path = _write(tmp_path, "New Capacitor.c1 bus1=b1.1.2 phases=2 conn=delta kV=12.47 "
                            "kvar=600 R=1.5 XL=6")
    with pytest.raises(InputError) as err:
        read_opendss(path)
    [problem] = [p for p in err.value.problems if "Capacitor.c1" in p.message]
    assert problem.kind == ProblemKind.UNSUPPORTED_ELEMENT and problem.field == "conn"
    assert "1-2, 2-0" in problem.message

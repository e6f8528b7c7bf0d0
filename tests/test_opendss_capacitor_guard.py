"""OpenDSS ``Capacitor`` inputs that crashed the process or passed without a word (dssguard).

1. A delta bank of two or more phases given by ``Cmatrix`` kills the OpenDSS engine (DSS C-API
   0.14.5: heap corruption, SIGABRT) when it builds the bank's admittance; ``feederopt info``
   died with it (exit 134, ``double free or corruption``). The reader now refuses it from the
   script's text before OpenDSS runs it (:mod:`feederopt.io.opendss_guard`): exit 2, the
   capacitor named. Truth that each file crashes: OpenDSS alone, in a subprocess; that the
   banks let through do not: the reader reads them, in this process, as the manual's bank.
2. Steps of unequal ``kvar`` (every step sized at the first step's kvar by OpenDSS) and a
   delta bank of several steps in (OpenDSS adds step ``k`` in ``k`` times) were read as OpenDSS
   solves them without a note; a note now names the capacitor and both figures, by hand.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from feederopt.io.opendss import read_opendss
from feederopt.io.opendss_guard import crashing_capacitors

HEAD = """Clear
Set DefaultBaseFrequency=60
New Circuit.cf basekv=12.47 pu=1.02 phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=8 units=kft
New Line.l2 bus1=b1 bus2=b2 linecode=c3 length=6 units=kft
New Load.ld bus1=b2 phases=3 kV=12.47 kW=1500 kvar=700 vminpu=0.8 vmaxpu=1.2
"""
TAIL = """Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
KV = 12.47
OMEGA = 2 * math.pi * 60
SRC = str(Path(__file__).resolve().parents[1] / "src")

#: Delta banks by Cmatrix that OpenDSS crashes on, written in the ways the scan follows.
CRASHING = {
    "three_phase": "New Capacitor.c bus1=b1 phases=3 conn=delta kV=12.47 "
                   "cmatrix=[20 | 0 20 | 0 0 20]",
    "two_phase": "New Capacitor.c bus1=b1.1.2 phases=2 conn=delta kV=12.47 cmatrix=[20 | 0 20]",
    # abbreviated property names on a continuation line
    "abbreviated": "New Capacitor.c bus1=b1 phases=3 kV=12.47\n~ co=d cm=[20 | 0 20 | 0 0 20]",
    # a wye Cmatrix bank made delta later by an assignment
    "assigned": "New Capacitor.c bus1=b1 phases=3 kV=12.47 cmatrix=[20 | 0 20 | 0 0 20]\n"
                "Capacitor.c.conn=delta",
    # positional values: bus1 bus2 phases kvar kv conn cmatrix
    "positional": "New Capacitor.c b1 b1.0.0.0 3 600 12.47 delta [20 | 0 20 | 0 0 20]",
    # in a redirected file, disabled (OpenDSS builds it all the same)
    "redirected": "Redirect caps/bank.dss",
    # recheck (fix dssguard2): spellings the first scan let through, each crashing OpenDSS
    # a BatchEdit pattern is a case-insensitive regular expression searched in each name
    "batchedit": "New Capacitor.c bus1=b1 phases=3 kV=12.47 cmatrix=[20 | 0 20 | 0 0 20]\n"
                 "BatchEdit Capacitor..* conn=delta",
    # conn=delta after like= sets one terminal
    "like_then_delta": "New Capacitor.a bus1=b2 phases=3 kV=12.47 kvar=600\n"
                       "New Capacitor.c like=a bus1=b1 conn=delta cmatrix=[20 | 0 20 | 0 0 20]",
    # conn=delta before like=: the copy takes a's wye connection and Cmatrix, not its terminals
    "delta_then_like": "New Capacitor.a bus1=b2 phases=3 kV=12.47 cmatrix=[20 | 0 20 | 0 0 20]\n"
                       "New Capacitor.c conn=delta like=a bus1=b1",
    "quoted_object": 'New "Capacitor.c" bus1=b1 phases=3 conn=delta kV=12.47 '
                     "cmatrix=[20 | 0 20 | 0 0 20]",
    "tabs": "New\tCapacitor.c\tbus1=b1\tphases=3\tconn=delta\tkV=12.47\t"
            "cmatrix=[20 | 0 20 | 0 0 20]",
    "commas": "New Capacitor.c,bus1=b1,phases=3,conn=delta,kV=12.47,cmatrix=[20 | 0 20 | 0 0 20]",
    # Set element= makes the bank active for ~
    "set_element": "New Capacitor.c bus1=b1 phases=3 kV=12.47 kvar=600\n"
                   "New Line.l3 bus1=b2 bus2=b3 linecode=c3 length=1 units=kft\n"
                   "Set element=Capacitor.c\n~ conn=delta cmatrix=[20 | 0 20 | 0 0 20]",
}
BANK_FILE = ("New Capacitor.c bus1=b1 phases=3 conn=LL kV=12.47 cmatrix=[20 | 0 20 | 0 0 20] "
             "enabled=no\n")


def _write(tmp_path: Path, cap: str) -> Path:
    (tmp_path / "caps").mkdir(exist_ok=True)
    (tmp_path / "caps" / "bank.dss").write_text(BANK_FILE)
    path = tmp_path / "feeder.dss"
    path.write_text(HEAD + cap + "\n" + TAIL)
    return path


#: OpenDSS alone on each file given: one interpreter imports OpenDSSDirect.py once and forks a
#: child per file before any OpenDSS command has run, so each file meets a fresh engine as in a
#: process of its own (``python -c "import opendssdirect; redirect"``), without paying the
#: import per file. The child's stdout and stderr go to files; its exit status is reported as
#: :func:`subprocess.run` does (``-6`` for SIGABRT, ``1`` for a Python exception).
_ALONE = """import json, os, sys
import opendssdirect as d
for path, out, err in zip(*[iter(sys.argv[1:])] * 3):
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
        os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        os.chdir(os.path.dirname(path))
        d.Text.Command('redirect "' + path + '"')
        print('survived')
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    print(json.dumps([path, os.waitstatus_to_exitcode(status)]), flush=True)
"""


def _opendss_alone_each(paths: list[Path]) -> list[subprocess.CompletedProcess[str]]:
    """OpenDSS alone on each file (:data:`_ALONE`), in the order given."""
    args: list[str] = []
    for k, path in enumerate(paths):
        args += [str(path), f"{path}.{k}.out", f"{path}.{k}.err"]
    run = subprocess.run([sys.executable, "-c", _ALONE, *args], capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-500:]  # the parent itself never runs OpenDSS
    codes = [json.loads(line)[1] for line in run.stdout.splitlines()]
    assert len(codes) == len(paths), run.stdout
    return [subprocess.CompletedProcess(str(path), code, Path(f"{path}.{k}.out").read_text(),
                                        Path(f"{path}.{k}.err").read_text())
            for k, (path, code) in enumerate(zip(paths, codes, strict=True))]


def _opendss_alone(path: Path) -> subprocess.CompletedProcess[str]:
    return _opendss_alone_each([path])[0]


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, subprocess.CompletedProcess[str]]:
    """OpenDSS alone on each file of :data:`CRASHING` and :data:`BUILT` (one interpreter, a
    fork per file), by form."""
    tmp = tmp_path_factory.mktemp("alone")
    forms = {**CRASHING, **BUILT}
    paths = []
    for form, spec in forms.items():
        (tmp / form).mkdir()
        paths.append(_write(tmp / form, spec))
    return dict(zip(forms, _opendss_alone_each(paths), strict=True))


@pytest.mark.parametrize("form", list(CRASHING))
def test_opendss_alone_dies_on_each_file(
        alone: dict[str, subprocess.CompletedProcess[str]], form: str) -> None:
    """The truth the refusal rests on: OpenDSS alone, given the file, dies by a signal
    (SIGABRT: exit 134 or a negative return code) and never prints 'survived'."""
    run = alone[form]
    assert run.returncode < 0 or run.returncode == 134, run
    assert "survived" not in run.stdout


def test_the_reader_refuses_each_by_name(tmp_path: Path) -> None:
    """The reader raises ``unsupported_element`` on ``Capacitor.c``'s ``cmatrix`` with its
    file and line, before OpenDSS runs the script, for every file of :data:`CRASHING` (one
    subprocess reads them all: before, it died at the first, which killed ``read_opendss``'s
    process)."""
    paths = []
    for form, spec in CRASHING.items():
        (tmp_path / form).mkdir()
        paths.append(str(_write(tmp_path / form, spec)))
    code = ("import sys\nfrom feederopt.errors import InputError\n"
            "from feederopt.io.opendss import read_opendss\n"
            "for path in sys.argv[1:]:\n    try:\n        read_opendss(path)\n"
            "    except InputError as e:\n        [p] = e.problems\n"
            "        print(p.kind, p.ids, p.field, p.message, sep='|')\n"
            "    else:\n        print('read')\n")
    ours = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True,
                          text=True, timeout=300, check=False,
                          env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"})
    assert ours.returncode == 0, ours.stderr[-500:]
    lines = ours.stdout.strip().splitlines()
    assert len(lines) == len(CRASHING)
    for form, line in zip(CRASHING, lines, strict=True):
        kind, ids, field, message = line.split("|")
        assert (kind, ids, field) == ("unsupported_element", "('c',)", "cmatrix"), form
        assert message.startswith("Capacitor.c: a delta bank given by Cmatrix"), form
        assert ("bank.dss line 1" if form == "redirected" else "feeder.dss line") in message


def test_the_command_line_exits_2_without_a_traceback(tmp_path: Path) -> None:
    """``feederopt info`` on the 3-phase bank: exit 2, the capacitor named, no traceback.
    Before: exit 134 (SIGABRT, ``double free or corruption``). In this process (``CliRunner``):
    that no process of the reader dies on these files is
    :func:`test_the_reader_refuses_each_by_name`'s subprocess; here the command's exit code
    and message."""
    from typer.testing import CliRunner

    from feederopt.cli import app

    path = _write(tmp_path, CRASHING["three_phase"])
    run = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["info", str(path)])
    out = run.output
    assert run.exit_code == 2, out[-500:]
    assert isinstance(run.exception, SystemExit), run.exception
    assert "Capacitor.c" in out and "Cmatrix" in out and "Traceback" not in out


#: Banks by Cmatrix that OpenDSS builds correctly: not refused, read as the manual's bank
#: (consumed Q at rated voltage, by hand): a 1-phase delta bank (its matrix of order 2 holds
#: the wye-shaped writes) is one branch of ``omega C kV^2``; a bank whose kvar comes after its
#: Cmatrix is a kvar bank.
NOT_CRASHING = {
    "one_phase_delta": ("New Capacitor.c bus1=b1.1.2 phases=1 conn=delta kV=12.47 cmatrix=[20]",
                        "ab", OMEGA * 20e-6 * KV**2),
    "kvar_after_cmatrix": ("New Capacitor.c bus1=b1 phases=3 conn=delta kV=12.47 "
                           "cmatrix=[20 | 0 20 | 0 0 20] kvar=900", "abc", 0.9),
}


@pytest.mark.parametrize("form", list(NOT_CRASHING))
def test_a_cmatrix_bank_opendss_builds_is_read(tmp_path: Path, form: str) -> None:
    spec, phases, q_mvar = NOT_CRASHING[form]
    net = read_opendss(_write(tmp_path, spec))
    row = net.shunts.row(by_predicate=pl.col("id") == "c", named=True)
    assert row["conn"] == "delta" and row["phases"] == phases
    assert row["q_mvar"] == pytest.approx(q_mvar, rel=1e-5)


def test_unequal_kvar_steps_get_a_note(tmp_path: Path) -> None:
    """``kvar=[600 300] states=[0 1]``: OpenDSS solves the step in at the first step's 600
    kvar (``Capacitor.pas``), the model takes 600 (3 branches of 200 kvar at 7.2 kV), the file
    writes 300: a note says so. Before: no note."""
    net = read_opendss(_write(tmp_path, "New Capacitor.c bus1=b1 phases=3 kV=12.47 numsteps=2 "
                                        "kvar=[600 300] states=[0 1]"))
    row = net.shunts.row(by_predicate=pl.col("id") == "c", named=True)
    assert row["q_mvar"] == pytest.approx(0.6, rel=1e-9)
    [note] = [w for w in net.meta["warnings"] if w.startswith("Capacitor.c:")]
    assert "first step's kvar (600)" in note and "600 kvar at its rated kV" in note
    assert "writes 300 kvar" in note


def test_stacked_delta_steps_get_a_note(tmp_path: Path) -> None:
    """A delta bank of two 450 kvar steps in: OpenDSS adds the second step twice, 1350 kvar
    (450 kvar per branch), where the file writes 900. Before: no note. Equal wye steps, which
    OpenDSS builds as written, get none."""
    net = read_opendss(_write(tmp_path, "New Capacitor.c bus1=b1 phases=3 conn=delta kV=12.47 "
                                        "numsteps=2 kvar=[450 450]\n"
                                        "New Capacitor.w bus1=b2 phases=3 kV=12.47 numsteps=2 "
                                        "kvar=[300 300]"))
    [note] = [w for w in net.meta["warnings"] if w.startswith("Capacitor.")]
    assert note.startswith("Capacitor.c:") and "step k in counts k times" in note
    assert "1350 kvar at its rated kV" in note and "writes 900 kvar" in note


#: Like= copies phases, connection and Cmatrix but not the terminal count: a copy of a delta
#: Cmatrix bank keeps two terminals and OpenDSS builds it; a BatchEdit whose pattern is found
#: in no name edits nothing.
BUILT = {
    "like_copy_of_delta_cmatrix": "New Capacitor.a bus1=b2 phases=3 kV=12.47 conn=delta "
                                  "cmatrix=[20 | 0 20 | 0 0 20]\n"
                                  "New Capacitor.c like=a bus1=b1\nEdit Capacitor.a kvar=600",
    "batchedit_no_match": "New Capacitor.c bus1=b1 phases=3 kV=12.47 "
                          "cmatrix=[20 | 0 20 | 0 0 20]\nBatchEdit Capacitor.^x conn=delta",
}


@pytest.mark.parametrize("form", list(BUILT))
def test_what_opendss_builds_is_not_refused(
        alone: dict[str, subprocess.CompletedProcess[str]], form: str) -> None:
    """OpenDSS alone solves each file (truth), and the scan lets it through (the file OpenDSS
    ran, :func:`alone`)."""
    run = alone[form]
    assert run.returncode == 0 and "survived" in run.stdout, run
    crashing_capacitors(Path(run.args))

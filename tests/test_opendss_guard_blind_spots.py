"""Blind spots of the scan of OpenDSS scripts before OpenDSS runs them (fix dss).

The reader refuses a delta ``Capacitor`` given by ``Cmatrix`` from the script's text, since
the OpenDSS engine dies on it (``feederopt.io.opendss_guard``), and skips the script's
output commands (``Show``, ``Export``, ...), which write files (``feederopt.io.dss_files``).
Both read the text as written, and OpenDSS does more with it:

* ``var @c=Capacitor.c`` then ``New @c ...`` (or ``conn=@d``, ``@n Capacitor.c``, ``Redirect
  @f``, ``@x voltages f.csv``): OpenDSS expands each ``@`` word, names case-insensitive;
* ``Set elem=``, ``Set e=``, ``Set o=``: abbreviations of ``element`` and ``object``;
* a bare name (``Select c``, ``Set element=c``, ``c.conn=delta``) is of the class OpenDSS
  last named (``New``, ``Select``, ``Set class=``); ``New c``/``Edit c`` without a class it
  refuses itself (DSS C-API 0.14.5: error 263/267, not the last class).

Each file below killed the process of ``feederopt info`` (SIGABRT), or wrote a report into the
user's folder. Truth: OpenDSS alone (OpenDSSDirect.py in a subprocess) on each file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from feederopt.errors import InputError
from feederopt.io.dss_files import script_files
from feederopt.io.opendss import compile_circuit, read_opendss
from feederopt.io.opendss_guard import crashing_capacitors
from test_opendss_capacitor_guard import _opendss_alone, _opendss_alone_each, _write

CM = "cmatrix=[20 | 0 20 | 0 0 20]"
KVAR = "New Capacitor.c bus1=b1 phases=3 kV=12.47 kvar=600"
LINE = "New Line.l3 bus1=b2 bus2=b3 linecode=c3 length=1 units=kft"

#: Delta Cmatrix banks that OpenDSS builds (and dies on), written in the ways the scan missed;
#: each with the line (of feeder.dss, after its 7 lines of HEAD) that makes the bank crash.
CRASHING = {
    "var_object": (f"var @cap=Capacitor.c\nNew @cap bus1=b1 phases=3 conn=delta kV=12.47 {CM}",
                   9),
    "var_value": (f"var @d=delta\nNew Capacitor.c bus1=b1 phases=3 conn=@d kV=12.47 {CM}", 9),
    "var_quoted": (f'var @d=delta\nNew Capacitor.c bus1=b1 phases=3 conn="@d" kV=12.47 {CM}',
                   9),
    "var_command": (f"var @n=New\n@n Capacitor.c bus1=b1 phases=3 conn=delta kV=12.47 {CM}",
                    9),
    "var_class_dot": (f"var @k=Capacitor\nNew @k.c bus1=b1 phases=3 conn=delta kV=12.47 {CM}",
                      9),
    "var_case": (f"var @Cap=Capacitor.c\nNew @cap bus1=b1 phases=3 conn=delta kV=12.47 {CM}",
                 9),
    "var_two": (f"var @a=Capacitor.c @d=delta\nNew @a bus1=b1 phases=3 conn=@d kV=12.47 {CM}",
                9),
    "var_redirect": ("var @f=caps/bank.dss\nRedirect @f", 1),
    "set_elem": (f"{KVAR}\n{LINE}\nSet elem=Capacitor.c\n~ conn=delta {CM}", 11),
    "set_e": (f"{KVAR}\n{LINE}\nSet e=Capacitor.c\n~ conn=delta {CM}", 11),
    "set_o": (f"{KVAR}\n{LINE}\nSet o=Capacitor.c\n~ conn=delta {CM}", 11),
    "set_bare_name": (f"{KVAR}\nSet elem=c\n~ conn=delta {CM}", 10),
    "set_class_bare": (f"{KVAR}\n{LINE}\nSet cl=capacitor\nSet elem=c\n~ conn=delta {CM}", 12),
    "select_bare": (f"{KVAR}\nSelect c\n~ conn=delta {CM}", 10),
    "assign_bare": (f"New Capacitor.c bus1=b1 phases=3 kV=12.47 {CM}\nc.conn=delta", 9),
    "assign_after_select": (f"New Capacitor.c bus1=b1 phases=3 kV=12.47 {CM}\n{LINE}\n"
                            "Select Capacitor.c\nc.conn=delta", 11),
}

#: Bare names that OpenDSS does not take as the capacitor: it stops with its own error
#: (a ``New``/``Edit`` without a class; a bare name after another class was named).
REFUSED_BY_OPENDSS = {
    "new_bare": f"New Capacitor.a bus1=b2 phases=3 kV=12.47 kvar=600\n"
                f"New c bus1=b1 phases=3 conn=delta kV=12.47 {CM}",
    "new_object_bare": f"New Capacitor.a bus1=b2 phases=3 kV=12.47 kvar=600\n"
                       f"New object=c bus1=b1 phases=3 conn=delta kV=12.47 {CM}",
    "edit_bare": f"{KVAR}\nEdit c conn=delta {CM}",
    "set_bare_after_line": f"{KVAR}\n{LINE}\nSet elem=c\n~ conn=delta {CM}",
    "assign_bare_after_line": f"New Capacitor.c bus1=b1 phases=3 kV=12.47 {CM}\n{LINE}\n"
                              "c.conn=delta",
    # OpenDSS expands values only, not a property's name (error 110)
    "var_property_name": f"var @p=conn\nNew Capacitor.c bus1=b1 phases=3 @p=delta kV=12.47 {CM}",
}


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, subprocess.CompletedProcess[str]]:
    """OpenDSS alone on each file of :data:`CRASHING` and :data:`REFUSED_BY_OPENDSS` (one
    interpreter that imports OpenDSSDirect.py once and forks a fresh engine per file), by
    form; each form's file in a folder of its own."""
    tmp = tmp_path_factory.mktemp("alone")
    forms = {**{form: spec for form, (spec, _) in CRASHING.items()}, **REFUSED_BY_OPENDSS}
    paths = []
    for form, spec in forms.items():
        (tmp / form).mkdir()
        paths.append(_write(tmp / form, spec))
    return dict(zip(forms, _opendss_alone_each(paths), strict=True))


def test_opendss_alone_dies_on_each_file(
        alone: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """The truth the refusals rest on: OpenDSS alone dies by a signal (SIGABRT) on each file
    and never prints 'survived' (a fresh engine per file)."""
    for form in CRASHING:
        run = alone[form]
        assert run.returncode < 0 or run.returncode == 134, (form, run.returncode, run.stdout)
        assert "survived" not in run.stdout, form


@pytest.mark.parametrize("form", sorted(CRASHING))
def test_the_scan_refuses_each_naming_the_line(tmp_path: Path, form: str) -> None:
    spec, line = CRASHING[form]
    path = _write(tmp_path, spec)
    with pytest.raises(InputError) as err:
        crashing_capacitors(path)  # the scan alone: OpenDSS never runs the file here
    [problem] = err.value.problems
    assert (problem.kind.value, problem.ids, problem.field) == (
        "unsupported_element", ("c",), "cmatrix")
    where = "bank.dss line 1" if form == "var_redirect" else f"feeder.dss line {line}"
    assert where in problem.message, problem.message


@pytest.mark.parametrize("form", sorted(REFUSED_BY_OPENDSS))
def test_what_opendss_refuses_itself_is_left_to_it(
        alone: dict[str, subprocess.CompletedProcess[str]], form: str) -> None:
    """OpenDSS alone stops on each file with an error (a Python exception, exit 1, no
    signal); the scan lets it through and the reader reports OpenDSS's error (a typed
    problem: exit 2 on the command line). The file is the one OpenDSS ran (:func:`alone`)."""
    run = alone[form]
    assert run.returncode == 1 and "survived" not in run.stdout, run
    path = Path(run.args)
    crashing_capacitors(path)
    with pytest.raises(InputError) as err:
        read_opendss(path)  # in this process: OpenDSS stops on the file, it does not crash
    [problem] = err.value.problems
    assert problem.message.startswith("OpenDSS cannot read 'feeder.dss'"), problem.message


def test_an_output_command_behind_a_macro_is_not_run(tmp_path: Path) -> None:
    """``var @x=Export @f=out.csv`` then ``@x voltages @f``: OpenDSS alone writes out.csv
    beside the script; the reader does not (a note names the line), and counts out.csv among
    the files an output must not overwrite when a macro names a redirected script."""
    script = ("Clear\nvar @x=Export @f=out.csv @r=lines.dss\n"
              "New Circuit.cf basekv=12.47 pu=1.0 phases=3 bus1=sub MVAsc3=200 MVAsc1=180\n"
              "Redirect @r\nNew Load.ld bus1=b1 phases=3 kV=12.47 kW=100\n"
              "Set VoltageBases=[12.47]\nCalcVoltageBases\nSolve\n@x voltages @f\n")
    (tmp_path / "lines.dss").write_text("New Line.l1 bus1=sub bus2=b1 r1=0.1 x1=0.2 length=1\n")
    path = tmp_path / "m.dss"
    path.write_text(script)
    alone = _opendss_alone(path)
    assert "survived" in alone.stdout and (tmp_path / "out.csv").is_file(), alone
    (tmp_path / "out.csv").unlink()
    warnings = compile_circuit(path)
    assert not (tmp_path / "out.csv").exists()
    assert any("'@x voltages @f' (m.dss line 9)" in w for w in warnings), warnings
    assert (tmp_path / "lines.dss").resolve() in script_files(path)

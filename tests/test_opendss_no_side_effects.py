"""User test ut37_errs2 #1: reading an OpenDSS script leaves the user's folders as they were.

IEEE 13 with ``Solve``, ``Show voltages`` and ``Export Voltages`` at its end: ``feederopt info``
replaced ``IEEE13Nodeckt_VLN.txt`` and ``IEEE13Nodeckt_EXP_VOLTAGES.csv`` in the current folder
(OpenDSS writes its reports into its ``DataPath``, the folder the process started in) and ran
``xdg-open`` on the report. The truth here is the file system itself: the bytes of the user's
files, the listing of the folders, and whether the editor was started.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.opendss import read_opendss

runner = CliRunner(env={"COLUMNS": "240"})

SUB = """\
Show Currents
Export Powers
"""

MASTER = """\
Clear
New Circuit.tiny basekv=12.47 pu=1.0 phases=3 bus1=src
New Line.l1 phases=3 bus1=src bus2=b1 r1=0.3 x1=0.6 r0=0.9 x0=1.8 length=1 units=km
New Line.l2 phases=3 bus1=b1 bus2=b2 r1=0.3 x1=0.6 r0=0.9 x0=1.8 length=1 units=km
New Load.ld phases=3 bus1=b2 kv=12.47 kw=900 kvar=300
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
Show voltages
Export Voltages
Export Currents mycur.csv
Save Circuit
Redirect sub.dss
Plot Circuit
"""

#: What OpenDSS would write for the script in its DataPath (the current folder) or beside it:
#: the user's own files of those names must survive.
USER_FILES = {"tiny_VLN.txt": b"MY OWN NOTES\n", "tiny_EXP_VOLTAGES.csv": b"MY CSV\n",
              "tiny_EXP_POWERS.csv": b"MY POWERS\n", "Master.dss": b"! my own master\n"}


def _listing(*folders: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def fake_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``xdg-open`` (and ``gedit``, OpenDSS's other default) first on the PATH that leaves a
    mark when it runs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mark = tmp_path / "editor_ran"
    for name in ("xdg-open", "gedit", "open"):
        exe = bin_dir / name
        exe.write_text(f"#!/bin/sh\necho \"$@\" >> '{mark}'\n")
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return mark


@pytest.mark.parametrize("cwd_is_script_folder", [True, False])
def test_info_writes_nothing_and_opens_no_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 fake_editor: Path,
                                                 cwd_is_script_folder: bool) -> None:
    feeder = tmp_path / "feeder"
    feeder.mkdir()
    (feeder / "net.dss").write_text(MASTER)
    (feeder / "sub.dss").write_text(SUB)
    work = feeder if cwd_is_script_folder else tmp_path / "work"
    work.mkdir(exist_ok=True)
    for folder in {feeder, work}:
        for name, data in USER_FILES.items():
            (folder / name).write_bytes(data)
    (feeder / "mycur.csv").write_bytes(b"MY CURRENTS\n")
    before = _listing(feeder, work)
    monkeypatch.chdir(work)

    res = runner.invoke(app, ["info", str(feeder / "net.dss")])

    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert _listing(feeder, work) == before  # same files, same bytes, none new
    assert not fake_editor.exists()
    text = " ".join(res.output.split())
    assert "output command(s) of the script not run" in text
    for command in ("'Show voltages' (net.dss line 9)", "'Export Currents mycur.csv'",
                    "'Show Currents' (sub.dss line 1)"):
        assert command in text


def test_reader_keeps_cwd_and_datapath_and_names_the_skipped(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """The API too: the circuit is read as without the output commands (the same load and
    buses), the working directory and OpenDSS's DataPath are as before."""
    import opendssdirect as dss

    (tmp_path / "net.dss").write_text(MASTER)
    (tmp_path / "sub.dss").write_text(SUB)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "net.dss").write_text("\n".join(
        line for line in MASTER.splitlines()
        if line.split()[0].lower() in ("clear", "new", "set", "calcvoltagebases", "solve")))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    data_path = dss.Basic.DataPath()

    net = read_opendss(tmp_path / "net.dss")
    ref = read_opendss(plain / "net.dss")

    assert Path.cwd() == work
    assert dss.Basic.DataPath() == data_path
    assert sorted(os.listdir(work)) == []
    notes = [w for w in net.meta["warnings"] if "not run" in w]
    assert len(notes) == 1 and "7 OpenDSS output command(s)" in notes[0], notes
    assert net.buses["id"].to_list() == ref.buses["id"].to_list()
    assert net.tables["loads"]["p_mw"].sum() == pytest.approx(ref.tables["loads"]["p_mw"].sum())


# ----- abbreviated commands (session 38): OpenDSS runs a command's prefix as the command ----------
ABBREVIATED = {"Show voltages": "sho voltages", "Export Voltages": "exp Voltages",
               "Export Currents mycur.csv": "ex Currents mycur.csv", "Save Circuit": "sa Circuit",
               "Redirect sub.dss": "red sub.dss", "Plot Circuit": "pl Circuit"}


def test_abbreviated_output_commands_are_skipped_too(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    fake_editor: Path) -> None:
    master = MASTER
    for full, short in ABBREVIATED.items():
        master = master.replace(full, short)
    feeder = tmp_path / "feeder"
    feeder.mkdir()
    (feeder / "net.dss").write_text(master)
    (feeder / "sub.dss").write_text("sh Currents\nexp Powers\n")
    for name, data in USER_FILES.items():
        (feeder / name).write_bytes(data)
    (feeder / "mycur.csv").write_bytes(b"MY CURRENTS\n")
    before = _listing(feeder)
    monkeypatch.chdir(feeder)

    res = runner.invoke(app, ["info", str(feeder / "net.dss")])

    assert res.exit_code == 0, res.output
    assert _listing(feeder) == before
    assert not fake_editor.exists()
    text = " ".join(res.output.split())
    for command in ("'sho voltages' (net.dss line 9)", "'ex Currents mycur.csv'",
                    "'sh Currents' (sub.dss line 1)", "and 2 more"):
        assert command in text, text


def test_the_abbreviations_are_the_ones_opendss_runs(tmp_path: Path) -> None:
    """The command list is OpenDSS's own, in its order, and a prefix that OpenDSS runs as an
    output command (it writes its report file) is one for the reader."""
    import opendssdirect as dss

    from feederopt.io.dss_files import DSS_COMMANDS, OUTPUT_COMMANDS, command_word

    n = dss.Executive.NumCommands()
    assert tuple(dss.Executive.Command(i) for i in range(1, n + 1)) == DSS_COMMANDS
    data_path, editor = dss.Basic.DataPath(), dss.Basic.AllowEditor()
    try:
        dss.Basic.AllowEditor(False)
        dss.Text.Command("clear")
        dss.Text.Command("new circuit.abbr basekv=12.47")
        dss.Text.Command("solve")
        dss.Basic.DataPath(str(tmp_path))
        for command in ("sho voltages", "sh currents", "exp voltages", "ex powers"):
            before = set(os.listdir(tmp_path))
            dss.Text.Command(command)
            assert set(os.listdir(tmp_path)) - before, command  # OpenDSS wrote a report
            assert command_word(command) in OUTPUT_COMMANDS
    finally:
        dss.Basic.DataPath(data_path)
        dss.Basic.AllowEditor(editor)
    assert command_word("so") == "solve" and command_word("s") == "select"
    assert command_word("Vsource.source.pu=1") not in OUTPUT_COMMANDS

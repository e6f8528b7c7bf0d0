"""A line of zero length (or zero impedance) in an OpenDSS file (user test ut_3ph #10): the
raw "Matrix Inversion Error" named the line but neither the property nor the fix. Now a
``bad_impedance`` problem on the line with a hint (exit 2)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli.app import app

SRC = (Path(__file__).parents[1] / "src" / "feederopt" / "cases" / "data" / "opendss"
       / "network.ieee13.dss")


def test_a_zero_length_line_is_a_bad_impedance(tmp_path: Path) -> None:
    lines = SRC.read_text().splitlines()
    last = max(i for i, line in enumerate(lines) if line.lower().startswith("new line."))
    extra = ("New Line.zerolen Phases=3 Bus1=680 Bus2=680x LineCode=mtx601 Length=0 units=ft\n"
             "New Load.zl Bus1=680x.1 Phases=1 kV=2.4 kW=10 kvar=5")
    feeder = tmp_path / "feeder.dss"
    feeder.write_text("\n".join([*lines[:last + 1], extra, *lines[last + 1:]]) + "\n")
    res = CliRunner().invoke(app, ["info", str(feeder)])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "bad_impedance" in text and "Line.zerolen has no impedance" in text
    assert "Traceback" not in res.output
    # the stock feeders with zero-impedance switches still load (OpenDSS's switch impedance)
    assert CliRunner().invoke(app, ["info", "ieee13mod"]).exit_code == 0

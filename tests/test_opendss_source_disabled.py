"""User test ut37_errs2 #2: a circuit whose only source is disabled has no source.

IEEE 13 plus ``Vsource.source.enabled=no``: ``info`` said "problems: none" (exit 0) and
``solve`` "optimal" with 107.9 kW of LinDist3Flow losses, while OpenDSS's check served 0 kW;
pandapower (ext_grid out of service) and table folders give ``no_source``, exit 2. The truth is
OpenDSS's own solve of the file: 0 V at every node and no power drawn from anywhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss import read_opendss

runner = CliRunner(env={"COLUMNS": "240"})

FEEDER = """\
Clear
New Circuit.tiny basekv=12.47 pu=1.0 phases=3 bus1=src
New Line.l1 phases=3 bus1=src bus2=b1 r1=0.3 x1=0.6 r0=0.9 x0=1.8 length=1 units=km
New Line.l2 phases=3 bus1=b1 bus2=b2 r1=0.3 x1=0.6 r0=0.9 x0=1.8 length=1 units=km
New Load.ld phases=3 bus1=b2 kv=12.47 kw=900 kvar=300
Set VoltageBases=[12.47]
CalcVoltageBases
"""


def _opendss_node_volts(path: Path) -> np.ndarray:
    """|V| [V] of every node in OpenDSS's own solve of ``path``."""
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{path}"')
    dss.Solution.Solve()
    v = np.asarray(dss.Circuit.AllBusVolts(), float)
    return np.hypot(v[0::2], v[1::2])


def test_disabled_only_source_is_no_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    path = tmp_path / "nosrc.dss"
    path.write_text(FEEDER + "Vsource.source.enabled=no\n")
    monkeypatch.chdir(tmp_path)
    # truth: OpenDSS energises nothing (and with the source it does)
    assert np.all(_opendss_node_volts(path) < 1e-6)
    (tmp_path / "src.dss").write_text(FEEDER)
    assert np.all(_opendss_node_volts(tmp_path / "src.dss") > 6000.0)

    with pytest.raises(InputError) as err:
        read_opendss(path)
    (problem,) = [p for p in err.value.problems if p.kind == ProblemKind.NO_SOURCE]
    assert problem.ids == ("Vsource.source",)
    assert problem.field == "enabled"
    assert "enabled=no" in problem.message and "enabled=yes" in (problem.hint or "")

    for command in (["info", str(path)], ["solve", str(path), "--no-ac-check"]):
        res = runner.invoke(app, command)
        assert res.exit_code == 2, (command, res.output)
        assert "Traceback" not in res.output
        text = " ".join(res.output.split())
        assert "no_source" in text and "Vsource.source" in text, text


def test_a_disabled_second_source_is_not_a_source(tmp_path: Path) -> None:
    """A disabled Vsource beside an enabled one: the circuit is OpenDSS's without it."""
    path = tmp_path / "two.dss"
    path.write_text(FEEDER + "New Vsource.extra bus1=b2 basekv=12.47 pu=1.05 enabled=no\n")
    with_extra = _opendss_node_volts(path)
    (tmp_path / "one.dss").write_text(FEEDER)
    assert with_extra == pytest.approx(_opendss_node_volts(tmp_path / "one.dss"))

    net = read_opendss(path)
    assert net.sources["id"].to_list() == ["source"]
    assert any("Vsource.extra disabled" in w for w in net.meta["warnings"])

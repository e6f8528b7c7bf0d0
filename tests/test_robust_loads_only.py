"""``solve --robust --uncertain-loads`` varies loads only (user test ut49_growth #3): an sgen's
id there was refused as an "unknown (or out-of-service) load id" with no word that the box
holds no DER, and neither ``solve --help`` nor the README said so. Truth: the user's net (a
pandapower sgen, ``sgen:0``) and its own load ids."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from netbuild import nine_bus_pandapower

pp = pytest.importorskip("pandapower")
runner = CliRunner()


def test_sgen_in_uncertain_loads_says_loads_only(tmp_path) -> None:
    net = nine_bus_pandapower()
    pp.create_sgen(net, 8, p_mw=0.5, name="pv8")
    pp.to_json(net, str(tmp_path / "net.json"))
    res = runner.invoke(app, ["solve", str(tmp_path / "net.json"), "--robust", "0.5",
                              "--uncertain-loads", "sgen:0,load:1"], env={"COLUMNS": "300"})
    flat = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "(given: sgen:0)" in flat  # load:1 is the user's load: not unknown
    assert "varies loads only" in flat and "--scenarios" in flat


def test_help_says_the_box_holds_loads_only() -> None:
    res = runner.invoke(app, ["solve", "--help"], env={"COLUMNS": "300"})
    flat = " ".join(res.output.split())
    assert "the box varies loads only" in flat
    assert "loads only, not generating units" in flat

"""``feederopt info`` on an OpenDSS feeder says when its base case leaves nodes outside their
voltage limits, as it says overloads (user test ut_3ph #5: Reg2 raised to a 1.0875 tap gave
1.137 p.u. and "problems: none" without a note). Truth: OpenDSS's own node voltages."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli.app import app

SRC = (Path(__file__).parents[1] / "src" / "feederopt" / "cases" / "data" / "opendss"
       / "network.ieee13mod.dss")


def test_info_names_base_case_nodes_outside_the_band(tmp_path: Path) -> None:
    text = SRC.read_text().replace("Transformer.Reg2.Taps=[1.0 1.0500]",
                                   "Transformer.Reg2.Taps=[1.0 1.0875]")
    assert "1.0875" in text
    feeder = tmp_path / "feeder.dss"
    feeder.write_text(text)
    res = CliRunner().invoke(app, ["info", str(feeder), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    over = doc["base_voltage_violations"]
    assert over and all(v["voltage_pu"] > v["limit_pu"] for v in over if v["limit"] == "v_max")
    note = next(w for w in doc["warnings"] if "outside their voltage limits" in w)
    assert over[0]["node"] in note
    # OpenDSS's own voltages: the worst node named is above 1.1 p.u. there
    assert max(doc["base_max_voltage_by_phase_pu"].values()) > 1.1
    stock = CliRunner().invoke(app, ["info", str(SRC), "--json"])
    assert json.loads(stock.output)["base_voltage_violations"] == []

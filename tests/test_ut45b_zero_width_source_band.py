"""A zero-width source band (``--source-vm-band 0.98:0.98``, user test ut45b B6) is one fixed
source voltage: before, it counted ``2^S`` identical source corners (2 x 2^32 = 8.59e9 extreme
points on case33bw) and AC-checked two identical points. Truth by hand: a box over ``|D|``
loads without a budget has ``2^|D|`` extreme points (3 loads of the 7-bus feeder: 8), each
distinct, every source at the band's one voltage."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandapower as pp
from typer.testing import CliRunner

from feederopt.cli import app
from netbuild import tie7_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")


def test_a_zero_width_band_is_one_source_voltage(tmp_path: Path) -> None:
    net = tie7_pandapower()
    path = tmp_path / "tie7.json"
    pp.to_json(net, str(path))
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["solve", str(path), "--robust", "0.1", "--source-vm-band",
                                 "0.98:0.98", "--uncertain-loads", "load:0,load:2,load:4",
                                 "--v-min", "0.9", "--time-limit", "30",
                                 "--json", str(out)], env={"COLUMNS": "240"})
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    summ = doc["robust_summary"]
    n_loads = 3
    assert summ["uncertain_loads"] == ["load:0", "load:2", "load:4"]
    assert summ["extreme_points"] == 2 ** n_loads  # was 2^3 x 2 (one per "end")
    points = doc["robust"]
    assert len(points) == 2 ** n_loads
    signs = [tuple(v["u"]) for v in points]
    assert len(set(signs)) == len(signs)  # no point evaluated twice
    for v in points:
        assert v["source_vm_pu"] == {"0": 0.98}
        # pandapower's AC power flow held the source (the highest voltage) at 0.98 p.u.
        assert abs(v["ac"]["max_voltage_pu"] - 0.98) < 1e-9
    assert "both ends" not in " ".join(r.output.split())

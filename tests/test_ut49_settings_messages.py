"""Two settings messages of user test ut49_part #7.

* The count of uncertain loads when the settings file gives the box but names no load
  (``{"partition": {"uncertainty": 0.1}}``) stood in the id slot, ``settings
  [30].uncertain_loads``, where docs/partition-settings.md names a value of the ``partition``
  section by its field only (``settings.partition.uncertain_loads``). IEEE 37 has 30 loads
  (its file's ``New Load`` lines, counted below).
* A bus's ``vm_lb`` above its ``vm_ub`` (one mistake) was reported as "2 problems": once as
  the file's values and once as the bus's p.u. limits.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "400"})
DATA = Path(__file__).parents[1] / "src/feederopt/cases/data/opendss"


def test_the_count_of_uncertain_loads_is_named_by_its_field(tmp_path: Path) -> None:
    dss = (DATA / "ieee37" / "ieee37.dss").read_text().lower()
    n_loads = sum(line.strip().startswith("new load.") for line in dss.splitlines())
    assert n_loads == 30
    sfile = tmp_path / "s.json"
    sfile.write_text(json.dumps({"partition": {"uncertainty": 0.1}}))
    r = runner.invoke(app, ["partition", "ieee37", "--settings", str(sfile)])
    assert r.exit_code == 2, r.output
    assert "1 problem in the input" in r.output, r.output
    assert f"settings.partition.uncertain_loads: {n_loads} uncertain loads" in r.output, r.output
    assert f"[{n_loads}]" not in r.output


def test_a_crossed_bus_band_is_one_problem(tmp_path: Path) -> None:
    """ieee13mod's bus 801 (4.16 kV: 1 p.u. is 4.16 / sqrt(3) = 2.4018 kV phase to
    neutral): vm_lb 2.6 kV is 1.0825 p.u., vm_ub 2.5 kV is 1.0409 p.u."""
    sfile = tmp_path / "bad_vm.json"
    sfile.write_text(json.dumps({"bus": {"801": {"vm_lb": [2.6] * 3, "vm_ub": [2.5] * 3}}}))
    r = runner.invoke(app, ["partition", str(DATA / "network.ieee13mod.dss"),
                            "--settings", str(sfile)])
    assert r.exit_code == 2, r.output
    assert "1 problem in the input" in r.output, r.output
    assert "1.0825-1.0409 p.u." in r.output, r.output

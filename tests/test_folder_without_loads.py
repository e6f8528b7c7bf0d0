"""A table folder without a loads table is read with a note saying so (user test ut36_errs
#3: ``info`` said "problems: none" and ``solve`` "optimal" at 0.000 kW, any topology alike,
for a folder whose loads.csv had been forgotten)."""
from pathlib import Path

from feederopt import load
from feederopt.io.folder import write_folder

NOTE = "the folder has no loads table"


def test_a_missing_loads_table_is_said(tmp_path: Path) -> None:
    folder = tmp_path / "net"
    write_folder(load("case33bw"), folder, fmt="csv")
    assert not any(NOTE in w for w in load(folder).meta.get("warnings", []))
    (folder / "loads.csv").unlink()
    net = load(folder)
    assert net.loads is None or net.loads.height == 0
    assert any(NOTE in w and "loads.csv" in w for w in net.meta.get("warnings", []))

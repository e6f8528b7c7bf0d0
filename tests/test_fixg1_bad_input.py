"""ut_bad defects 1 and 6: networks that ``solve`` refuses are refused (or flagged) by ``info``
too, with a typed problem naming the component, exit code 2 and no traceback."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io import write_folder
from netbuild import tiny, tiny_tables

runner = CliRunner()


def test_info_lists_a_loop_of_branches_that_cannot_open(tmp_path: Path) -> None:
    # every branch fixed and the tie s-c closed: the loop s-a-b-c-s cannot open, by hand
    br = tiny_tables()["branches"].with_columns(pl.lit(False).alias("switchable"),
                                                 pl.lit(False).alias("normally_open"))
    folder = write_folder(tiny(branches=br), tmp_path / "loop")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    solved = runner.invoke(app, ["solve", str(folder), "-q"])
    assert solved.exit_code == 2 and "not_radial" in solved.output, solved.output
    for args in (["info", str(folder)], ["info", str(folder), "--json"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert "not_radial" in res.output and "problems: none" not in res.output
        for branch in ("l1", "l2", "l3", "tie1"):  # the loop, named branch by branch
            assert branch in res.output
        assert "Traceback" not in res.output
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # the same feeder with the tie normally open is fine
    ok = write_folder(tiny(), tmp_path / "ok")
    res = runner.invoke(app, ["info", str(ok)])
    assert res.exit_code == 0 and "problems: none" in res.output, res.output

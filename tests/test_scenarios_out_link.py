"""``scenarios --out LINK`` judges the file type by the link's target, the file it writes
(ut42_recheck_b #3: ``--out lsc``, ``lsc`` a link to ``scen_t.parquet``, was refused because
the link's own name has no extension). Truth: the written target's own bytes (Parquet's
``PAR1`` magic, CSV text), read back by polars; the link stays a link."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind

runner = CliRunner()


@pytest.mark.parametrize(("target", "magic"), [("scen_t.parquet", b"PAR1"),
                                               ("scen_t.csv", b"scenario")])
def test_a_link_is_written_as_its_targets_type(tmp_path: Path, target: str,
                                                magic: bytes) -> None:
    link = tmp_path / "lsc"
    link.symlink_to(target)  # dangling: the target is made by the run
    res = runner.invoke(app, ["scenarios", "case33bw", "--out", str(link), "--count", "2",
                              "--quiet"])
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and (tmp_path / target).is_file()
    data = (tmp_path / target).read_bytes()
    assert data.startswith(magic), data[:20]
    read = pl.read_parquet if target.endswith(".parquet") else pl.read_csv
    assert read(tmp_path / target).get_column("scenario").n_unique() == 2


def test_python_writes_through_a_link_by_its_targets_type(tmp_path: Path) -> None:
    link = tmp_path / "lsc"
    link.symlink_to("out.parquet")
    table = pl.DataFrame({"scenario": [0], "kind": ["load"], "id": ["1"], "p_mw": [0.1]})
    assert feederopt.write_scenarios(table, link) == link
    assert (tmp_path / "out.parquet").read_bytes().startswith(b"PAR1")


def test_a_link_to_another_type_is_refused_naming_the_target(tmp_path: Path) -> None:
    link = tmp_path / "lsc"
    link.symlink_to("scen_t.txt")
    res = runner.invoke(app, ["scenarios", "case33bw", "--out", str(link), "--count", "2"])
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "unknown_file_type" in text and "scen_t.txt" in text, text
    assert "Traceback" not in text and not (tmp_path / "scen_t.txt").exists()
    with pytest.raises(InputError) as info:
        feederopt.write_scenarios(pl.DataFrame({"scenario": [0]}), link)
    assert [p.kind for p in info.value.problems] == [ProblemKind.UNKNOWN_FILE_TYPE]

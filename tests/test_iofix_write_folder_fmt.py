"""``write_folder``'s ``fmt`` is checked before anything is deleted or written (user test
ut46_iobad #1): ``fmt="Parquet", force=True`` onto an earlier Parquet export unlinked its
``.parquet`` tables and wrote CSV text as ``buses.Parquet``; ``"xlsx"``, ``"json"`` and
``None`` wrote CSV text under those extensions."""

from __future__ import annotations

import polars as pl
import pytest

from feederopt.io import read_folder, write_folder
from feederopt.network import InputError, ProblemKind
from netbuild import tiny


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_fmt_in_capitals_is_parquet(tmp_path):
    net = tiny().check()
    folder = write_folder(net, tmp_path / "export", fmt="parquet")
    write_folder(net, folder, fmt="Parquet", force=True)
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([f"{t}.parquet" for t in net.tables()] + ["meta.json"])
    # real Parquet (the magic bytes PAR1 at both ends), not CSV text
    raw = (folder / "buses.parquet").read_bytes()
    assert raw[:4] == b"PAR1" and raw[-4:] == b"PAR1"
    assert pl.read_parquet(folder / "buses.parquet")["id"].to_list() == net.buses["id"].to_list()
    assert read_folder(folder).buses.equals(net.buses)
    write_folder(net, tmp_path / "as_csv", fmt=" CSV ")
    assert (tmp_path / "as_csv" / "buses.csv").read_text().startswith("id,")


@pytest.mark.parametrize("fmt", ["xlsx", "json", None, "", 3])
@pytest.mark.parametrize("force", [False, True])
def test_other_formats_refused_before_anything_is_touched(tmp_path, fmt, force):
    net = tiny().check()
    folder = write_folder(net, tmp_path / "export", fmt="parquet")
    (folder / "notes.txt").write_text("mine")
    before = _snapshot(folder)
    with pytest.raises(InputError) as err:
        write_folder(net, folder, fmt=fmt, force=force)
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.INVALID_VALUE and problem.field == "fmt"
    assert f"fmt={fmt!r} is not a table format" in str(err.value)
    assert 'fmt="parquet" or fmt="csv"' in str(err.value)
    assert _snapshot(folder) == before
    # nor is a new folder made
    with pytest.raises(InputError):
        write_folder(net, tmp_path / "new", fmt=fmt, force=force)
    assert not (tmp_path / "new").exists()

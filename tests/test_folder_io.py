"""feederopt's folder format: Parquet and CSV round trips, and no silent overwrite."""

from __future__ import annotations

import pytest

from feederopt.cases import load
from feederopt.io import read_folder, write_folder
from feederopt.network import InputError, ProblemKind
from netbuild import tiny


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("case", ["tiny", "case33bw"])
def test_round_trip(tmp_path, fmt, case):
    net = tiny().check() if case == "tiny" else load(case)
    path = write_folder(net, tmp_path / "net", fmt=fmt)
    assert (path / f"buses.{fmt}").is_file() and (path / "meta.json").is_file()
    back = load(path)
    for name, df in net.tables().items():
        assert back.tables()[name].equals(df), name
    assert back.name == net.name and back.integer_ids == net.integer_ids


def test_never_overwrites_without_force(tmp_path):
    net = tiny()
    write_folder(net, tmp_path / "net", fmt="csv")
    with pytest.raises(InputError) as err:
        write_folder(net, tmp_path / "net")
    assert err.value.problems[0].kind is ProblemKind.OUTPUT_EXISTS
    write_folder(net, tmp_path / "net", fmt="parquet", force=True)
    assert not (tmp_path / "net" / "buses.csv").exists()
    assert read_folder(tmp_path / "net").buses.equals(net.buses)


def test_never_replaces_a_file_or_its_own_source_format(tmp_path):
    """User test ut_io #3: ``write_folder(net, "net.m", force=True)`` deleted the MATPOWER file
    the network was read from, and a CSV folder written back as Parquet lost its CSV tables."""
    import shutil

    src = tmp_path / "net.m"
    shutil.copy(load("case33bw").meta["path"], src)
    before = src.read_bytes()
    net = load(src)
    for force in (False, True):
        with pytest.raises(InputError) as err:
            write_folder(net, src, force=force)
        assert err.value.problems[0].kind is ProblemKind.BAD_OUTPUT_PATH
    assert src.is_file() and src.read_bytes() == before
    folder = write_folder(net, tmp_path / "tabs", fmt="csv")
    mine = load(folder)
    with pytest.raises(InputError) as err:
        write_folder(mine, folder, fmt="parquet", force=True)
    assert err.value.problems[0].kind is ProblemKind.BAD_OUTPUT_PATH
    assert (folder / "buses.csv").is_file() and not (folder / "buses.parquet").exists()
    # an edit saved back in the folder's own format is fine
    write_folder(mine, folder, fmt="csv", force=True)
    assert load(folder).buses.equals(mine.buses)


def test_minimal_csv_folder(tmp_path):
    """Only the required columns; everything else takes its default."""
    d = tmp_path / "mini"
    d.mkdir()
    (d / "buses.csv").write_text("id,vn_kv,is_source\n1,11,true\n2,11,false\n")
    (d / "branches.csv").write_text("id,from_bus,to_bus,r_ohm,x_ohm\nL1,1,2,0.5,0.4\n")
    (d / "loads.csv").write_text("id,bus,p_mw,q_mvar\nD2,2,0.5,0.1\n")
    net = load(d)
    assert net.summary()["buses"] == 2
    assert net.buses["v_min_pu"].to_list() == [0.9, 0.9]
    assert net.branches["kind"].to_list() == ["line"]


def test_another_format_version_is_noted(tmp_path):
    """User test ut_cli #8: a folder whose meta.json gives another format_version was read
    without a word; the folder's own version reads without the note."""
    import json

    path = write_folder(tiny(), tmp_path / "net", fmt="csv")
    assert not any("format_version" in w for w in load(path).meta.get("warnings", []))
    info = json.loads((path / "meta.json").read_text())
    (path / "meta.json").write_text(json.dumps({**info, "format_version": 99}))
    notes = load(path).meta.get("warnings", [])
    assert any("format_version 99" in w for w in notes), notes

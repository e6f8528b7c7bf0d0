"""An empty numeric cell of a column with a default (``branches.b_us`` 0,
``branches.tap_ratio`` 1, ``loads.priority`` 1) is read as that default; it was read so without
a word (nits #6). The folder reader now says so in one note per column, naming the table, the
column, the default and the rows, in CSV and Parquet alike; a folder feederopt writes holds
the defaults themselves and reads back without such a note. Truth: the folders are written by
hand, and the same folder with the defaults written out gives the same model."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.network.perunit import to_per_unit

BUSES = "id,vn_kv,is_source,v_set_pu\nS,12.66,true,\nB1,12.66,false,\nB2,12.66,false,\n"
LOADS = "id,bus,p_mw,q_mvar,priority\nld1,B1,0.3,0.1,2\nld2,B2,0.5,0.2,{p}\n"
BRANCHES = ("id,from_bus,to_bus,r_ohm,x_ohm,b_us,tap_ratio,switchable,normally_open\n"
            "L1,S,B1,0.5,0.4,{b},{t},true,false\nL2,B1,B2,0.8,0.6,{b},{t},true,false\n"
            "L3,S,B2,0.9,0.7,1.5,1.0,true,true\n")


def _folder(root: Path, *, empty: bool, parquet: bool = False) -> Path:
    folder = root / ("empty" if empty else "full")
    folder.mkdir()
    cells = {"b": "", "t": "", "p": ""} if empty else {"b": "0", "t": "1", "p": "1"}
    texts = {"buses": BUSES.replace("true,\n", "true,1.0\n"), "loads": LOADS.format(**cells),
             "branches": BRANCHES.format(**cells)}
    for name, text in texts.items():
        (folder / f"{name}.csv").write_text(text)
        if parquet:
            pl.read_csv(folder / f"{name}.csv", infer_schema_length=0).with_columns(
                pl.all().replace("", None)).write_parquet(folder / f"{name}.parquet")
            (folder / f"{name}.csv").unlink()
    return folder


def _default_notes(net: feederopt.Network) -> list[str]:
    return [w for w in net.meta.get("warnings", []) if "empty cell" in w]


@pytest.mark.parametrize("parquet", [False, True])
def test_empty_cells_read_as_the_default_get_one_note_per_column(tmp_path, parquet) -> None:
    net = feederopt.load(str(_folder(tmp_path, empty=True, parquet=parquet)))
    assert sorted(_default_notes(net)) == [
        "branches.b_us: 2 empty cell(s) read as the default 0 (L1, L2); fill them in where "
        "another value is meant",
        "branches.tap_ratio: 2 empty cell(s) read as the default 1 (L1, L2); fill them in where "
        "another value is meant",
        "loads.priority: 1 empty cell(s) read as the default 1 (ld2); fill them in where "
        "another value is meant"]
    # v_set_pu is empty at the buses that are no source: it means nothing there, no note
    assert not any("v_set_pu" in w for w in net.meta.get("warnings", []))
    # the default is what is read: the model equals that of the folder with it written out
    full = to_per_unit(feederopt.load(str(_folder(tmp_path, empty=False))))
    pu = to_per_unit(net)
    for field in ("b", "tap", "r", "x"):
        assert getattr(pu, field).tolist() == getattr(full, field).tolist(), field


def test_a_folder_without_empty_cells_gets_no_note(tmp_path) -> None:
    assert _default_notes(feederopt.load(str(_folder(tmp_path, empty=False)))) == []


def test_the_note_is_on_the_command_line(tmp_path) -> None:
    run = CliRunner().invoke(app, ["info", str(_folder(tmp_path, empty=True))])
    assert run.exit_code == 0, run.output
    assert "note: branches.b_us: 2 empty cell(s) read as the default 0 (L1, L2)" in " ".join(
        run.output.split())


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_folder_feederopt_writes_reads_back_without_the_note(tmp_path, fmt) -> None:
    net = feederopt.load(str(_folder(tmp_path, empty=True)))
    again = feederopt.load(str(write_folder(net, tmp_path / "out", fmt=fmt)))
    assert _default_notes(again) == []
    assert again.loads["priority"].to_list() == [2.0, 1.0]
    assert again.branches["b_us"].to_list() == [0.0, 0.0, 1.5]


def test_generator_limits_left_empty_are_the_set_point_not_the_default(tmp_path) -> None:
    """Both limits of a pair empty: the row is a fixed injection at its set-point (gendef #1),
    so the note says that, not "read as the default 0" (the two merged notes contradicted each
    other on ut37_fresh's gridg); one limit empty alone is the default 0, with its note."""
    folder = _folder(tmp_path, empty=False)
    (folder / "generators.csv").write_text(
        "id,bus,p_mw,q_mvar,p_min_mw,p_max_mw\nPV1,B1,0.2,0.0,,\nPV2,B2,0.1,0.0,,0.3\n")
    net = feederopt.load(str(folder))
    notes = _default_notes(net)
    assert notes == ["generators.p_min_mw: 1 empty cell(s) read as the default 0 (PV2); fill "
                     "them in where another value is meant"]
    pu = to_per_unit(net)  # generators in file order, 1 MVA base unless meta says otherwise
    scale = pu.s_base_mva
    assert list(pu.gen_p_min * scale) == pytest.approx([0.2, 0.0])
    assert list(pu.gen_p_max * scale) == pytest.approx([0.2, 0.3])

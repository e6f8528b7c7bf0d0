"""``feederopt info FOLDER`` of a folder written from pandapower's ``example_multivoltage``
printed the trafo3w approximation twice (user test ut46_recheck iobad/t2_trafo3w.py): the
reader's bare note "trafo3w 0: the negative star resistance of its lv winding (...) is taken
as 0" and the folder's note that quotes it, "the tables hold feederopt's model of the
pandapower network, not its data unchanged: trafo3w 0: ...". It is printed once, wrapped.
Truth: the text the user should see."""

from __future__ import annotations

import json
import warnings

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import FeederoptWarning
from feederopt.io import write_folder

BARE = "trafo3w 0: the negative star resistance of its lv winding"
NOTE = ("the tables hold feederopt's model of the pandapower network, not its data unchanged: "
        + BARE)


def _info_notes(folder) -> list[str]:
    res = CliRunner().invoke(app, ["info", str(folder)])
    assert res.exit_code == 0, res.output
    # the notes as lines (a long one wraps onto the next lines)
    text = " ".join(res.output.split())
    return [n for n in text.split("note: ")[1:] if BARE in n]


def test_info_prints_the_approximation_once(tmp_path) -> None:
    pn = pytest.importorskip("pandapower.networks")
    net = feederopt.load(pn.example_multivoltage())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeederoptWarning)
        folder = write_folder(net, tmp_path / "mv", fmt="parquet")
    meta = json.loads((folder / "meta.json").read_text())["meta"]
    assert [w for w in meta["warnings"] if BARE in w] == [w for w in meta["warnings"]
                                                         if w.startswith(NOTE)]
    notes = _info_notes(folder)
    assert len(notes) == 1 and notes[0].startswith(NOTE)


def test_a_folder_written_before_prints_it_once(tmp_path) -> None:
    pn = pytest.importorskip("pandapower.networks")
    net = feederopt.load(pn.example_multivoltage())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeederoptWarning)
        folder = write_folder(net, tmp_path / "mv", fmt="parquet")
    # as the earlier writer left it: the bare note beside the wrapped one
    path = folder / "meta.json"
    info = json.loads(path.read_text())
    bare = next(w for w in net.meta["warnings"] if w.startswith(BARE))
    info["meta"]["warnings"].insert(0, bare)
    path.write_text(json.dumps(info))
    notes = _info_notes(folder)
    assert len(notes) == 1 and notes[0].startswith(NOTE)

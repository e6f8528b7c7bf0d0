"""A folder written from a network whose importer approximated the source's data (user test
ut46_iobad #2): pandapower's ``example_multivoltage`` has a trafo3w whose lv star resistance
is negative, taken as 0 by the reader; ``write_folder`` stored that approximation as the grid's
data, and ``info`` of the folder reported AC losses of 1998.08 kW against pandapower's own
1995.22 kW without a word. ``write_folder`` now warns, and the folder's ``meta.json`` carries
the note, which ``info FOLDER`` prints. Truth: pandapower's ``runpp`` of the original net."""

from __future__ import annotations

import json
import warnings

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import FeederoptWarning
from feederopt.io import write_folder
from netbuild import tiny

NOTE = "the tables hold feederopt's model of the pandapower network, not its data unchanged"


def _pandapower_losses_kw(net) -> float:
    return 1e3 * sum(float(getattr(net, t).pl_mw.sum()) for t in (
        "res_line", "res_trafo", "res_trafo3w", "res_impedance") if len(getattr(net, t)))


def test_folder_of_an_approximated_net_says_so(tmp_path) -> None:
    pp = pytest.importorskip("pandapower")
    pn = pytest.importorskip("pandapower.networks")
    original = pn.example_multivoltage()
    # the premise: pandapower's own trafo3w star equivalent has a negative resistance, and
    # the approximated tables' AC losses are not pandapower's of the net
    pp.runpp(original)
    truth_kw = _pandapower_losses_kw(original)
    net = feederopt.load(pn.example_multivoltage())
    with pytest.warns(FeederoptWarning, match="trafo3w 0: the negative star resistance of its "
                      "lv winding"):
        folder = write_folder(net, tmp_path / "mv", fmt="parquet")
    folder_kw = feederopt.ac_power_flow(feederopt.load(folder)).losses_kw
    assert abs(folder_kw - truth_kw) > 1.0  # 1998.08 vs 1995.22 kW: the note is needed
    meta = json.loads((folder / "meta.json").read_text())
    assert any(w.startswith(NOTE) and "trafo3w 0" in w for w in meta["meta"]["warnings"])
    res = CliRunner().invoke(app, ["info", str(folder)])
    text = " ".join(res.output.split())
    assert res.exit_code == 0, text
    assert f"note: {NOTE}" in text
    # written again from the folder: the note once, not twice
    with pytest.warns(FeederoptWarning):
        again = write_folder(feederopt.load(folder), tmp_path / "mv2", fmt="csv")
    meta2 = json.loads((again / "meta.json").read_text())
    assert sum(w.startswith(NOTE) for w in meta2["meta"]["warnings"]) == 1


def test_no_note_without_approximations(tmp_path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeederoptWarning)
        folder = write_folder(tiny().check(), tmp_path / "t", fmt="csv")
    meta = json.loads((folder / "meta.json").read_text())
    assert not any(NOTE in w for w in meta["meta"].get("warnings", []))

"""``solve --out DIR`` of a pandapower net writes the user's net with the answer's switch
states as ``DIR/net.json`` (user test ut43_ppgrid #2: the folder had only tables, and a CLI user
had to rebuild the switched net by hand). Truth: ``pp.from_json`` of the file and pandapower's
own power flow of it; the switch states against the user's net, which stays unchanged."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import two_feeder_pandapower

runner = CliRunner()


def test_out_folder_holds_the_switched_net(tmp_path: Path) -> None:
    src = tmp_path / "grid.json"
    pp.to_json(two_feeder_pandapower(), str(src))
    digest = hashlib.md5(src.read_bytes()).hexdigest()
    out = tmp_path / "res"
    done = runner.invoke(app, ["solve", str(src), "--out", str(out), "--time-limit", "60",
                               "--v-min", "0.9", "--v-max", "1.1"])
    assert done.exit_code == 0, done.output
    assert hashlib.md5(src.read_bytes()).hexdigest() == digest  # the input is not touched
    result = json.loads((out / "result.json").read_text())
    solved = pp.from_json(str(out / "net.json"))
    user = pp.from_json(str(src))
    # the answer's open branches are open in the written net, and only its switches moved
    opened = {b["id"] for b in result["open_branches"]}
    for k in user.switch.index:
        line = f"line:{int(user.switch.at[k, 'element'])}"
        assert bool(solved.switch.at[k, "closed"]) == (line not in opened), line
    # switches.parquet names them by pandapower index too: each branch's switches are the
    # user's switches of that line
    import polars as pl

    table = pl.read_parquet(out / "switches.parquet")
    for bid, ks in zip(table["id"], table["pp_switches"], strict=True):
        assert [f"line:{int(user.switch.at[k, 'element'])}" for k in ks] == [bid]
    pp.runpp(solved)
    ac_kw = float(solved.res_line.pl_mw.sum() + solved.res_trafo.pl_mw.sum()) * 1000
    assert result["ac_check"]["losses_kw"] == pytest.approx(ac_kw, rel=1e-9)


def test_out_refuses_a_net_json_of_the_users(tmp_path: Path) -> None:
    """A result folder of an earlier run with a net.json of the user's beside it: --force
    replaces only feederopt's files, and this run writes a net.json, so it is refused
    before any solving (before, the solve went on and left the folder without the net)."""
    src = tmp_path / "grid.json"
    pp.to_json(two_feeder_pandapower(), str(src))
    out = tmp_path / "res"
    args = ["solve", str(src), "--out", str(out), "--force", "--time-limit", "60",
            "--v-min", "0.9", "--v-max", "1.1",
            "--no-ac-check"]
    assert runner.invoke(app, args).exit_code == 0
    # as a folder of a release before net.json: not in its list of feederopt's files
    manifest = out / ".feederopt-files"
    manifest.write_text("".join(f"{f}\n" for f in manifest.read_text().split()
                                if f != "net.json"))
    (out / "net.json").unlink(missing_ok=True)
    (out / "net.json").write_text("mine")
    done = runner.invoke(app, args)
    assert done.exit_code == 2, done.output
    assert (out / "net.json").read_text() == "mine"

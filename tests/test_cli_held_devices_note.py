"""The console says that the methods that set no device (``--method lindistflow``,
``--scenarios``, ``--robust``) hold the net's devices at the data's settings (user test
ut34_combo #2: only the JSON's notes and the scenario report said it, the console nothing).

Reference: the net built by hand here has one controllable capacitor bank and one OLTC; the
note names both and the option that holds them."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from netbuild import two_feeder_pandapower

runner = CliRunner()


def _files(tmp_path: Path) -> tuple[Path, Path]:
    net = two_feeder_pandapower(oltc=True)  # CAP_A5 controllable, T1 an OLTC
    path = tmp_path / "net.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.to_json(net, str(path))
    rows = [{"scenario": name, "element": f"load:{i}", "p_mw": f * float(ld.p_mw),
             "q_mvar": f * float(ld.q_mvar), "weight": 0.5}
            for name, f in (("lo", 0.9), ("hi", 1.1)) for i, ld in net.load.iterrows()]
    scen = tmp_path / "sc.csv"
    pl.DataFrame(rows).write_csv(scen)
    return path, scen


@pytest.mark.parametrize("how", ["lindistflow", "--scenarios"])
def test_the_console_says_the_devices_are_held(how: str, tmp_path: Path) -> None:
    path, scen = _files(tmp_path)
    extra = ["--method", "lindistflow"] if how == "lindistflow" else ["--scenarios", str(scen)]
    # (the band 0.9-1.1: lindistflow finds no topology within the data's 0.95-1.05)
    res = runner.invoke(app, ["solve", str(path), *extra, "--time-limit", "30", "--v-min",
                              "0.9", "--v-max", "1.1"], terminal_width=400)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert (f"note: {how} does not set the network's devices (2: capacitor, oltc): they are "
            "held at the data's settings as with --fix-devices") in text  # nothing before
    # the methods that set them say nothing of the kind
    res = runner.invoke(app, ["solve", str(path), "--time-limit", "30"], terminal_width=400)
    assert res.exit_code == 0 and "does not set the network's devices" not in res.output

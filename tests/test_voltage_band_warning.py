"""A bus without a source whose v_min equals v_max (MATPOWER's case16ci: Vmin = Vmax = 1 at
load bus 4; case28da at every bus) makes every topology need slack (exit 3), yet `info` said
"problems: none". It is now a warning naming the buses; `solve --v-min --v-max`, which replace
the band, do not print it."""

from __future__ import annotations

from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import Severity
from feederopt.network.validate import validate

runner = CliRunner()


def _band_warnings(name: str) -> list:
    return [p for p in validate(feederopt.load(name, check=False))
            if p.field == "v_min_pu" and "equals v_max_pu" in p.message]


def test_a_zero_width_band_is_a_warning_naming_the_bus() -> None:
    net = feederopt.load("case16ci", check=False)
    zero = net.buses.filter((net.buses["v_max_pu"] - net.buses["v_min_pu"]).abs() < 1e-9)
    assert "4" in zero["id"].to_list()  # MATPOWER's own data
    (w,) = _band_warnings("case16ci")
    assert w.severity is Severity.WARNING and w.ids == ("4",)  # bus 1 is the source
    assert not _band_warnings("case33bw")


def test_info_says_so_and_solve_with_a_band_does_not() -> None:
    out = runner.invoke(app, ["info", "case16ci"])
    assert out.exit_code == 0 and "equals v_max_pu" in out.output
    out = runner.invoke(app, ["solve", "case16ci", "--v-min", "0.9", "--v-max", "1.1",
                              "--time-limit", "30"])
    assert out.exit_code == 0, out.output
    assert "equals v_max_pu" not in out.output

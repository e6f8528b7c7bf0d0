"""``feederopt info`` printed each of the network's own warnings twice (once as a note,
once more by the loop that lists the warnings among the problems, since commit bd3c33e6):
case16ci's bus 4 with v_min_pu equal to v_max_pu (a warning of the data, checked here from
the case's own bus table) is listed once."""

from __future__ import annotations

from typer.testing import CliRunner

import feederopt
from feederopt.cli import app


def test_a_network_warning_is_printed_once() -> None:
    buses = feederopt.load("case16ci").buses
    tight = buses.filter((buses["v_min_pu"] == buses["v_max_pu"]) & ~buses["is_source"])
    assert tight.height >= 1  # the data's own reason for the warning
    res = CliRunner().invoke(app, ["info", "case16ci"], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert res.output.count("v_min_pu equals v_max_pu") == 1, res.output

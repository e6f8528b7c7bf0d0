"""``feederopt check -u 0``: the two uniform corners (every uncertain load at ``1 - X`` and at
``1 + X``) are the same point when ``X = 0``; the check listed it twice, as "lower" and
"upper" x1 (session 43's note). Now it is one corner, ``nominal``, factor 1, whose AC voltage is
pandapower's own power flow of the user's net at its loads as given with the result's lines in
service (computed here)."""

from __future__ import annotations

import copy
import json

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from test_check_corners import solved_result


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[pp.pandapowerNet, dict, dict,
                                                                str]:
    net = pn.case33bw()
    folder = tmp_path_factory.mktemp("zero_u")
    result = solved_result(net, folder)
    args = ["check", str(result), "--samples", "2", "--uncertainty", "0"]
    out = folder / "check.json"
    res = CliRunner().invoke(app, [*args, "--json", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    console = CliRunner().invoke(app, args, env={"COLUMNS": "250"})
    assert console.exit_code == 0, console.output
    return net, json.loads(result.read_text()), json.loads(out.read_text()), console.output


def test_one_nominal_corner_at_pandapowers_voltage(checked: tuple) -> None:
    net, doc, payload, _ = checked
    assert [(c["corner"], c["factor"]) for c in payload["corners"]] == [("nominal", 1.0)]
    net = copy.deepcopy(net)
    opened = {b["id"] for b in doc["open_branches"]}
    net.line["in_service"] = [f"line:{k}" not in opened for k in net.line.index]
    pp.runpp(net)
    corner = payload["corners"][0]
    assert corner["min_voltage_pu"] == pytest.approx(float(net.res_bus["vm_pu"].min()),
                                                     abs=1e-8)


def test_console_lists_the_corner_once(checked: tuple) -> None:
    console = checked[3]
    assert console.count("x1 (not a sample)") == 1, console


def test_no_interval_over_repeats_of_one_point(checked: tuple) -> None:
    """With X = 0 every sample is the nominal point (the corner's power flow, above): a
    binomial interval over repeats of it means nothing, and none is given."""
    _, _, payload, console = checked
    assert payload["feasible_share_ac_ci95"] is None
    assert payload["feasible_share_convex_ci95"] is None
    assert "95 % CI" not in console

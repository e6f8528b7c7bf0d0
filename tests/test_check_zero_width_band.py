"""``feederopt check`` of a robust result solved with a zero-width source band
(``--source-vm-band 0.98:0.98``): the band's ``2^S`` source corners are one voltage, so the
check has one source setting and each load corner once (before, the two "ends" were the same
point and every corner was listed, and AC-checked, twice). With ``-u 0`` too, the whole box is
one point: one corner, ``nominal``. Truth: the count by hand (1 source voltage x 2 load corners;
x 1 with ``-u 0``) and pandapower's own power flow of the 7-bus feeder at the upper corner
(the uncertain loads x 1.1, the source at 0.98 p.u., the result's switches open)."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from netbuild import tie7_pandapower

UNCERTAIN = ["load:0", "load:2", "load:4"]


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, dict]:
    net = tie7_pandapower()
    folder = tmp_path_factory.mktemp("zero_band")
    path = folder / "tie7.json"
    pp.to_json(net, str(path))
    out = folder / "r.json"
    r = CliRunner().invoke(app, ["solve", str(path), "--robust", "0.1", "--source-vm-band",
                                 "0.98:0.98", "--uncertain-loads", ",".join(UNCERTAIN),
                                 "--v-min", "0.9", "--time-limit", "30", "--quiet",
                                 "--json", str(out)])
    assert r.exit_code == 0, r.output
    return net, out, json.loads(out.read_text())


def check(result: Path, *extra: str) -> tuple[dict, str]:
    out = result.parent / f"check{len(extra)}.json"
    args = ["check", str(result), "--samples", "3", *extra]
    res = CliRunner().invoke(app, [*args, "--json", str(out), "--quiet", "--force"])
    assert res.exit_code == 0, res.output
    console = CliRunner().invoke(app, args, env={"COLUMNS": "250"})
    assert console.exit_code == 0, console.output
    return json.loads(out.read_text()), console.output


def test_one_source_setting_and_each_load_corner_once(solved: tuple) -> None:
    net, result, doc = solved
    payload, console = check(result)
    settings = payload["source_voltage"]["settings"]
    assert [s["source_vm_pu"] for s in settings] == [{"0": 0.98}]
    assert settings[0]["samples"] == 3
    assert [(c["corner"], c["factor"]) for c in payload["corners"]] == [
        ("lower", pytest.approx(0.9)), ("upper", pytest.approx(1.1))]
    assert console.count("(not a sample)") == 2, console
    assert "of zero width: every sample and corner at 0.9800 p.u. at bus 0" in \
        " ".join(console.split())
    # the upper corner is pandapower's power flow of the feeder at that point
    pp_net = copy.deepcopy(net)
    opened = {b["id"] for b in doc["open_branches"]}
    # the result's topology: every line closed but the ones it opens (the tie may close)
    pp_net.switch["closed"] = [f"line:{e}" not in opened for e in pp_net.switch.element]
    for k in pp_net.load.index:
        if f"load:{k}" in UNCERTAIN:
            pp_net.load.loc[k, ["p_mw", "q_mvar"]] *= 1.1
    pp_net.ext_grid["vm_pu"] = 0.98
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(pp_net, numba=False)
    upper = payload["corners"][1]
    assert upper["min_voltage_pu"] == pytest.approx(float(pp_net.res_bus.vm_pu.min()),
                                                    abs=1e-6)


def test_zero_width_band_and_u0_is_one_nominal_corner(solved: tuple) -> None:
    """``-u 0`` on the zero-width band: one point, one corner ``nominal`` x1, and no
    binomial interval over repeats of it."""
    _, result, _ = solved
    payload, console = check(result, "-u", "0")
    assert [(c["corner"], c["factor"]) for c in payload["corners"]] == [("nominal", 1.0)]
    assert console.count("(not a sample)") == 1, console
    assert payload["feasible_share_ac_ci95"] is None

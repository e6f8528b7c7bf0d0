"""``feederopt check --source-vm`` takes one voltage per source bus (``BUS=VM,BUS=VM``, by the
network's bus ids; a mapping from Python), besides one voltage for all. Before, it took one
number, so a network with two ext_grids could not be checked at two set-points.

Truth: pandapower's Newton-Raphson on the checked topology with the two ext_grids at the
voltages given (the check's corners at X = 0 are the nominal loads, so their voltages are
that power flow's)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError

HELD = {"0": 1.03, "4": 0.99}


def two_source_net() -> Any:
    """Two ext_grids (buses 0 and 4) feeding a 20 kV path 0-1-2-3-4 whose middle line 2-3 is
    a normally open tie (each source its own tree), 1-1.5 MW per bus."""
    import pandapower as pp

    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    pp.create_ext_grid(net, b[4], vm_pu=1.0)
    for f, t in ((0, 1), (1, 2), (2, 3), (3, 4)):
        line = pp.create_line_from_parameters(net, b[f], b[t], 2.0, 0.3, 0.35, 0.0, 0.4)
        pp.create_switch(net, b[f], line, "l", closed=(f, t) != (2, 3))
    for bus, p in ((1, 1.0), (2, 1.5), (3, 1.2)):
        pp.create_load(net, b[bus], p_mw=p, q_mvar=0.3 * p)
    return net


def pandapower_voltages(result: dict[str, Any], held: dict[str, float]) -> tuple[float, float]:
    import pandapower as pp

    net = two_source_net()
    opened = {int(str(b["id"]).split(":")[1]) for b in result["open_branches"]}
    net.switch["closed"] = ~net.switch.element.isin(opened)
    for k, bus in net.ext_grid.bus.items():
        net.ext_grid.at[k, "vm_pu"] = held[str(bus)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    return float(net.res_bus.vm_pu.min()), float(net.res_bus.vm_pu.max())


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The two-source network's solve (its topology is what ``check`` rebuilds; the solve's
    own AC check is not looked at, so it is skipped)."""
    import pandapower as pp

    folder = tmp_path_factory.mktemp("two_source")
    pp.to_json(two_source_net(), str(folder / "net.json"))
    out = CliRunner().invoke(app, ["solve", str(folder / "net.json"), "--json",
                                   str(folder / "r.json"), "--no-ac-check", "--quiet"])
    assert out.exit_code == 0, out.output
    return folder, json.loads((folder / "r.json").read_text())


def _check(folder: Path, source_vm: str, name: str) -> Any:
    return CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["check", str(folder / "r.json"), "--uncertainty", "0", "--samples", "2",
              "--source-vm", source_vm, "--json", str(folder / name)])


def test_each_source_is_held_at_its_own_voltage(solved: tuple[Path, dict[str, Any]]) -> None:
    folder, result = solved
    out = _check(folder, "0=1.03,4=0.99", "c.json")
    assert out.exit_code == 0, out.output
    doc = json.loads((folder / "c.json").read_text())
    assert doc["source_voltage"]["how"] == "given"
    assert doc["source_voltage"]["settings"][0]["source_vm_pu"] == HELD
    lo, hi = pandapower_voltages(result, HELD)
    for corner in doc["corners"]:
        assert corner["source_vm_pu"] == HELD
        assert corner["min_voltage_pu"] == pytest.approx(lo, abs=1e-6)
        assert corner["max_voltage_pu"] == pytest.approx(hi, abs=1e-6)
    # the same from Python, as a mapping; one number still holds every source at it
    mc = feederopt.check_result(result, samples=1, uncertainty=0.0, source_vm=HELD)
    assert mc.corners[0]["min_voltage_pu"] == pytest.approx(lo, abs=1e-6)
    one = feederopt.check_result(result, samples=1, uncertainty=0.0, source_vm=1.03)
    lo1, _ = pandapower_voltages(result, {"0": 1.03, "4": 1.03})
    assert one.corners[0]["min_voltage_pu"] == pytest.approx(lo1, abs=1e-6)
    # a source not named keeps its set-point (1.0)
    part = feederopt.check_result(result, samples=1, uncertainty=0.0, source_vm={"4": 0.99})
    assert part.source_voltage["settings"][0]["source_vm_pu"] == {"0": 1.0, "4": 0.99}


@pytest.mark.parametrize(("given", "words"), [
    ("0=1.03,99=1.0", "bus(es) 99 name no bus of the network"),
    ("0=1.03,2=1.0", "bus(es) 2 are no source bus of the network"),
    ("0=1.5", "must give each source bus a voltage [p.u.] in 0.8 - 1.2"),
    ("0=1.0,0=1.02", "each bus once"),
    ("high", "must be a voltage [p.u.] in 0.8 - 1.2"),
])
def test_a_bad_source_is_refused_typed(solved: tuple[Path, dict[str, Any]], given: str,
                                       words: str) -> None:
    folder, _ = solved
    out = _check(folder, given, "bad.json")
    assert out.exit_code == 2, out.output
    assert "source_vm" in out.output and words in " ".join(out.output.split())
    assert "Traceback" not in out.output and not (folder / "bad.json").exists()


def test_python_names_the_bus_that_is_no_source(solved: tuple[Path, dict[str, Any]]) -> None:
    _, result = solved
    with pytest.raises(InputError, match="are no source bus") as err:
        feederopt.check_result(result, samples=1, uncertainty=0.0, source_vm={"2": 1.0})
    assert err.value.problems[0].ids == ("2",)

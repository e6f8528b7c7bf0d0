"""A robust solve over a band of source voltages (``source_vm_band``, ``--source-vm-band
A:B``): the set is the load box times the band, each source at either end
(:mod:`feederopt.algorithms.robust`). Before, every source was held at the network's
set-point, and the option did not exist.

Truth: pandapower's Newton-Raphson on every radial topology of a 3-bus ring (brute force over
the line sets, :func:`netbuild.pandapower_radial_line_sets`), at every extreme point of the
load box and both ends of the band. The ring: bus 1 (1 + j1.5 MVA) fed straight from the
source over a reactive line (0.15 + j8 Ohm: few losses, a large drop) or through bus 2 over
two resistive ones (1 + j0.25 Ohm each); v_min 0.95. At the set-point 1.0 the straight feed
holds 0.95 at every load of +-10 % with the least losses; at 0.98 it falls to 0.944, and only
the feed through bus 2 keeps every bus at 0.95 or above.
"""

from __future__ import annotations

import itertools
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import feederopt
from feederopt.errors import InputError

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import pandapower_radial_line_sets

BAND = (0.98, 1.02)
FRACTION = 0.1
V_MIN = 0.95
LOADS = {1: (1.0, 1.5), 2: (0.5, 0.2)}  # bus: (p MW, q MVAr)


def ring_net(vm_pu: float = 1.0, scale: tuple[float, float] = (1.0, 1.0)) -> Any:
    import pandapower as pp

    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0, min_vm_pu=V_MIN, max_vm_pu=1.1) for _ in range(3)]
    pp.create_ext_grid(net, b[0], vm_pu=vm_pu)
    for f, t, r, x in ((0, 1, 0.15, 8.0), (0, 2, 1.0, 0.25), (2, 1, 1.0, 0.25)):
        line = pp.create_line_from_parameters(net, b[f], b[t], 1.0, r, x, 0.0, 1.0)
        pp.create_switch(net, b[f], line, "l", closed=True)
    for (bus, (p, q)), s in zip(LOADS.items(), scale, strict=True):
        pp.create_load(net, b[bus], p_mw=p * s, q_mvar=q * s)
    return net


def ac_worst_case(opened: tuple[int, ...], sources: tuple[float, ...]
                  ) -> tuple[bool, float]:
    """pandapower on the topology that opens the lines ``opened``, at every extreme point of
    the load box and each source voltage: (every bus at ``V_MIN`` or above at all of them,
    the largest losses [kW])."""
    import pandapower as pp

    net = ring_net()
    net.switch.loc[net.switch.element.isin(opened), "closed"] = False
    ok, worst = True, 0.0
    for vm in sources:
        net.ext_grid.loc[:, "vm_pu"] = vm
        for signs in itertools.product((-1.0, 1.0), repeat=len(LOADS)):
            for k, ((p, q), s) in enumerate(zip(LOADS.values(), signs, strict=True)):
                net.load.loc[k, ["p_mw", "q_mvar"]] = (p * (1 + FRACTION * s),
                                                        q * (1 + FRACTION * s))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pp.runpp(net, numba=False)
            ok = ok and float(net.res_bus.vm_pu.min()) >= V_MIN - 1e-4
            worst = max(worst, float(net.res_line.pl_mw.sum()) * 1000.0)
    return ok, worst


def opened_lines(result: feederopt.Result) -> tuple[int, ...]:
    return tuple(sorted(int(str(b["id"]).split(":")[1]) for b in result.open_branches))


@pytest.fixture(scope="module")
def truth() -> dict[str, dict[tuple[int, ...], tuple[bool, float]]]:
    topologies = list(pandapower_radial_line_sets(ring_net()))
    assert len(topologies) == 3
    return {"set-point": {t: ac_worst_case(t, (1.0,)) for t in topologies},
            "band": {t: ac_worst_case(t, BAND) for t in topologies}}


def best(table: dict[tuple[int, ...], tuple[bool, float]]) -> tuple[int, ...]:
    feasible = {t: loss for t, (ok, loss) in table.items() if ok}
    return min(feasible, key=lambda t: feasible[t])


@pytest.mark.parametrize("oracle", ["auto", "enumerate", "dual"])
def test_the_band_rejects_a_topology_that_fails_at_its_low_end(truth: Any, oracle: str) -> None:
    """``auto`` is the upper corner at both ends (a passive feeder), ``enumerate`` every
    extreme point, ``dual`` the worst-case search at each end."""
    if oracle == "dual":
        pytest.importorskip("pyscipopt")
    at_set_point = best(truth["set-point"])
    in_band = best(truth["band"])
    # the yardstick has the case the test is about: the set-point's robust optimum is AC
    # infeasible at the band's low end
    assert at_set_point != in_band and not truth["band"][at_set_point][0]
    net = ring_net()
    plain = feederopt.solve(net, robust=FRACTION, oracle=oracle, time_limit=60, workers=1)
    assert opened_lines(plain) == at_set_point
    banded = feederopt.solve(net, robust=FRACTION, oracle=oracle, time_limit=60,
                             workers=1, source_vm_band=BAND)
    assert str(banded.status) == "optimal"
    assert opened_lines(banded) == in_band
    # its worst case is pandapower's worst over the 4 load corners x both ends (the
    # relaxation is exact on this tree)
    assert banded.objective == pytest.approx(truth["band"][in_band][1], rel=1e-3)
    summary = banded.uncertain
    assert summary.source_vm_band == BAND
    assert summary.extreme_points == 2**2 * 2  # load corners x the band's two ends
    if oracle != "dual":  # the search's maximisers only: not every load corner
        assert len(summary.vertices) == (2 if oracle == "auto" else 8)
    held = {v.source_vm_pu["0"] for v in summary.vertices if v.source_vm_pu}
    assert held == set(BAND)  # the AC check ran at both ends
    assert all(v.ac is not None and v.ac.within_limits for v in summary.vertices)
    doc = banded.to_dict()
    assert doc["robust_summary"]["source_vm_band_pu"] == list(BAND)
    assert {r["source_vm_pu"]["0"] for r in doc["robust"]} == set(BAND)


def test_the_extreme_points_take_every_source_at_either_end_independently() -> None:
    """Two sources: 2^2 source corners per load corner (a hand count), each source at both
    ends with the other at either."""
    import pandapower as pp

    from feederopt.algorithms.robust import uncertainty_set
    from feederopt.network.perunit import to_per_unit

    net = ring_net()
    pp.create_ext_grid(net, 2, vm_pu=1.0)
    net.switch.loc[net.switch.element == 2, "closed"] = False  # one tree per source
    pu = to_per_unit(feederopt.load(net))
    uset = uncertainty_set(pu, FRACTION, budget=None, source_band=BAND)
    points = list(uset.vertices())
    assert uset.vertex_count() == len(points) == 2**2 * 2**2
    src = np.flatnonzero(pu.is_source)
    corners = {tuple(uset.source_vm(pu, u)[src]) for u in points}
    assert corners == set(itertools.product(BAND, repeat=2))


@pytest.fixture(scope="module")
def ring_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ring written once as a pandapower JSON file for the module's command lines."""
    import pandapower as pp

    path = tmp_path_factory.mktemp("ring") / "ring.json"
    pp.to_json(ring_net(), str(path))
    return path


@pytest.mark.parametrize(("band", "words"), [
    ("1.05:1.0", "lower end 1.05 is above its upper end"),
    ("0.5:1.0", "must lie within 0.8 - 1.2"),
    ("abc", "must be two voltages"),
])
def test_a_bad_band_is_refused_typed(ring_json: Path, tmp_path: Path, band: str, words: str
                                     ) -> None:
    from typer.testing import CliRunner

    from feederopt.cli import app

    out = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["solve", str(ring_json), "--robust", "0.1", "--source-vm-band",
              band, "--json", str(tmp_path / "r.json")])
    assert out.exit_code == 2, out.output
    assert "source_vm_band" in out.output and words in out.output
    assert "Traceback" not in out.output and not (tmp_path / "r.json").exists()


def test_a_band_without_robust_is_refused_typed() -> None:
    """The API's refusal, once (it was repeated, the same call, under each bad band above)."""
    with pytest.raises(InputError, match="source_vm_band needs robust"):
        feederopt.solve(ring_net(), source_vm_band=BAND)


def test_the_console_and_json_record_the_band(ring_json: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from feederopt.cli import app

    out = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["solve", str(ring_json), "--robust", "0.1", "--source-vm-band",
              "0.98:1.02", "--workers", "1", "--out", str(tmp_path / "r")])
    assert out.exit_code == 0, out.output
    assert "every source anywhere in 0.9800-1.0200 p.u." in out.output
    doc = json.loads((tmp_path / "r" / "result.json").read_text())
    assert doc["robust_summary"]["source_vm_band_pu"] == [0.98, 1.02]
    # the folder's table tells the two upper corners apart by their source voltage
    import polars as pl

    table = pl.read_parquet(tmp_path / "r" / "extreme_points.parquet")
    assert table["source_bus"].to_list() == [["0"], ["0"]]
    assert table["source_vm_pu"].to_list() == [[0.98], [1.02]]
    # the report's "run it again" line gives the band back
    from feederopt.report.command_line import solve_options

    assert "--source-vm-band 0.98:1.02" in " ".join(solve_options(doc))


def test_check_of_a_banded_result_holds_the_sources_at_both_ends() -> None:
    """``feederopt check`` of the banded result evaluates the load corners at each end of the
    band (before, at the set-point alone): the upper corner's V min at 0.98 and at 1.02 is
    pandapower's."""
    import pandapower as pp

    from feederopt.uncertainty import solve_robust

    net = feederopt.load(ring_net())
    banded = solve_robust(net, FRACTION, time_limit=60, source_vm_band=BAND, ac_check=False)
    assert banded.uncertain.source_vm_band == BAND
    mc = feederopt.check_result(banded.to_dict(), samples=4, network=net)
    assert mc.source_voltage["how"] == "band"
    assert [s["source_vm_pu"] for s in mc.source_voltage["settings"]] == [
        {"0": BAND[0]}, {"0": BAND[1]}]
    upper = {c["source_vm_pu"]["0"]: c for c in mc.corners if c["corner"] == "upper"}
    assert set(upper) == set(BAND)
    pp_net = ring_net(scale=(1 + FRACTION, 1 + FRACTION))
    pp_net.switch.loc[pp_net.switch.element.isin(opened_lines(banded)), "closed"] = False
    for vm in BAND:
        pp_net.ext_grid.loc[:, "vm_pu"] = vm
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(pp_net, numba=False)
        assert upper[vm]["min_voltage_pu"] == pytest.approx(
            float(pp_net.res_bus.vm_pu.min()), abs=1e-6)

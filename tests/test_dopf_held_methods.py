"""The methods that set no device (lindistflow, --scenarios, --robust) hold the devices at the
data's settings, as --fix-devices does, and say so in a note (user test ut_dopfres #5): before,
a committable generator kept its range 0..2 MW in their models and ran there for free while
``to_pandapower`` wrote its set-point 0 MW, so the reported AC check (85.165 kW) was not what
pandapower's runpp gives on the written net (147.79 kW).

Reference: pandapower's ``runpp`` on ``result.to_pandapower(net)``."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest

import feederopt
from netbuild import two_feeder_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")


def _net() -> pp.pandapowerNet:
    """The two-feeder net with the controllable sgen DG_B4 (0..2 MW) free: a model that may
    dispatch it runs it."""
    net = two_feeder_pandapower(oltc=True, dg=True)
    net.poly_cost.loc[:, ["cp1_eur_per_mw", "cp0_eur"]] = 0.0
    return net


def _runpp_kw(net: pp.pandapowerNet) -> float:
    pp.runpp(net)
    return 1000.0 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())


@pytest.mark.parametrize("kind", ["lindistflow", "robust", "scenarios"])
def test_the_ac_check_is_runpp_on_the_written_net(kind: str, tmp_path: Path) -> None:
    net = _net()
    if kind == "lindistflow":
        # (its linear model finds no topology within the data's band with the DG held at 0)
        result = feederopt.solve(net, "lindistflow", time_limit=30, v_min=0.9, v_max=1.1)
    elif kind == "robust":
        # it runs to its time limit whatever the limit (the DG held at 0 leaves the nominal
        # load infeasible in the SOCP model: the least-violating point is reported); what is
        # checked is the written net of whatever it returns, so 15 s, not 60 s, suffices
        result = feederopt.solve(net, robust=0.05, time_limit=15)
    else:
        rows = [{"scenario": name, "element": f"load:{i}", "p_mw": f * float(ld.p_mw),
                 "q_mvar": f * float(ld.q_mvar), "weight": 0.5}
                for name, f in (("lo", 0.9), ("hi", 1.1)) for i, ld in net.load.iterrows()]
        path = tmp_path / "sc.csv"
        pl.DataFrame(rows).write_csv(path)
        result = feederopt.solve(net, scenarios=str(path), time_limit=60)
    assert result.ac_check is not None and result.ac_check.converged
    written = result.to_pandapower(net)
    dg = int(written.sgen.index[written.sgen.name == "DG_B4"][0])
    assert written.sgen.at[dg, "p_mw"] == 0.0  # its set-point
    assert result.ac_check.losses_kw == pytest.approx(_runpp_kw(written), abs=1e-3)
    notes = result.extra.get("notes", [])
    assert any("held at the data's settings" in n and "--fix-devices" in n for n in notes)


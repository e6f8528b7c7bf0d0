"""``check``'s per-scenario total demand is net of the network's own fixed-output generation
(user test ut48_scen #2).

``scenarios simbench:1-LV-rural1--0-sw --study-cases hL,lW,hPV,n1`` writes per study case its
loads and, per sgen bus, a ``generator_change`` row: the sgen's set-point minus the case's
output, added as demand to a network whose sgens (0.160 MW) still inject. Before, the check's
``total_p_mw`` summed the loads and those rows and never netted the sgens: hL read 0.240 MW
for 0.080 MW of load and no PV. Truth by SimBench alone
(``simbench.get_absolute_values(net, profiles_instead_of_study_cases=False)``): per study
case, the loads' p_mw minus the sgens' p_mw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

sb = pytest.importorskip("simbench")

CODE = "1-LV-rural1--0-sw"
CASES = ("hL", "lW", "hPV", "n1")


def _simbench_totals() -> dict[str, float]:
    net = sb.get_simbench_net(CODE)
    values = sb.get_absolute_values(net, profiles_instead_of_study_cases=False)
    load = values[("load", "p_mw")]
    sgen = values[("sgen", "p_mw")]
    on_l = net.load.index[net.load.in_service]
    on_g = net.sgen.index[net.sgen.in_service]
    return {c: float(load.loc[c, on_l].sum() - sgen.loc[c, on_g].sum()) for c in CASES}


def test_scenario_totals_net_the_network_sgens(tmp_path: Path) -> None:
    import feederopt
    from feederopt.network.perunit import to_per_unit
    from feederopt.validation.montecarlo import (
        network_source_voltages,
        out_of_sample,
        scenario_loads,
    )

    csv = tmp_path / "lvsc.csv"
    res = CliRunner().invoke(app, ["scenarios", f"simbench:{CODE}", "--study-cases",
                                   ",".join(CASES), "--weights", "2,1,1,1", "-o", str(csv)])
    assert res.exit_code == 0, res.output
    net = feederopt.load(f"simbench:{CODE}")
    truth = _simbench_totals()
    assert truth["hL"] == pytest.approx(0.080, abs=1e-6)  # the tester's hand figures
    assert truth["lW"] == pytest.approx(0.008 - 0.8 * 0.160381, abs=1e-6)
    loads = scenario_loads({"scenarios": [{}], "stochastic": {}, "scenarios_file": str(csv)},
                           net, network_source_voltages(net))
    assert loads is not None
    got = {d["name"]: d["total_p_mw"] for d in loads.to_dict()["scenarios"]}
    assert got == pytest.approx(truth, abs=1e-6)
    # each sample's total as well: at uncertainty 0 a sample is its scenario
    closed = to_per_unit(net).initial_closed()
    mc = out_of_sample(net, closed, 0.0, 6, seed=1, ac=False, scenarios=loads)
    assert len(mc.sample_total_p_mw) == 6
    assert np.allclose(mc.sample_total_p_mw, [truth[s] for s in mc.sample_scenarios],
                       atol=1e-6)

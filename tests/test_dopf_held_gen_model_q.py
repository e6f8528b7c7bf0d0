"""A controllable pandapower gen held out of the DOPF (``dg`` not in ``--controls``): its
device row shows the q that holds its bus's voltage in the model, not the data's ``q_mvar``.

Held, such a gen keeps its ``p_mw`` and holds its bus at ``vm_pu`` with q free, as the net's
own ``runpp`` runs it (pandapower's default does not enforce q limits). Before, the row said
"held: 1.000 MW, 0.000 MVAr" (the data's ``q_mvar`` 0) while the model's gen gave 0.623
MVAr, as ``runpp`` does. The truth: ``runpp`` at the answer's switch states and bank step
(``res_gen.q_mvar``); the relaxation is exact here, so the model's q is the grid's within
1e-3 MVAr.
"""

from __future__ import annotations

import warnings

import pandapower as pp
import pytest

import feederopt
from test_pv_q_limits_note import feeder

warnings.filterwarnings("ignore", message=".*numba.*")


def _net() -> pp.pandapowerNet:
    """The feeder of tests/test_pv_q_limits_note.py (q limits not enforced) with its gen
    controllable (0..2 MW at 30 per MWh) and a controllable 4 x 0.3 Mvar bank at bus 3."""
    net = feeder(1.0, enforce=False)
    net.gen["controllable"] = True
    net.gen[["min_p_mw", "max_p_mw"]] = [0.0, 2.0]
    pp.create_poly_cost(net, 0, "gen", cp1_eur_per_mw=30.0)
    pp.create_shunt(net, 3, q_mvar=-0.3, p_mw=0.0, step=0, max_step=4, controllable=True)
    return net


def test_the_held_gens_row_shows_the_models_q() -> None:
    result = feederopt.solve(_net(), controls=["caps"], time_limit=30)
    assert result.status.value == "optimal"
    devices = {d["id"]: d for d in result.to_dict()["devices"]}
    gen = devices["gen:0"]
    assert gen["held"]
    truth = result.to_pandapower(_net())
    assert int(truth.shunt.at[0, "step"]) == int(devices["shunt:0"]["step"])
    pp.runpp(truth)
    q = float(truth.res_gen.q_mvar.at[0])
    assert abs(q) > 0.1  # the data's 0 is not what the grid runs
    assert gen["q_mvar"] == pytest.approx(q, abs=1e-3)
    assert gen["p_mw"] == pytest.approx(1.0)
    assert f"{gen['q_mvar']:.3f} MVAr" in gen["setting"]

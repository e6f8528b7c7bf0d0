"""A transformer's s_max_mva typed in kVA (user test ut48_iobad #9): besides the right
warning on s_max_mva, its correct i_max_ka got a warning that advised 0.02386 kA, a rating
more than five times too small, as it was compared with the kVA figure.

Truth: pandapower's CIGRE MV transformer, 25 MVA, 110/20 kV, vk 12 %
(``create_cigre_network_mv``): |Z| = vk V^2 / S = 58.08 Ohm at 110 kV, and its rated current
at the from bus S / (sqrt(3) V) = 0.1312 kA."""

from __future__ import annotations

import math

import pandapower.networks as pn
import polars as pl
import pytest

import feederopt
from feederopt.network.validate import (
    transformer_rating_plausibility,
    transformer_s_max_plausibility,
)


def _net(s_max_mva: float) -> feederopt.Network:
    trafo = pn.create_cigre_network_mv(with_der=False).trafo.iloc[0]
    s, v_hv, v_lv = float(trafo.sn_mva), float(trafo.vn_hv_kv), float(trafo.vn_lv_kv)
    z = trafo.vk_percent / 100 * v_hv**2 / s
    r = trafo.vkr_percent / 100 * v_hv**2 / s
    return feederopt.Network.from_tables(
        buses=pl.DataFrame({"id": ["HV", "MV"], "vn_kv": [v_hv, v_lv],
                            "is_source": [True, False]}),
        branches=pl.DataFrame({"id": ["T0"], "from_bus": ["HV"], "to_bus": ["MV"],
                               "r_ohm": [r], "x_ohm": [math.sqrt(z**2 - r**2)],
                               "kind": ["transformer"],
                               "i_max_ka": [s / (math.sqrt(3) * v_hv)],
                               "s_max_mva": [s_max_mva]}),
        loads=pl.DataFrame({"id": ["L"], "bus": ["MV"], "p_mw": [1.0], "q_mvar": [0.2]}))


@pytest.mark.parametrize("kva", [True, False])
def test_kva_rating_is_named_without_advice_against_the_right_current(kva: bool) -> None:
    net = _net(25000.0 if kva else 25.0)
    assert transformer_rating_plausibility(net) == []  # i_max_ka is the true 0.1312 kA
    s_max = transformer_s_max_plausibility(net)
    assert len(s_max) == (1 if kva else 0)
    if kva:
        assert s_max[0].field == "s_max_mva" and "write 25" in s_max[0].hint

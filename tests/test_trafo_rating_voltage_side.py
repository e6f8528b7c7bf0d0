"""A transformer's ``i_max_ka`` is read at its from bus's voltage; a rating far from what the
transformer plausibly carries gets a warning that says so (user test ut_io #5).

The user gave a 0.63 MVA 20/0.4 kV transformer (from its 20 kV bus) its lv nameplate current,
0.63 / (sqrt(3) 0.4) = 0.909 kA; read at 20 kV that is sqrt(3) 20 0.909 = 31.5 MVA, and the
answer loaded it to 3 % where pandapower gives 150 %. The transformer's impedance is that of
a 6 % short-circuit voltage at 0.63 MVA, |Z| = 0.06 x 20^2 / 0.63 = 38.1 Ohm at 20 kV, so the
31.5 MVA rating implies vk = 300 %. The figures below are by hand.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from feederopt.network import Network
from feederopt.network.schemas import Branch

LV_NAMEPLATE_KA = 0.63 / (math.sqrt(3) * 0.4)  # 0.909 kA
HV_KA = 0.63 / (math.sqrt(3) * 20.0)  # 0.0182 kA


def _net(i_max_ka: float, *, s_max_mva: float | None = None, second_path: bool = False,
         reverse: bool = False, load_mw: float = 0.3) -> Network:
    buses = pl.DataFrame({"id": ["HV", "LV0", "LV1", "LV2"], "vn_kv": [20.0, 0.4, 0.4, 0.4],
                          "is_source": [True, False, False, False]})
    ends = ("LV0", "HV") if reverse else ("HV", "LV0")
    # vk 6 % (x/r 4.9) of 0.63 MVA, at the from bus's voltage
    z = 0.06 * (0.4 if reverse else 20.0) ** 2 / 0.63
    r, x = z / math.hypot(1, 4.9), z * 4.9 / math.hypot(1, 4.9)
    rows = [("T", *ends, r, x, i_max_ka, s_max_mva, "transformer"),
            ("a", "LV0", "LV1", 0.0206, 0.008, None, None, "line"),
            ("b", "LV1", "LV2", 0.0309, 0.012, None, None, "line")]
    if second_path:  # a second transformer to LV2: T no longer alone feeds anything
        rows.append(("T2", "HV", "LV2", 7.619, 37.33, HV_KA, None, "transformer"))
    branches = pl.DataFrame(rows, schema={"id": pl.String, "from_bus": pl.String,
                                          "to_bus": pl.String, "r_ohm": pl.Float64,
                                          "x_ohm": pl.Float64, "i_max_ka": pl.Float64,
                                          "s_max_mva": pl.Float64, "kind": pl.String},
                            orient="row")
    loads = pl.DataFrame({"id": ["l1", "l2"], "bus": ["LV1", "LV2"], "p_mw": [load_mw] * 2,
                          "q_mvar": [0.05 * load_mw / 0.3] * 2})
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="f3")


def _rating_warnings(net: Network) -> list[str]:
    return [str(p) for p in net.validate() if p.field == "i_max_ka" and not p.is_error]


def test_an_lv_nameplate_current_on_a_transformer_from_its_hv_bus_is_named() -> None:
    (w,) = _rating_warnings(_net(LV_NAMEPLATE_KA))
    assert "branches [T].i_max_ka" in w
    assert "20 kV" in w and "31.5 MVA" in w  # sqrt(3) 20 kV 0.909 kA
    assert "implies 300 %" in w  # 31.5 MVA x 38.1 Ohm / (20 kV)^2
    assert "0.63 MVA" in w and f"{HV_KA:.4g} kA" in w  # what the value gives at 0.4 kV


def test_the_same_against_its_own_s_max_mva() -> None:
    (w,) = _rating_warnings(_net(LV_NAMEPLATE_KA, s_max_mva=0.63))
    assert "[T]" in w and "its s_max_mva (0.63 MVA)" in w and "50 times" in w


def test_an_hv_current_on_a_transformer_from_its_lv_bus_is_named() -> None:
    # from the 0.4 kV bus the rating is the lv current; the hv one is 50 times too small
    (w,) = _rating_warnings(_net(HV_KA, reverse=True))
    assert "0.4 kV" in w and f"{math.sqrt(3) * 0.4 * HV_KA:.4g} MVA" in w


@pytest.mark.parametrize(("i_max_ka", "kwargs"), [
    (HV_KA, {}),  # the right rating (0.63 MVA for 0.61 MVA of load)
    (HV_KA, {"reverse": False, "s_max_mva": 0.63}),
    (LV_NAMEPLATE_KA, {"reverse": True}),  # from its lv bus: the lv current is right
    (HV_KA, {"load_mw": 0.005}),  # lightly loaded (10 kW on 0.63 MVA) is no mistake
    (HV_KA, {"second_path": True}),
])
def test_plausible_or_unreferenced_ratings_are_quiet(i_max_ka: float,
                                                     kwargs: dict[str, object]) -> None:
    assert _rating_warnings(_net(i_max_ka, **kwargs)) == []  # type: ignore[arg-type]


def test_the_schema_says_at_which_voltage_the_rating_is_read() -> None:
    text = Branch.model_fields["i_max_ka"].description or ""
    assert "from bus's nominal voltage" in text and "transformer" in text

"""Small things the console says: a voltage range nobody computed is "-", not "- - - p.u.",
and a diagnosis names one element in the singular ("bus 32:", not "buses 32:")."""

from __future__ import annotations

import math

from feederopt.cli.solve import describe_violation, volt_range


def test_unknown_voltage_range_is_a_dash() -> None:
    assert volt_range(None, None) == "-"
    assert volt_range(math.nan, math.nan) == "-"
    assert volt_range(0.95, 1.02) == "0.9500 - 1.0200 p.u."
    assert volt_range(0.95, None) == "0.9500 - - p.u."


def test_diagnosis_names_one_element_in_the_singular() -> None:
    row = {"component": "buses", "id": "32", "limit": "v_min", "amount": 0.012, "unit": "p.u.",
           "value": 0.888, "rating": 0.9, "loading_percent": None}
    text = describe_violation(row)
    assert text.startswith("bus 32: voltage below its minimum (v_min) exceeded by 0.012")
    row = {**row, "component": "branches", "id": "7", "limit": "i_max"}
    assert describe_violation(row).startswith("branch 7: current rating")

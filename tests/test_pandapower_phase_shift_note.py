"""The model leaves transformer phase shifts out (exact on a radial grid); where they matter,
the reader names the transformers (user test ut_pp #2: on a base case meshed through a
150-degree transformer and a 5-degree phase shifter the model-mismatch warning said "the
convex model does not represent every element exactly: its power flow gives 120.219 kW ...
against 24826.903 kW" and named nothing)."""

from __future__ import annotations

import pandapower as pp

from feederopt.cli.info import network_info
from test_pandapower_dcline import base


def phase_shift_net():
    """The user test's net: a second 110/20 kV transformer into bus 5 (shift_degree 5, a
    "Ratio" tap with tap_step_degree 2 at tap_pos 2) in parallel with the 150-degree
    standard-type one; both closed, so the base case is meshed."""
    net = base()
    pp.create_transformer_from_parameters(
        net, 0, 5, sn_mva=10, vn_hv_kv=110, vn_lv_kv=20, vkr_percent=0.5, vk_percent=12,
        pfe_kw=10, i0_percent=0.1, shift_degree=5.0, tap_side="hv", tap_neutral=0,
        tap_min=-5, tap_max=5, tap_pos=2, tap_step_percent=1.5, tap_step_degree=2.0,
        tap_changer_type="Ratio")
    pp.create_switch(net, 5, 1, "t", closed=True)
    return net


def test_the_mismatch_warning_names_the_phase_shifting_transformer(tmp_path):
    path = tmp_path / "net.json"
    pp.to_json(phase_shift_net(), str(path))
    info = network_info(str(path))
    assert not info["model"]["exact"]  # pandapower: 24.8 MW of losses, the model 0.12
    mismatch = [w for w in info["warnings"] if "does not represent every element" in w]
    assert len(mismatch) == 1
    text = mismatch[0]
    assert "trafo:1" in text and "trafo:0" in text
    # 5 + arctan(0.03 sin 2 deg / (1 + 0.03 cos 2 deg)) = 5.058 degrees, by hand
    assert "5.058 degrees" in text and "150 degrees" in text
    assert "base case is meshed through trafo:0 and trafo:1" in text


def test_a_radial_grid_of_standard_shifts_gets_no_note(tmp_path):
    path = tmp_path / "net.json"
    pp.to_json(base(), str(path))
    info = network_info(str(path))
    assert info["model"]["exact"]
    assert not any("phase" in w for w in info["warnings"])

"""Parallel transformers without switches (user test ut48_simb #3): SimBench's -no_sw grids
run two 25 MVA 110/20 kV units in parallel, and the net was refused ("a loop (2 branches) of
parallel circuits ... merged into one branch only where both are plain lines") while
pandapower solves it. Now units of the same ratio between the same buses are one branch of
the model, ``trafo:i+trafo:j``: two pi models of one ratio sum exactly (see
:mod:`feederopt.io.parallel`). Truth: pandapower's own power flow (``runpp``) of the user's
net, base case and answer, with two different units (rating, impedance, iron losses) at an
off-neutral tap so that a merge of the impedances alone, or of the shunts at one end, or
without the ratio, would miss it."""

from __future__ import annotations

import sys
from pathlib import Path

import pandapower as pp
import pytest

import feederopt

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import two_feeder_pandapower


def _two_units(tap_pos_t2: int = 2):  # type: ignore[no-untyped-def]
    """The two-feeder net's T1 (25 MVA, at tap 2, given iron losses) with a second, larger
    unit T2 (40 MVA, other vk/vkr/iron losses) between the same buses, same tap changer."""
    net = two_feeder_pandapower(tap_pos=2)
    net.trafo.loc[0, ["pfe_kw", "i0_percent"]] = 18.0, 0.1
    hv, mv = int(net.trafo.hv_bus[0]), int(net.trafo.lv_bus[0])
    pp.create_transformer_from_parameters(
        net, hv, mv, sn_mva=40, vn_hv_kv=110, vn_lv_kv=20, vkr_percent=0.3, vk_percent=10,
        pfe_kw=25, i0_percent=0.06, tap_side="hv", tap_neutral=0, tap_min=-5, tap_max=5,
        tap_step_percent=1.25, tap_pos=tap_pos_t2, tap_changer_type="Ratio", name="T2")
    return net


def test_parallel_transformers_are_one_branch_with_pandapowers_power_flow() -> None:
    from feederopt.cli.info import network_info

    net = _two_units()
    model = feederopt.load(net)
    ids = model.branches["id"].to_list()
    assert "trafo:0+trafo:1" in ids and "trafo:0" not in ids and "trafo:1" not in ids
    info = network_info(_two_units())
    truth = _two_units()
    pp.runpp(truth)
    pp_kw = float(truth.res_line.pl_mw.sum() + truth.res_trafo.pl_mw.sum()) * 1000
    assert float(truth.res_trafo.pl_mw.min()) > 0.005  # both units carry losses
    assert info["problems"] == []
    assert info["model"]["model_losses_kw"] == pytest.approx(pp_kw, rel=1e-9)
    assert info["model"]["max_voltage_diff_pu"] < 1e-9


def test_a_solve_names_both_units_and_writes_them_back(tmp_path: Path) -> None:
    net = _two_units()
    result = feederopt.solve(net, time_limit=60, v_min=0.9, v_max=1.1)
    assert result.status.value == "optimal"
    checked = result.to_pandapower(net)
    assert checked.trafo.name.tolist() == ["T1", "T2"]
    assert checked.trafo.in_service.all()
    pp.runpp(checked)
    ac_kw = float(checked.res_line.pl_mw.sum() + checked.res_trafo.pl_mw.sum()) * 1000
    assert result.losses_kw == pytest.approx(ac_kw, rel=1e-4)
    assert result.ac_check.losses_kw == pytest.approx(ac_kw, rel=1e-9)
    row = result.branches.filter(result.branches["id"] == "trafo:0+trafo:1").row(0, named=True)
    both = checked.res_trafo.loc[[0, 1]]
    assert row["p_from_ac_mw"] == pytest.approx(float(both.p_hv_mw.sum()), rel=1e-9)
    assert row["loading_ac_percent"] == pytest.approx(float(both.loading_percent.max()),
                                                      rel=1e-9)
    # the folder's net.json is the user's net: both units, in service, their own rows
    out = feederopt.save(result, tmp_path / "out", report=False)
    written = pp.from_json(str(out / "net.json"))
    assert written.trafo.name.tolist() == ["T1", "T2"]
    assert written.trafo.in_service.all()
    assert written.trafo.sn_mva.tolist() == [25.0, 40.0]


def test_units_of_different_ratios_are_not_merged() -> None:
    """At different taps the two units are no one pi model (a circulating current): refused
    as before, not merged into a wrong model."""
    from feederopt.cli.info import network_info

    info = network_info(_two_units(tap_pos_t2=3))
    assert any(p["kind"] == "not_radial" and set(p["ids"]) == {"trafo:0", "trafo:1"}
               for p in info["problems"]), info["problems"]


def test_the_readers_notes_are_not_quoted_as_model_approximations() -> None:
    """ut48_simb #1/#3: the model-is-not-exact warning quotes the reader's notes as its
    causes; the merged transformers' note and a controllable sgen's absent-OPF-limit note
    are none (the base case runs the sgen at its p_mw, as runpp does). Truth: runpp of the
    net, whose losses the model reproduces with both notes present."""
    from feederopt.cli.info import network_info
    from feederopt.validation.fidelity import inexact_notes

    def net():  # type: ignore[no-untyped-def]
        n = _two_units()
        pp.create_sgen(n, 5, p_mw=0.3, controllable=True, min_p_mw=0.0, min_q_mvar=-0.1,
                       max_q_mvar=0.1)  # no max_p_mw column: a note
        return n

    truth = net()
    pp.runpp(truth)
    pp_kw = float(truth.res_line.pl_mw.sum() + truth.res_trafo.pl_mw.sum()) * 1000
    info = network_info(net())
    assert info["model"]["model_losses_kw"] == pytest.approx(pp_kw, rel=1e-9)
    notes = feederopt.load(net()).meta["warnings"]
    ours = [w for w in notes if "trafo:0+trafo:1" in w or "controllable sgen" in w]
    assert len(ours) == 2, notes
    assert inexact_notes(ours) == []

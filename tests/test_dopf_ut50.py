"""User test ut50_dopf: what the DOPF takes as a control must be what pandapower's power flow
(or the user's file) takes.

1. A "Ratio" changer whose ``tap_neutral`` is NaN: pandapower's power flow takes no tap step at
   any ``tap_pos`` (3.x), so the tap is held (not a control, with a note); the DOPF moved it
   before and runpp of the written net disagreed with the AC check.

2. A folder transformer OLTC's ``tap_ratio`` outside ``tap_min_ratio..tap_max_ratio`` (the
   user's ring folder, bad2/tapratio_out, and its 1.05..1.05 variant) is ``invalid_value`` on
   ``tap_ratio`` (exit 2), as a pandapower ``tap_pos`` outside ``tap_min..tap_max`` is; it was
   accepted (the base case ran at 1.5).

3. A tap range with a single position, a folder source's ``tap_step_pu`` of 0 or one too
   large for its range (the user's tapstephuge: 0.5 in 0.96..1.04), a folder transformer's
   ``tap_min_ratio = tap_max_ratio`` (ratioeq) or pandapower's ``tap_min = tap_max``, is held
   with a note saying "only one position" (exit 0); a step of 0 at a source was exit 2, the
   others were listed as devices.

4. A lossy bank (pandapower's shunt ``p_mw`` per step) gives the power it dissipates at the
   chosen step in its device row (``p_mw``, the setting's text) and a note that the loss
   objective does not count it; only ``q_mvar`` was given.

5. A negative ``max_steps`` is one problem (not also "step above max_steps"); the pandapower
   reader's shunt problems all name the ``shunts`` table (the structure check said
   ``shunt``); ``to_pandapower`` writes a committable sgen unscaled at ``scaling`` 1, as
   docs/dopf.md now says (it said "divided by scaling").

References: pandapower's runpp of the net ``result.to_pandapower`` writes, and the same net
with ``tap_neutral = 0``.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.io import from_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")
runner = CliRunner()


def _oltc_net() -> pp.pandapowerNet:
    """110/20 kV transformer with an hv "Ratio" changer -9..9 of 1.5 % (oltc), a two-line
    feeder under it whose voltages rise with a lower ratio, a 4-step bank at its end."""
    n = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(n, 110, name="HV")
    s = pp.create_bus(n, 20, name="S", min_vm_pu=0.95, max_vm_pu=1.05)
    pp.create_ext_grid(n, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        n, hv, s, sn_mva=25, vn_hv_kv=110, vn_lv_kv=20, vkr_percent=0.4, vk_percent=12,
        pfe_kw=14, i0_percent=0.07, tap_side="hv", tap_neutral=0, tap_min=-9, tap_max=9,
        tap_step_percent=1.5, tap_pos=0, tap_changer_type="Ratio", oltc=True)
    a = pp.create_bus(n, 20, name="A", min_vm_pu=0.95, max_vm_pu=1.05)
    b = pp.create_bus(n, 20, name="B", min_vm_pu=0.95, max_vm_pu=1.05)
    pp.create_line_from_parameters(n, s, a, 3.0, 0.16, 0.11, 250, 0.4)
    pp.create_line_from_parameters(n, a, b, 3.0, 0.25, 0.12, 250, 0.4)
    pp.create_load(n, a, p_mw=2.5, q_mvar=1.2)
    pp.create_load(n, b, p_mw=2.5, q_mvar=1.2)
    pp.create_shunt(n, b, q_mvar=-0.3, p_mw=0.0, step=0, max_step=4, controllable=True)
    return n


def _runpp_losses_kw(net: pp.pandapowerNet) -> float:
    pp.runpp(net, tolerance_mva=1e-10)
    return 1000 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())


def test_tap_neutral_nan_is_held_and_runpp_of_the_written_net_agrees() -> None:
    # The truth first: pandapower ignores the tap at any position once tap_neutral is NaN,
    # while with tap_neutral 0 the position matters.
    moved = _oltc_net()
    moved.trafo.at[0, "tap_pos"] = -4
    with_neutral = _runpp_losses_kw(moved)
    moved.trafo.at[0, "tap_neutral"] = np.nan
    nan_at_minus4 = _runpp_losses_kw(moved)
    moved.trafo.at[0, "tap_pos"] = 0
    assert _runpp_losses_kw(moved) == pytest.approx(nan_at_minus4, rel=1e-9)
    assert abs(with_neutral - nan_at_minus4) > 1.0  # the tap matters when it is applied

    net = _oltc_net()
    net.trafo.at[0, "tap_neutral"] = np.nan
    network = from_pandapower(net)
    trafo = network.branches.filter(network.branches["id"] == "trafo:0")
    assert not trafo["tap_controllable"].fill_null(False).item()
    assert math.isnan(trafo["tap_min_ratio"].fill_null(math.nan).item())
    notes = " ".join(str(x) for x in network.meta.get("warnings", []))
    assert "tap_neutral is NaN" in notes and "not a control" in notes

    # Naming taps is refused as for any network without that device, with the reason.
    with pytest.raises(InputError) as err:
        feederopt.solve(network, controls=("caps", "taps"), time_limit=60)
    assert "tap_neutral is NaN" in str(err.value)
    result = feederopt.solve(network, controls=("caps",), time_limit=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = result.to_pandapower(net)
    doc = result.to_dict()
    assert not [d for d in doc.get("devices", []) if d.get("kind") == "oltc"]
    # runpp of the written net is the result's AC check (it differed by 9 kW before).
    written = _runpp_losses_kw(out)
    assert int(out.trafo.at[0, "tap_pos"]) == 0  # the net's position, held
    assert doc["ac_check"]["losses_kw"] == pytest.approx(written, rel=1e-5)


# ------------------------------------------------------------------------------------------
# 2. A folder transformer OLTC whose tap_ratio lies outside tap_min_ratio..tap_max_ratio.

DATA = Path(__file__).parent / "data" / "ut50_dopf"
TRAFO_OUT = ",1.5,,0.8650000000000001,1.135,19,"  # the user's trafo:0: tap_ratio 1.5


def _ring(tmp_path: Path, trafo_fields: str | None = None) -> Path:
    """The tester's ring folder (bad2/tapratio_out), its trafo:0's tap fields replaced by
    ``trafo_fields`` (",tap_ratio,tap_rated_ratio,tap_min_ratio,tap_max_ratio,tap_steps,")."""
    out = tmp_path / "ring"
    shutil.copytree(DATA / "ring_tapratio_out", out)
    if trafo_fields is not None:
        path = out / "branches.csv"
        text = path.read_text()
        assert TRAFO_OUT in text
        path.write_text(text.replace(TRAFO_OUT, trafo_fields))
    return out


@pytest.mark.parametrize(("fields", "ratio", "lo", "hi"), [
    (None, 1.5, 0.865, 1.135),  # bad2/tapratio_out
    (",1.0,,1.05,1.05,19,", 1.0, 1.05, 1.05),  # bad2/ratioeq_off
])
def test_tap_ratio_outside_its_range_is_invalid_value(tmp_path: Path, fields: str | None,
                                                      ratio: float, lo: float,
                                                      hi: float) -> None:
    folder = _ring(tmp_path, fields)
    rows = list(csv.DictReader((folder / "branches.csv").open()))
    trafo = next(r for r in rows if r["id"] == "trafo:0")
    # the user's file: the base-case ratio is no position of the tap
    assert float(trafo["tap_ratio"]) == ratio
    assert not lo <= float(trafo["tap_ratio"]) <= hi
    for args in (["info", str(folder)], ["solve", str(folder), "--fix-devices"],
                 ["solve", str(folder), "--controls", "taps"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        text = " ".join(res.output.split())
        assert "invalid_value: branches [trafo:0].tap_ratio" in text, text


# ------------------------------------------------------------------------------------------
# 3. One rule for a tap range with a single position: a note, the tap held, exit 0.

SOURCE_HUGE = "1,,11.0,0.96,1.04,true,1.0,,,0.96,1.04,0.5,"  # the user's bus 1 (tapstephuge)


def _info(path: Path) -> tuple[int, dict[str, Any]]:
    res = runner.invoke(app, ["info", str(path), "--json"])
    return res.exit_code, json.loads(res.stdout) if res.exit_code == 0 else {}


def _one_position(step: float, lo: float = 0.96, hi: float = 1.04) -> list[float]:
    """The ratios 1 + k step (integer k) in lo..hi, by hand (a step of 0: ratio 1 only)."""
    if step == 0:
        return [1.0]
    return [1 + k * step for k in range(-100, 101) if lo - 1e-12 <= 1 + k * step <= hi + 1e-12]


@pytest.mark.parametrize("step", ["0.5", "0.0"])
def test_source_oltc_with_one_position_is_held_with_a_note(tmp_path: Path, step: str) -> None:
    folder = tmp_path / "khodr"
    shutil.copytree(DATA / "khodr_tapstephuge", folder)
    buses = folder / "buses.csv"
    text = buses.read_text()
    assert SOURCE_HUGE in text
    buses.write_text(text.replace(SOURCE_HUGE, SOURCE_HUGE.replace(",0.5,", f",{step},")))
    assert _one_position(float(step)) == [1.0]  # the user's range holds ratio 1 alone
    code, doc = _info(folder)
    assert code == 0  # tap_step_pu 0 was "the tap step must be positive", exit 2
    ids = [d["id"] for d in doc["devices"]]
    assert "oltc:1" not in ids and "oltc:70" in ids  # 70 has 0.0125: seven positions
    assert any("buses [1].tap_step_pu" in w and "only one position" in w and "held" in w
               for w in doc["warnings"])


def test_transformer_oltc_with_one_ratio_is_held_with_a_note(tmp_path: Path) -> None:
    folder = _ring(tmp_path, ",1.0,,1.0,1.0,19,")  # bad2/ratioeq: 1..1 in 19 positions
    code, doc = _info(folder)
    assert code == 0
    assert "oltc:trafo:0" not in [d["id"] for d in doc["devices"]]
    assert any("[trafo:0].tap_min_ratio" in w and "only one position" in w
               for w in doc["warnings"])
    out = tmp_path / "out.json"
    res = runner.invoke(app, ["solve", str(folder), "--controls", "caps", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert not [d for d in json.loads(out.read_text()).get("devices", [])
                if d["kind"] == "oltc"]


def test_pandapower_tap_with_one_position_says_so() -> None:
    net = _oltc_net()
    net.trafo.at[0, "tap_min"] = net.trafo.at[0, "tap_max"] = 0
    network = from_pandapower(net)
    notes = " ".join(str(x) for x in network.meta.get("warnings", []))
    assert "only one position" in notes and "held" in notes


# ------------------------------------------------------------------------------------------
# 4. A lossy bank's own dissipation: its device row's p_mw and a note.


def _lossy_feeder() -> pp.pandapowerNet:
    """A 20 kV radial feeder of three 4 km lines, 4.5 MW of load, and at its end a 4-step
    bank of 600 kvar and 30 kW per step (pandapower's lossy shunt)."""
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, 20, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in [(0, 1), (1, 2), (2, 3)]:
        pp.create_line_from_parameters(net, b[f], b[t], 4.0, 0.161, 0.117, 0.0, max_i_ka=0.45)
    for bus, p in [(1, 1.0), (2, 1.5), (3, 2.0)]:
        pp.create_load(net, b[bus], p_mw=p, q_mvar=0.5 * p)
    pp.create_shunt(net, b[3], q_mvar=-0.6, p_mw=0.03, step=0, max_step=4)
    net.shunt["controllable"] = True
    return net


def test_lossy_bank_reports_what_pandapower_says_it_dissipates() -> None:
    net = _lossy_feeder()
    result = feederopt.solve(from_pandapower(net), controls=("caps",), time_limit=60)
    row = next(d for d in result.to_dict()["devices"] if d["id"] == "shunt:0")
    assert row["step"] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = result.to_pandapower(net)
    pp.runpp(out, tolerance_mva=1e-10)
    bank_kw = 1000 * float(out.res_shunt.p_mw.sum())
    assert bank_kw > 50  # the truth: the chosen step dissipates
    assert 1000 * row["p_mw"] == pytest.approx(bank_kw, rel=1e-4)
    assert f"{bank_kw:.1f} kW dissipated" in row["setting"]
    # the losses are the lines' alone (pandapower's res_line), the bank not among them
    assert result.to_dict()["losses_kw"] == pytest.approx(
        1000 * float(out.res_line.pl_mw.sum()), rel=1e-4)
    note = [n for n in result.notes if "lossy capacitor banks" in n]
    assert note and f"{bank_kw:.1f} kW" in note[0] and "do not count" in note[0]


# ------------------------------------------------------------------------------------------
# 5. One problem for a negative max_steps, one table name for shunts, written sgen scaling.


def test_negative_max_steps_is_one_problem(tmp_path: Path) -> None:
    folder = tmp_path / "khodr"
    shutil.copytree(DATA / "khodr_tapstephuge", folder)
    shunts = folder / "shunts.csv"
    text = shunts.read_text()
    assert "cap49,,49,0.15,0.0,4,0," in text
    shunts.write_text(text.replace("cap49,,49,0.15,0.0,4,0,", "cap49,,49,0.15,0.0,-1,0,"))
    res = runner.invoke(app, ["info", str(folder)])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "1 problem in the input" in text
    assert "shunts [cap49].max_steps" in text
    assert "above max_steps" not in text  # step 0 of a bank of -1 steps: a consequence


def test_pandapower_shunt_problems_name_the_shunts_table() -> None:
    net = _lossy_feeder()
    net.shunt.at[0, "step"] = np.nan  # the structure check (was "shunt [shunt:0]")
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    assert [p.component for p in err.value.problems] == ["shunts"]
    assert "shunts [shunt:0].step" in str(err.value)
    net = _lossy_feeder()
    net.shunt.at[0, "q_mvar"] = np.nan  # a value check: "shunts" already
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    assert {p.component for p in err.value.problems} == {"shunts"}


def test_written_sgen_is_unscaled_as_the_docs_say() -> None:
    net = _lossy_feeder()
    sg = pp.create_sgen(net, 3, p_mw=0.0, q_mvar=0.0, controllable=True, min_p_mw=0.0,
                        max_p_mw=3.0, min_q_mvar=-1.0, max_q_mvar=1.0, scaling=0.5)
    pp.create_poly_cost(net, sg, "sgen", cp1_eur_per_mw=0.0)
    result = feederopt.solve(from_pandapower(net), controls=("dg",), time_limit=60)
    row = next(d for d in result.to_dict()["devices"] if d["id"] == f"sgen:{sg}")
    assert row["on"] and row["p_mw"] > 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = result.to_pandapower(net)
    # pandapower injects p_mw x scaling: the written net injects the dispatch
    assert float(out.sgen.at[sg, "scaling"]) == 1.0
    assert float(out.sgen.at[sg, "p_mw"]) == pytest.approx(row["p_mw"], rel=1e-9)
    pp.runpp(out, tolerance_mva=1e-10)
    assert float(out.res_sgen.at[sg, "p_mw"]) == pytest.approx(row["p_mw"], rel=1e-9)
    # and docs/dopf.md says so (it said "divided by scaling": p_mw 6.0 at 0.5)
    docs = " ".join((Path(__file__).parents[1] / "docs" / "dopf.md").read_text().split())
    assert "(divided by `scaling`)" not in docs
    assert "written unscaled, at `scaling` 1" in docs

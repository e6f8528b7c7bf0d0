"""User test ut_dopf of the distribution OPF on a pandapower net (a 110/20 kV hv-side OLTC,
two feeders with switched ties, a 4-step capacitor bank, a controllable sgen with a poly_cost
and a fixed PV sgen; /tmp/ut_dopf/mknet.py). The truth is pandapower's own data and power flow:

* a controllable sgen whose ``min_p_mw`` is above ``max_p_mw``, or whose limit is NaN
  (pandapower's OPF: no limit), is a typed problem naming the sgen and the field, exit 2;
  an OLTC with a negative ``tap_step_percent`` is the same changer with its positions
  numbered the other way round;
* ``result.to_pandapower(net)`` writes the DOPF's settings (tap_pos, shunt step, sgen
  dispatch, reduced loads) into a copy of the net, so that ``pp.runpp`` on it gives the AC
  check's losses; the user's net is unchanged;
* ``feederopt info`` lists the network's devices;
* the OLTC's setting reads "tap_pos -5 (was 0; 5 positions down)"; a generator that
  ``--controls`` leaves out is listed as held.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.io.pandapower import from_pandapower
from netbuild import flexible_ld_a6, two_feeder_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")
runner = CliRunner()


def _net() -> pp.pandapowerNet:
    """The tester's net (mknet.py; netbuild.two_feeder_pandapower): an OLTC on T1, the
    controllable capacitor CAP_A5 and the controllable sgen DG_B4 with a poly_cost."""
    return two_feeder_pandapower(oltc=True, dg=True)


def _solve_cli(net: pp.pandapowerNet, tmp_path: Path, *args: str) -> tuple[int, str]:
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    res = runner.invoke(app, ["solve", str(path), "--time-limit", "30", *args])
    return res.exit_code, res.output


# ----- 4. a controllable sgen's OPF limits ---------------------------------------------------
def test_inverted_sgen_limits_are_a_typed_problem(tmp_path: Path) -> None:
    net = _net()
    net.sgen.loc[0, "min_p_mw"] = 3.0  # max_p_mw stays 2.0: the old reader swapped them
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (p,) = err.value.problems
    assert (p.kind.value, p.component, p.ids, p.field) == (
        "inverted_limits", "generators", ("sgen:0",), "min_p_mw")
    assert "max_p_mw" in p.message and "3" in p.message and "2" in p.message
    code, out = _solve_cli(net, tmp_path)
    assert code == 2 and "sgen:0" in out and "inverted_limits" in out


@pytest.mark.parametrize("col", ["max_p_mw", "min_q_mvar"])
def test_nan_sgen_limit_is_a_typed_problem(col: str, tmp_path: Path) -> None:
    net = _net()
    net.sgen.loc[0, col] = float("nan")  # pandapower's OPF: no limit; the old reader: 0 MW
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (p,) = err.value.problems
    assert (p.kind.value, p.ids, p.field) == ("invalid_value", ("sgen:0",), col)
    assert "NaN" in p.message
    code, out = _solve_cli(net, tmp_path)
    assert code == 2 and "sgen:0" in out


def test_one_problem_per_field_names_every_sgen(tmp_path: Path) -> None:
    """User test ut_core2 #1: one problem per field naming every sgen with that limit NaN,
    not one per sgen and field."""
    net = _net()
    extra = pp.create_sgen(net, net.sgen.at[0, "bus"], p_mw=0.5, controllable=True,
                           min_p_mw=0.0, max_p_mw=1.0, min_q_mvar=-0.2, max_q_mvar=0.2)
    net.sgen.loc[[0, extra], "max_p_mw"] = float("nan")
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (p,) = err.value.problems
    assert (p.field, p.ids) == ("max_p_mw", ("sgen:0", f"sgen:{extra}"))


def test_a_controllable_sgen_without_any_opf_limit_is_held() -> None:
    """User test ut_core2 #1: ``pp.create_sgen`` on a net whose ``controllable`` column is
    unset (NaN, as SimBench ships it) makes that column True for every sgen, with no OPF
    limit. Such an sgen is held at its set-point (as pandapower's power flow holds it), with
    one note naming them, instead of a refusal per sgen and limit."""
    net = _net()
    net.sgen["controllable"] = float("nan")  # unset, as SimBench ships it
    for col in ("min_p_mw", "max_p_mw", "min_q_mvar", "max_q_mvar"):
        net.sgen[col] = float("nan")
    pp.create_sgen(net, net.sgen.at[0, "bus"], p_mw=0.4, q_mvar=0.0, name="new PV")
    # pandapower's coercion, the premise: the sgens that were there are controllable now
    assert net.sgen["controllable"].astype(bool).tolist() == [True] * (len(net.sgen) - 1) + [
        False]
    read = from_pandapower(net)
    gens = read.generators.filter(read.generators["id"].str.starts_with("sgen:"))
    assert gens.height == len(net.sgen)
    for row in gens.iter_rows(named=True):
        k = int(row["id"].split(":")[1])
        p = float(net.sgen.at[k, "p_mw"]) * float(net.sgen.at[k, "scaling"])
        assert row["p_min_mw"] == row["p_max_mw"] == pytest.approx(p)
        assert not row["committable"]
    notes = [w for w in read.meta.get("warnings", []) if "no OPF limit" in w]
    assert len(notes) == 1 and f"{len(net.sgen) - 1} sgen(s)" in notes[0]


def test_limits_of_an_uncontrollable_sgen_are_not_checked() -> None:
    net = _net()
    net.sgen.loc[1, ["min_p_mw", "max_p_mw"]] = [3.0, 2.0]  # the fixed PV: no OPF limits used
    read = from_pandapower(net)
    pv = read.generators.filter(read.generators["id"] == "sgen:1")
    assert pv["p_min_mw"][0] == pv["p_max_mw"][0] == pytest.approx(0.6)


def test_negative_tap_step_is_the_same_oltc_numbered_the_other_way() -> None:
    """pandapower's ratio 1 + (tap_pos - tap_neutral) step / 100 is unchanged by (tap_pos, step)
    -> (-tap_pos, -step) with tap_min -5, tap_max 5, neutral 0 (pandapower's power flow says so
    below). So the DOPF of the mirrored net must reach the same optimum with tap_pos negated,
    and its result written back must be pandapower's AC check (the old reader refused it)."""
    import feederopt

    net, mirrored = _net(), _net()
    mirrored.trafo.loc[0, "tap_step_percent"] = -1.25
    for pos in (-3, 2):
        net.trafo.loc[0, "tap_pos"], mirrored.trafo.loc[0, "tap_pos"] = pos, -pos
        assert _ac_losses_kw(net) == pytest.approx(_ac_losses_kw(mirrored), abs=1e-9)
    net.trafo.loc[0, "tap_pos"] = mirrored.trafo.loc[0, "tap_pos"] = 0
    plain = feederopt.solve(from_pandapower(net), controls="taps", time_limit=30)
    turned = feederopt.solve(from_pandapower(mirrored), controls="taps", time_limit=30)
    assert plain.status.value == turned.status.value == "optimal"
    assert turned.losses_kw == pytest.approx(plain.losses_kw, rel=1e-6)
    tap = {d["id"]: d for d in plain.dopf.devices}["oltc:trafo:0"]
    tap_m = {d["id"]: d for d in turned.dopf.devices}["oltc:trafo:0"]
    assert tap["tap_pos"] != 0  # the test needs a moved tap
    assert tap_m["tap_pos"] == -tap["tap_pos"] and tap_m["data_tap_pos"] == 0
    assert f"tap_pos {tap_m['tap_pos']:d} (was 0; " in tap_m["setting"]
    out = turned.to_pandapower(mirrored)
    assert out.trafo.tap_pos[0] == tap_m["tap_pos"]
    assert _ac_losses_kw(out) == pytest.approx(turned.ac_check.losses_kw, abs=1e-3)


# ----- 5. result.to_pandapower writes the DOPF's settings --------------------------------------
def _ac_losses_kw(net: pp.pandapowerNet) -> float:
    pp.runpp(net)
    return float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1000.0


def _flexible(net: pp.pandapowerNet) -> pp.pandapowerNet:
    """A free DG and a flexible load at A6 (down to half its 1.3 MW at 1 per MWh)."""
    net.poly_cost.loc[0, ["cp1_eur_per_mw", "cp0_eur"]] = [0.0, 0.0]
    flexible_ld_a6(net)
    return net


@pytest.fixture(scope="module")
def tap_cap() -> tuple[pp.pandapowerNet, str, Any]:
    """The DOPF of the tester's net with every control (tap, bank, sgen): the net, its JSON
    before the solve and the result, solved once for the two tests that write it back."""
    import feederopt

    net = _net()
    before = pp.to_json(net)
    return net, before, feederopt.solve(from_pandapower(net), time_limit=30)


@pytest.mark.parametrize("make", [_net, lambda: _flexible(_net())], ids=["tap_cap", "dg_flex"])
def test_to_pandapower_writes_the_settings_that_runpp_checks(
        make: object, tap_cap: tuple[pp.pandapowerNet, str, Any]) -> None:
    import feederopt

    if make is _net:  # the module's solve of the same net
        net, before, result = tap_cap
    else:
        net = make()  # type: ignore[operator]
        before = pp.to_json(net)
        result = feederopt.solve(from_pandapower(net), time_limit=30)
    assert result.status.value == "optimal"
    out = result.to_pandapower(net)
    assert out is not net and pp.to_json(net) == before  # the user's net is unchanged
    dev = {d["id"]: d for d in result.dopf.devices}
    # the settings are those the result names, in pandapower's own fields
    assert out.trafo.tap_pos[0] == dev["oltc:trafo:0"]["tap_pos"]
    assert out.shunt.step[0] == dev["shunt:0"]["step"]
    gen = dev["sgen:0"]
    assert bool(out.sgen.in_service[0]) is gen["on"]
    assert out.sgen.p_mw[0] == pytest.approx(gen["p_mw"], abs=1e-12)
    # pandapower's power flow of the written net has the AC check's losses (the old writer
    # kept tap_pos 0 and step 0: 349.48 kW against 267.16 kW on the first net)
    ac_kw = result.ac_check.losses_kw
    assert _ac_losses_kw(out) == pytest.approx(ac_kw, abs=1e-3)
    assert _ac_losses_kw(pp.from_json_string(before)) > ac_kw + 10.0  # the settings matter
    assert ("load:5" in dev) is (make is not _net)
    if "load:5" in dev:
        red = dev["load:5"]["reduction_mw"]
        assert red > 0.1  # the test needs a used reduction
        assert out.load.p_mw[5] == pytest.approx(1.3 - red, abs=1e-9)
        assert out.load.q_mvar[5] / out.load.p_mw[5] == pytest.approx(0.45, abs=1e-12)
        assert gen["on"] and gen["p_mw"] > 1.0


def test_api_to_pandapower_writes_the_settings_too(
        tap_cap: tuple[pp.pandapowerNet, str, Any]) -> None:
    """:func:`feederopt.api.to_pandapower`, the function form, on the module's solve (every
    control: the bank's step is written with the tap's and the sgen's)."""
    from feederopt.api import to_pandapower

    net, _, result = tap_cap
    out = to_pandapower(result, net)
    (cap,) = [d for d in result.dopf.devices if d["kind"] == "capacitor"]
    assert cap["step"] > 0 and out.shunt.step[0] == cap["step"] and net.shunt.step[0] == 0
    assert _ac_losses_kw(out) == pytest.approx(result.ac_check.losses_kw, abs=1e-3)


# ----- 7. feederopt info lists the devices -----------------------------------------------------
def test_info_lists_the_devices(tmp_path: Path) -> None:
    import json

    path = tmp_path / "net.json"
    pp.to_json(_flexible(_net()), str(path))
    res = runner.invoke(app, ["info", str(path), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["device_counts"] == {"capacitor": 1, "oltc": 1, "generator": 1,
                                     "flexible_load": 1}
    dev = {d["id"]: d for d in data["devices"]}
    # the ids `solve` gives them, and the net's own data (mknet.py)
    assert set(dev) == {"shunt:0", "oltc:trafo:0", "sgen:0", "load:5"}
    assert (dev["shunt:0"]["max_steps"], dev["shunt:0"]["q_kvar_per_step"]) == (4, 300.0)
    assert (dev["oltc:trafo:0"]["tap_min"], dev["oltc:trafo:0"]["tap_max"],
            dev["oltc:trafo:0"]["tap_pos"]) == (-5, 5, 0)
    assert dev["oltc:trafo:0"]["tap_min_ratio"] == pytest.approx(1 - 5 * 0.0125, abs=1e-12)
    assert (dev["sgen:0"]["p_max_mw"], dev["sgen:0"]["q_min_mvar"]) == (2.0, -1.0)
    assert dev["load:5"]["flex_share"] == pytest.approx(0.5)
    assert {d["bus"] for d in dev.values()} == {"6", "0", "11", "7"}  # A5, MV0, B4, A6
    res = runner.invoke(app, ["info", str(path)])
    assert res.exit_code == 0, res.output
    assert "devices (DOPF)" in res.output and "1 capacitor bank" in res.output
    for did in dev:
        assert did in res.output


# ----- 9. wording: the OLTC's move, held generators, the objective's unit ----------------------
def test_moved_reads_as_positions_up_or_down() -> None:
    from feederopt.results.dopf import moved

    assert [moved(k) for k in (-5, -1, 0, 1, 3)] == [
        "5 positions down", "1 position down", "unchanged", "1 position up", "3 positions up"]


def test_caps_taps_shows_the_held_generator_and_the_objectives_unit(tmp_path: Path) -> None:
    import json

    code, out = _solve_cli(_net(), tmp_path, "--controls", "caps,taps", "--json",
                           str(tmp_path / "r.json"))
    assert code == 0, out
    objective = next(line for line in out.splitlines() if "objective" in line)
    assert "kW-eq" in objective
    dev = {d["id"]: d for d in json.loads((tmp_path / "r.json").read_text())["devices"]}
    # the sgen is committable but not in --controls: held at its set-point 0 MW, 0 MVAr: off
    assert dev["sgen:0"]["held"] and dev["sgen:0"]["on"] is False
    assert dev["sgen:0"]["setting"] == "held: off (not in --controls)"
    assert "sgen:0" in out
    # the OLTC's optimum is the range end tap_pos -5 (the tester's brute force over
    # topology x tap x bank step, /tmp/ut_dopf/brute.py), from the data's 0
    oltc = dev["oltc:trafo:0"]
    assert (oltc["tap_pos"], oltc["data_tap_pos"]) == (-5, 0)
    assert oltc["setting"] == "ratio 0.9375: tap_pos -5 (was 0; 5 positions down)"
    assert not oltc.get("held")

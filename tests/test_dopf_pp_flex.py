"""pandapower's controllable loads and poly_costs that give no flexible share in [0, 1] or no
finite cost are typed problems naming the pandapower field (user test ut_dopfres #4), as the
controllable sgen's limits already are: before, ``min_p_mw`` -1 on a 2 MW load was clipped to a
share of 1, ``min_p_mw`` above ``p_mw`` dropped the load from the devices, a NaN ``min_p_mw``
left it silently fixed, and a NaN ``cp1_eur_per_mw`` made the sgen free."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.io.pandapower import from_pandapower
from netbuild import flexible_ld_a6, two_feeder_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")
runner = CliRunner()


def _flexible() -> tuple[pp.pandapowerNet, int]:
    """The two-feeder net with its controllable sgen DG_B4 and the load ld_A6 controllable
    (down to half its 1.3 MW at 1 per MWh)."""
    net = two_feeder_pandapower(oltc=True, dg=True)
    return net, flexible_ld_a6(net)


def test_the_sound_net_reads_a_half_flexible_load() -> None:
    net, ld = _flexible()
    loads = from_pandapower(net).loads
    row = loads.row(loads["id"].to_list().index(f"load:{ld}"), named=True)
    assert row["flex_share"] == pytest.approx(0.5) and row["flex_price_per_mwh"] == 1.0


@pytest.mark.parametrize("min_p", [-1.0, 2.0, math.nan, math.inf],
                         ids=["negative", "above_p", "nan", "inf"])
def test_a_share_outside_0_1_is_a_typed_problem(min_p: float, tmp_path: Path) -> None:
    net, ld = _flexible()
    net.load.loc[ld, "min_p_mw"] = min_p  # p_mw 1.3
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (p,) = err.value.problems
    assert (p.kind.value, p.component, p.ids, p.field) == (
        "invalid_value", "loads", (f"load:{ld}",), "min_p_mw")
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    res = runner.invoke(app, ["solve", str(path), "--time-limit", "20"])
    assert res.exit_code == 2 and f"load:{ld}" in res.output and "min_p_mw" in res.output


@pytest.mark.parametrize(("et", "col", "value"), [
    ("sgen", "cp1_eur_per_mw", math.nan), ("sgen", "cp0_eur", math.inf),
    ("load", "cp1_eur_per_mw", math.nan)])
def test_a_non_finite_poly_cost_is_a_typed_problem(et: str, col: str, value: float) -> None:
    net, _ = _flexible()
    row = net.poly_cost.index[net.poly_cost.et == et][0]
    net.poly_cost.loc[row, col] = value
    element = int(net.poly_cost.loc[row, "element"])
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (p,) = err.value.problems
    assert (p.kind.value, p.component, p.ids, p.field) == (
        "invalid_value", "poly_cost", (f"{et}:{element}",), col)


def test_a_controllable_load_without_any_opf_limit_stays_fixed() -> None:
    """pandapower's unset controllable column turning True: no limit at all, not flexible
    (as a controllable sgen without limits is held)."""
    net, _ = _flexible()
    net.load[["min_p_mw", "max_p_mw"]] = math.nan
    loads = from_pandapower(net).loads
    assert loads["flex_share"].max() == 0.0


def test_a_scaled_controllable_load_reads_its_floor_unscaled() -> None:
    """pandapower's OPF (build_gen) bounds a controllable load by ``min_p_mw`` as given and
    sets it to ``p_mw x scaling``: at scaling 2 (2.6 MW) a floor of 1.95 MW leaves a quarter
    flexible, and at scaling 0.5 (0.65 MW) a floor of 0.975 MW is above the set-point, a
    typed problem. (The check scaled the floor too: it refused the first and passed the
    second, whose share was then clipped to 0 without a word.)"""
    net, ld = _flexible()
    net.load.loc[ld, ["scaling", "min_p_mw"]] = [2.0, 1.95]
    loads = from_pandapower(net).loads
    row = loads.row(loads["id"].to_list().index(f"load:{ld}"), named=True)
    assert row["p_mw"] == pytest.approx(2.6)
    assert row["flex_share"] == pytest.approx(1 - 1.95 / 2.6)
    net.load.loc[ld, ["scaling", "min_p_mw"]] = [0.5, 0.975]
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    assert [(p.ids, p.field) for p in err.value.problems] == [((f"load:{ld}",), "min_p_mw")]

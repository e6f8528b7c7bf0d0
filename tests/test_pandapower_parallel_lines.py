"""A double circuit given as two pandapower ``line`` elements without switches (user test
ut_balanced #3): the net was refused ("the closed branches form a loop that cannot open")
while pandapower solves it, and its ``parallel=2`` form was fine. Now the two are one branch of
the model. Truth: pandapower's own power flow of the user's net (base case and answer)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandapower as pp
import pytest

import feederopt

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import two_feeder_pandapower


def _double(net):  # type: ignore[no-untyped-def]
    """Feeder A's first section doubled by a second line element (a different cable)."""
    la1 = int(net.line.index[net.line.name == "LA1"][0])
    row = net.line.loc[la1]
    pp.create_line_from_parameters(net, int(row.from_bus), int(row.to_bus), 2.0, 0.2, 0.35, 12,
                                   0.5, name="LA1b")
    return net, la1


def test_two_line_elements_between_two_buses_are_one_branch() -> None:
    net, la1 = _double(two_feeder_pandapower())
    la1b = int(net.line.index[net.line.name == "LA1b"][0])
    model = feederopt.load(net)
    ids = model.branches["id"].to_list()
    merged = f"line:{la1}+line:{la1b}"
    assert merged in ids and f"line:{la1b}" not in ids
    # the rating: the total current at which the first of the two is at its own max_i_ka
    z1, z2 = complex(0.3, 0.4), complex(0.2, 0.35)  # per km, both 2 km
    z = 1 / (1 / z1 + 1 / z2)
    expected = min(0.4 / abs(z / z1), 0.5 / abs(z / z2))
    row = model.branches.filter(model.branches["id"] == merged).row(0, named=True)
    assert row["i_max_ka"] == pytest.approx(expected, rel=1e-9)
    result = feederopt.solve(net, time_limit=60, v_min=0.9, v_max=1.1)  # the net's 0.95 binds
    assert result.status.value == "optimal"
    checked = result.to_pandapower(net)
    pp.runpp(checked)
    ac_kw = float(checked.res_line.pl_mw.sum() + checked.res_trafo.pl_mw.sum()) * 1000
    assert result.losses_kw == pytest.approx(ac_kw, rel=1e-4)
    assert result.ac_check.losses_kw == pytest.approx(ac_kw, rel=1e-9)
    # the AC columns of the merged row hold both circuits (user test ut_io #4: the first's)
    ac_row = result.branches.filter(result.branches["id"] == merged).row(0, named=True)
    both = checked.res_line.loc[[la1, la1b]]
    assert ac_row["p_from_ac_mw"] == pytest.approx(float(both.p_from_mw.sum()), rel=1e-9)
    assert ac_row["i_ac_ka"] == pytest.approx(float(both.i_from_ka.sum()), rel=1e-9)
    assert ac_row["loading_ac_percent"] == pytest.approx(float(both.loading_percent.max()),
                                                         rel=1e-9)
    # and the model's series current is the AC one (the relaxation is exact here)
    assert ac_row["i_ka"] == pytest.approx(float(both.i_from_ka.sum()), rel=2e-3)


def test_base_case_of_the_merged_model_is_pandapowers() -> None:
    from feederopt.cli.info import network_info

    net, _ = _double(two_feeder_pandapower())
    info = network_info(net)
    pp.runpp(net)
    pp_kw = float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1000
    assert info["problems"] == []
    assert info["model"]["model_losses_kw"] == pytest.approx(pp_kw, rel=1e-9)
    assert info["model"]["max_voltage_diff_pu"] < 1e-9

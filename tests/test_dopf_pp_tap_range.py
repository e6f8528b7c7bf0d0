"""A pandapower transformer's tap range as the DOPF reads it (user test of the DOPF):

* ``tap_step_percent = 0`` is no tap range, as a NaN step is: the OLTC is held at the net's
  ``tap_pos`` with a note, and ``result.to_pandapower`` writes that position back (it divided
  by the zero width of the range before);
* an inverted range (``tap_min > tap_max``) is ``inverted_limits`` on ``tap_min`` (it was
  reported as ``tap_pos`` outside ``tap_min..tap_max``), the ``tap_pos`` message only for a
  valid range.

Reference: the net's own fields (hand values) and pandapower's power flow on the net as given.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import from_pandapower

runner = CliRunner()


def _net(tap_pos: int = 0) -> pp.pandapowerNet:
    """110/20 kV transformer with an hv "Ratio" changer -4..4 (made controllable), a two-bus
    feeder under it."""
    n = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(n, 110, name="HV")
    s = pp.create_bus(n, 20, name="S", min_vm_pu=0.9, max_vm_pu=1.05)
    pp.create_ext_grid(n, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        n, hv, s, sn_mva=16, vn_hv_kv=110, vn_lv_kv=20, vkr_percent=0.5, vk_percent=10,
        pfe_kw=12, i0_percent=0.1, tap_side="hv", tap_neutral=0, tap_min=-4, tap_max=4,
        tap_step_percent=2.5, tap_pos=tap_pos, tap_changer_type="Ratio", oltc=True)
    a = pp.create_bus(n, 20, name="A", min_vm_pu=0.9, max_vm_pu=1.05)
    b = pp.create_bus(n, 20, name="B", min_vm_pu=0.9, max_vm_pu=1.05)
    pp.create_line_from_parameters(n, s, a, 2.0, 0.16, 0.11, 250, 0.36)
    pp.create_line_from_parameters(n, a, b, 2.0, 0.25, 0.12, 250, 0.36)
    pp.create_load(n, a, p_mw=2.0, q_mvar=0.8)
    pp.create_load(n, b, p_mw=1.5, q_mvar=0.6)
    return n


def test_zero_tap_step_holds_the_tap_and_writes_the_nets_position_back() -> None:
    net = _net(tap_pos=1)
    net.trafo.at[0, "tap_step_percent"] = 0.0
    network = from_pandapower(net)
    assert not any(x for x in network.branches["tap_controllable"].to_list() if x)
    result = feederopt.solve(network, time_limit=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = result.to_pandapower(net)  # ZeroDivisionError before
    assert int(out.trafo.at[0, "tap_pos"]) == 1  # the net's position, untouched
    assert not [d for d in result.to_dict().get("devices", []) if d.get("kind") == "oltc"]
    notes = " ".join(str(n) for n in network.meta.get("warnings", []))
    assert "no tap range" in notes and "held at tap_pos 1" in notes
    # The losses are pandapower's at the net as given (a zero step is no ratio change).
    pp.runpp(out)
    ac = 1000 * (out.res_line.pl_mw.sum() + out.res_trafo.pl_mw.sum())
    assert result.to_dict()["losses_kw"] == pytest.approx(ac, rel=1e-4)


def test_zero_tap_step_is_no_oltc_in_solve(tmp_path: Path) -> None:
    net = _net(tap_pos=-4)
    net.trafo.at[0, "tap_step_percent"] = 0.0
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "unchanged)" not in result.output  # no OLTC setting is reported
    assert "no tap range" in result.output


def test_inverted_tap_range_is_inverted_limits_on_tap_min(tmp_path: Path) -> None:
    net = _net()
    net.trafo.at[0, "tap_min"], net.trafo.at[0, "tap_max"] = 4, -4
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (problem,) = err.value.problems
    assert (problem.kind, problem.ids, problem.field) == (
        ProblemKind.INVERTED_LIMITS, ("trafo:0",), "tap_min")
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "inverted_limits" in result.output and "[trafo:0].tap_min" in result.output
    assert "outside tap_min..tap_max" not in result.output


def test_tap_pos_outside_a_valid_range_keeps_its_message() -> None:
    net = _net()
    net.trafo.at[0, "tap_pos"] = 6
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (problem,) = err.value.problems
    assert (problem.kind, problem.field) == (ProblemKind.INVALID_VALUE, "tap_pos")
    assert "outside tap_min..tap_max (-4..4)" in problem.message


def test_the_test_net_is_valid_as_built() -> None:
    """The reference: the unbroken net reads as an OLTC of 9 positions."""
    br = from_pandapower(_net()).branches.filter(pl.col("id") == "trafo:0")
    assert (br["tap_steps"].item(), br["tap_controllable"].item()) == (9, True)

"""User test ut42_dopfuser #1 and #2: a ``poly_cost`` row naming an sgen the net does not have
was dropped silently (the DG then ran for free: 1.5 MW where its cost kept it at 0), and a
second row for one sgen (500 per MWh beside 5) was ignored. pandapower's own ``runopp``
refuses both nets (the independent truth: a shape mismatch, and "multiple costs to one or
multiple elements"). The orphan row is named in a warning (the grid is still a grid: an
ext_grid removed by hand leaves its row behind); two rows for one element are refused, typed,
naming the rows, exit 2 without a traceback."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=20.0, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(3)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in ((0, 1), (1, 2)):
        pp.create_line_from_parameters(net, b[f], b[t], length_km=2.0, r_ohm_per_km=0.2,
                                       x_ohm_per_km=0.3, c_nf_per_km=0.0, max_i_ka=0.4)
    pp.create_load(net, b[2], p_mw=2.0, q_mvar=0.5)
    pp.create_sgen(net, b[2], p_mw=0.5, controllable=True, min_p_mw=0.0, max_p_mw=1.5,
                   min_q_mvar=-0.5, max_q_mvar=0.5)
    pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=5.0)
    return net


def _runopp_refuses(net: pp.pandapowerNet) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pp.runopp(net)
    except Exception:
        return True
    return not net["OPF_converged"]


def test_a_cost_row_of_a_missing_element_is_named(tmp_path: Path) -> None:
    """The orphan row is named in a warning (on the console too), not read; the grid itself
    is still read (an ext_grid removed by hand leaves its row behind, test_reader_checks)."""
    net = _net()
    net.poly_cost.at[0, "element"] = 5  # no sgen 5
    assert _runopp_refuses(net)
    network = feederopt.load(net)
    assert any("poly_cost row 0 (sgen:5)" in w for w in network.meta["warnings"])
    assert network.generators["cost_per_mwh"].fill_null(0.0).to_list() == [0.0]
    path = tmp_path / "n.json"
    pp.to_json(net, str(path))
    res = CliRunner().invoke(app, ["info", str(path)], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "name an element the net does not have" in " ".join(res.output.split())


def test_two_cost_rows_of_one_element_are_refused() -> None:
    net = _net()
    pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=500.0, check=False)
    assert _runopp_refuses(net)
    with pytest.raises(InputError) as err:
        feederopt.load(net)
    assert "sgen:0 (rows 0, 1)" in str(err.value)


def test_one_row_per_existing_element_is_read() -> None:
    net = _net()
    assert not _runopp_refuses(net)  # the premise: pandapower takes it
    network = feederopt.load(net)
    assert network.generators["cost_per_mwh"].to_list() == [5.0]

"""SimBench grids (``simbench:<code>``): the model reproduces pandapower's power flow of them,
a result's AC check is pandapower's power flow of the user's net with the result, and bad
codes are typed problems.

SimBench's future scenarios (``-1-``, ``-2-``) hold storage units that discharge
(``p_mw < 0`` in pandapower's load convention): they must enter as injections, not be refused
as negative loads, and be written back with pandapower's sign.
"""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cases import simbench as sbcase
from feederopt.cases.simbench import apply_study_case, simbench_net
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from test_pandapower_fidelity import (
    LOSSES_REL,
    VOLTAGE_ABS,
    _model_base_case,
    _pp_losses_kw,
    _pp_vm,
    _runpp,
)

pytest.importorskip("simbench")


@pytest.mark.parametrize("code", ["1-MV-rural--0-sw", "1-MV-urban--2-sw", "1-LV-rural1--2-sw",
                                  "1-LV-semiurb4--0-sw"])
def test_base_case_matches_runpp(code):
    net = simbench_net(code)
    _runpp(net)
    _, _, losses_kw, vm, buses = _model_base_case(net)
    assert losses_kw == pytest.approx(_pp_losses_kw(net), rel=LOSSES_REL)
    np.testing.assert_allclose(vm, _pp_vm(net, buses), atol=VOLTAGE_ABS)


def test_discharging_storage_is_an_injection():
    net = simbench_net("1-LV-rural1--2-sw")
    discharging = net.storage.index[net.storage.p_mw < 0]
    assert len(discharging)  # the scenario has some: the test can fail
    network = feederopt.load(net)
    gens = network.generators.filter(network.generators["pp_element"] == "storage")
    assert sorted(gens["pp_index"].to_list()) == sorted(int(i) for i in discharging)
    p = dict(zip(gens["pp_index"].to_list(), gens["p_mw"].to_list(), strict=True))
    for i in discharging:
        assert p[int(i)] == pytest.approx(-net.storage.at[i, "p_mw"] * net.storage.at[
            i, "scaling"])


def test_ac_check_with_storage_is_runpp_of_the_users_net():
    """A radial LV grid with discharging storage: nothing to switch, so the result's net is the
    user's; its AC check must be pandapower's own power flow of it (a storage written back with
    the generator's sign would double its injection and change the losses). The scenario
    overloads the transformer (284 %), so the thermal limits are left out here."""
    net = simbench_net("1-LV-rural1--2-sw")
    result = feederopt.solve(feederopt.load(net), time_limit=60, thermal_limits=False)
    assert result.status.value == "optimal"
    mine = result.to_pandapower(net)
    np.testing.assert_allclose(mine.storage.p_mw * mine.storage.scaling,
                               net.storage.p_mw * net.storage.scaling, atol=1e-12)
    _runpp(mine)
    _runpp(net)
    assert result.ac_check.losses_kw == pytest.approx(_pp_losses_kw(net), rel=1e-9)
    assert result.losses_kw == pytest.approx(_pp_losses_kw(net), rel=LOSSES_REL)


def test_reconfiguring_an_mv_ring_is_checked_by_pandapower():
    """The MV rural grid's 6 open rings: within a short time limit the answer is radial, no
    worse than the grid as operated, and its AC check is pandapower's power flow of the
    user's net with the result's switch states (its losses equal the model's: the SOCP is
    exact here). The solve runs to its time limit (the grid is not proved optimal in any
    short one), so the limit is kept short: none of the checks needs the optimum."""
    net = simbench_net("1-MV-rural--0-sw")
    _runpp(net)
    base_kw = _pp_losses_kw(net)
    result = feederopt.solve(feederopt.load("simbench:1-MV-rural--0-sw"), time_limit=10)
    assert result.status.value in ("optimal", "time_limit")
    assert result.ac_check.converged
    mine = result.to_pandapower(net)
    _runpp(mine)
    assert result.ac_check.losses_kw == pytest.approx(_pp_losses_kw(mine), rel=1e-9)
    if result.extra.get("open_ends"):
        # the open end of a two-switch line chosen in AC (ut48_core #1): moved only where
        # pandapower's losses fall, so the AC losses are at most the model's (its net's ends)
        assert result.ac_check.losses_kw <= result.losses_kw * (1 + LOSSES_REL)
    else:
        assert result.losses_kw == pytest.approx(result.ac_check.losses_kw, rel=LOSSES_REL)
    assert result.ac_check.losses_kw <= base_kw * (1 + 1e-9)
    assert result.lower_bound <= result.losses_kw * (1 + 1e-9)
    # every bus still supplied, and radial: as many closed branches as buses minus sources
    assert not mine.res_bus.vm_pu.isna().any()


def test_unknown_code_is_a_typed_problem():
    with pytest.raises(InputError) as err:
        feederopt.load("simbench:1-MV-rurl--0-sw")
    problem = err.value.problems[0]
    assert problem.kind is ProblemKind.UNKNOWN_CASE
    assert "simbench:1-MV-rural--0-sw" in problem.hint
    out = CliRunner().invoke(app, ["info", "simbench:no-such-code"])
    assert out.exit_code == 2
    assert "not a SimBench code" in out.output
    assert "Traceback" not in out.output


@pytest.mark.parametrize("study_case", ["hL", "lPV"])
def test_study_case_is_simbenchs_and_matches_runpp(study_case):
    """``simbench:<code>@<case>``: SimBench's scaling factors (its ``loadcases`` table) applied
    to the loads, the sgens by type and the slack voltage; the user's net is left as it was."""
    net = simbench_net("1-MV-rural--0-sw")
    factors = net.loadcases.loc[study_case]
    p_load, vm = float(net.load.p_mw.sum()), float(net.ext_grid.vm_pu.iloc[0])
    mine = apply_study_case(net, study_case)
    assert float(net.load.p_mw.sum()) == p_load and float(net.ext_grid.vm_pu.iloc[0]) == vm
    assert float(mine.load.p_mw.sum()) == pytest.approx(p_load * factors["pload"])
    assert float(mine.ext_grid.vm_pu.iloc[0]) == pytest.approx(factors["Slack_vm"])
    wind = mine.sgen.type.str.contains("Wind").to_numpy()
    np.testing.assert_allclose(mine.sgen.p_mw[wind], net.sgen.p_mw[wind] * factors["Wind_p"])
    _runpp(mine)
    network = feederopt.load(f"simbench:1-MV-rural--0-sw@{study_case}")
    assert network.meta["case"] == f"simbench:1-MV-rural--0-sw@{study_case}"
    _, _, losses_kw, vm_model, buses = _model_base_case(mine)
    assert losses_kw == pytest.approx(_pp_losses_kw(mine), rel=LOSSES_REL)
    np.testing.assert_allclose(vm_model, _pp_vm(mine, buses), atol=VOLTAGE_ABS)


def test_unknown_study_case_is_a_typed_problem():
    out = CliRunner().invoke(app, ["info", "simbench:1-MV-rural--0-sw@peak"])
    assert out.exit_code == 2
    assert "not a study case" in out.output and "lPV" in out.output
    assert "Traceback" not in out.output


def test_built_nets_are_kept_on_disk_between_runs(tmp_path, monkeypatch):
    """A SimBench net is built once and kept in ``FEEDEROPT_CACHE_DIR``: a new process (the
    in-process cache cleared) reads it from there without simbench building it, and gets
    simbench's own net; a torn file is built again; ``off`` keeps nothing. The truth is the net
    that ``simbench.get_simbench_net`` returned, compared element by element."""
    import copy

    import pandapower as pp
    import pandapower.toolbox as tb
    import simbench

    code = "1-LV-rural1--0-sw"
    built = []
    real = simbench.get_simbench_net

    def spy(c):  # simbench builds the grid once; a rebuild is counted and given a copy
        built.append(c)
        return real(c) if len(built) == 1 else copy.deepcopy(own)

    monkeypatch.setattr(simbench, "get_simbench_net", spy)
    monkeypatch.setenv("FEEDEROPT_CACHE_DIR", str(tmp_path))
    sbcase._built_net.cache_clear()
    try:
        own = sbcase._built_net(code)  # simbench's net as built (simbench_net gives copies)
        assert built == [code]
        (path,) = tmp_path.glob(f"*/{code}.json")
        sbcase._built_net.cache_clear()  # a new process
        again = simbench_net(code)
        assert built == [code]  # read from disk, not built
        assert tb.nets_equal(again, own, check_only_results=False, exclude_elms=None)
        assert len(again.line) == len(own.line) > 0 and again is not own  # a grid, read again
        path.write_bytes(b"torn")
        sbcase._built_net.cache_clear()
        assert tb.nets_equal(simbench_net(code), own, check_only_results=False)
        assert built == [code, code]
        assert tb.nets_equal(pp.from_json(str(path)), own)  # rewritten whole
        monkeypatch.setenv("FEEDEROPT_CACHE_DIR", "off")
        path.unlink()
        sbcase._built_net.cache_clear()
        simbench_net(code)
        assert built == [code] * 3 and not list(tmp_path.glob("*/*.json"))
    finally:
        sbcase._built_net.cache_clear()

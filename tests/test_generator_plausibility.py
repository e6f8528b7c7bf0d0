"""A generator typed in kW instead of MW (a 500 kW unit as ``p_mw`` = 500) gets the warning a
load in kW gets: its forced injection is more than the short-circuit power to the source plus
every other bus's demand, so no power flow carries it away (user test ut50_iobad #1: ``info``
said "problems: none", the solve "infeasible"). The truth is pandapower's own power flow: no
operating point with the unit in kW, one with it in MW; the built-in cases stay quiet."""

from __future__ import annotations

import pandapower as pp
import polars as pl
import pytest

from feederopt.cases import load
from feederopt.cases.registry import MATPOWER_DISTRIBUTION_CASES
from feederopt.errors import ProblemKind
from feederopt.io import read_folder, to_pandapower, write_folder
from feederopt.network import Network


def with_unit(p_mw: float) -> Network:
    """case33bw with one fixed 'generators' row at bus 10 (the user's gen_kw folder)."""
    net = load("case33bw")
    gen = pl.DataFrame({"id": ["g1"], "bus": ["10"], "p_mw": [p_mw]})
    return Network.from_tables(buses=net.buses, branches=net.branches, loads=net.loads,
                               generators=gen, name="gen_kw")


def _runpp_converges(net: Network) -> bool:
    ppn = to_pandapower(net)
    try:
        pp.runpp(ppn)
    except pp.LoadflowNotConverged:
        return False
    return bool(ppn.converged)


def _gen_warnings(net: Network) -> list:
    return [p for p in net.validate() if p.component == "generators"
            and p.kind is ProblemKind.BAD_LOAD]


def test_a_unit_in_kw_is_named_and_has_no_power_flow() -> None:
    wrong = with_unit(500.0)
    assert not _runpp_converges(wrong)  # pandapower: no operating point
    found = _gen_warnings(wrong)
    assert len(found) == 1 and not found[0].is_error
    assert found[0].ids == ("g1",)
    assert "kW" in found[0].message and "write 0.5" in (found[0].hint or "")
    right = with_unit(0.5)
    assert _runpp_converges(right)
    assert not _gen_warnings(right)


def test_the_users_folder_is_named(tmp_path) -> None:
    """The CSV folder the user wrote (a generators.csv row ``g1,<bus 10>,500.0``)."""
    write_folder(load("case33bw"), tmp_path / "net", fmt="csv")
    (tmp_path / "net" / "generators.csv").write_text("id,bus,p_mw\ng1,10,500.0\n")
    found = [p for p in read_folder(tmp_path / "net").validate() if p.component == "generators"
             and p.kind is ProblemKind.BAD_LOAD]
    assert found and found[0].ids == ("g1",)


@pytest.mark.parametrize("case", ["case33bw", "cigre_mv", "example_multivoltage", "case69",
                                  *MATPOWER_DISTRIBUTION_CASES[:8]])
def test_built_in_cases_are_quiet(case: str) -> None:
    assert not _gen_warnings(load(case))

"""Voltage set-points that conflict on one bus, or on buses that a closed ideal switch fuses,
are refused before any solve, naming the generators (and the source) and both set-points
(user test ut41_io #2: two gens at 1.0 and 1.03 p.u. on one bus, a gen at 1.05 p.u. on a
1.0 p.u. source's bus, read as ``problems: none``; the solve said "optimal" and the AC check
failed). Independent truth: pandapower's runpp refuses the same nets ("different
setpoints"), and runs them once the set-points agree or the switch is open."""

from __future__ import annotations

import math
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import ProblemKind
from feederopt.io import write_folder
from netbuild import tiny, tiny_pandapower_net, tiny_tables

runner = CliRunner()


def _gens(*rows: tuple[str, str, float]) -> pl.DataFrame:
    """Voltage-controlling generators (id, bus, v_set_pu) of 0.1 MW, q free."""
    n = len(rows)
    return pl.DataFrame({"id": [r[0] for r in rows], "bus": [r[1] for r in rows],
                         "p_mw": [0.1] * n, "q_mvar": [0.0] * n, "p_min_mw": [0.1] * n,
                         "p_max_mw": [0.1] * n, "q_min_mvar": [-math.inf] * n,
                         "q_max_mvar": [math.inf] * n, "v_set_pu": [r[2] for r in rows]})


def _pandapower_refuses(rows: tuple[tuple[str, str, float], ...], open_ids: set[str]) -> bool:
    """Whether pandapower's runpp refuses the tiny feeder with these gens for their
    set-points."""
    net = tiny_pandapower_net(open_ids)
    for _, bus, v in rows:
        pp.create_gen(net, int(net.bus.index[net.bus.name == bus][0]), p_mw=0.1, vm_pu=v)
    try:
        pp.runpp(net)
    except UserWarning as err:
        assert "different setpoints" in str(err)
        return True
    return False


CONFLICTS = {
    "two gens on one bus": (("g1", "b", 1.0), ("g2", "b", 1.03)),
    "a gen on the source's bus": (("g1", "s", 1.05),),
    "gens on buses fused by a closed switch": (("g1", "c", 1.0), ("g2", "d", 1.03)),
}


@pytest.mark.parametrize("name", list(CONFLICTS))
def test_conflicting_set_points_are_refused_naming_both(name: str) -> None:
    rows = CONFLICTS[name]
    assert _pandapower_refuses(rows, set())
    problems = [p for p in tiny(generators=_gens(*rows)).validate() if p.field == "v_set_pu"]
    assert len(problems) == 1
    (p,) = problems
    assert p.kind is ProblemKind.INVALID_VALUE and p.is_error and p.component == "generators"
    assert set(p.ids) == {r[0] for r in rows}
    assert "1.03 p.u." in p.message or "1.05 p.u." in p.message
    assert "holds 1 p.u." in p.message  # the other set-point: g1's, or the source's 1.0
    if name == "a gen on the source's bus":
        assert "source bus s" in p.message
    if name == "gens on buses fused by a closed switch":
        assert "sw1" in p.message


@pytest.mark.parametrize("rows, open_ids", [
    ((("g1", "b", 1.02), ("g2", "b", 1.02)), set()),  # the same set-point twice
    ((("g1", "s", 1.0),), set()),  # the source's own set-point
    ((("g1", "c", 1.0), ("g2", "d", 1.03)), {"sw1"}),  # the switch open: two buses
])
def test_agreeing_or_separate_set_points_pass(rows: tuple[tuple[str, str, float], ...],
                                              open_ids: set[str]) -> None:
    assert not _pandapower_refuses(rows, open_ids)
    branches = tiny_tables()["branches"].with_columns(
        normally_open=pl.col("id").is_in(["tie1", *open_ids]))
    net = tiny(generators=_gens(*rows), branches=branches)
    assert [p for p in net.validate() if p.field == "v_set_pu"] == []


def test_the_cli_exits_2_before_any_solve(tmp_path: Path) -> None:
    folder = tmp_path / "net"
    write_folder(tiny(generators=_gens(*CONFLICTS["two gens on one bus"])), folder,
                 fmt="csv", force=True)
    for command in ("info", "solve"):
        res = runner.invoke(app, [command, str(folder)])
        assert res.exit_code == 2, res.output
        assert "conflicting voltage set-points on bus b" in res.output
        assert "Traceback" not in res.output

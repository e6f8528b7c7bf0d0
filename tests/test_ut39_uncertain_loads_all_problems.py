"""``--uncertain-loads`` with a load named twice and a load the network lacks: both problems in
one answer (user test ut39_uncert #3). Before, ``solve net9.json --robust 0.2
--uncertain-loads load:1,load:1,load:77`` reported the duplicate alone (the options' check), and
the unknown ``load:77`` only on the next run (the robust solve's own check). Truth: the load
ids of the network as pandapower holds them (``load:<index>`` of ``net.load``), not feederopt's
answer."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from netbuild import nine_bus_pandapower

pp = pytest.importorskip("pandapower")


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, set[str]]:
    net = nine_bus_pandapower()
    path = tmp_path_factory.mktemp("ut39_loads") / "net9.json"
    pp.to_json(net, str(path))
    return str(path), {f"load:{i}" for i in net.load.index}


def test_cli_names_the_duplicate_and_the_unknown_load_at_once(grid) -> None:
    path, loads = grid
    assert "load:1" in loads and "load:77" not in loads  # what the test rests on
    res = CliRunner().invoke(app, ["solve", path, "--robust", "0.2", "--uncertain-loads",
                                   "load:1,load:1,load:77", "-q"], env={"COLUMNS": "200"})
    assert res.exit_code == 2, res.output
    assert "2 problems" in res.output, res.output
    assert "more than once: load:1" in res.output
    assert "unknown (or out-of-service) load id(s) (given: load:77)" in res.output
    assert "Traceback" not in res.output


def test_api_names_the_duplicate_and_the_unknown_load_at_once(grid) -> None:
    path, _ = grid
    with pytest.raises(feederopt.InputError) as err:
        feederopt.solve(path, robust=0.2, uncertain_loads=["load:1", "load:1", "load:77"])
    problems = err.value.problems
    assert [p.field for p in problems] == ["uncertain_loads", "uncertain_loads"]
    assert "more than once" in problems[0].message
    assert problems[1].ids == ("load:77",)


def test_an_unknown_load_alone_is_refused_before_the_solve(grid) -> None:
    path, _ = grid
    with pytest.raises(feederopt.InputError) as err:
        feederopt.solve(path, robust=0.2, uncertain_loads=["load:2", "load:77", "load:78"])
    assert [p.ids for p in err.value.problems] == [("load:77", "load:78")]

"""A planner's scenario file with a ``probability`` column, or with elements named by their
names (``Bus 3``, ``Load R1``) instead of their ids, gets a hint that says what to write
(fix-scengen, user test ut44_growth #3: "missing column(s) weight" and a generic "unknown
id"). Truth: the pandapower net's own ``bus.name`` and ``load.name`` columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from netbuild import nine_bus_pandapower

pp = pytest.importorskip("pandapower")
runner = CliRunner()


@pytest.fixture(scope="module")
def net9(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    tmp = tmp_path_factory.mktemp("hints")
    net = nine_bus_pandapower()
    pp.to_json(net, str(tmp / "net9.json"))
    return net, tmp / "net9.json"


def table(element: str, kind: str, weight_col: str = "weight") -> pl.DataFrame:
    return pl.DataFrame({"scenario": ["a", "a"], "kind": ["load", kind],
                         "element": ["load:0", element], "p_mw": [0.5, -0.1],
                         "q_mvar": [0.1, 0.0], weight_col: [1.0, 1.0]})


def refused(path: Path, tmp: Path, df: pl.DataFrame) -> str:
    df.write_csv(tmp / "sc.csv")
    res = runner.invoke(app, ["solve", str(path), "--scenarios", str(tmp / "sc.csv")])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.split())


def test_probability_column_is_named_for_weight(net9, tmp_path) -> None:
    _, path = net9
    text = refused(path, tmp_path, table("3", "bus", "probability"))
    assert "missing column(s) weight" in text and "rename 'probability' to weight" in text


def test_bus_and_load_names_say_which_id_has_them(net9, tmp_path) -> None:
    net, path = net9
    bus = int(net.bus.index[net.bus.name == "b3"][0])
    load = int(net.load.index[net.load.name == "ld3"][0])
    text = refused(path, tmp_path, table("b3", "bus"))
    assert f"'b3' is the name of bus {bus}" in text
    text = refused(path, tmp_path, table("ld3", "load"))
    assert f"'ld3' is the name of load load:{load}" in text
    with pytest.raises(feederopt.InputError) as err:  # the Python API alike
        feederopt.resolve_scenarios(feederopt.load(str(path)), table("b3", "bus"))
    assert f"'b3' is the name of bus {bus}" in str(err.value)

"""A bus's nominal voltage that is NaN or infinite is said to be so (user test ut35_errs #4).

A NaN ``vn_kv`` was refused as "nominal voltage must be positive" (folder) or "vn_kv must be a
positive number" (pandapower), with a warning that its lines join "bus 5 at nan kV" to a
12.66 kV bus; an infinite ``vn_kv`` in a folder passed validation ("problems: none", and NumPy's
"invalid value encountered in divide" from the per-unit model). The truth is the value each
test writes.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import from_pandapower, write_folder
from netbuild import tiny, tiny_pandapower_net

runner = CliRunner()


def _folder_with_vn(tmp_path: Path, text: str) -> Path:
    """The tiny feeder as CSV, bus b's vn_kv written as ``text``."""
    folder = write_folder(tiny(), tmp_path / "feeder", fmt="csv")
    lines = (folder / "buses.csv").read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("vn_kv")
    for k, line in enumerate(lines[1:], 1):
        cells = line.split(",")
        if cells[0] == "b":
            cells[col] = text
            lines[k] = ",".join(cells)
    (folder / "buses.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize(("text", "says"), [("nan", "nominal voltage is NaN (not a number)"),
                                            ("inf", "nominal voltage is infinite"),
                                            ("-inf", "nominal voltage is infinite"),
                                            ("0", "nominal voltage must be positive")])
def test_folder_vn_kv_nan_or_infinite_is_named_as_such(tmp_path: Path, text: str,
                                                       says: str) -> None:
    with pytest.raises(InputError) as exc:
        load(_folder_with_vn(tmp_path, text))
    (problem,) = [p for p in exc.value.problems if p.field == "vn_kv"]
    assert problem.kind is ProblemKind.INVALID_VALUE and problem.ids == ("b",)
    assert problem.message == says
    # no voltage-level warning about a "nan kV" (or "inf kV") bus
    assert not [p for p in exc.value.problems if p.field == "to_bus"], exc.value.problems


def test_folder_infinite_vn_kv_exits_2(tmp_path: Path) -> None:
    """It passed: ``info`` said "problems: none"."""
    result = runner.invoke(app, ["info", str(_folder_with_vn(tmp_path, "inf"))])
    assert result.exit_code == 2, result.output
    assert "buses [b].vn_kv: nominal voltage is infinite" in " ".join(result.output.split())


@pytest.mark.parametrize(("value", "says"), [(math.nan, "vn_kv is NaN (not a number)"),
                                             (math.inf, "vn_kv is infinite"),
                                             (-math.inf, "vn_kv is infinite"),
                                             (0.0, "vn_kv is not positive")])
def test_pandapower_vn_kv_nan_is_named_as_such(value: float, says: str) -> None:
    net = tiny_pandapower_net(set())
    bus = int(net.bus.index[net.bus["name"] == "b"][0])
    net.bus.at[bus, "vn_kv"] = value
    with pytest.raises(InputError) as exc:
        from_pandapower(net)
    (problem,) = [p for p in exc.value.problems if p.field == "vn_kv"]
    assert problem.ids == (str(bus),) and problem.message.startswith(says)
    assert not [p for p in exc.value.problems if p.field == "to_bus"], exc.value.problems

"""A branch's shunt columns must be finite (the fuzzer's draw at session 44: ``b_asym_us``
NaN in a table folder was read, and the per-unit model's susceptance was NaN)."""

from __future__ import annotations

from pathlib import Path

import pytest

from feederopt.cases import load
from feederopt.io import write_folder
from feederopt.network import InputError
from netbuild import tiny


@pytest.mark.parametrize("col", ["b_us", "g_us", "g_asym_us", "b_asym_us"])
@pytest.mark.parametrize("value", ["NaN", "inf"])
def test_a_non_finite_shunt_is_refused_by_name(tmp_path: Path, col: str, value: str) -> None:
    folder = tmp_path / "net"
    write_folder(tiny(), folder, fmt="csv")
    path = folder / "branches.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index(col)] = value
    lines[1] = ",".join(row)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        load(folder)
    named = [p for p in info.value.problems if p.field == col]
    assert named and row[header.index("id")] in named[0].ids

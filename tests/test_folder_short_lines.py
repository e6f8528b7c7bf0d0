"""A CSV line with fewer fields than the header, leaving a required column without its field,
is named by its file line, as a line with too many fields is (user test ut50_iobad #6:
``d2,b3,0.12`` below ``id,bus,p_mw,q_mvar`` was "loads [d2].q_mvar: no value for 'q_mvar'").
A short line that leaves out optional columns only is read as before. The truth is the
user's file: the line number where the short line was written."""

from __future__ import annotations

from pathlib import Path

import pytest

from feederopt.cases import load
from feederopt.errors import InputError, ProblemKind
from feederopt.io import read_folder, write_folder


def _folder(tmp_path: Path) -> Path:
    path = tmp_path / "fewer_fields"
    write_folder(load("case33bw"), path, fmt="csv")
    return path


def test_a_short_line_is_named_by_its_line(tmp_path: Path) -> None:
    path = _folder(tmp_path)
    loads = path / "loads.csv"
    rows = [ln.split(",") for ln in loads.read_text().splitlines()]
    head = rows[0]
    keep = [head.index(c) for c in ("id", "bus", "p_mw", "q_mvar")]
    text = [",".join(r[k] for k in keep) for r in rows]
    text[3] = ",".join(text[3].split(",")[:3])  # the user left out q_mvar on line 4
    loads.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError) as err:
        read_folder(path)
    (p,) = err.value.problems
    assert p.kind is ProblemKind.UNREADABLE_FILE
    assert "line 4: 3 fields" in p.message and "fewer fields than the header's 4" in p.message
    assert "'q_mvar'" in p.message


def test_a_short_line_without_optional_columns_is_read(tmp_path: Path) -> None:
    path = _folder(tmp_path)
    loads = path / "loads.csv"
    lines = loads.read_text().splitlines()
    head = lines[0].split(",")
    assert head[:5] == ["id", "name", "bus", "p_mw", "q_mvar"]
    lines.append("extra,,2,0.01,0.005")  # only the first five of the header's fields
    loads.write_text("\n".join(lines) + "\n")
    net = read_folder(path)
    row = net.loads.filter(net.loads["id"] == "extra")
    assert row["p_mw"].to_list() == [0.01] and row["bus"].to_list() == ["2"]

"""A CSV table whose header is one column holding tabs (a tab-separated export) is said to be
not comma-delimited, as a ';'-separated one is (user test ut_edge #5: it gave
``missing_column buses.id``, ``buses.vn_kv`` and "unknown column 'id\\tvn_kv\\tis_source' ...
did you mean 'is_source'?")."""

from __future__ import annotations

from pathlib import Path

import pytest

from feederopt.errors import InputError, ProblemKind
from feederopt.io import read_folder


@pytest.mark.parametrize(("sep", "named"), [("\t", "tabs"), (";", "';'")])
def test_one_column_header_with_tabs_or_semicolons(tmp_path: Path, sep: str, named: str
                                                   ) -> None:
    (tmp_path / "buses.csv").write_text(sep.join(["id", "vn_kv", "is_source"]) + "\n"
                                        + sep.join(["1", "12.66", "True"]) + "\n"
                                        + sep.join(["2", "12.66", "False"]) + "\n")
    (tmp_path / "branches.csv").write_text("id,from_bus,to_bus,r_ohm,x_ohm\nL1,1,2,0.5,0.3\n")
    with pytest.raises(InputError) as err:
        read_folder(tmp_path)
    (p,) = err.value.problems
    assert p.kind is ProblemKind.UNREADABLE_FILE and p.ids == (str(tmp_path / "buses.csv"),)
    assert f"one column holding {named}" in p.message
    assert "must be comma-delimited" in p.message

"""A column named in capitals (user test ut46_iobad #4): ``loads.csv`` with ``P_MW`` said
"required column 'p_mw' is missing (hint: add a 'p_mw' column)" and "unknown column 'P_MW'
is ignored (hint: feederopt ignores it; known columns: ...)". Column names stay
case-sensitive (docs/columns.md: the names are lower case), so the folder is still refused, but
both messages now name the column to write."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind, Severity
from feederopt.io import read_folder, write_folder
from feederopt.network.validate import nearest_name
from netbuild import tiny


def test_capitals_get_the_lower_case_name(tmp_path) -> None:
    folder = write_folder(tiny().check(), tmp_path / "net", fmt="csv")
    loads = folder / "loads.csv"
    header, *rows = loads.read_text().splitlines()
    assert ",p_mw," in f",{header},"
    loads.write_text("\n".join([header.replace("p_mw", "P_MW"), *rows]) + "\n")
    with pytest.raises(InputError) as err:
        read_folder(folder).check()
    by_kind = {p.kind: p for p in err.value.problems}
    missing = by_kind[ProblemKind.MISSING_COLUMN]
    assert missing.field == "p_mw" and missing.severity is Severity.ERROR
    assert "the table has 'P_MW'" in missing.message
    assert missing.hint == "did you mean 'p_mw'? rename 'P_MW' to 'p_mw'"
    unknown = by_kind[ProblemKind.UNKNOWN_COLUMN]
    assert unknown.field == "P_MW" and unknown.hint == "did you mean 'p_mw'?"
    res = CliRunner().invoke(app, ["info", str(folder)])
    text = " ".join(res.output.split())
    assert res.exit_code == 2
    assert "unknown column 'P_MW' is ignored (hint: did you mean 'p_mw'?)" in text


@pytest.mark.parametrize(("given", "meant"), [("P_MW", "p_mw"), ("Q_Mvar", "q_mvar"),
                                              ("Normaly_Open", "normally_open"),
                                              ("normaly_open", "normally_open")])
def test_nearest_name_ignores_case(given: str, meant: str) -> None:
    assert nearest_name(given, ["id", "p_mw", "q_mvar", "normally_open"]) == meant

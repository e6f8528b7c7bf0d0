"""A CSV disaster-scenario row with more (or fewer) fields than the header (user test ut35
resilience #1): ``B,0.5,4,6,11`` was read as broken = {4} only, silently (csv.DictReader filed
the extra fields under the key None), and ``plan zhang13`` then chose a different plan (550 $
instead of 950 $). Every such row is now a ``BAD_SCENARIO`` problem naming the scenario and the
file line, with the ';' hint, and the CLI exits with code 2 without a traceback.

Truth by hand: the row ``B,0.5,4,6,11`` has 5 fields against the header's 3; the row ``A,0.5``
has 2; the ids meant are 4, 6 and 11 (the ';'-separated form reads exactly those).
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from feederopt import InputError
from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import ProblemKind
from feederopt.io.disasters import read_disasters


@pytest.fixture(scope="module")
def zhang():
    return load("zhang13")


def _problems(path, net) -> list:
    with pytest.raises(InputError) as err:
        read_disasters(path, net)
    return list(err.value.problems)


def test_commas_between_broken_ids_are_refused_with_the_semicolon_hint(zhang, tmp_path) -> None:
    f = tmp_path / "ragged.csv"
    f.write_text("name,probability,broken\nB,0.5,4,6,11\nC,0.5,2;5;8;14;15\n")
    (p,) = _problems(f, zhang)
    assert p.kind is ProblemKind.BAD_SCENARIO
    assert (p.ids, p.field) == (("B",), "broken")
    assert "line 2 has 5 fields, the header 3" in p.message
    assert "separated by ';' ('4;6;11'), not ','" in p.hint
    res = CliRunner().invoke(app, ["plan", "zhang13", "--scenarios", str(f), "--no-ac-check",
                                   "--no-measures"])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "bad_scenario" in res.output and "[B]" in res.output and "'4;6;11'" in res.output
    # the form the hint gives reads the three ids
    f.write_text("name,probability,broken\nB,0.5,4;6;11\nC,0.5,2;5;8;14;15\n")
    assert read_disasters(f, zhang).scenarios[0].broken == ("4", "6", "11")


def test_every_ragged_row_is_named_short_ones_too(zhang, tmp_path) -> None:
    f = tmp_path / "ragged.csv"
    f.write_text("name,probability,broken\nA,0.5\nB,0.25,3\nC,0.25,2,11\n")
    by_name = {p.ids[0]: p for p in _problems(f, zhang)}
    assert set(by_name) == {"A", "C"}
    assert all(p.kind is ProblemKind.BAD_SCENARIO for p in by_name.values())
    assert "line 2 has 2 fields, the header 3" in by_name["A"].message
    assert by_name["A"].field == "broken"
    assert "line 4 has 4 fields" in by_name["C"].message
    assert "('2;11')" in by_name["C"].hint


def test_a_ragged_row_without_a_name_column_is_named_by_its_row(zhang, tmp_path) -> None:
    f = tmp_path / "ragged.csv"
    f.write_text("probability,broken\n0.5,3\n0.5,2,11\n")
    (p,) = _problems(f, zhang)
    assert p.ids == ("2",) and "line 3 has 3 fields, the header 2" in p.message

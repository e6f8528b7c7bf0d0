"""A scenario or profile table that names a column twice (session 38; the table folders'
readers refuse it since session 37): polars read a repeated ``p_mw`` as ``p_mw`` and
``p_mw_duplicated_0`` and took the first without a word, and ``P_MW`` beside ``p_mw`` crashed
the lower-casing (polars' DuplicateError). Both are one ``duplicate_column`` problem naming the
column and its places in the header, and exit 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.scenarios import read_scenario_table
from feederopt.io.timeseries import read_table

runner = CliRunner(env={"COLUMNS": "400"})


@pytest.mark.parametrize("header", ["scenario,element,p_mw,p_mw,q_mvar",
                                    "scenario,element,P_MW,p_mw,q_mvar",
                                    "scenario,element,p_mw, p_mw ,q_mvar"])
def test_scenario_csv_with_a_repeated_column_is_refused(tmp_path: Path, header: str) -> None:
    path = tmp_path / "scenarios.csv"
    path.write_text(header + "\ns0,load:17,0.2,0.3,0.1\n")
    with pytest.raises(InputError) as exc:
        read_scenario_table(path)
    (problem,) = exc.value.problems
    assert (problem.kind, problem.field) == (ProblemKind.DUPLICATE_COLUMN, "p_mw")
    assert "columns 3, 4" in problem.message
    out = runner.invoke(app, ["solve", "case33bw", "--scenarios", str(path)])
    assert out.exit_code == 2, out.output
    assert "duplicate column 'p_mw'" in out.output and "Traceback" not in out.output


def test_profile_csv_with_a_repeated_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "profiles.csv"
    path.write_text("time,element,value,Value\n0,load:0,1.0,2.0\n")
    with pytest.raises(InputError) as exc:
        read_table(path, "profile table")
    (problem,) = exc.value.problems
    assert (problem.kind, problem.field) == (ProblemKind.DUPLICATE_COLUMN, "value")


def test_scenario_frame_in_memory_with_columns_differing_in_case_is_refused() -> None:
    frame = pd.DataFrame([["s0", "load:17", 0.2, 0.3, 0.1]],
                         columns=["scenario", "element", "P_MW", "p_mw", "q_mvar"])
    with pytest.raises(InputError) as exc:
        feederopt.solve(feederopt.load("case33bw"), scenarios=frame, time_limit=10)
    assert [p.kind for p in exc.value.problems] == [ProblemKind.DUPLICATE_COLUMN]

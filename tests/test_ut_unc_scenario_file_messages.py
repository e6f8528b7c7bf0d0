"""Bad cells and separators in a scenario file are named by the row's scenario and element
and by what is wrong (user test ut_unc, finding 5).

What a planner saw before: a NaN p_mw as "scenarios [row 6 (None)].p_mw: 1 row(s) with a
missing, NaN or infinite p_mw" (no scenario, no element, "None"); the text "abc" called
"missing, NaN or infinite"; a row without an element reported twice, the second time as
"scenarios [].element: unknown element id(s)" with no id; and a spreadsheet's ';'-separated
export as "found more fields than defined in 'Schema'" (with decimal commas) or "missing
column(s) scenario, element, p_mw, q_mvar, weight" (without). Each file here is written by
hand, so the row, scenario and element named are known without feederopt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.scenarios import load_scenarios

runner = CliRunner()
HEAD = "scenario,kind,element,p_mw,q_mvar,weight\n"


def _problems(tmp_path: Path, body: str, name: str = "s.csv") -> list:
    path = tmp_path / name
    path.write_text(body)
    with pytest.raises(InputError) as err:
        load_scenarios(feederopt.load("case33bw"), path)
    return list(err.value.problems)


def test_a_nan_and_a_text_cell_name_scenario_element_and_content(tmp_path: Path) -> None:
    (p,) = _problems(tmp_path, HEAD + "a,load,2,0.1,0.06,1\n"
                                      "b,load,18,NaN,0.04,1\n"
                                      "b,load,7,abc,0.1,1\n"
                                      "c,load,9,,0.02,1\n")
    assert p.kind is ProblemKind.BAD_SCENARIO and p.field == "p_mw"
    assert p.ids == ("row 2 (scenario b, element 18: NaN)",
                     "row 3 (scenario b, element 7: 'abc' is not a number)",
                     "row 4 (scenario c, element 9: empty)")
    assert "3 row(s) whose p_mw is not a finite number" in p.message
    assert "None" not in str(p)


def test_a_row_without_element_is_one_problem(tmp_path: Path) -> None:
    problems = _problems(tmp_path, HEAD + "a,load,2,0.1,0.06,1\na,load,,0.1,0.06,1\n")
    assert [(p.field, p.ids) for p in problems] == [("element", ("row 2",))]
    assert "1 row(s) without an element" in problems[0].message


@pytest.mark.parametrize(("sep", "said"), [(";", "';'"), ("\t", "tabs")])
def test_a_semicolon_or_tab_separated_csv_is_named_so(tmp_path: Path, sep: str,
                                                      said: str) -> None:
    rows = [["scenario", "kind", "element", "p_mw", "q_mvar", "weight"],
            ["a", "load", "2", "0,1", "0,06", "1"], ["a", "load", "3", "0,09", "0,04", "1"]]
    (p,) = _problems(tmp_path, "".join(sep.join(r) + "\n" for r in rows))
    assert p.kind is ProblemKind.UNREADABLE_FILE
    assert f"separated by {said}, not commas" in p.message
    assert "0.5, not 0,5" in p.hint
    # through the command line: exit code 2, no traceback
    out = runner.invoke(app, ["solve", "case33bw", "--scenarios", str(tmp_path / "s.csv")])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert "not commas" in " ".join(out.output.split())


def test_a_comma_separated_file_with_a_bom_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text("\ufeff" + HEAD + "a,load,2,0.2,0.1,1\n", encoding="utf-8")
    sset = load_scenarios(feederopt.load("case33bw"), path)
    # case33bw's loads sum to 3.715 MW; load 2's 0.1 MW replaced by 0.2 (by hand)
    assert sset.names == ["a"] and sset.p_mw.sum() == pytest.approx(3.715 + 0.1)


def test_an_unknown_id_names_its_row_and_scenario(tmp_path: Path) -> None:
    """ut36_scen #1: the unknown id was named, its row and scenario not (a mistyped id can sit
    in any scenario of a generated file). Row 3 of the data is scenario b's load 99."""
    (p,) = _problems(tmp_path, HEAD + "a,load,2,0.1,0.06,0.5\n"
                                      "b,load,7,0.1,0.06,0.5\n"
                                      "b,load,99,0.1,0.06,0.5\n")
    assert p.field == "element" and p.ids == ("99",)
    assert "row 3 (scenario b, element 99)" in p.message


def test_a_repeated_load_names_the_load_and_its_rows(tmp_path: Path) -> None:
    """ut36_scen #2: scenario a's load 7 appended again after scenario b (rows 2 and 4): the
    message named scenario a only, not the load nor its rows."""
    (p,) = _problems(tmp_path, HEAD + "a,load,2,0.1,0.06,0.5\n"
                                      "a,load,7,0.1,0.06,0.5\n"
                                      "b,load,7,0.1,0.06,0.5\n"
                                      "a,load,7,0.2,0.12,0.5\n")
    assert "7 on rows 2, 4" in p.message
    (q,) = _problems(tmp_path, HEAD + "a,load,2,0.1,0.06,0.5\n"
                                      "a,load,2,0.2,0.06,0.5\n"
                                      "b,load,7,0.1,0.06,0.5\n")
    assert "a/2 on rows 1, 2" in q.message

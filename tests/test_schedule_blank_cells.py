"""User test ut_s18 #1-#2: a profile row with a blank element or a blank time is a typed
problem naming that row (exit 2, no traceback). Before, a blank element ended in
``AttributeError: 'NoneType' object has no attribute 'strip'`` (exit 1), and a blank time in
"time is neither an hour index nor a timestamp" naming the first valid times, not the row.

Truth: the row numbers of the file written here (data rows counted from 1)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app


def _write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("time,element,value\n" + "".join(f"{t},{e},{v}\n" for t, e, v in rows))
    return path


def _rows(hours: int = 2) -> list[tuple[str, str, str]]:
    # case33bw's loads are its bus ids 2..33; one factor per load and hour
    return [(str(h), str(b), "0.8") for b in range(2, 34) for h in range(hours)]


def _run(profile: Path) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--hours", "2", "--profiles",
                                   str(profile), "--time-limit", "5", "--no-ac-check"],
                             env={"COLUMNS": "240"})
    return res.exit_code, res.output


def test_a_blank_element_names_its_row(tmp_path: Path) -> None:
    rows = _rows()
    rows[6] = (rows[6][0], "", rows[6][2])          # data row 7, hour 0
    code, out = _run(_write(tmp_path / "p.csv", rows))
    assert code == 2, out
    assert "Traceback" not in out and "AttributeError" not in out
    assert "element is missing" in out and "row 7 (hour 0)" in out


def test_a_blank_time_names_its_row_and_element(tmp_path: Path) -> None:
    rows = _rows()
    rows[9] = ("", rows[9][1], rows[9][2])          # data row 10, load 6
    code, out = _run(_write(tmp_path / "p.csv", rows))
    assert code == 2, out
    assert "time is missing" in out and "row 10 (6)" in out

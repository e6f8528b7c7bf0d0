"""User test ut51_cli #1: ``feederopt scenarios`` with ``--weights`` and no
``--study-cases`` was checked as though ``--study-cases`` had been given: it blamed
``--seed``/``--count``/``--ties`` "with --study-cases", an option the user never gave, and
hid the real ``--ties`` problem (case33bw is no pandapower net). And ``-n 3 --study-cases hL``
on case33bw named only ``--count``, not that case33bw is no SimBench grid.

The truth is the command line itself: which options the user typed."""

from __future__ import annotations

from typer.testing import CliRunner

from feederopt.cli import app


def _run(tmp_path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["scenarios", "case33bw", "-o", str(tmp_path / "s.csv"),
                                   *args])
    return res.exit_code, " ".join(res.output.split())


def test_weights_alone_names_only_options_given(tmp_path):
    code, text = _run(tmp_path, "--weights", "1", "--seed", "3", "--ties", "switches")
    assert code == 2, text
    assert "--weights needs --study-cases" in text
    assert "with --study-cases" not in text  # --study-cases was not given
    assert "leave --seed out" not in text  # --seed applies to a random run
    # the --ties problem is the real one: case33bw is no pandapower net
    assert "pandapower" in text
    assert "Traceback" not in text
    assert not (tmp_path / "s.csv").exists()


def test_weights_alone_with_count_names_only_weights(tmp_path):
    code, text = _run(tmp_path, "--count", "5", "--weights", "1")
    assert code == 2, text
    assert "1 problem in the input" in text
    assert "--weights needs --study-cases" in text
    assert "leave --count out" not in text


def test_study_cases_on_a_matpower_case_names_the_grid_beside_count(tmp_path):
    code, text = _run(tmp_path, "-n", "3", "--study-cases", "hL")
    assert code == 2, text
    assert "leave --count out" in text  # -n 3 does not apply with --study-cases
    assert "'case33bw' is not simbench:<code>" in text

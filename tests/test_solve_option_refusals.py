"""Options of ``solve`` that cannot act are refused before any work (exit code 2, a typed
problem naming the option), and a robust run that finds no topology says so (exit code 4).

Found by a user audit: a relative gap of 5 was accepted and its result labelled optimal; the
three-phase path skipped the option checks; ``--json`` and ``--out`` on one path were caught
only after the solve; ``--controls`` and ``--loss-price`` on a network without such devices or
costs did nothing; ``--robust 2`` and a load named twice in ``--uncertain-loads`` were taken;
a robust run without a topology exited 0 with ``within_limits: true``; ``info`` crashed on a
network without load.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.io import write_folder

runner = CliRunner()


def _fields(args: list[str]) -> tuple[int, str]:
    out = runner.invoke(app, args)
    assert "Traceback" not in out.output
    return out.exit_code, out.output


@pytest.mark.parametrize("gap", ["1", "5", "-1"])
def test_gap_must_be_a_relative_gap(gap):
    code, text = _fields(["solve", "case33bw", "--gap", gap])
    assert code == 2 and "options.gap" in text
    with pytest.raises(InputError) as err:
        feederopt.solve("case33bw", gap=float(gap))
    assert err.value.problems[0].field == "gap"


def test_gap_below_one_is_accepted():
    assert feederopt.solve_options(gap=0.5).check() == []


def test_three_phase_solve_checks_its_options_and_refuses_the_others():
    code, text = _fields(["solve", "ieee13mod", "--gap", "-1", "--time-limit", "-5",
                          "--controls", "caps", "--fix-devices"])
    assert code == 2
    assert "options.gap" in text and "options.time_limit" in text
    assert "--fix-devices" in text and "--controls" in text


def test_json_inside_the_out_folder_is_refused_before_solving(tmp_path):
    same = tmp_path / "same"
    code, text = _fields(["solve", "case33bw", "--json", str(same), "--out", str(same)])
    assert code == 2 and "--json names the --out folder" in text
    assert not same.exists()  # refused before the solve: nothing written
    code, _ = _fields(["solve", "case33bw", "--json", str(same / "r.json"), "--out", str(same)])
    assert code == 2 and not same.exists()


def test_json_inside_a_new_out_folder_gets_one_fitting_message(tmp_path, monkeypatch):
    """User test ut_io #6: ``--out os3 --json os3/result.json`` with no os3 also said "the
    folder 'os3' does not exist (create it first)", though --out creates it."""
    monkeypatch.chdir(tmp_path)
    code, text = _fields(["solve", "case33bw", "--out", "os3", "--json", "os3/result.json"])
    text = " ".join(text.split())
    assert code == 2 and "--json names the --out folder" in text
    assert "does not exist" not in text and "create it first" not in text
    assert text.count("bad_output_path") == 1
    assert not (tmp_path / "os3").exists()


def test_json_dash_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, text = _fields(["solve", "case33bw", "--json", "-"])
    assert code == 2 and "standard output" in text
    assert not (tmp_path / "-").exists()


def test_options_without_anything_to_act_on_are_refused():
    with pytest.raises(InputError) as err:
        feederopt.solve("case33bw", controls="caps", loss_price_per_mwh=50.0)
    fields = {p.field for p in err.value.problems}
    assert fields == {"controls", "loss_price_per_mwh"}
    # the same options act on a case that has such devices and costs: not refused there
    net = feederopt.load("case70da_khodr")
    from feederopt.api import network_option_problems
    from feederopt.options import solve_options

    opts = solve_options(controls="caps,taps", loss_price_per_mwh=50.0).checked()
    assert network_option_problems(net, opts) == []


def test_robust_fraction_above_one_and_repeated_loads_are_refused():
    from feederopt.options import unchecked_solve_options

    problems = unchecked_solve_options(robust=2.0).check()
    assert [p.field for p in problems] == ["robust"]
    problems = unchecked_solve_options(robust=0.1, uncertain_loads="3,3").check()
    assert [p.field for p in problems] == ["uncertain_loads"]
    assert "3" in problems[0].message
    problems = unchecked_solve_options(budget=2).check()
    assert "budget needs robust=X" in problems[0].message  # named as Python takes it


def test_robust_run_without_a_topology_exits_4(tmp_path):
    """All 32 loads +-10 % with a budget of 3: 39,680 extreme points, far more than a few
    seconds of the exact worst-case search can certify, so no topology is proven feasible at
    every point: status time_limit, not within the limits, exit code 4 (the README's rule)."""
    path = tmp_path / "r.json"
    code, _ = _fields(["solve", "case33bw", "--robust", "0.1", "--budget", "3",
                       "--time-limit", "8", "-q", "--json", str(path)])
    data = json.loads(path.read_text())
    assert data["status"] == "time_limit"
    if data["objective"] is None:  # no topology certified within the time limit
        assert code == 4 and data["within_limits"] is False
    else:  # a fast machine certified one: then it is a real answer
        assert code == 0 and data["within_limits"] is True


def test_info_and_solve_on_a_network_without_load(tmp_path):
    """No load: no losses in the model and in the AC power flow; the model is exact there,
    not "+nan %" off."""
    folder = tmp_path / "tables"
    write_folder(feederopt.load("case33bw"), folder, fmt="csv")
    header = (folder / "loads.csv").read_text().splitlines()[0]
    (folder / "loads.csv").write_text(header + "\n")
    code, text = _fields(["info", str(folder)])
    assert code == 0, text
    assert "+0.000 % vs AC" in text
    result = feederopt.solve(str(folder), time_limit=30)
    assert result.ac_check.exact and result.ac_check.losses_diff_pct == 0.0
    assert result.buses["vm_pu"].min() == pytest.approx(1.0)

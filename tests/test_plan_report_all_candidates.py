"""The plan report's Settings table shows the candidates' default (None: every non-source bus
and every line) as ``all (N buses)`` / ``all (N lines)``, not ``-``, which reads as none
(user test ut45b_resil #5). Truth: the counts of the pandapower net itself (10 buses less the
ext_grid's, 12 lines), and the user's own list shown as given."""

from __future__ import annotations

import re
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, vn_kv=11.0, min_vm_pu=0.93, max_vm_pu=1.07) for _ in range(10)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    ends = [(0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (2, 8), (8, 9),
            (4, 7), (9, 6), (3, 9)]
    for k, (f, t) in enumerate(ends):
        li = pp.create_line_from_parameters(net, b[f], b[t], 2.0, r_ohm_per_km=0.35,
                                            x_ohm_per_km=0.38, c_nf_per_km=0.0, max_i_ka=0.3)
        pp.create_switch(net, b[f], li, et="l", closed=k < 9)
    for bus in range(2, 10):
        pp.create_load(net, b[bus], p_mw=0.3, q_mvar=0.1)
    return net


def _row(html: str, label: str) -> str:
    m = re.search(re.escape(label) + r"</th><td>([^<]*)</td>", html)
    assert m, label
    return m.group(1)


@pytest.mark.filterwarnings("ignore")
def test_the_default_candidates_read_all(tmp_path: Path) -> None:
    net = _net()
    src = tmp_path / "n.json"
    pp.to_json(net, str(src))
    res = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["plan", str(src), "--broken", "line:0", "--harden-budget", "1", "--dg-budget",
              "1", "--dg-size", "500", "--no-ac-check", "--time-limit", "50",
              "--out", str(tmp_path / "po")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "po" / "report.html").read_text()
    n_buses = len(net.bus) - len(set(net.ext_grid.bus))
    assert _row(html, "DG candidate buses") == f"all ({n_buses} buses)"
    assert _row(html, "hardening candidate lines") == f"all ({len(net.line)} lines)"


def test_a_given_list_and_an_older_result() -> None:
    from feederopt.report.resilience import settings_shown

    given = settings_shown({"dg_candidates": ["3", "4"], "harden_candidates": None})
    assert given["dg_candidates"] == ["3", "4"] and given["harden_candidates"] == "all"
    assert "dg_candidate_count" not in settings_shown({"dg_candidate_count": 3})

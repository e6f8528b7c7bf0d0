"""ut_fresh #2: `feederopt info` on a case whose base case breaks the voltage band printed the
note "breaks the voltage limits (AC): breaks them: 8 bus(es) below v_min ...". The note now
says it once. Truth: the buses below 0.9 p.u. in pandapower's own power flow of the case."""

from __future__ import annotations

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app


def test_info_note_says_it_once(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandapower.networks as pn

    monkeypatch.setenv("COLUMNS", "400")
    net = pn.case33bw()
    net.load["p_mw"] *= 1.6  # a heavier case33bw: its far ends fall below 0.9 p.u.
    net.load["q_mvar"] *= 1.6
    path = f"{tmp_path}/heavy.json"
    pp.to_json(net, path)
    pp.runpp(net)
    vm = net.res_bus["vm_pu"]
    low = vm[vm < 0.9 - 1e-4]
    assert len(low) > 1
    worst = int(low.idxmin())
    out = CliRunner().invoke(app, ["info", path]).output
    note = next(line for line in out.splitlines()
                if "the base case already breaks the voltage limits" in line)
    assert "breaks them" not in note
    assert (f"(AC): {len(low)} bus(es) below v_min (worst bus {worst}: "
            f"{float(vm[worst]):.4f} < 0.9000 p.u.)") in note

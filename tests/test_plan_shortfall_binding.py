"""``plan``'s DG-capacity shortfall says which of kW and kvar binds (the firm loads' demand
against what the budgets' backup DGs supply), not both figures side by side.

A 3-bus feeder (bus 0 the source, lines 0-1 and 1-2) with ``line:1`` broken and no hardening
budget leaves bus 2 an island whose non-sheddable load can only be fed by one backup DG of
``--dg-size 100`` (100 kW and, Qmax = Pmax, 100 kvar). Truth by hand, from the loads and DG
size set up here: a load of 50 kW and 150 kvar is short of kvar only (50 <= 100 kW,
150 > 100 kvar); one of 150 kW and 20 kvar is short of kW only; 150 kW and 150 kvar of both.
"""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

DG_KW = 100.0


def _feeder(p_kw: float, q_kvar: float) -> pp.pandapowerNet:
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, vn_kv=11.0, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(3)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in ((0, 1), (1, 2)):
        pp.create_line_from_parameters(net, b[f], b[t], 1.0, r_ohm_per_km=0.3,
                                       x_ohm_per_km=0.3, c_nf_per_km=0.0, max_i_ka=0.4)
    pp.create_load(net, b[1], p_mw=0.2, q_mvar=0.05)
    pp.create_load(net, b[2], p_mw=p_kw / 1e3, q_mvar=q_kvar / 1e3)
    net.load["sheddable"] = [True, False]
    return net


def _plan_text(tmp_path: Path, p_kw: float, q_kvar: float) -> str:
    src = tmp_path / "feeder3.json"
    pp.to_json(_feeder(p_kw, q_kvar), str(src))
    res = CliRunner(env={"COLUMNS": "400"}).invoke(
        app, ["plan", str(src), "--broken", "line:1", "--harden-budget", "0", "--dg-budget",
              "1", "--dg-size", f"{DG_KW:g}", "--no-ac-check", "--no-measures",
              "--time-limit", "60"])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.split())


@pytest.mark.filterwarnings("ignore")
def test_only_kvar_binds(tmp_path: Path) -> None:
    p_kw, q_kvar = 50.0, 150.0
    assert p_kw <= DG_KW < q_kvar  # the premise, by hand
    text = _plan_text(tmp_path, p_kw, q_kvar)
    assert (f"their reactive demand ({q_kvar:,.2f} kvar) exceeds what the backup DGs the "
            f"budgets allow can supply ({DG_KW:,.2f} kvar") in text
    assert (f"kvar binds, not kW (their {p_kw:,.2f} kW are within the {DG_KW:,.2f} kW)"
            in text)
    assert "kW binds" not in text


@pytest.mark.filterwarnings("ignore")
def test_only_kw_binds(tmp_path: Path) -> None:
    p_kw, q_kvar = 150.0, 20.0
    assert q_kvar <= DG_KW < p_kw
    text = _plan_text(tmp_path, p_kw, q_kvar)
    assert (f"their demand ({p_kw:,.2f} kW) exceeds what the backup DGs the budgets allow "
            f"can supply ({DG_KW:,.2f} kW") in text
    assert (f"kW binds, not kvar (their {q_kvar:,.2f} kvar are within the "
            f"{DG_KW:,.2f} kvar)") in text
    assert "kvar binds" not in text


@pytest.mark.filterwarnings("ignore")
def test_both_bind(tmp_path: Path) -> None:
    p_kw = q_kvar = 150.0
    assert p_kw > DG_KW and q_kvar > DG_KW
    text = _plan_text(tmp_path, p_kw, q_kvar)
    assert (f"their demand ({p_kw:,.2f} kW and {q_kvar:,.2f} kvar) exceeds what the backup "
            f"DGs the budgets allow can supply ({DG_KW:,.2f} kW and {DG_KW:,.2f} kvar") in text
    assert "in both: kW and kvar bind" in text

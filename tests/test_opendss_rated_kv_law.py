"""A constant-power load rated far from its connection's voltage follows OpenDSS's law.

User test ut42_dss3: ``Load.la kV=12.47`` on a 7.2 kV node (default Vminpu 0.95) drew
481.8 kW in OpenDSS, an impedance below its Vminpu, while the model held 1.5 MW of constant
power and ``info`` said "... and so does the model". The reader now gives the model OpenDSS's
law (``feederopt.io.opendss_rated_kv``). Truth: OpenDSSDirect.py's own power of the load,
compared with the model's law ``p_mw (|V|/vn_kv)^p_exponent`` at OpenDSS's voltage.

And (ut42_dss3 v_vbase_missing): a load at a level missing from VoltageBases was compared
with the base that the next note corrects ("kV=0.48 across 12.47 kV"); a 0.48 kV load behind a
12.47/0.48 kV transformer is at its rating (hand calculation: ratio 1), so no note.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from feederopt.io.opendss import read_opendss
from opendss_plain import load_power

FEEDER = """Clear
New Circuit.kvtest basekv=12.47 pu=1.0 phases=3 bus1=src R1=0.1 X1=0.5 R0=0.1 X0=0.5
New Linecode.lc nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.2 units=mi normamps=600
New Line.l1 bus1=src bus2=b1 linecode=lc length=2 units=mi
New Line.l2 bus1=b1 bus2=b2 linecode=lc length=2 units=mi
New Load.la bus1=b2.1 phases=1 conn=wye kV={kv} kW=1500 kvar=500 model=1
New Load.lb bus1=b2.2 phases=1 conn=wye kV=7.2 kW=500 kvar=200 model=1
Set voltagebases=[12.47]
Calcv
Solve
"""


# 12.47: between Vlowpu and Vminpu (481.8 kW); 24.9: below Vlowpu; 3.0: above Vmaxpu
@pytest.mark.parametrize("kv", [12.47, 24.9, 3.0])
def test_model_draws_what_opendss_draws(tmp_path: Path, kv: float) -> None:
    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(kv=kv))
    p_kw, q_kvar, v_kv = load_power(path, "la")
    net = read_opendss(path)
    row = net.loads.filter(net.loads["id"] == "la").row(0, named=True)
    law = (v_kv / row["vn_kv"])
    assert 1000 * row["p_mw"] * law ** row["p_exponent"] == pytest.approx(p_kw, rel=2e-3)
    assert 1000 * row["q_mvar"] * law ** row["q_exponent"] == pytest.approx(q_kvar, rel=2e-3)
    note = next(w for w in net.meta["warnings"] if "rated kV far" in w)
    assert "Load.la" in note and "so does the model" in note


def test_note_uses_the_corrected_voltage_base(tmp_path: Path) -> None:
    path = tmp_path / "lv.dss"
    path.write_text("""Clear
New Circuit.lv basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200 MVAsc1=180
New Line.l1 bus1=src bus2=b1 r1=0.1 x1=0.2 r0=0.3 x0=0.6 length=1 units=mi
New Transformer.t1 phases=3 windings=2 buses=[b1 lv] conns=[delta wye] kvs=[12.47 0.48]
~ kvas=[500 500] xhl=5 %r=1
New Load.l6 bus1=lv phases=3 conn=delta kV=0.48 kW=250 kvar=90 model=1
Set voltagebases=[12.47]
CalcVoltageBases
Solve
""")
    net = read_opendss(path)
    assert any("voltage base" in w and "lv" in w for w in net.meta["warnings"])
    assert not [w for w in net.meta["warnings"] if "rated kV far" in w]

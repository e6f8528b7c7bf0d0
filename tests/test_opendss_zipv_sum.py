"""ZIP loads (model 8) whose ZIPV weights do not sum to 1.

OpenDSS's help says the first three (P) and next three (Q) weights "should sum to 1", but
OpenDSS does not normalise them: it draws ``kW (Zp v^2 + Ip v + Pp)`` (DSS C-API's
``Load.pas``). Before, the reader held ``kW`` at 1 p.u. with the exponent ``2 Zp + Ip``
whatever the sum, so ``ZIPV=[0.2 0.2 0.2 0.3 0.3 0.3 0]`` on a 1000 kW load read as 1000 kW
where OpenDSS draws 598 kW. Truth: OpenDSSDirect.py's own power of the load, against the
model's law ``p_mw (|V|/vn_kv)^p_exponent`` at OpenDSS's voltage (the law's slope at 1 p.u.
is OpenDSS's, so it agrees to the square of the voltage's distance from 1 p.u., here < 0.3 %).
A P sum below 0 (the load injects in OpenDSS) is refused, naming the load and ZIPV.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from feederopt.errors import InputError
from feederopt.io.opendss import read_opendss
from opendss_plain import load_power

FEEDER = """Clear
New Circuit.zipsum basekv=12.47 pu=1.0 phases=3 bus1=src R1=0.1 X1=0.5 R0=0.1 X0=0.5
New Linecode.lc nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.2 units=mi normamps=600
New Line.l1 bus1=src bus2=b1 linecode=lc length=1 units=mi
New Load.lz bus1=b1 phases=3 conn=wye kV=12.47 kW=1000 kvar=300 model=8 ZIPV=[{zipv}]
New Load.lp bus1=b1 phases=3 conn=wye kV=12.47 kW=400 kvar=100 model=1
Set voltagebases=[12.47]
Calcv
Solve
"""


@pytest.mark.parametrize("zipv", ["0.2 0.2 0.2 0.3 0.3 0.3 0", "0.5 0.5 0.5 0.5 0.5 0.5 0",
                                  "0.3 0.3 0.4 0.3 0.3 0.4 0"])
def test_model_draws_what_opendss_draws(tmp_path: Path, zipv: str) -> None:
    path = tmp_path / "zip.dss"
    path.write_text(FEEDER.format(zipv=zipv))
    p_kw, q_kvar, v_kv = load_power(path, "lz")
    net = read_opendss(path)
    rows = net.loads.filter(net.loads["id"] == "lz").to_dicts()
    assert len(rows) == 3
    p_model = sum(1000 * r["p_mw"] * (v_kv / r["vn_kv"]) ** r["p_exponent"] for r in rows)
    q_model = sum(1000 * r["q_mvar"] * (v_kv / r["vn_kv"]) ** r["q_exponent"] for r in rows)
    assert p_model == pytest.approx(p_kw, rel=3e-3)
    assert q_model == pytest.approx(q_kvar, rel=3e-3)
    notes = [w for w in net.meta["warnings"] if "do not sum to 1" in w]
    assert bool(notes) == (zipv.split()[:3] != ["0.3", "0.3", "0.4"])
    if notes:
        assert "Load.lz" in notes[0] and "does not normalise" in notes[0]


def test_negative_p_weights_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "zip.dss"
    path.write_text(FEEDER.format(zipv="-0.5 0.2 0.2 0.3 0.3 0.4 0"))
    with pytest.raises(InputError) as err:
        read_opendss(path)
    (problem,) = err.value.problems
    assert problem.ids == ("lz",) and problem.field == "ZIPV"
    assert "sum to -0.1" in problem.message

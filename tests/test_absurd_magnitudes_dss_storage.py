"""Absurd magnitudes refused by name (task dssabsurd): an OpenDSS line with ``c1=1e300`` (or
``r1``/``x1``/``rmatrix``/``length`` of 1e300) loaded with "problems: none", exit 0, every
node de-energised, or was blamed on its length as "no impedance"; the three-phase tables had
no bound at all; a pandapower storage or ward whose power overflowed was named by its derived
generator row's ``p_mw``. The truth is the file's own value: each is far beyond the bound of
the balanced checks (1e6 p.u.), e.g. ``c1 = 1e300`` nF/mi is ``2 pi 60 1e300 1e-9 12.47^2``
= 5.9e295 p.u."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.api import load
from feederopt.cases import load_any
from feederopt.cli.app import app
from feederopt.errors import InputError
from feederopt.io.opendss import read_opendss

FEEDER = """Clear
New Circuit.bad basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200 MVAsc1=180
New Line.650632 bus1=src bus2=b1 {z} units=mi
New Load.a bus1=b1 phases=3 kV=12.47 kW={kw} kvar=100 model=1
Set voltagebases=[12.47]
CalcVoltageBases
Solve
"""
SOUND = "r1=0.3 x1=0.6 r0=0.6 x0=1.2"


@pytest.mark.parametrize(("z", "kw", "element", "field"), [
    (f"{SOUND} c1=1e300 c0=10 length=1", "100", "650632", "c1"),
    ("r1=1e300 x1=0.6 r0=0.6 x0=1.2 length=1", "100", "650632", "r1"),
    ("r1=0.3 x1=1e300 r0=0.6 x0=1.2 length=1", "100", "650632", "x1"),
    # just above the bound: 2e8 Ohm / (12.47^2 Ohm) = 1.29e6 p.u., where the phase matrix's
    # largest term, (2 r1 + r0) / 3, is 0.86e6 p.u.
    ("r1=2e8 x1=0.6 r0=0.6 x0=1.2 length=1", "100", "650632", "r1"),
    ("rmatrix=[1e300 |0 1e300 |0 0 1e300] xmatrix=[1 |0 1 |0 0 1] length=1", "100", "650632",
     "rmatrix"),
    (f"{SOUND} length=1e300", "100", "650632", "length"),
    (f"{SOUND} length=1", "1e300", "a", "kW"),
])
def test_absurd_dss_value_is_named(tmp_path: Path, z: str, kw: str, element: str,
                                   field: str) -> None:
    path = tmp_path / "bad.dss"
    path.write_text(FEEDER.format(z=z, kw=kw))
    with pytest.raises(InputError) as err:
        load_any(path)  # feederopt.api.load is the balanced reader; this reads a .dss
    problems = err.value.problems
    assert len(problems) == 1, problems
    p = problems[0]
    assert p.field == field and element in p.ids and "absurdly large" in p.message
    res = CliRunner().invoke(app, ["info", str(path)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "absurdly large" in res.output and "problems: none" not in res.output


def test_sound_line_stays_accepted(tmp_path: Path) -> None:
    # a 10 km cable (c1 = 300 nF/km) with 1 Ohm/km: far inside the bounds
    path = tmp_path / "ok.dss"
    path.write_text(FEEDER.format(z="r1=1 x1=0.4 r0=2 x0=1.2 c1=300 c0=200 length=6.2",
                                  kw="100"))
    assert read_opendss(path).check().lines.height == 1


def test_three_phase_tables_bound_magnitudes(tmp_path: Path) -> None:
    """A network built from tables (not the reader) is held by the validation's bounds."""
    path = tmp_path / "ok.dss"
    path.write_text(FEEDER.format(z=f"{SOUND} length=1", kw="100"))
    net = read_opendss(path)
    assert not net.validate()
    z = net.impedances
    net.tables["impedances"] = z.with_columns(b_us=z["b_us"] * 0 + 1e300)
    net.tables["loads"] = net.loads.with_columns(p_mw=net.loads["p_mw"] * 0 + 1e300)
    found = {(p.component, p.field) for p in net.validate()}
    assert {("impedances", "b_us"), ("loads", "p_mw")} <= found


def _pp_net(kind: str, p: float, q: float = 0.0, scaling: float = 1.0) -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b0, b1 = pp.create_bus(net, 20.0), pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, b0)
    pp.create_line_from_parameters(net, b0, b1, 1.0, 0.1, 0.2, 10, 0.4)
    pp.create_load(net, b1, 1.0, 0.2)
    if kind == "storage":
        pp.create_storage(net, b1, p_mw=p, q_mvar=q, max_e_mwh=2.0, scaling=scaling)
    else:
        pp.create_ward(net, b1, ps_mw=p, qs_mvar=q, pz_mw=0.0, qz_mvar=0.0)
        net.ward["scaling"] = scaling
    return net


@pytest.mark.parametrize(("kind", "p", "q", "scaling", "field"), [
    ("storage", -1e308, 0.0, 10.0, "p_mw"),   # -1e308 x 10 overflows to -inf
    ("storage", -1.0, 0.0, 1e300, "scaling"),
    ("storage", -1.0, 1e308, 10.0, "q_mvar"),
    ("storage", -1e300, 0.0, 1.0, "p_mw"),
    ("ward", -1e308, 0.0, 10.0, "ps_mw"),
    ("ward", -1e300, 0.0, 1.0, "ps_mw"),
    ("ward", 1.0, 1e300, 1.0, "qs_mvar"),
])
def test_pandapower_storage_ward_field_named(kind: str, p: float, q: float, scaling: float,
                                             field: str) -> None:
    with pytest.raises(InputError) as err:
        load(_pp_net(kind, p, q, scaling))
    problems = err.value.problems
    assert [(x.field, x.ids) for x in problems] == [(field, (f"{kind}:0",))], problems
    assert "absurdly large" in problems[0].message and kind in problems[0].message

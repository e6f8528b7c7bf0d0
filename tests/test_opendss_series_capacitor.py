"""OpenDSS ``Capacitor`` with ``bus2`` another bus (a series capacitor) and a line from a bus
to itself (user test ut34_opendss3ph F1, F2, F4; its files in ``tests/data/ut34_3ph``).

Before this change the reader took a series capacitor for a shunt on ``bus1`` and the
``bus1``-``bus2`` connection vanished: on ``seriescap.dss`` (a ring) ``solve`` reported a meshed
topology "optimal over the 3 radial states" (sa1 open; OpenDSS: 5 radial states, and with only
sa1 open the loop a3-a2-b2-b2c-b3 stays closed), and ``seriescap_head.dss`` (the capacitor on
the trunk) gave nine ``island_without_source`` problems that never named ``Capacitor.scap``.
``selfloop.dss`` (``Line.sb1 bus1=b1 bus2=b1 switch=yes``) was accepted, and ``solve``
"opened" sb1 as a switching action.

References: the OpenDSS manual's definition of a capacitor's parameters (``X = -kV^2 / Mvar``
per phase, ``X = -1 / (2 pi f C)``, ``R`` and ``XL`` in series), OpenDSS's own primitive
admittance matrix and power flows (plain OpenDSSDirect.py calls written out here), and a
brute force of the ring's switch states with OpenDSS; never our output.
"""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path

import numpy as np
import opendssdirect as dss
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import solve_three_phase, three_phase_info
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss import read_opendss
from feederopt.io.opendss_write import model_script
from feederopt.network.threephase_perunit import to_per_unit_3ph
from feederopt.network.validate import SupplyCapacity
from opendss_plain import plain_solution, solve_script

DATA = Path(__file__).parent / "data" / "ut34_3ph"
RING = DATA / "seriescap.dss"
HEAD = DATA / "seriescap_head.dss"
SELF_LOOP = DATA / "selfloop.dss"
SCAP = "New Capacitor.scap bus1=b2 bus2=b2c phases=3 kvar=3000 kv=12.47"
SWITCHES = ("sa1", "sb1", "t1", "t2")
runner = CliRunner()


def _copy(tmp_path: Path, text: str, name: str = "feeder.dss") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _opendss_series_z(path: Path, element: str) -> np.ndarray:
    """OpenDSS's own series impedance of a two-terminal element: ``(-Yprim[1, 2])^-1``."""
    solve_script(path.read_text(), Path(tempfile.mkdtemp()))
    dss.Circuit.SetActiveElement(element)
    raw = np.asarray(dss.CktElement.YPrim(), float)
    m = math.isqrt(raw.size // 2)
    y = (raw[0::2] + 1j * raw[1::2]).reshape(m, m)
    return np.linalg.inv(-y[: m // 2, m // 2:])


#: Capacitor forms and their series impedance per phase [Ohm] by the OpenDSS manual
#: (Capacitor object), no mutual terms.
FORMS = {
    "kvar=3000 kv=12.47": complex(0, -(12.47**2) / 3.0),  # X = -kV^2 / Mvar, kV line-line
    "kvar=3000 kv=12.47 r=[2] xl=[5]": complex(2, 5 - 12.47**2 / 3.0),  # R, XL in series
    "numsteps=2 kvar=[1500 1500] kv=12.47": complex(0, -(12.47**2) / 3.0),  # steps in parallel
    "cuf=[40]": complex(0, -1 / (2 * math.pi * 60 * 40e-6)),  # X = -1 / (2 pi f C)
}


@pytest.mark.parametrize("form", FORMS)
def test_a_series_capacitor_is_a_line_with_the_manual_impedance(tmp_path: Path,
                                                                 form: str) -> None:
    """``Capacitor.scap`` (``bus1=b2 bus2=b2c``) is a zero-length line b2 -> b2c of kind
    ``capacitor`` whose impedance is the manual's for its form, equal to OpenDSS's own
    ``(-Yprim_12)^-1``, and no shunt; the network validates (its negative reactance is allowed
    on a series capacitor). Failed before: scap was a shunt at b2 and no line reached b2c."""
    path = _copy(tmp_path, RING.read_text().replace(SCAP, f"New Capacitor.scap bus1=b2 "
                                                          f"bus2=b2c phases=3 {form}"))
    net = read_opendss(path)
    assert "scap" not in net.shunts["id"].to_list()
    line = net.lines.filter(pl.col("id") == "scap").row(0, named=True)
    assert (line["from_bus"], line["to_bus"], line["phases"], line["kind"],
            line["length_m"], line["switchable"]) == ("b2", "b2c", "abc", "capacitor", 0.0,
                                                      False)
    z = {(r["row"], r["col"]): complex(r["r_ohm"], r["x_ohm"])
         for r in net.impedances.filter(pl.col("line") == "scap").iter_rows(named=True)}
    truth = _opendss_series_z(path, "Capacitor.scap")
    for i, a in enumerate("abc"):
        for k, b in enumerate("abc"):
            want = FORMS[form] if i == k else 0
            assert z[(a, b)] == pytest.approx(want, rel=1e-9, abs=1e-9), (a, b)
            assert z[(a, b)] == pytest.approx(truth[i, k], rel=1e-9, abs=1e-9), (a, b)
    assert net.validate() == []


def test_a_negative_reactance_is_refused_on_a_line_and_allowed_on_a_series_capacitor(
) -> None:
    """The three-phase check refuses a negative self reactance on a line (a typo) and keeps
    it on a series capacitor only."""
    net = read_opendss(RING)
    as_line = net.replace_tables(lines=net.lines.with_columns(
        pl.when(pl.col("id") == "scap").then(pl.lit("line")).otherwise(pl.col("kind"))
        .alias("kind")))
    (problem,) = as_line.validate()
    assert (problem.kind, problem.component, problem.field, problem.ids) == (
        ProblemKind.BAD_IMPEDANCE, "impedances", "x_ohm", ("scap",))
    assert net.validate() == []


@pytest.mark.parametrize(("path", "edit"), [
    (HEAD, ("", "")),
    # the ring in its radial state sb1, t2 open (with sa1 open its voltages fall to 0.73 p.u.,
    # where OpenDSS turns each whole load into an impedance, the model's single-phase parts
    # each on its own)
    (RING, ("Open Line.sa1 term=1", "Open Line.sb1 term=1")),
])
def test_the_model_solves_as_the_file(tmp_path: Path, path: Path,
                                      edit: tuple[str, str]) -> None:
    """OpenDSS's power flow of the model the reader builds (written back by
    :func:`model_script`: the series capacitor a line of negative reactance) reproduces
    OpenDSS's power flow of the file: the source's P and Q within 1e-5 of the load, every
    node voltage within 1e-5 p.u. Failed before on the head file: ``read_opendss`` raised nine
    ``island_without_source`` problems."""
    text = path.read_text().replace(*edit)
    net = read_opendss(_copy(tmp_path, text))
    full_s, full_ph, _ = plain_solution(text, tmp_path)
    red_s, red_ph, _ = plain_solution(model_script(net), tmp_path)
    load_kw = 5100
    assert abs(red_s.real - full_s.real) <= 1e-5 * load_kw
    assert abs(red_s.imag - full_s.imag) <= 1e-5 * load_kw
    base = dict(zip(net.buses["id"].to_list(), net.buses["vn_kv"].to_list(), strict=True))
    assert set(red_ph) == set(full_ph)
    for key, v in full_ph.items():
        v_base = base[key.split(".")[0]] / math.sqrt(3) * 1000
        assert abs(abs(red_ph[key]) - abs(v)) / v_base <= 1e-5, key


def test_info_reads_the_head_capacitor_and_reports_opendss_losses() -> None:
    """``info`` on the trunk capacitor: no problem, and its base-case losses are OpenDSS's own
    (the file solved by OpenDSS here). Failed before: exit 2 with nine island problems."""
    info = three_phase_info(HEAD)
    assert info["problems"] == []
    solve_script(HEAD.read_text(), Path(tempfile.mkdtemp()))
    assert info["base_losses_kw"] == pytest.approx(dss.Circuit.Losses()[0] / 1000,
                                                    rel=1e-4)


def _is_tree(edges: set[frozenset[str]]) -> bool:
    """Do ``edges`` (bus pairs) form a spanning tree of their buses (union-find)?"""
    buses = {b for e in edges for b in e}
    parent = {b: b for b in buses}

    def root(b: str) -> str:
        while parent[b] != b:
            b = parent[b]
        return b

    for e in edges:
        a, b = (root(x) for x in e)
        if a == b:
            return False
        parent[a] = b
    return len(edges) == len(buses) - 1


def _brute_force() -> tuple[int, tuple[str, ...]]:
    """The ring's radial switch states (a tree over the buses of OpenDSS's own lines,
    transformers and two-terminal capacitors, parallel units one edge) and, by OpenDSS's power
    flow of each (controls off), the one of least losses with every node within 0.9-1.1 p.u."""
    radial: list[tuple[str, ...]] = []
    best: tuple[float, tuple[str, ...]] = (math.inf, ())
    for k in range(len(SWITCHES) + 1):
        for opened in itertools.combinations(SWITCHES, k):
            lines = [*(f"Line.{s}.enabled=yes" for s in SWITCHES),
                     *(f"close Line.{s} term=1" for s in SWITCHES),
                     *(f"open Line.{s} term=1" for s in opened),
                     "set controlmode=off", "solve"]
            solve_script(RING.read_text() + "\n".join(lines) + "\n", Path(tempfile.mkdtemp()))
            edges = set()
            for element in dss.Circuit.AllElementNames():
                cls, name = element.split(".", 1)
                dss.Circuit.SetActiveElement(element)
                ends = {b.split(".")[0].lower() for b in dss.CktElement.BusNames()}
                if (cls.lower() in ("line", "transformer", "capacitor") and len(ends) == 2
                        and not (cls.lower() == "line" and name.lower() in opened)):
                    edges.add(frozenset(ends))
            if not _is_tree(edges):
                continue
            radial.append(opened)
            mags = [v for v in dss.Circuit.AllBusMagPu() if v > 0.05]
            if min(mags) >= 0.9 and max(mags) <= 1.1:
                best = min(best, (dss.Circuit.Losses()[0] / 1000, opened))
    return len(radial), best[1]


def test_solve_on_the_ring_enumerates_its_radial_states_and_picks_opendss_best() -> None:
    """``solve`` on the ring sees all its radial states and answers the brute force's state
    (5 states; sb1, t2 open, the only one within 0.9-1.1 p.u.). Failed before: "optimal over
    the 3 radial states" with sa1 alone open, a meshed topology."""
    n_radial, best = _brute_force()
    assert (n_radial, best) == (5, ("sb1", "t2"))  # the premise, by OpenDSS alone
    result = solve_three_phase(RING)
    assert result["search"] == f"enumeration ({n_radial} radial states)"
    assert tuple(sorted(result["open_switches"])) == best
    assert result["permanent_loops"] == []


def test_supply_bound_stays_above_the_short_circuit_power_past_a_series_capacitor(
        tmp_path: Path) -> None:
    """The scenario check's bound on what can reach a bus (``SupplyCapacity.of_three_phase``)
    stays at or above its true short-circuit power when a series capacitor cancels most of a
    line's reactance: line 1 + j10 Ohm, capacitor -j9 Ohm, so ``|Z| = |1 + j1|`` per phase
    and ``S_sc = 3 V_ph^2 / |Z| = 12.47^2 / sqrt(2)`` MVA (by hand; the source's impedance,
    1.6e-4 Ohm, is below the tolerance). OpenDSS's own power flow carries a 20 MW
    constant-impedance load there: 15.5 MW at 0.88 p.u. Failed before (with the reader's
    change alone): the sum of the branches' ``|Z|`` (19.05 Ohm) gave 8.2 MVA."""
    kvar = 12.47**2 / 9 * 1000  # X = -kV^2 / Mvar = -9 Ohm
    text = ("Clear\nNew Circuit.c basekv=12.47 pu=1.0 phases=3 bus1=s MVAsc3=1e6 MVAsc1=1e6\n"
            "New Line.l bus1=s bus2=m phases=3 length=1 units=none "
            "rmatrix=[1 0 0|0 1 0|0 0 1] xmatrix=[10 0 0|0 10 0|0 0 10] "
            "cmatrix=[0 0 0|0 0 0|0 0 0]\n"
            f"New Capacitor.sc bus1=m bus2=f phases=3 kvar={kvar} kv=12.47\n"
            "New Load.f bus1=f phases=3 kv=12.47 kw=20000 kvar=0 model=2\n"
            "Set VoltageBases=[12.47]\nCalcVoltageBases\nSolve\n")
    path = _copy(tmp_path, text)
    solve_script(text, tmp_path)  # OpenDSS carries the load: 15.5 MW at 0.88 p.u.
    assert min(dss.Circuit.AllBusMagPu()) > 0.85
    assert -dss.Circuit.TotalPower()[0] > 15_000
    net = read_opendss(path)
    bus_ids = net.buses["id"].to_list()
    cap = SupplyCapacity.of_three_phase(to_per_unit_3ph(net), bus_ids)
    assert cap is not None
    s_true = 12.47**2 / abs(complex(1, 10 - 9))
    assert cap.s_stiff[bus_ids.index("f")] >= s_true * (1 - 1e-6)


def test_model_script_keeps_a_switch_impedance(tmp_path: Path) -> None:
    """The model written back (``model_script``) gives OpenDSS the ring's tie t1 (a plain
    line under a SwtControl, hence a switch with an impedance) with the file's own impedance,
    OpenDSS's ``(-Yprim_12)^-1`` of Line.t1 in the file. Failed before: the script wrote
    ``switch=yes`` with the matrices, and OpenDSS took 1 + j1 Ohm per phase."""
    truth = _opendss_series_z(HEAD, "Line.t1")
    net = read_opendss(HEAD)
    written = _copy(tmp_path, model_script(net), "model.dss")
    assert np.allclose(_opendss_series_z(written, "Line.t1"), truth, rtol=1e-9, atol=1e-9)


# ---- a line from a bus to itself ---------------------------------------------------------


def test_a_switch_from_a_bus_to_itself_is_a_self_loop_problem() -> None:
    """``Line.sb1 bus1=b1 bus2=b1 switch=yes`` is a ``self_loop`` error naming sb1 (its two
    ends one bus, as OpenDSS's own BusNames of it say); ``info`` and ``solve`` exit 2 without a
    traceback. Failed before: accepted, and ``solve`` opened sb1."""
    solve_script(SELF_LOOP.read_text(), Path(tempfile.mkdtemp()))
    dss.Circuit.SetActiveElement("Line.sb1")
    ends = {b.split(".")[0].lower() for b in dss.CktElement.BusNames()}
    assert ends == {"b1"}  # the premise, by OpenDSS
    with pytest.raises(InputError) as err:
        read_opendss(SELF_LOOP).check()
    (problem,) = err.value.problems
    assert (problem.kind, problem.component, problem.ids, problem.field) == (
        ProblemKind.SELF_LOOP, "lines", ("sb1",), "to_bus")
    assert "b1" in problem.message
    for command in ("info", "solve"):
        result = runner.invoke(app, [command, str(SELF_LOOP)])
        assert result.exit_code == 2, result.output
        assert "self_loop" in result.output and "sb1" in result.output
        assert "Traceback" not in result.output


# ---- the balanced readers ------------------------------------------------------------------


def test_balanced_series_capacitor_is_refused_by_name_with_a_hint() -> None:
    """A series capacitor in a balanced network (a pandapower ``impedance`` with a negative
    ``xft_pu``) is ``bad_impedance`` naming it, and the hint says that a series capacitor is
    modelled only in three-phase OpenDSS feeders (it said only "non-negative" before)."""
    import pandapower as pp
    import pandapower.networks as pn

    from feederopt.io.pandapower import from_pandapower

    net = pn.case33bw()
    pp.create_impedance(net, 5, 20, rft_pu=0.0, xft_pu=-0.01, sn_mva=1.0)
    errors = [p for p in from_pandapower(net).validate() if p.is_error]
    (problem,) = errors
    assert (problem.kind, problem.ids, problem.field) == (
        ProblemKind.BAD_IMPEDANCE, ("impedance:0",), "x_ohm")
    assert "series capacitor" in problem.hint


def test_balanced_self_loops_are_named() -> None:
    """A pandapower line with ``from_bus == to_bus`` is a ``self_loop`` on its id (held before
    this change as well; the three-phase check now matches it)."""
    import pandapower.networks as pn

    from feederopt.io.pandapower import from_pandapower

    net = pn.case33bw()
    net.line.at[5, "to_bus"] = net.line.at[5, "from_bus"]
    loops = [p for p in from_pandapower(net).validate() if p.kind is ProblemKind.SELF_LOOP]
    assert [(p.component, p.ids) for p in loops] == [("branches", ("line:5",))]

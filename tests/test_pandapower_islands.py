"""A pandapower net with buses that no source reaches: as pandapower's power flow, the reader
leaves an unconnected bus without load unsupplied (left out, with a note naming it); an island
with load is still refused. Results map back to the net's bus indices."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind
from feederopt.io import from_pandapower

STD = "NA2XS2Y 1x185 RM/25 12/20 kV"


def feeder(island_load: bool = False):
    """ext_grid at bus 0; a loop 0-2-3-4-0 closed by a switch; bus 1 unconnected (between the
    others' indices, so that positional mapping would shift them); optionally an island 5-6
    with a load."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    for x, y in [(0, 2), (2, 3), (3, 4), (4, 0)]:
        ln = pp.create_line(net, b[x], b[y], 2.0, STD)
        pp.create_switch(net, b[x], ln, "l", closed=(x, y) != (4, 0))
    pp.create_load(net, b[2], p_mw=1.0, q_mvar=0.3)
    pp.create_load(net, b[3], p_mw=1.5, q_mvar=0.4)
    pp.create_load(net, b[4], p_mw=0.8, q_mvar=0.2)
    if island_load:
        i1, i2 = pp.create_bus(net, 20.0), pp.create_bus(net, 20.0)
        pp.create_line(net, i1, i2, 1.0, STD)
        pp.create_load(net, i2, p_mw=0.2, q_mvar=0.05)
    return net


def test_an_unconnected_bus_is_left_out_with_a_note() -> None:
    net = feeder()
    pp.runpp(net)
    assert np.isnan(net.res_bus.vm_pu.at[1])  # pandapower leaves it unsupplied
    model = from_pandapower(net)
    assert model.buses["id"].to_list() == ["0", "2", "3", "4"]
    notes = [w for w in model.meta["warnings"] if "no source can reach" in w]
    assert len(notes) == 1 and "(1)" in notes[0]
    assert not [p for p in model.validate() if p.is_error]


def test_results_map_back_to_the_net_bus_indices() -> None:
    net = feeder()
    res = feederopt.solve(net, time_limit=60)
    assert res.ac_check is not None and res.ac_check.converged
    opened = {b["id"] for b in res.open_branches}
    # pandapower's own power flow of the user's net with the result's switch states
    check = feeder()
    for k, row in check.switch.iterrows():
        check.switch.at[k, "closed"] = f"line:{row['element']}" not in opened
    pp.runpp(check)
    got = dict(zip(res.buses["id"].to_list(), res.buses["vm_ac_pu"].to_list(), strict=True))
    assert set(got) == {"0", "2", "3", "4"}
    for bus, vm in got.items():
        assert vm == pytest.approx(check.res_bus.vm_pu.at[int(bus)], abs=1e-8)
    losses = (check.res_line.pl_mw.sum()) * 1000.0
    assert res.ac_check.losses_kw == pytest.approx(losses, rel=1e-6)


def test_an_island_with_load_is_still_refused() -> None:
    model = from_pandapower(feeder(island_load=True))
    assert [b for b in model.buses["id"].to_list() if b not in {"0", "2", "3", "4"}] == ["5", "6"]
    with pytest.raises(InputError) as err:
        model.check()
    islands = [p for p in err.value.problems if p.kind is ProblemKind.ISLAND_WITHOUT_SOURCE]
    assert [p.ids for p in islands] == [("5", "6")]


def test_an_island_with_only_a_generator_is_left_out_with_it() -> None:
    """An island 5-6 with an sgen and no load: pandapower's power flow leaves it unsupplied
    (no slack there), so the reader leaves it out with its generator and a note naming both
    (before: island_without_source, exit 2, even for `info`)."""
    net = feeder()
    i1, i2 = pp.create_bus(net, 20.0), pp.create_bus(net, 20.0)
    pp.create_line(net, i1, i2, 1.0, STD)
    pp.create_sgen(net, i2, p_mw=0.3)
    pp.runpp(net)
    assert np.isnan(net.res_bus.vm_pu.at[i2])
    model = from_pandapower(net)
    assert model.buses["id"].to_list() == ["0", "2", "3", "4"]
    assert model.generators.height == 0
    notes = [w for w in model.meta["warnings"] if "no source can reach" in w]
    assert len(notes) == 1 and "sgen:0" in notes[0], notes
    assert not [p for p in model.validate() if p.is_error]


def test_the_readers_note_is_kept_in_the_result_and_its_report(tmp_path) -> None:
    """The note was printed on the console of the run only: result.json and report.html of
    the solve did not say that bus 1 was left out."""
    res = feederopt.solve(feeder(), time_limit=60)
    notes = res.to_dict()["notes"]
    assert any("no source can reach" in n and "(1)" in n for n in notes)
    folder = feederopt.save(res, tmp_path / "out", report=True)
    page = (folder / "report.html").read_text()
    assert "no source can reach" in page[page.index('<section id="notes">'):]

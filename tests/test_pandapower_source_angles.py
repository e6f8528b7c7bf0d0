"""Two sources pinned at angles that disagree with the transformer shifts between them (user
test ut39_realg): pandapower's CIGRE MV net (both 110/20 kV transformers shift_degree 30) with
a second ext_grid at MV bus 12 at the default va_degree 0. pandapower's runpp drives ~107 MW
round the loop 0 - trafo 1 - 12 (1043.9 kW of losses, trafo 1 at 438 %); the model, which has
no angles, said 277.4 kW with only the generic "does not represent every element exactly".
The reader now names the sources, the shift on the path and the consistent setting; the truth
is pandapower's own runpp of the net with that setting, which must give the model's losses."""

from __future__ import annotations

import re
import warnings

import pandapower as pp
import pandapower.networks as pn

import feederopt
from feederopt.io import from_pandapower
from feederopt.io.pandapower_source_angles import Source, source_angle_note

MARK = "sources pinned at angles that disagree"


def cigre_two_sources(va_degree: float = 0.0):
    """The reproducer's net: CIGRE MV with a second ext_grid at bus 12 (lv of trafo 1)."""
    net = pn.create_cigre_network_mv(with_der=False)
    pp.create_ext_grid(net, 12, vm_pu=1.0, va_degree=va_degree, name="eg2")
    return net


def _notes(net) -> list[str]:
    return [w for w in from_pandapower(net).meta["warnings"] if MARK in w]


def _runpp_losses_kw(net) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)
    return 1e3 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())


def test_inconsistent_ext_grid_is_named_with_the_setting_that_pandapower_confirms():
    net = cigre_two_sources()
    (note,) = _notes(net)
    assert "ext_grid 1 'eg2' at bus 12 (va_degree 0)" in note
    assert "ext_grid 0 at bus 0 (va_degree 0)" in note
    assert "trafo:1 (shift 30 degrees, hv bus 0, lv bus 12)" in note
    assert "circulating flow" in note and "unaffected" in note
    match = re.search(r"set va_degree of ext_grid 1 'eg2' at bus 12 to (-?[\d.]+)", note)
    assert match is not None
    assert float(match.group(1)) == -30.0  # lv lags hv by shift_degree: 0 - 30
    # the model's power flow of the base case against pandapower's runpp with the setting
    fidelity = feederopt.model_fidelity(feederopt.load(net))
    assert fidelity.ac_losses_kw > 1000  # the file as given: the circulating flow
    fixed = cigre_two_sources(float(match.group(1)))
    ac_fixed = _runpp_losses_kw(fixed)
    assert abs(fidelity.model_losses_kw - ac_fixed) <= 1e-3 * ac_fixed
    assert not _notes(fixed)  # the consistent net gets no such note


def test_a_slack_gen_is_held_at_zero_so_the_ext_grid_is_the_one_to_move():
    net = pn.create_cigre_network_mv(with_der=False)
    pp.create_gen(net, 12, p_mw=1.0, vm_pu=1.0, slack=True, name="gslack")
    (note,) = _notes(net)
    assert "slack gen 0 'gslack' at bus 12 (held at 0 degrees)" in note
    match = re.search(r"set va_degree of ext_grid 0 at bus 0 to (-?[\d.]+)", note)
    assert match is not None and float(match.group(1)) == 30.0
    model_kw = feederopt.model_fidelity(feederopt.load(net)).model_losses_kw
    net.ext_grid.loc[0, "va_degree"] = float(match.group(1))
    ac_fixed = _runpp_losses_kw(net)
    assert abs(model_kw - ac_fixed) <= 1e-3 * ac_fixed
    assert not _notes(net)


def test_sources_joined_only_through_open_switches_get_no_note():
    """Opening trafo 1's breaker leaves the two sources joined only through open switches
    (switch 7 and the tie S1): no topology the model gives closes that path, and the base
    case is radial, where pandapower agrees with the model."""
    net = cigre_two_sources()
    net.switch.loc[(net.switch.et == "t") & (net.switch.element == 1), "closed"] = False
    assert not _notes(net)
    assert feederopt.model_fidelity(feederopt.load(net)).exact


def _rows(*edges):
    return [{"id": bid, "from_bus": a, "to_bus": b, "in_service": True, "normally_open": False}
            for bid, a, b in edges]


def test_three_sources_only_the_odd_one_is_named_and_negative_shifts_add_up():
    """By hand: bus a -(t1: hv a, lv b, shift -30)- b -(t2: hv c, lv b, shift 150)- c. From a,
    b is at 0 + 30 = 30 and c at 30 + 150 = 180 degrees. Sources at a (0) and b (30) agree;
    the one at c (0) is 180 degrees off and is the only one named."""
    rows = _rows(("t1", "a", "b"), ("t2", "c", "b"))
    shift = {"t1": -30.0, "t2": 150.0}
    srcs = [Source("ext_grid 0", "a", 0.0, True), Source("ext_grid 1", "b", 30.4, True),
            Source("ext_grid 2", "c", 0.0, True)]
    note = source_angle_note(srcs, rows, shift)
    assert note.count("set va_degree") == 1
    assert "set va_degree of ext_grid 2 at bus c to -180" in note
    srcs[2] = Source("ext_grid 2", "c", 180.0, True)
    assert source_angle_note(srcs, rows, shift) == ""
    # open the path: nothing to say
    rows[1]["normally_open"] = True
    srcs[2] = Source("ext_grid 2", "c", 0.0, True)
    assert source_angle_note(srcs, rows, shift) == ""


def test_a_three_winding_transformers_shifts_count_on_the_path():
    """The suggested angle of a source behind a trafo3w's mv winding (shift_mv_degree 150) is
    the angle pandapower's runpp gives that bus fed from the hv side alone (within the 1 degree
    of the voltage drop)."""
    net = pp.create_empty_network()
    hv, mv, lv = (pp.create_bus(net, v) for v in (110.0, 20.0, 10.0))
    pp.create_ext_grid(net, hv)
    pp.create_transformer3w(net, hv, mv, lv, "63/25/38 MVA 110/20/10 kV")
    net.trafo3w[["shift_mv_degree", "shift_lv_degree"]] = [150.0, 30.0]
    pp.create_load(net, mv, 1.0)
    pp.create_load(net, lv, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)
    va_mv = float(net.res_bus.va_degree[mv])
    pp.create_ext_grid(net, mv, va_degree=0.0)
    (note,) = _notes(net)
    match = re.search(rf"set va_degree of ext_grid 1 at bus {mv} to (-?[\d.]+)", note)
    assert match is not None and abs(float(match.group(1)) - va_mv) <= 1.0
    net.ext_grid.loc[1, "va_degree"] = float(match.group(1))
    assert not _notes(net)

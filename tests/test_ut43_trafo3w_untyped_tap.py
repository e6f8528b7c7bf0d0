"""A three-winding transformer's tap off neutral without a ``tap_changer_type``
(user test ut43_ppgrid #4): ``create_transformer3w_from_parameters`` writes the string "nan"
there, which the reader took for a type, so the note that the tap is not applied, which a
two-winding transformer gets, was missing. Truth: pandapower's power flow takes no tap step
(the same voltages as at neutral), and with tap_changer_type='Ratio' it does."""

from __future__ import annotations

import pandapower as pp
import pytest

from feederopt.io import from_pandapower


def _net(side: str, kind: str | None, pos: int = 4):  # type: ignore[no-untyped-def]
    n = pp.create_empty_network()
    b = [pp.create_bus(n, v) for v in (110.0, 20.0, 10.0)]
    pp.create_ext_grid(n, b[0])
    more = {"tap_changer_type": kind} if kind else {}
    pp.create_transformer3w_from_parameters(
        n, b[0], b[1], b[2], 110, 20, 10, 40, 20, 20, 10, 10, 10, 0.5, 0.5, 0.5, 0, 0,
        tap_side=side, tap_pos=pos, tap_neutral=0, tap_step_percent=1.25, **more)
    pp.create_load(n, b[1], p_mw=5, q_mvar=2)
    pp.create_load(n, b[2], p_mw=5, q_mvar=2)
    return n


def _vm(net):  # type: ignore[no-untyped-def]
    pp.runpp(net, numba=False)
    return net.res_bus.vm_pu.to_numpy()


@pytest.mark.parametrize("side", ["hv", "mv", "lv"])
def test_untyped_trafo3w_tap_is_noted_as_not_applied(side: str) -> None:
    net = _net(side, None)
    assert _vm(net) == pytest.approx(_vm(_net(side, None, pos=0)), abs=1e-12)  # ignored
    assert _vm(_net(side, "Ratio")) != pytest.approx(_vm(net), abs=1e-4)  # typed: applied
    (note,) = [w for w in from_pandapower(net).meta["warnings"] if "tap_changer_type" in w]
    assert note.startswith("trafo3w 0: tap_pos 4 is off its neutral 0")
    assert "take no tap step" in note
    assert not [w for w in from_pandapower(_net(side, "Ratio")).meta["warnings"]
                if "tap_changer_type is not set" in w]

"""The warning that the model does not represent every element exactly quotes only the notes
of elements it does not represent exactly (user test ut43_ppgrid #5: it quoted every reader
note, a merged double circuit, unsupplied buses and the like, about 2,000 characters). Truth:
pandapower's power flow: without the ZIP parts, the net with the double circuit and the
unconnected bus is represented exactly."""

from __future__ import annotations

import sys
from pathlib import Path

import pandapower as pp

from feederopt.cli.info import network_info

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import two_feeder_pandapower


def _zip(net):  # type: ignore[no-untyped-def]
    for col in ("const_z_p_percent", "const_z_q_percent"):
        net.load[col] = 50.0
    return net


def _with_exact_elements(net):  # type: ignore[no-untyped-def]
    la1 = int(net.line.index[net.line.name == "LA1"][0])
    row = net.line.loc[la1]
    pp.create_line_from_parameters(net, int(row.from_bus), int(row.to_bus), 2.0, 0.2, 0.35,
                                   12, 0.5, name="LA1b")
    pp.create_bus(net, 20.0, name="spare")  # reaches no source, holds no load
    return net


def test_only_the_inexact_elements_are_quoted() -> None:
    both = network_info(_with_exact_elements(_zip(two_feeder_pandapower())))
    notes = both["warnings"]
    assert any("a double circuit" in n for n in notes)  # the notes themselves stay
    assert any("no source can reach" in n for n in notes)
    (warning,) = [n for n in notes if "does not represent every element exactly" in n]
    assert "ZIP" in warning
    assert "double circuit" not in warning and "no source can reach" not in warning
    # the other elements are exact: without the ZIP parts the model is pandapower's
    exact = network_info(_with_exact_elements(two_feeder_pandapower()))
    assert exact["model"]["exact"]
    assert not [n for n in exact["warnings"] if "does not represent" in n]

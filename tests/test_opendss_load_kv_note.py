"""Loads whose rated kV is far from their connection's voltage are named in a note (user test
ut_3ph #12: IEEE 13's 1-phase wye loads at kV=4.16 on 2.4 kV phases, whose constant-impedance
ones OpenDSS draws at a third of their kW, while `info`'s total counted the nameplate and said
nothing). Truth: OpenDSS's own power of such a load."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from feederopt.cli.app import app


def test_info_names_loads_rated_off_their_connection_voltage() -> None:
    import opendssdirect as dss

    from feederopt.cases.threephase import three_phase_case_path
    from feederopt.io.opendss import compile_circuit

    res = CliRunner().invoke(app, ["info", "ieee13", "--json"])
    assert res.exit_code == 0, res.output
    # one note per law (constant impedance; constant power, 671_1 below its Vminpu 0.6 in
    # OpenDSS's solution, re-rated there: tests/test_opendss_band_edge.py)
    note = " ".join(w for w in json.loads(res.output)["warnings"]
                    if "rated kV far" in w or "band in OpenDSS's solution" in w)
    for ld in ("646_2", "646_3", "671_1"):
        assert ld in note
    compile_circuit(three_phase_case_path("ieee13"))
    dss.Circuit.SetActiveElement("Load.646_2")
    drawn = sum(dss.CktElement.Powers()[0::2])  # kW into the load
    assert drawn < 0.5 * 115.0  # a constant-impedance 115 kW load at V/kV ~ 0.6

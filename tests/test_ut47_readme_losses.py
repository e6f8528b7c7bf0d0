"""The README's snippet after ``result.to_pandapower`` summed ``res_line.pl_mw`` beside
``result.ac_check.losses_kw`` as "the same AC losses": on a net with transformers that misses
their losses (user test ut47_ppgrid #4: 82.57 against 136.52 kW on a cigre MV net with an
OLTC). The snippet now sums every branch element's ``pl_mw`` (line, trafo, trafo3w,
impedance); this runs it, as written in the README, on pandapower's cigre MV net (two
110/20 kV transformers), where pandapower's runpp is the truth."""

from __future__ import annotations

import re
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest

import feederopt

README = Path(__file__).resolve().parents[1] / "README.md"


def _snippet() -> str:
    """The README's lines from ``pp.runpp(new_net)`` to the print of the same AC losses."""
    text = README.read_text(encoding="utf-8")
    m = re.search(r"^pp\.runpp\(new_net\)\n(.*?# the same AC losses)\n", text, re.S | re.M)
    assert m is not None
    return m.group(1)


def test_the_readme_snippet_gives_the_ac_checks_losses_with_transformers() -> None:
    pp_net = pn.create_cigre_network_mv(with_der=False)
    result = feederopt.solve(pp_net, time_limit=30)
    assert result.ac_check is not None and result.ac_check.converged
    new_net = result.to_pandapower(pp_net)
    pp.runpp(new_net)
    printed: list[tuple[float, float]] = []
    scope = {"new_net": new_net, "result": result,
             "print": lambda a, b: printed.append((float(a), float(b)))}
    exec(_snippet(), scope)  # the README's own lines
    ((ours, check),) = printed
    lines_only = 1000 * float(new_net.res_line.pl_mw.sum())
    trafos = 1000 * float(new_net.res_trafo.pl_mw.sum())
    assert trafos > 1.0  # the net has transformer losses, which lines alone miss
    assert ours == pytest.approx(lines_only + trafos, rel=1e-9)
    assert ours == pytest.approx(check, rel=1e-6)
    assert abs(lines_only - check) > 1.0

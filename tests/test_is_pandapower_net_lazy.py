"""Loading a built-in case does not import pandapower (its import took ~2 s of every
``feederopt solve case33bw``): :func:`~feederopt.io.pandapower.is_pandapower_net` answers
"no" for a name, a path or a Network without importing pandapower, since no pandapowerNet
can exist before pandapower is imported; a real net is still recognised.

Truth: ``sys.modules`` of a fresh interpreter (the point is what a new process imports, so a
subprocess), and pandapower's own ``create_empty_network``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from feederopt.io.pandapower import is_pandapower_net

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_loading_a_builtin_case_does_not_import_pandapower() -> None:
    code = ("import sys, feederopt\n"
            "from feederopt.io.pandapower import is_pandapower_net\n"
            "net = feederopt.load('case33bw')\n"
            "assert not is_pandapower_net('case33bw') and not is_pandapower_net(net)\n"
            "print(len(net.buses), 'pandapower' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [SRC, *filter(None, [os.environ.get("PYTHONPATH")])])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["33", "False"], out.stdout


def test_a_pandapower_net_is_still_recognised() -> None:
    import pandapower as pp
    import pandapower.networks as pn

    from feederopt import load

    assert is_pandapower_net(pp.create_empty_network())
    assert not is_pandapower_net("case33bw") and not is_pandapower_net({"bus": []})
    net = pn.case33bw()
    assert is_pandapower_net(net) and not is_pandapower_net(dict(net))
    assert len(load(net).buses) == 33  # read as a pandapower net, not as a case name

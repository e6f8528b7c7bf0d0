"""SCIP's LP solver SoPlex writes some warnings straight to file descriptor 2, past SCIP's
``hideOutput``: ``solve --method misocp --quiet`` on pandapower's example_multivoltage printed
dozens of "Cannot set feasibility tolerance to small value ... without GMP - using 1e-10."
(user test ut36_real #1). A solve without ``verbose`` drops them
(:mod:`feederopt.solvers.native_output`); other output still reaches stderr.

The warning is provoked by asking SCIP for a feasibility tolerance of 1e-12: SCIP passes it
to SoPlex, which without GMP cannot go below 1e-10 and says so."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, Sense
from feederopt.solvers.scip_backend import ScipModel

WARNING = "Cannot set feasibility tolerance"


def small_milp() -> Block:
    """max x + y s.t. x + 2 y <= 7.5, 0 <= x, y <= 10, y integer: by hand x = 7.5, y = 0
    (objective -7.5 as a minimum; y = 1 gives x = 5.5 and -6.5, worse)."""
    b = Block()
    b.add_group(Group.new("x", 1, 0.0, 10.0))
    b.add_group(Group.new("y", 1, 0.0, 10.0, integer=True))
    b.add_rows("cap", {"x": sp.csr_matrix([[1.0]]), "y": sp.csr_matrix([[2.0]])}, Sense.LE,
               np.array([7.5]))
    b.add_objective("x", np.array([-1.0]))
    b.add_objective("y", np.array([-1.0]))
    return b


def test_soplex_warnings_are_dropped_without_verbose(capfd: pytest.CaptureFixture[str]) -> None:
    sol = ScipModel(small_milp(), params={"numerics/feastol": 1e-12}).solve(time_limit_s=30)
    assert sol.objective == pytest.approx(-7.5)
    assert WARNING not in capfd.readouterr().err


def test_other_output_passes(capfd: pytest.CaptureFixture[str]) -> None:
    from feederopt.solvers.native_output import native_noise_dropped

    with native_noise_dropped():
        os.write(2, b"Cannot set feasibility tolerance to small value 1e-12 without GMP - "
                    b"using 1e-10.\n")
        os.write(2, b"a native line\n")
        with native_noise_dropped():  # nested: one pipe
            sys.stderr.write("a Python line\n")
            sys.stderr.flush()
    err = capfd.readouterr().err
    assert WARNING not in err
    assert "a native line\n" in err and "a Python line\n" in err
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"  # descriptor 2 is stderr again

"""``simbench:<code>@`` (an empty study case) is refused, as ``@foo`` is (user test ut50_simb
#4: ``info "simbench:1-MV-rural--0-sw@"`` exited 0 with the base case). The truth is
SimBench's own study cases, ``net.loadcases`` of ``simbench.get_simbench_net``.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError

simbench = pytest.importorskip("simbench")
CODE = "1-LV-rural1--0-sw"


def test_an_empty_study_case_is_refused_with_the_list() -> None:
    cases = ["bc", *[str(c) for c in simbench.get_simbench_net(CODE).loadcases.index]]
    with pytest.raises(InputError) as err:
        feederopt.load(f"simbench:{CODE}@")
    (problem,) = err.value.problems
    assert problem.kind.value == "unknown_case"
    assert "no study case" in problem.message
    listed = problem.hint.split("one of ", 1)[1].split(" after", 1)[0].split(", ")
    assert listed == cases


def test_info_exits_2_on_an_empty_study_case() -> None:
    res = CliRunner().invoke(app, ["info", f"simbench:{CODE}@"])
    assert res.exit_code == 2, res.output
    assert "no study case" in res.output and "lPV" in res.output

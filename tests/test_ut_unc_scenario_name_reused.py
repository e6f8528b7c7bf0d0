"""A scenario file with one name on two blocks of rows (a copied block whose name was not
changed) says that the name is reused (user test ut_unc, item 3).

Before, two 32-row blocks both named ``base`` were refused with "a load appears twice in one
scenario" listing base/10, base/11, ...: true row by row, but the user's mistake was the name.
A single repeated row still gets the row-level message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind
from feederopt.io.scenarios import load_scenarios

HEADER = "scenario,kind,element,p_mw,q_mvar,weight\n"


def rows(name: str, net: feederopt.network.Network, scale: float = 1.0) -> str:
    loads = net.loads
    return "".join(f"{name},load,{i},{p * scale},{q * scale},1.0\n" for i, p, q in zip(
        loads["id"], loads["p_mw"], loads["q_mvar"], strict=True))


@pytest.fixture(scope="module")
def net() -> feederopt.network.Network:
    return feederopt.load("case33bw")


def test_a_name_on_two_blocks_is_named(net, tmp_path: Path) -> None:
    path = tmp_path / "dup_names.csv"
    path.write_text(HEADER + rows("base", net) + rows("base", net, 1.2))
    with pytest.raises(InputError) as exc:
        load_scenarios(net, str(path))
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.BAD_SCENARIO
    assert problem.ids == ("base",) and problem.field == "scenario"
    assert "the scenario name 'base' is used for 2 blocks of rows" in problem.message
    assert f"{len(net.loads)} load(s)" in problem.message
    assert "appears twice in one scenario" not in str(problem)
    # the command line: exit 2, the message, no traceback
    run = subprocess.run([sys.executable, "-m", "feederopt", "solve", "case33bw",
                          "--scenarios", str(path), "--time-limit", "10"],
                         capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert run.returncode == 2
    text = " ".join((run.stdout + run.stderr).split())
    assert "the scenario name 'base' is used for 2 blocks of rows" in text
    assert "Traceback" not in text


def test_a_name_split_around_another_block_is_named(net, tmp_path: Path) -> None:
    path = tmp_path / "split.csv"
    path.write_text(HEADER + rows("base", net) + rows("peak", net, 1.2) + rows("base", net))
    with pytest.raises(InputError) as exc:
        load_scenarios(net, str(path))
    (problem,) = exc.value.problems
    assert problem.ids == ("base",) and "used for 2 blocks" in problem.message


def test_one_repeated_row_keeps_the_row_message(net, tmp_path: Path) -> None:
    path = tmp_path / "dup_row.csv"
    text = rows("base", net)
    path.write_text(HEADER + text + text.splitlines(keepends=True)[3])
    with pytest.raises(InputError) as exc:
        load_scenarios(net, str(path))
    (problem,) = exc.value.problems
    load = net.loads["id"][3]
    n = len(text.splitlines())  # the repeated row is the last, row n + 1; the original row 4
    assert problem.message == (f"a load appears twice in one scenario (base/{load} on rows "
                               f"4, {n + 1})")
    assert problem.ids == (f"base/{load}",)

"""``simbench:<code>@n1`` was taken silently and is ``@hL`` (user test ut42_journey #3):
SimBench's n1 is a study case for (n-1) analysis, of which feederopt takes the loadcase factors
only. The network now says so in a note (the console, the JSON's and the report's notes), and
the README's SimBench section names ``-v`` for long runs and the ``load:<index>`` ids.

The truth: SimBench's own loadcase table (``net.loadcases``), whose n1 row equals hL's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import feederopt

simbench = pytest.importorskip("simbench")
CODE = "1-LV-rural1--0-sw"


def test_n1_says_what_is_taken() -> None:
    table = simbench.get_simbench_net(CODE).loadcases
    assert (table.loc["n1"] == table.loc["hL"]).all()  # SimBench's own factors: n1 is hL's
    n1 = feederopt.load(f"simbench:{CODE}@n1")
    notes = [str(w) for w in n1.meta.get("warnings", [])]
    (note,) = [n for n in notes if "(n-1)" in n]
    assert "factors only" in note and "no (n-1) analysis" in note and "same as hL" in note
    hl = feederopt.load(f"simbench:{CODE}@hL")
    assert not [str(w) for w in hl.meta.get("warnings", []) if "(n-1)" in str(w)]
    assert n1.loads.equals(hl.loads)  # what it takes: hL's loads


def test_readme_simbench_section_names_verbose_and_load_ids() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### SimBench grids", 1)[1].split("\n#", 1)[0]
    head = section.split("```", 1)[0]  # before the first example
    assert re.search(r"`-v`", head)
    assert "--uncertain-loads" in section and "load:<index>" in section
    assert "@n1" in section and "no (n-1) analysis" in section

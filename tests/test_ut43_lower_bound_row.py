"""ut43_optima #3: README's "The keys every result has" said ``lower_bound`` is null when
there is none, while a solve's JSON writes the strings ``"-inf"`` (nothing proven: LinDistFlow,
a heuristic) and ``"inf"`` (a proof of infeasibility), as a later paragraph says: the README
contradicted itself, and a script following the table got a string. The table's row now
says what a solve writes and how to read it (``float``).

Truth: the JSON a LinDistFlow solve of case33bw writes (no bound: a heuristic proves
nothing), and JSON itself (no infinity)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import feederopt
from feederopt.results.result import bound_json

README = Path(__file__).resolve().parents[1] / "README.md"


def _row() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("**The keys every result has.**")
    (row,) = [line for line in text[start:].splitlines()[:20]
              if line.startswith("| `lower_bound` |")]
    return row


def test_the_row_names_what_a_solve_writes() -> None:
    r = feederopt.solve("case33bw", method="lindistflow", time_limit=60, ac_check=False)
    doc = json.loads(json.dumps(r.to_dict()))
    written = doc["lower_bound"]
    assert written == "-inf"  # a heuristic proves no bound
    row = _row()
    assert "(null: none)" not in row
    for value in (written, bound_json(math.inf)):  # the proof of infeasibility's too
        assert isinstance(value, str) and f'`"{value}"`' in row
        assert "float(" in row and math.isinf(float(value))

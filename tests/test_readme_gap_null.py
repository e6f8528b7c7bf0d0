"""User test ut50_pyapi #7: ``feederopt.solve(net, "lindistflow").gap`` is ``inf`` while its
JSON (``to_dict()``, result.json, ``load_result``) has ``"gap": null``, and the README said the
five common attributes were "each equal to its JSON key". The float is kept (comparisons such
as ``r.gap <= 0.01`` and the round trip of ut40_recheck_b #3 rely on it); the README now
states the difference. This test holds the README's statement to the behaviour: JSON has no
infinity (RFC 8259, section 6), so the Python value and the JSON one differ exactly there."""

from __future__ import annotations

import json
import math
from pathlib import Path

import feederopt
from feederopt.results.result import Result

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_states_the_python_values_of_a_json_null_gap() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "each equal to its JSON key." not in text  # the claim that was not true
    assert ('`result.gap` is `math.inf` where the JSON has `"gap": null`' in text)
    assert '`result.lower_bound` is `-math.inf`' in text


def test_the_behaviour_is_the_readmes() -> None:
    r = feederopt.solve("zhang13", "lindistflow")
    doc = json.loads(r.to_json())
    assert doc["gap"] is None and r.gap == math.inf
    assert doc["lower_bound"] == "-inf" and r.lower_bound == -math.inf
    assert Result.from_dict(doc).gap == math.inf
    for key in ("status", "objective", "within_limits"):
        assert doc[key] == getattr(r, key), key

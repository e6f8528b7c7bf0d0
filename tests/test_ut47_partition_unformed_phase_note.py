"""The note on a dark block whose loaded phase no grid-forming DER holds (user test ut47_part #2).

tests/data/ut47_part/t2ph.dss: a two-phase block with a single-phase grid-forming G on b2.1
(phase a, 300 kW), a single-phase grid-following F on b2.2 (phase b, 100 kW) and loads of
50 kW on phase a and 40 kW on phase b (the user's file). A microgrid holds only the phases of
its grid formers (docs/partition-phases.md), so no plan serves the block; the note said the
DERs' per-phase limits cover the loads "so other limits rule out serving it (voltage limits,
kVA ratings...)". It now names phase b, the grid former's phases, and the fix: F grid-forming
and k_der 2, with which the whole 90 kW of the file's loads are served.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("opendssdirect")

DATA = Path(__file__).parent / "data" / "ut47_part"
#: the file's loads: La 50 kW on b2.1, Lb 40 kW on b2.2
LOADS_KW = 50.0 + 40.0


def test_note_names_the_phase_no_grid_former_holds():
    from feederopt.api_partition import partition

    res = partition(str(DATA / "t2ph.dss"), settings=str(DATA / "s2ph.json"),
                    time_limit_s=60)
    assert res.served_load_kw == pytest.approx(0.0, abs=1e-6)
    [note] = [n for n in res.notes if n.startswith("block 1 ")]
    assert "40.0 kW on phase b" in note  # Load.Lb of the file
    assert "none of its grid-forming DERs holds" in note
    assert "Generator.g (a)" in note
    assert '"Generator.f": {"inverter": "gfm"}' in note
    assert "--k-der 2" in note
    # not the old wording, which blamed other limits
    assert "other limits rule out" not in note


def test_following_the_note_serves_every_load(tmp_path):
    """The note's fix, taken as written (the DER id it prints, k_der 2), serves the file's
    90 kW, and OpenDSS's check holds."""
    from feederopt.api_partition import partition

    settings = tmp_path / "fix.json"
    settings.write_text(json.dumps({"dss": {"Generator.G": {"inverter": "gfm"},
                                            "Generator.f": {"inverter": "gfm"}},
                                    "partition": {"k_der": 2}}))
    res = partition(str(DATA / "t2ph.dss"), settings=str(settings), time_limit_s=60)
    assert res.served_load_kw == pytest.approx(LOADS_KW, rel=1e-9)
    assert res.within_limits is True
    assert not [n for n in res.notes if n.startswith("block 1 ")]

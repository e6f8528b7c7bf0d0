"""A transformer's rating as the OpenDSS file gives it (ut_3ph2 findings 2 and 9).

``feederopt info`` shows the rating the three-phase model holds, OpenDSS's ``normhkva``
(110 % of ``kVA`` unless the file sets it), with ``kVA`` as the nameplate, and says that it is
held. ``normhkva=0`` is unrated (OpenDSS's own ``NormAmps`` is then 0; a line's ``normamps=0``
reads the same); a negative or NaN ``normhkva``/``emerghkva`` is bad input (exit 2, the unit
and the property named); a positive value is the file's, however small.

The truth is OpenDSS's: the file is compiled with ``opendssdirect`` in the test (its
``Solve``/``CalcV`` left out: PowerModelsONM's zero-impedance switches stop a plain OpenDSS
Y build, and the properties need none) and ``normhkva``, ``kVA`` and the element's
``NormalAmps`` read back. Fails on the old code (e0462d3): ``info`` showed kVA (500), "not held
by the three-phase model", no ``s_norm_kva``; ``normhkva=0`` rated XFM1 at its 500 kVA (exit 4,
XFM1 at 115 %); ``normhkva=-5`` was taken as 500 kVA (exit 4, no problem).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import opendssdirect as dss
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt import InputError
from feederopt.cases.threephase import three_phase_case_path
from feederopt.cli import app
from feederopt.formulations.lindist3flow import bank_flow_terms, edge_phases
from feederopt.io.opendss import read_opendss
from feederopt.network.threephase_perunit import to_per_unit_3ph

runner = CliRunner()


def _copy(tmp_path: Path, name: str, edit: str = "") -> Path:
    """ieee13mod (PowerModelsONM's IEEE 13 with switches) with ``edit`` appended."""
    text = three_phase_case_path("ieee13mod").read_text()
    path = tmp_path / f"{name}.dss"
    path.write_text(text + ("\n" + edit + "\n" if edit else ""))
    return path


def _opendss_xfm1(path: Path) -> tuple[float, float, float]:
    """OpenDSS's own ``normhkva``, winding 1's ``kVA`` and ``NormalAmps`` of XFM1 in ``path``
    (compiled without its Solve/CalcV lines)."""
    text = "\n".join(ln for ln in path.read_text().splitlines()
                     if not re.match(r"\s*(solve|calcv)", ln, re.I))
    bare = path.with_name(path.stem + "_bare.dss")
    bare.write_text(text + "\n")
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{bare}"')
    finally:
        os.chdir(cwd)
    dss.Text.Command("? Transformer.xfm1.normhkva")
    normhkva = float(dss.Text.Result())
    dss.Transformers.Name("xfm1")
    dss.Transformers.Wdg(1)
    kva = float(dss.Transformers.kVA())
    dss.Circuit.SetActiveElement("Transformer.xfm1")
    return normhkva, kva, float(dss.CktElement.NormalAmps())


def _info(*args: str) -> tuple[int, str]:
    out = runner.invoke(app, ["info", *args], env={"COLUMNS": "220"})
    return out.exit_code, out.output


def test_info_shows_the_held_normhkva(tmp_path: Path) -> None:
    """Stock ieee13mod: XFM1 (kVA=500, no normhkva) is held at OpenDSS's 550 kVA, 76.3 A."""
    normhkva, kva, amps = _opendss_xfm1(_copy(tmp_path, "stock"))
    assert normhkva == pytest.approx(1.1 * kva) and kva == 500.0  # OpenDSS's default
    code, text = _info("ieee13mod", "--json")
    assert code == 0, text
    lim = json.loads(text)["limits"]
    tr = {t["id"]: t for t in lim["transformers"]}["xfm1"]
    assert tr["s_norm_kva"] == pytest.approx(normhkva)
    assert tr["s_kva"] == pytest.approx(kva)
    assert tr["i_norm_a"] == pytest.approx(amps, rel=1e-9)
    assert lim["transformers_held"] is True
    assert lim["transformer_ratings"]["count"] == len(lim["transformers"])

    code, text = _info("ieee13mod")
    assert code == 0, text
    assert "not held" not in text and "does not hold" not in text
    assert "held per phase" in text and "--max-loading" in text
    (row,) = [ln for ln in text.splitlines() if re.match(r"\W*xfm1\b", ln)]
    cells = [c.strip() for c in re.split(r"[│|]", row) if c.strip()]
    # id, from, to, phases, kV from, kV to, kVA, normhkva, I rated
    assert float(cells[6]) == kva and float(cells[7]) == pytest.approx(normhkva)
    assert float(cells[8]) == pytest.approx(amps, rel=1e-3)


def test_normhkva_zero_is_unrated(tmp_path: Path) -> None:
    """``normhkva=0``: OpenDSS's NormalAmps is 0; the model holds no rating on XFM1 (it is
    not among the rated bank phases), a solve does not report it overloaded and exits 0 (the
    stock XFM1 is 104.8 % loaded in every radial state, exit 4)."""
    path = _copy(tmp_path, "zero", "Transformer.XFM1.normhkva=0")
    normhkva, _, amps = _opendss_xfm1(path)
    assert normhkva == 0.0 and amps == 0.0

    net = read_opendss(path)
    row = net.transformers.filter(pl.col("id") == "xfm1").row(0, named=True)
    assert row["s_norm_kva"] == 0.0
    pu = to_per_unit_3ph(net)
    rated = {t[0] for t in bank_flow_terms(pu, edge_phases(pu))}
    assert "xfm1" not in rated and "sub" in rated  # the other units stay rated
    assert any("normhkva=0" in w and "xfm1" in w for w in net.meta.get("warnings", []))

    code, text = _info(str(path), "--json")
    assert code == 0, text
    tr = {t["id"]: t for t in json.loads(text)["limits"]["transformers"]}["xfm1"]
    assert tr["s_norm_kva"] is None and tr["i_norm_a"] is None

    out_json = tmp_path / "zero.json"
    res = runner.invoke(app, ["solve", str(path), "--json", str(out_json),
                              "--time-limit", "60"])
    assert res.exit_code == 0, res.output
    result = json.loads(out_json.read_text())
    assert not any("xfm1" in str(e).lower() for e in result["fixed_overloads"])
    assert not any("xfm1" in str(e).lower() for e in result["overloaded"])
    loading = result["ac_check"]["loading"]
    assert not any("xfm1" in o["element"].lower() for o in loading["overloads"])
    assert "xfm1" not in str(loading["max_loading_element"]).lower()


@pytest.mark.parametrize(("edit", "prop"), [("normhkva=-5", "normhkva"),
                                            ("normhkva=nan", "normhkva"),
                                            ("emerghkva=-1", "emerghkva")])
def test_negative_or_nan_rating_is_refused(tmp_path: Path, edit: str, prop: str) -> None:
    """A negative or NaN rating: a typed problem naming XFM1 and the property, exit 2 from
    ``info`` and ``solve``, no traceback."""
    path = _copy(tmp_path, "bad", f"Transformer.XFM1.{edit}")
    with pytest.raises(InputError) as err:
        read_opendss(path)
    (p,) = err.value.problems
    assert p.kind.value == "invalid_value" and p.ids == ("xfm1",) and p.field == prop
    assert "Transformer.xfm1" in p.message
    code, text = _info(str(path))
    assert code == 2 and "Transformer.xfm1" in text and prop in text
    assert "Traceback" not in text
    res = runner.invoke(app, ["solve", str(path), "--json", str(tmp_path / "o.json"),
                              "--time-limit", "30"])
    assert res.exit_code == 2 and "Transformer.xfm1" in res.output, res.output
    assert not (tmp_path / "o.json").exists()


def test_small_positive_rating_is_kept(tmp_path: Path) -> None:
    """``normhkva=1e-3`` is the file's: read as given (OpenDSS's NormalAmps is the same
    ratio to it as the stock 76.3 A to 550 kVA)."""
    path = _copy(tmp_path, "tiny", "Transformer.XFM1.normhkva=1e-3")
    normhkva, _, amps = _opendss_xfm1(path)
    row = read_opendss(path).transformers.filter(pl.col("id") == "xfm1").row(0, named=True)
    assert row["s_norm_kva"] == pytest.approx(normhkva) == pytest.approx(1e-3)
    assert amps == pytest.approx(1e-3 / 550 * 76.33236732074378, rel=1e-6)


def test_schema_refuses_a_negative_rating(tmp_path: Path) -> None:
    """A three-phase network from elsewhere (not OpenDSS) with a negative or NaN
    ``s_norm_kva``: an ``invalid_value`` problem on that column; 0 and None pass."""
    net = read_opendss(_copy(tmp_path, "schema"))
    ids = net.transformers["id"].to_list()
    values = {"xfm1": -1.0, "sub": float("nan"), "reg1": 0.0}
    net.transformers = net.transformers.with_columns(pl.Series(
        "s_norm_kva", [values.get(i) for i in ids], dtype=pl.Float64))
    bad = [p for p in net.validate() if p.field == "s_norm_kva"]
    assert len(bad) == 1 and set(bad[0].ids) == {"xfm1", "sub"}


@pytest.mark.parametrize("value", ["-5", "nan"])
def test_a_negative_or_nan_line_rating_is_bad_input(tmp_path: Path, value: str) -> None:
    """``normamps=-5`` (OpenDSS stores it, a negative NormAmps) or NaN on a line: exit 2 naming
    the line and the property; before, the line was silently unrated."""
    text = three_phase_case_path("ieee13mod").read_text()
    path = tmp_path / "neg_amps.dss"
    path.write_text(text + f"\nedit Line.650632 normamps={value}\n")
    res = CliRunner().invoke(app, ["info", str(path)])
    assert res.exit_code == 2, res.output
    out = " ".join(res.output.split())
    assert "Line.650632" in out and "normamps" in out and "Traceback" not in out

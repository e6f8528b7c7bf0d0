"""User test ut34 (repro2_read_result.py, api4/api7): ``feederopt.read_result`` refused the
result folders that feederopt itself wrote for a three-phase solve (``feederopt.save(
solve_three_phase("ieee13"), DIR)``) and a partition (``partition ... --out DIR``) with "not a
feederopt result (no open_branches)", though their result.json say their ``kind``. Every kind
feederopt writes is now read back (``tables=True`` too), ``check_result`` refuses the kinds it
does not check naming the kind and what does, and ``write_report`` takes what
``read_result(folder, tables=True)`` returns.

The truth is the files themselves: the dict is ``json.loads`` of result.json, the tables are
``pl.read_parquet`` of the folder's Parquet files, the figures their bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

import feederopt
from feederopt.validation.montecarlo import read_result_to_check as read_for_check

DATA = Path(__file__).parent / "data" / "result_kinds"

#: The stored folders (tests/data/result_kinds/README.md) and the kind each says it is.
STORED = {"partition": "partition", "schedule": "schedule", "restore": "resilience_restore",
          "plan": "resilience_plan"}


@pytest.fixture(scope="module")
def three_phase(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The user's call: a three-phase solve saved with feederopt.save."""
    r = feederopt.solve_three_phase("ieee13", time_limit=60, ac_check=False)
    out = tmp_path_factory.mktemp("tp") / "tp13"
    feederopt.save(r, out)
    return out, r


def test_a_saved_three_phase_solve_is_read_back(three_phase: tuple[Path, object]) -> None:
    out, r = three_phase
    on_disk = json.loads((out / "result.json").read_text())
    assert on_disk["kind"] == "three_phase_solve" and "open_branches" not in on_disk
    doc = feederopt.read_result(out)  # was: InputError "not a feederopt result"
    assert doc == on_disk
    assert doc["open_switches"] == list(r.open_switches)  # type: ignore[attr-defined]
    assert feederopt.ThreePhaseResult.from_dict(doc).open_switches == r.open_switches  # type: ignore[attr-defined]
    folder = feederopt.read_result(out, tables=True)
    assert folder.result == on_disk and folder.buses is None and folder.branches is None
    assert set(folder.images) == {"grid", "voltage_profile"}
    assert folder.images["grid"] == (out / "grid.png").read_bytes()


@pytest.mark.parametrize("name", sorted(STORED))
def test_every_other_kind_is_read_back(name: str, tmp_path: Path) -> None:
    out = tmp_path / name
    shutil.copytree(DATA / name, out)
    on_disk = json.loads((out / "result.json").read_text())
    assert on_disk["kind"] == STORED[name]
    assert feederopt.read_result(out) == on_disk
    assert feederopt.read_result(out / "result.json") == on_disk
    folder = feederopt.read_result(out, tables=True)
    assert folder.result == on_disk
    parquet = {p.stem: pl.read_parquet(p) for p in out.glob("*.parquet")}
    got = {**folder.other_tables,
           **{k: getattr(folder, k) for k in ("buses", "branches") if getattr(folder, k)
              is not None}}
    assert set(got) == set(parquet)
    for k, table in parquet.items():
        assert got[k].equals(table), k


def test_a_partition_folder_has_its_der_setpoints(tmp_path: Path) -> None:
    out = tmp_path / "p"
    shutil.copytree(DATA / "partition", out)
    folder = feederopt.read_result(out, tables=True)
    assert folder.other_tables["der_setpoints"].equals(
        pl.read_parquet(out / "der_setpoints.parquet"))


def test_an_infeasible_solve_result_is_read_back(tmp_path: Path) -> None:
    """A solve's result is read whatever its status: only check_result needs a topology."""
    doc = {"kind": "solve", "schema_version": 1, "status": "infeasible", "open_branches": [],
           "has_topology": False}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    assert feederopt.read_result(path) == doc
    with pytest.raises(feederopt.InputError):
        read_for_check(path)


def test_a_kind_feederopt_does_not_write_is_named(tmp_path: Path) -> None:
    out = tmp_path / "x"
    out.mkdir()
    (out / "result.json").write_text(json.dumps({"kind": "banana", "status": "optimal"}))
    for tables in (False, True):
        with pytest.raises(feederopt.InputError) as err:
            feederopt.read_result(out, tables=tables)
        assert "'banana'" in str(err.value) and "does not write" in str(err.value)


def test_a_broken_three_phase_document_is_a_typed_problem(
        three_phase: tuple[Path, object], tmp_path: Path) -> None:
    out, _ = three_phase
    doc = json.loads((out / "result.json").read_text())
    del doc["open_switches"]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(feederopt.InputError) as err:
        feederopt.read_result(path)
    assert "'open_switches'" in str(err.value) and "from_dict" in str(err.value)


@pytest.mark.parametrize("name", sorted(STORED))
def test_check_result_names_the_kind_and_what_checks_it(name: str) -> None:
    with pytest.raises(feederopt.InputError) as err:
        read_for_check(DATA / name)
    text = str(err.value)
    assert f"(kind '{STORED[name]}')" in text and "no open_branches" not in text
    assert "feederopt.read_result reads this one" in text
    if name in ("partition", "schedule"):
        assert f"check_{name}_result" in text


def test_check_result_names_a_three_phase_result(three_phase: tuple[Path, object]) -> None:
    out, _ = three_phase
    with pytest.raises(feederopt.InputError) as err:
        read_for_check(out)
    assert "(kind 'three_phase_solve')" in str(err.value)


def test_write_report_takes_a_result_folder(three_phase: tuple[Path, object],
                                            tmp_path: Path) -> None:
    """ut34 api7: ``write_report(read_result(DIR, tables=True), "x.html")`` raised TypeError
    ("expected str, bytes or os.PathLike object, not ResultFolder")."""
    out, _ = three_phase
    folder = feederopt.read_result(out, tables=True)
    page = feederopt.write_report(folder, tmp_path / "x.html")
    assert page == tmp_path / "x.html"
    html = page.read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "ieee13" in html.lower()
    with pytest.raises(feederopt.InputError) as err:
        feederopt.write_report(folder.result, tmp_path / "y.html")  # type: ignore[arg-type]
    assert err.value.problems[0].field == "result_dir"
    assert "read_result(folder, tables=True)" in (err.value.problems[0].hint or "")

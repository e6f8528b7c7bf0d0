"""``feederopt cases`` reads the built-in cases' counts from ``cases/data/catalog.json``
(:mod:`feederopt.cases.catalog`) instead of building ~50 cases (10-12 s); the stored rows must
be what building the cases gives, and a row is used only for the installed package versions
and the built-in case itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feederopt.cases import catalog, registry
from feederopt.cases.registry import built_infos, list_cases, register_case


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch):
    registry.case_names()  # the built-ins registered
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry._infos.cache_clear()
    yield
    registry._infos.cache_clear()


@pytest.fixture(scope="module")
def built():  # type: ignore[no-untyped-def]
    """Every case's row, built (about 12 s)."""
    return built_infos()


def test_stored_rows_equal_the_built_cases(built):  # type: ignore[no-untyped-def]
    """Every field of every row, against the cases built now (a stale catalog fails here:
    regenerate it with ``python -m feederopt.cases.write_catalog``)."""
    assert len(built) >= 40
    assert list_cases() == list(built)
    stored = catalog.stored_rows()
    assert set(stored) <= {r.name for r in built}
    # the cases of feederopt's own data depend on no package version: always stored
    own = {r.name for r in built if not catalog.dependencies(r.name, r.origin)}
    assert {"case69bw", "zhang13"} <= own <= set(stored)


def test_listing_builds_no_stored_case(monkeypatch):
    import feederopt.cases.threephase as threephase

    stored = set(catalog.stored_rows())
    built: list[str] = []

    def guard(original):
        def load(name, **kw):
            built.append(name)
            if name in stored:
                raise AssertionError(f"{name}: a stored case was built")
            return original(name, **kw)
        return load

    monkeypatch.setattr(registry, "load_case", guard(registry.load_case))
    monkeypatch.setattr(threephase, "load_three_phase_case",
                        guard(threephase.load_three_phase_case))
    rows = {r.name: r for r in list_cases()}
    assert rows["case33bw"].ties == 5 and rows["case69bw"].buses == 69
    assert set(built) == set(rows) - stored


def test_a_users_case_of_a_builtin_name_is_built():
    """register_case replaces a built-in case: its row is the user's network, not the stored
    one."""
    tiny = registry._REGISTRY["case4_dist"].loader
    register_case("case33bw", tiny, "mine")
    rows = {r.name: r for r in list_cases()}
    assert rows["case33bw"].buses == 4 and rows["case33bw"].description == "mine"
    assert rows["case69bw"].buses == 69


def _write(path: Path, rows: dict) -> Path:
    path.write_text(json.dumps({"cases": rows}), encoding="utf-8")
    return path


def _row(**kw):
    row = {"buses": 3, "branches": 2, "ties": 0, "switchable": 2, "sources": 1,
           "load_mw": 1.0, "load_mvar": 0.5, "origin": "pandapower"}
    row.update(kw)
    return row


def test_a_row_of_other_package_versions_is_not_used(tmp_path):
    pp = catalog.installed_version("pandapower")
    assert pp is not None
    path = _write(tmp_path / "c.json", {
        "now": _row(versions={"pandapower": pp}),
        "older": _row(versions={"pandapower": "0.0.1"}),
        "no_versions": _row(versions={}),
        "own": _row(origin="feederopt", versions={}),
        "nan_load": _row(origin="feederopt", versions={}, load_mw=float("nan")),
        "negative": _row(origin="feederopt", versions={}, buses=-1),
        "missing": {"origin": "feederopt", "versions": {}},
    })
    assert set(catalog.stored_rows(path)) == {"now", "own"}


@pytest.mark.parametrize("text", ["", "{", "[]", '{"cases": []}', '{"cases": {"a": 1}}'])
def test_an_unreadable_catalog_builds_every_case(tmp_path, text):
    path = tmp_path / "c.json"
    path.write_text(text, encoding="utf-8")
    assert catalog.stored_rows(path) == {}
    assert catalog.stored_rows(tmp_path / "absent.json") == {}


def test_a_stale_row_of_the_installed_versions_is_not_what_building_gives(tmp_path, monkeypatch,
                                                                        built):
    """The comparison of the first test can fail: a wrong stored count shows in the listing
    (so the listing does read the catalog) and differs from the built row."""
    data = json.loads(catalog.CATALOG_PATH.read_text(encoding="utf-8"))
    data["cases"]["case69bw"]["ties"] = 4
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(catalog, "CATALOG_PATH", path)
    monkeypatch.setattr(catalog.stored_rows, "__defaults__", (path,))
    rows = {r.name: r for r in list_cases()}
    assert rows["case69bw"].ties == 4
    assert list_cases() != list(built)

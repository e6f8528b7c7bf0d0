"""A folder's ``meta.json`` read loosely (user test ut46_iobad #8): ``{"integer_ids": "yes"}``
was read as true, ``{"name": 5}`` as the name "5", ``{"meta": []}`` as no meta, without a
word. Each key of the wrong JSON type is now a typed problem naming meta.json and the key,
every one at once; the keys of their type (and null, the key left out) are read as before."""

from __future__ import annotations

import json

import pytest

from feederopt.errors import InputError, ProblemKind
from feederopt.io import read_folder, write_folder
from netbuild import tiny


def _folder(tmp_path, meta: dict):
    folder = write_folder(tiny().check(), tmp_path / "net", fmt="csv")
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


@pytest.mark.parametrize(("meta", "key", "text"), [
    ({"integer_ids": "yes"}, "integer_ids", "'integer_ids' must be true or false, not \"yes\""),
    ({"integer_ids": 1}, "integer_ids", "'integer_ids' must be true or false, not 1"),
    ({"name": 5}, "name", "'name' must be a text, not 5"),
    ({"meta": []}, "meta", "'meta' must be a JSON object, not []"),
    ({"format_version": "1"}, "format_version", "'format_version' must be a whole number"),
    ({"format_version": True}, "format_version", "'format_version' must be a whole number"),
    ({"meta": {"warnings": "abc"}}, "meta.warnings",
     "'meta.warnings' must be a list of texts, not \"abc\""),
])
def test_wrong_type_is_named(tmp_path, meta: dict, key: str, text: str) -> None:
    folder = _folder(tmp_path, meta)
    with pytest.raises(InputError) as err:
        read_folder(folder)
    (p,) = err.value.problems
    assert p.kind is ProblemKind.INVALID_VALUE and p.component == "meta.json"
    assert p.field == key and p.ids == (str(folder / "meta.json"),)
    assert p.message.startswith(text), p.message


def test_every_wrong_key_at_once(tmp_path) -> None:
    with pytest.raises(InputError) as err:
        read_folder(_folder(tmp_path, {"name": 5, "integer_ids": "yes", "meta": []}))
    assert sorted(p.field for p in err.value.problems) == ["integer_ids", "meta", "name"]


def test_right_types_and_nulls_are_read(tmp_path) -> None:
    net = read_folder(_folder(tmp_path, {"name": "mine", "integer_ids": True,
                                         "meta": {"warnings": ["a note"]},
                                         "format_version": 1}))
    assert net.name == "mine" and net.integer_ids is True
    assert "a note" in net.meta["warnings"]
    net = read_folder(_folder(tmp_path / "b", {"name": None, "integer_ids": None,
                                               "meta": None}))
    assert net.name == "net" and net.integer_ids is False

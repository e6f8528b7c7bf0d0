"""What ``integer_ids`` does, as docs/columns.md says it (user test ut50_iobad #4): the docs
said that with it "results and write-backs give them as numbers", while a solve of a folder
whose meta.json says ``"integer_ids": true`` (write_folder of case33bw) gives every id as
text. It is a record kept by the folder format and nothing more; the ids stay text. The
truth is the user's files: meta.json as written, result.json as saved."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feederopt
from feederopt.cases import load
from feederopt.io import write_folder

DOCS = Path(__file__).resolve().parents[1] / "docs" / "columns.md"


def _bullet() -> str:
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(r"^\* `integer_ids`:(.*?)(?=^\* `)", text, re.S | re.M)
    assert found, "docs/columns.md has no integer_ids bullet"
    return " ".join(found.group(1).split())


def test_the_docs_do_not_promise_numeric_ids() -> None:
    bullet = _bullet()
    assert "as numbers" not in bullet
    assert "text" in bullet and "result.json" in bullet and "nothing else" in bullet


def test_a_folder_with_integer_ids_gives_text_ids_in_result_json(tmp_path: Path) -> None:
    folder = tmp_path / "rt_33_csv"
    write_folder(load("case33bw"), folder, fmt="csv")
    assert json.loads((folder / "meta.json").read_text())["integer_ids"] is True
    net = feederopt.load(str(folder))
    assert net.integer_ids
    out = tmp_path / "x.json"
    feederopt.save_json(feederopt.solve(net), out)
    doc = json.loads(out.read_text())
    ids = [b[k] for b in doc["open_branches"] for k in ("id", "from_bus", "to_bus")]
    assert ids and all(isinstance(i, str) for i in ids)
    # and so the docs say (this test is the docs' truth)
    assert "text" in _bullet()

"""A result folder (``solve --out DIR``) given where a network is wanted (user test
ut46_iobad #3): ``feederopt info DIR`` said "required column 'r_ohm' is missing" with
did-you-mean hints from the result's columns (``vm_pu`` -> ``v_min_pu``), while ``info
DIR/result.json`` said it was a result. Both now say so, naming the network it was solved on."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io import read_folder, write_folder
from netbuild import tiny

runner = CliRunner()


def _text(args: list[str]) -> tuple[int, str]:
    res = runner.invoke(app, args)
    return res.exit_code, " ".join(res.output.split())


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("resfolder")
    net = write_folder(tiny().check(), base / "net", fmt="csv")
    out = base / "res"
    code, text = _text(["solve", str(net), "--out", str(out), "--time-limit", "30"])
    assert code == 0 and (out / "result.json").is_file(), text
    return net, out


@pytest.mark.parametrize("command", [["info"], ["solve"]])
def test_result_folder_is_named_as_a_result(solved: tuple[Path, Path], command: list[str]
                                            ) -> None:
    net, out = solved
    code, text = _text([*command, str(out)])
    assert code == 2, text
    assert "a feederopt result folder (it holds result.json), not a network" in text
    assert f"give the network it was solved on ({net})" in text
    assert "r_ohm" not in text and "did you mean" not in text
    code, text = _text(["info", str(out / "result.json")])
    assert code == 2 and "a feederopt result (result.json), not a network" in text
    assert f"give the network it was solved on ({net})" in text


def test_network_folder_with_a_result_json_beside_is_still_read(solved: tuple[Path, Path]
                                                                ) -> None:
    net, out = solved
    (net / "result.json").write_bytes((out / "result.json").read_bytes())
    assert read_folder(net).buses.height == tiny().buses.height
    code, text = _text(["info", str(net)])
    assert code == 0, text

"""User test ut50_pyapi #3: ``schedule(feederopt.load("case33bw"))`` was refused with "this case
has no built-in schedule data (given: "Network(buses=shape: (33, 20) ┌───…", ~6,900 characters of
table art), and a hint in the command line's spelling (``--profiles FILE``), though the network
was read from case33bw, whose built-in data ``schedule("case33bw")`` uses. A Network read from
a built-in case's name now gets that case's data; where none applies the problem names the
network in a few words and the options as the caller spells them (``profiles=`` from Python)."""

from __future__ import annotations

import polars as pl
import pytest

import feederopt
from feederopt.api_schedule import schedule_inputs
from feederopt.cases.schedule import schedule_paths
from feederopt.errors import InputError
from feederopt.network.timeseries import DeviceKind


def test_a_network_read_from_a_case_name_gets_its_built_in_data() -> None:
    _, dev, prof = schedule_inputs(feederopt.load("case33bw"))
    # the truth: the built-in CSV files of case33bw, read directly
    dev_dir, prof_file = schedule_paths("case33bw")
    for kind in DeviceKind:
        ids = pl.read_csv(dev_dir / f"{kind.value}.csv", infer_schema=False)["id"].to_list()
        assert dev.ids(kind) == ids and ids, kind
    elements = pl.read_csv(prof_file, infer_schema=False)["element"].unique().to_list()
    assert set(prof.elements) == set(elements)


def test_a_network_without_built_in_data_is_named_in_a_few_words() -> None:
    net = feederopt.load("zhang13")
    with pytest.raises(InputError) as info:
        feederopt.schedule(net, time_limit_s=40)
    (problem,) = info.value.problems
    text = str(problem)
    assert "zhang13" in text and len(text) < 400 and "┌" not in text
    assert "profiles=" in text and "--profiles" not in text and "--devices" not in text


def test_the_command_line_keeps_its_flags(tmp_path: object) -> None:
    from typer.testing import CliRunner

    from feederopt.cli import app

    out = CliRunner().invoke(app, ["schedule", "zhang13", "--time-limit", "40"])
    assert out.exit_code != 0
    assert "--profiles FILE" in out.output


def test_the_note_on_no_devices_names_the_keyword_from_python() -> None:
    net = feederopt.load("zhang13")
    load_id = str(net.loads["id"][0])
    table = pl.DataFrame({"time": list(range(24)), "element": [load_id] * 24,
                          "value": [1.0] * 24})
    notes: list[str] = []
    schedule_inputs(net, table, None, 24, notes)
    (note,) = [n for n in notes if "no devices" in n]
    assert "devices" in note and "--devices" not in note

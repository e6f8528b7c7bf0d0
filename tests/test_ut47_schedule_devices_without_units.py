"""User test ut47_sched #3: ``feederopt schedule case33bw --devices dev_nodg`` (the tester's
folder: storage, PV and EV, no wind, no DG) with the built-in profiles was refused with
"profiles [WT11, WT19, WT26].element: unknown element", rows of the built-in table the user
never wrote. They are now left out with a note; a user's own ``--profiles`` naming units their
devices folder does not define stays an error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import schedule_inputs
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.network.timeseries import DeviceKind

DEV = Path(__file__).parent / "data" / "ut47_sched" / "dev_nodg"
BUILTIN = schedule_paths("case33bw")[1]


def _builtin_rows() -> pl.DataFrame:
    return pl.read_csv(BUILTIN, schema_overrides={"element": pl.String})


def test_builtin_rows_of_units_not_in_the_folder_are_left_out() -> None:
    wind = sorted(e for e in set(_builtin_rows()["element"].to_list()) if e.startswith("WT"))
    assert wind == ["WT11", "WT19", "WT26"] and not (DEV / "wind.csv").exists()  # the truth
    notes: list[str] = []
    _, dev, prof = schedule_inputs("case33bw", None, DEV, 3, notes)
    (note,) = [n for n in notes if "does not define" in n]
    assert "WT11, WT19, WT26" in note and "left out" in note
    assert not set(wind) & set(prof.elements)
    # the folder's own units keep the built-in table's values (read here from the CSV)
    table = _builtin_rows()
    assert dev.ids(DeviceKind.PV) == pl.read_csv(DEV / "pv.csv")["id"].to_list()
    for pv in dev.ids(DeviceKind.PV):
        want = table.filter(pl.col("element") == pv).sort("time")["value"][:3].to_numpy()
        assert np.allclose(prof.of(pv), want)


def test_the_cli_runs_with_the_note(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--devices", str(DEV), "--hours",
                                   "2", "--time-limit", "20", "--no-ac-check"])
    out = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert "unknown element" not in out and "WT11, WT19, WT26; left out" in out


def test_own_profiles_with_unknown_units_stay_an_error(tmp_path: Path) -> None:
    own = tmp_path / "profiles.csv"
    own.write_bytes(BUILTIN.read_bytes())  # the user's own table: it names WT11 .. WT26
    with pytest.raises(InputError) as exc:
        schedule_inputs("case33bw", own, DEV, 3)
    assert any("unknown element" in p.message and "WT11" in p.ids
               for p in exc.value.problems)

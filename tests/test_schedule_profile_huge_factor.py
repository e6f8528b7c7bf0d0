"""A profile factor that makes a load's power absurdly large is refused (user test ut42_badin
#3).

``7,1e300`` in the profile table was only a warning ("written in percent or kW?"); the model's
losses then overflowed (a numpy RuntimeWarning with a source line) and the run ended "no
solution", exit 3. The bound is the network's own for a load (``LOAD_PU_MAX`` p.u. of
``MAGNITUDE_BASE_MVA``: 1e6 MW): load 7 of case33bw is 200 kW (Baran & Wu 1989, bus 8:
200 kW, 100 kvar), so a factor above 1e6 MW / 0.2 MW = 5e6 is refused (hand calculation), and
one below it is only warned about.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind, Severity
from feederopt.io.timeseries import load_devices, load_profiles

ENV = {"COLUMNS": "240"}


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    net = load("case33bw")
    folder, profiles = schedule_paths("case33bw")
    return net, load_devices(folder, net), pl.read_csv(profiles, infer_schema_length=0)


def _with(df: pl.DataFrame, value: str) -> pl.DataFrame:
    """The profiles with load 7's factor at hour 0 set to ``value``."""
    hit = (pl.col("time") == "0") & (pl.col("element") == "7")
    return df.with_columns(pl.when(hit).then(pl.lit(value)).otherwise(pl.col("value"))
                           .alias("value"))


def test_load_7_is_the_published_200_kw(inputs) -> None:  # type: ignore[no-untyped-def]
    net, _, _ = inputs
    row = net.loads.filter(pl.col("id") == "7")
    assert (row["p_mw"][0], row["q_mvar"][0]) == pytest.approx((0.2, 0.1))


@pytest.mark.parametrize("value", ["1e300", "5.05e6", "1.7e308"])
def test_a_factor_above_the_bound_is_refused(inputs, value: str) -> None:  # type: ignore[no-untyped-def]
    net, devices, df = inputs
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow on the way
        with pytest.raises(InputError) as exc:
            load_profiles(_with(df, value), net, devices, need_hours=3)
    (p,) = exc.value.problems
    assert p.kind is ProblemKind.BAD_TIMESERIES and p.severity is Severity.ERROR
    assert (p.component, p.field, p.ids) == ("profiles", "value", ("7@0",))
    assert "absurdly large" in p.message and "1e+06 MW" in p.message


def test_a_factor_below_the_bound_is_read(inputs) -> None:  # type: ignore[no-untyped-def]
    """4.95e6 x 0.2 MW = 9.9e5 MW: within the network's bound (the warning on factors above
    5 is the schedule's, not an error)."""
    net, devices, df = inputs
    prof = load_profiles(_with(df, "4.95e6"), net, devices, need_hours=3)
    assert prof.of("7")[0] == pytest.approx(4.95e6)


def test_a_factor_past_the_horizon_is_not_used(inputs) -> None:  # type: ignore[no-untyped-def]
    """Hour 5 is outside ``--hours 3``: the factor is never used, so not refused."""
    net, devices, df = inputs
    hit = (pl.col("time") == "5") & (pl.col("element") == "7")
    late = df.with_columns(pl.when(hit).then(pl.lit("1e300")).otherwise(pl.col("value"))
                           .alias("value"))
    assert load_profiles(late, net, devices, need_hours=3).hours == 3


def test_the_cli_exits_2_naming_element_and_hour(inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The tester's run: exit 2 before any solve, not 'no solution' (exit 3)."""
    _, _, df = inputs
    path = tmp_path / "p_huge.csv"
    _with(df, "1e300").write_csv(path)
    folder, _ = schedule_paths("case33bw")
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(path), "--devices",
                                 str(folder), "--hours", "3", "--time-limit", "20",
                                 "--no-ac-check"], env=ENV)
    text = " ".join(r.output.split())
    assert r.exit_code == 2, r.output
    assert "bad_timeseries: profiles [7@0].value" in text and "absurdly large" in text
    assert "no solution" not in text and "RuntimeWarning" not in text
    assert "Traceback" not in r.output

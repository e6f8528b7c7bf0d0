"""``scenarios --pv-share/--ev-share/--hp-share`` say how the host count is taken: rounded to
the nearest bus count, which can exceed the share (user test ut48_scen #4: "highest share"
beside 13 of case33bw's 32 load buses with PV at --pv-share 0.4, 40.6 %).

Truth by hand: case33bw has 32 load buses, so a level drawn near 0.4 gives round(0.4 x 32) =
round(12.8) = 13 hosts, one more than floor(12.8) = 12; the generated table is counted per
scenario and technology, and the options' help must not promise the share as a ceiling.
"""

from __future__ import annotations

import math

import polars as pl
import typer

import feederopt
from feederopt.cli import app

SHARES = {"pv": 0.4, "ev": 0.3, "hp": 0.2}


def test_share_help_matches_the_rounded_host_count() -> None:
    table = feederopt.generate_scenarios("case33bw", count=300, pv_share=SHARES["pv"],
                                         ev_share=SHARES["ev"], hp_share=SHARES["hp"], seed=3)
    buses = table.filter(pl.col("kind") == "load")["element"].n_unique()
    assert buses == 32
    hosts = (table.filter(pl.col("kind") == "bus").group_by("scenario", "der")
             .agg(pl.col("element").n_unique().alias("n")))
    most = {d: int(hosts.filter(pl.col("der") == d)["n"].max() or 0) for d in SHARES}
    for der, share in SHARES.items():
        # never above the rounded count, and (the case of the report) above the floor for PV
        assert most[der] <= round(share * buses)
    assert most["pv"] > math.floor(SHARES["pv"] * buses)
    cmd = typer.main.get_command(app)
    params = {p.name: p for p in cmd.commands["scenarios"].params}  # type: ignore[attr-defined]
    for name in ("pv_share", "ev_share", "hp_share"):
        text = " ".join(str(params[name].help).split())
        assert "rounded to the nearest bus count" in text, text
        assert not text.startswith("Highest share"), text

"""Run ``feederopt solve`` with a scenario file through the CLI: the shared harness of the
scenario tests on the tiny feeder (tests/netbuild.py) that read the run's JSON document."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
from typer.testing import CliRunner, Result

from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.network import Network


def load_rows(loads: pl.DataFrame, scenarios: Mapping[str, tuple[float, float]]) -> list[str]:
    """Scenario-file rows ``scenario,load,id,p_mw,q_mvar,weight``: per scenario ``s`` with
    ``(scale k, weight w)``, every load of ``loads`` at ``k`` times its ``p_mw`` and ``q_mvar``
    (``w`` written as given)."""
    return [f"{s},load,{lid},{p * k},{q * k},{w}" for s, (k, w) in scenarios.items()
            for lid, p, q in zip(loads["id"], loads["p_mw"], loads["q_mvar"], strict=True)]


def solve_with_scenarios(tmp: Path, net: Network, rows: list[str]) -> tuple[Result,
                                                                             dict[str, Any]]:
    """Write ``net`` to ``tmp/net`` (CSV) and ``rows`` under the scenario file's header to
    ``tmp/s.csv``, run ``feederopt solve tmp/net --scenarios tmp/s.csv --time-limit 30
    --workers 1 --json tmp/r.json`` (``COLUMNS=240``): the CLI's result and the JSON."""
    write_folder(net, tmp / "net", fmt="csv")
    (tmp / "s.csv").write_text("scenario,kind,element,p_mw,q_mvar,weight\n"
                               + "\n".join(rows) + "\n")
    res = CliRunner().invoke(app, [
        "solve", str(tmp / "net"), "--scenarios", str(tmp / "s.csv"), "--time-limit", "30",
        "--workers", "1", "--json", str(tmp / "r.json")], env={"COLUMNS": "240"})
    return res, json.loads((tmp / "r.json").read_text())

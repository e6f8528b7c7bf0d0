"""``feederopt info`` on a DOPF net with quadratic costs and an unbounded q range (user test
ut42_recheck_a, item B): the device's range names the quadratic term (``cp2_eur_per_mw2`` of
its ``poly_cost``: "30 per MWh + 10 per MW^2 h + 0 per h"; before, "30 per MWh + 0 per h") and
the JSON gives ``cost_per_mw2_per_h``; ``info --json`` is strict JSON (before, a gen's
``q_min_mvar`` was written ``-Infinity``, which strict parsers reject): a non-finite number
is null. Truth: the net's own ``poly_cost`` and q limits (since session 44 a controllable
gen's q range is ``runopp``'s ``min/max_q_mvar``; a NaN one is none: unbounded)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandapower as pp
from typer.testing import CliRunner

from feederopt.cli import app
from netbuild import costed_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")


def _strict(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"non-finite number {constant} in the JSON")
    return json.loads(text, parse_constant=refuse)


def test_info_json_is_strict_and_names_the_quadratic_cost(tmp_path: Path) -> None:
    path = tmp_path / "F.json"
    net = costed_pandapower()
    net.gen.loc[0, "max_q_mvar"] = float("nan")  # no upper q limit: +inf in the model
    pp.to_json(net, str(path))
    out = CliRunner().invoke(app, ["info", str(path), "--json"])
    assert out.exit_code == 0, out.output
    data = _strict(out.stdout)
    json.dumps(data, allow_nan=False)
    dev = {d["id"]: d for d in data["devices"]}
    assert dev["sgen:0"]["cost_per_mw2_per_h"] == 10.0
    assert dev["gen:0"]["cost_per_mw2_per_h"] == 5.0
    assert "30 per MWh + 10 per MW^2 h + 0 per h" in dev["sgen:0"]["range"]
    assert "40 per MWh + 5 per MW^2 h + 3 per h" in dev["gen:0"]["range"]
    # the controllable gen's q within runopp's limits: -5 and none above (null)
    assert dev["gen:0"]["q_min_mvar"] == -5.0 and dev["gen:0"]["q_max_mvar"] is None


def test_info_console_names_the_quadratic_cost(tmp_path: Path) -> None:
    path = tmp_path / "F.json"
    pp.to_json(costed_pandapower(), str(path))
    out = CliRunner().invoke(app, ["info", str(path)], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    assert "10 per MW^2 h" in " ".join(out.output.split())


def test_an_error_as_json_is_strict(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["info", str(tmp_path / "missing.json"), "--json"])
    assert out.exit_code != 0
    _strict(out.stdout)

"""The reader's note on an ext_grid's ``poly_cost`` (read as its bus's import price, priced
beside the losses only with a loss price) is said by ``solve`` only when a loss price is in
effect (user test ut45_mc, item 4: six lines opened every solve of pandapower's case33bw saved
to JSON, with no ``--loss-price`` and no devices, where the objective is the losses alone).

Truth by hand: without ``--loss-price`` and without devices the objective reads no price, so
the note does not concern the run; with ``--loss-price`` it does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
from typer.testing import CliRunner

from feederopt.cli import app

NOTE = "poly_cost cp1_eur_per_mw is read as the import price"


def _ring(path: Path) -> Path:
    """Four buses on a ring (one line a tie), an ext_grid with an import price of 50 per
    MWh."""
    net = pp.create_empty_network()
    buses = [pp.create_bus(net, 12.66) for _ in range(4)]
    pp.create_ext_grid(net, buses[0], vm_pu=1.0)
    for a, b in ((0, 1), (1, 2), (2, 3), (3, 0)):
        pp.create_line_from_parameters(net, buses[a], buses[b], 1.0, 0.3, 0.2, 0.0, 0.4)
    pp.create_switch(net, buses[3], 3, et="l", closed=False)
    for b in buses[1:]:
        pp.create_load(net, b, p_mw=0.3, q_mvar=0.1)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=50.0)
    pp.to_json(net, str(path))
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_note_is_said_only_with_a_loss_price(tmp_path: Path) -> None:
    net = _ring(tmp_path / "ring.json")
    runner = CliRunner()
    plain = runner.invoke(app, ["solve", str(net), "--time-limit", "30", "--workers", "1",
                                "--json", str(tmp_path / "a.json")])
    assert plain.exit_code == 0, plain.output
    assert NOTE not in _flat(plain.output)
    assert not any(NOTE in n for n in json.loads((tmp_path / "a.json").read_text())
                   .get("notes", []))
    priced = runner.invoke(app, ["solve", str(net), "--time-limit", "30", "--workers", "1",
                                 "--loss-price", "40", "--json", str(tmp_path / "b.json")])
    assert priced.exit_code == 0, priced.output
    assert NOTE in _flat(priced.output)
    assert any(NOTE in n for n in json.loads((tmp_path / "b.json").read_text())
               .get("notes", []))

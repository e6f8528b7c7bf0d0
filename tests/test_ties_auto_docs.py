"""``--ties auto`` as documented is what the reader does (user test ut42_recheck_a, item F):
every line switchable only for a switch-free net that has an out-of-service line; a
switch-free net with every line in service has no switchable branch (``--ties
out_of_service`` makes every line switchable). Before, the help text and README said "a net
without any switch element". Truth: the net itself (its lines and their ``in_service``)."""

from __future__ import annotations

import warnings

import pandapower as pp
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app

warnings.filterwarnings("ignore", message=".*numba.*")


def _ring(out_of_service: bool) -> pp.pandapowerNet:
    """Ext grid, three lines in a chain and one back to the source (a ring of 4 buses), no
    switch; the closing line out of service or not."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0])
    for f, t in ((0, 1), (1, 2), (2, 3)):
        pp.create_line_from_parameters(net, b[f], b[t], 1.0, 0.3, 0.3, 0.0, 0.4)
    pp.create_line_from_parameters(net, b[3], b[0], 1.0, 0.3, 0.3, 0.0, 0.4,
                                   in_service=not out_of_service)
    pp.create_load(net, b[2], 0.5, 0.1)
    return net


def test_auto_makes_lines_switchable_only_with_an_out_of_service_line() -> None:
    ties = feederopt.load(_ring(True)).branches
    assert ties["switchable"].all() and ties["normally_open"].sum() == 1
    plain = feederopt.load(_ring(False), ties="auto").branches
    assert not plain["switchable"].any()
    assert feederopt.load(_ring(False), ties="out_of_service").branches["switchable"].all()


def test_the_help_text_says_the_rule() -> None:
    out = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["solve", "--help"])
    text = " ".join(out.output.replace("│", " ").split())
    assert "switch element that has an out-of-service line" in text

"""User test ut42_recheck_a E: ``--loss-price 1e-6`` ended "phase 2: unbounded" (status
interrupted, exit 1) and 1e-4 reported "optimal" with the relaxation not exact (model 22.1 kW
against 33.8 kW in AC): money enters the objective at 1000/price kW per unit and hour, and at
1e7-1e9 the losses fall under the solvers' tolerances. A price below
``MIN_LOSS_PRICE_PER_MWH`` (1e-3, where the tester's DOPF still matched pandapower's runopp to
1e-5) is refused up front, typed, naming the option, exit 2 without a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.options import MIN_LOSS_PRICE_PER_MWH


@pytest.mark.parametrize("price", [1e-6, 1e-4, 9.9e-4])
def test_a_loss_price_below_the_floor_is_refused(price: float) -> None:
    with pytest.raises(InputError) as err:
        feederopt.solve_options(loss_price_per_mwh=price).check()
    text = str(err.value)
    assert "loss_price_per_mwh" in text and "below 0.001" in text and "--loss-price" not in text


def test_the_floor_itself_is_accepted() -> None:
    assert MIN_LOSS_PRICE_PER_MWH == 1e-3
    feederopt.solve_options(loss_price_per_mwh=1e-3).check()


def test_cli_exits_2_naming_the_flag() -> None:
    res = CliRunner().invoke(app, ["solve", "case33bw", "--loss-price", "1e-6", "-q"])
    assert res.exit_code == 2, res.output
    assert "--loss-price" in res.output and "Traceback" not in res.output

"""``--no-thermal-limits`` and the AC check's loading (user test ut48_iobad #2).

With the ratings dropped from the model, the loading of a table folder's branches read "-
(no rated branch)" (``ac_check.max_loading_percent`` null, ``loading_ac_percent`` null on
every branch) while the same net as pandapower JSON gave 101.41 % of the transformer's rating.
The README says the loading is against the data's rating, the limit (null) beside it.

Truth: pandapower's runpp of CIGRE MV at the result's topology (``res_trafo`` and
``res_line.loading_percent``)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest

import feederopt
from feederopt.io import write_folder


def test_table_folder_loading_is_of_the_data_rating_without_thermal_limits(
        tmp_path: Path) -> None:
    net = pn.create_cigre_network_mv(with_der=False)
    write_folder(feederopt.load(net), tmp_path / "cigre", fmt="csv")
    result = feederopt.solve(feederopt.load(tmp_path / "cigre"), thermal_limits=False)
    assert result.ac_check is not None
    assert result.ac_check.loading_limit_percent is None

    # pandapower at the answer's topology: CIGRE MV's own, each tie opened by its switch at
    # one end and charged from the other (the answer keeps it: the test checks that)
    truth = pn.create_cigre_network_mv(with_der=False)
    ties = set(truth.switch.element[(truth.switch.et == "l") & ~truth.switch.closed])
    opened = {int(str(row["id"]).removeprefix("line:")) for row in result.open_branches}
    assert opened == ties == {12, 13, 14}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(truth, tolerance_mva=1e-10)
    expected = {f"trafo:{i}": float(v) for i, v in truth.res_trafo.loading_percent.items()}
    expected |= {f"line:{i}": float(v) for i, v in truth.res_line.loading_percent.items()
                 if i not in opened}
    worst = max(expected, key=lambda k: expected[k])
    assert expected[worst] > 100.0  # the CIGRE transformer, above its rating
    assert result.ac_check.max_loading_element == worst
    assert result.ac_check.max_loading_percent == pytest.approx(expected[worst], rel=1e-4)
    got = dict(zip(result.branches["id"].to_list(),
                   result.branches["loading_ac_percent"].to_list(), strict=True))
    for bid, value in expected.items():
        assert got[bid] is not None and math.isfinite(got[bid]), bid
        assert got[bid] == pytest.approx(value, rel=1e-3, abs=1e-3), bid

"""The iteration log keeps the two phases of a run that proves the limits infeasible apart:
the loss phase's bounds in kW (``lower_bound_kw``/``upper_bound_kw``), the least-violation
search's in p.u. of total slack (``violation_lower_pu``/``violation_upper_pu``, the kW
columns null there), each row named by its ``phase``. Before, the search's values went into the
kW columns: on case33bw with v_min 0.95 the "lower bound" fell from 123.33 kW to 0 and the
convergence plot's kW axis dropped to 0 (user test ut_feas #1).

Truth, independent of the tool: the 7-bus grid of :mod:`test_least_violation`, whose 79 radial
topologies all break v_min in pandapower's power flow (checked again here, by runpp of each).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.report.plot import convergence_figure
from feederopt.solvers.status import IterationRecord
from feederopt.validation.ac import ac_power_flow
from test_least_violation import EDGES, P_MW, V_MIN, _is_radial, weak_grid


def _every_radial_topology_breaks_v_min() -> bool:
    import numpy as np

    net, n, m = weak_grid(), len(P_MW), len(EDGES)
    worst = []
    for opened in itertools.combinations(range(m), m - (n - 1)):
        if _is_radial(n, [EDGES[k] for k in range(m) if k not in opened]):
            y = np.array([k not in opened for k in range(m)])
            worst.append(ac_power_flow(net, y).min_voltage_pu)
    return len(worst) == 79 and max(worst) < V_MIN - 1e-3


def test_the_violation_phase_has_its_own_columns(tmp_path: Path) -> None:
    assert _every_radial_topology_breaks_v_min()
    folder = write_folder(weak_grid(), tmp_path / "weak")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["solve", str(folder), "--out", str(out), "-v",
                                   "--time-limit", "60"])
    assert res.exit_code == 3, res.output
    frame = pl.read_parquet(out / "iterations.parquet")
    assert {"phase", "violation_lower_pu", "violation_upper_pu"} <= set(frame.columns)
    losses = frame.filter(pl.col("phase") == "losses")
    violation = frame.filter(pl.col("phase") == "least violation")
    assert losses.height and violation.height
    # the kW lower bound never falls: a proven bound of the losses only
    lb = [v for v in frame["lower_bound_kw"].to_list() if v is not None and math.isfinite(v)]
    assert lb and all(b >= a for a, b in itertools.pairwise(lb))
    # the search's rows: no kW value, their total slack in p.u.
    assert violation["lower_bound_kw"].null_count() == violation.height
    assert violation["upper_bound_kw"].null_count() == violation.height
    assert violation["violation_upper_pu"].null_count() < violation.height
    assert losses["violation_upper_pu"].null_count() == losses.height
    # the console names the phase and the unit of each line
    text = " ".join(res.output.split())
    assert "least violation" in text and "p.u." in text


def test_the_plot_keeps_the_violation_off_the_kw_axis() -> None:
    log = [IterationRecord(0, 120.0, math.inf, math.inf, 0.1).to_dict(),
           IterationRecord(1, 123.3, math.inf, math.inf, 1.0, note="master infeasible").to_dict(),
           IterationRecord(2, math.nan, math.nan, 1.0, 2.0, phase="least violation",
                           violation_lower_pu=0.0, violation_upper_pu=0.0561).to_dict()]
    fig = convergence_figure(log)
    kw_axes = [ax for ax in fig.axes if "kW" in ax.get_ylabel()]
    assert len(kw_axes) == 1
    low, _ = kw_axes[0].get_ylim()
    assert low > 100.0  # the violation's 0 and 0.0561 p.u. are not on it
    assert any("p.u." in ax.get_ylabel() for ax in fig.axes)

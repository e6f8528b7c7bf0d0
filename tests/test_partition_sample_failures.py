"""A failing OpenDSS sample (IV-E) names the limits it breaks (user test ut45b_part #3: the
JSON's ``checks`` and the console said "11 of 30 samples break a limit" and named none).

ring5 (tests/test_partition_operating_point_q.py) with its plan's grid-forming source put at
0.9 p.u. (``v_set_pu``) at the nominal load: every node downstream falls below the band's
0.9 p.u. Truth: our own OpenDSS island of the plan (written by hand, no code of feederopt's)
at a 0.9 p.u. source gives the lowest node voltage the recorded breach must show.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer

from feederopt.api_partition import partition
from feederopt.cases import load_three_phase
from feederopt.cli.partition import exit_if_not_within, failed_sample_lines
from feederopt.problems.partition import build_partition_data, read_settings
from feederopt.validation.partition import ac_sample_share

sys.path.insert(0, str(Path(__file__).parent))
from test_partition_operating_point_q import RING5, SETTINGS, _opendss_range


def test_failing_samples_name_their_broken_limits(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    feeder, sfile = tmp_path / "ring5.dss", tmp_path / "s.json"
    feeder.write_text(RING5)
    sfile.write_text(json.dumps(SETTINGS))
    res = partition(str(feeder), settings=sfile, k_der=2, time_limit_s=60)
    doc = res.to_dict()
    lo, _ = _opendss_range(doc, v_set=0.9)
    assert lo < 0.9 - 1e-3
    net = load_three_phase(str(feeder)).nameplate_band_loads()
    st, _ = read_settings(sfile, net)
    data = build_partition_data(net, st)
    ac = ac_sample_share(net, data, res.plan, uncertainty=0.0, samples=3, v_set_pu=0.9)
    assert ac.feasible == 0 and len(ac.failures) == 3
    for f in ac.failures:
        assert f["converged"]
        worst = f["limit_violations"][0]
        assert (worst["component"], worst["limit"], worst["rating"]) == ("buses", "v_min", 0.9)
        assert abs(worst["value"] - lo) < 1e-3, (worst, lo)
        assert abs(worst["amount"] - (0.9 - worst["value"])) < 1e-12
    # the console names them, as the solve's AC check does
    checks = SimpleNamespace(samples=3, ac_pct=0.0, ac_feasible=0, ac_failures=ac.failures)
    lines = failed_sample_lines(checks)
    assert re.fullmatch(r"  OpenDSS sample [012]: breaks the limits at:", lines[0]), lines
    assert "voltage below its minimum (v_min)" in lines[1]
    with pytest.raises(typer.Exit):
        exit_if_not_within(None, checks, trivial_plan=False, status="optimal", quiet=False)
    err = capsys.readouterr().err
    assert "3 of 3 samples" in err and "breaks the limits at:" in err, err

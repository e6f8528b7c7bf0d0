"""``restore``/``plan`` take the radiality name in any case, as solve's options take theirs
(session 48's known list: ``radiality="Forest"`` was refused)."""
import pytest

import feederopt
from feederopt.errors import InputError


def test_restore_radiality_any_case() -> None:
    res = feederopt.restore("case33bw", ["6"], radiality=" Seed ", time_limit_s=60,
                            ac_check=False)
    assert res.radiality == "seed"
    # the seed model's own switching penalty default applies, as with "seed": the docs'
    # 0.01 p.u. = 10 kW at 1000 kVA per closed line
    assert res.penalty_kw == pytest.approx(10.0 * len(res.operation.closed_lines))
    assert res.penalty_kw > 0


def test_restore_radiality_unknown_still_refused() -> None:
    with pytest.raises(InputError) as e:
        feederopt.restore("case33bw", ["6"], radiality="tree")
    assert "radiality" in str(e.value)


def test_plan_settings_radiality_any_case() -> None:
    assert feederopt.api_resilience.plan_settings(radiality="Forest").radiality.value == "forest"

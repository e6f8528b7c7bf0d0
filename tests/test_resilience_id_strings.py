"""``restore`` and ``plan`` take a comma-separated string of line ids as the command line does
(user test ut_dopfres #5: ``restore("zhang13", "15")`` broke lines 1 and 5, the string read
character by character, and shed 1155.35 kW)."""

from __future__ import annotations

import feederopt


def test_restore_takes_a_comma_separated_string() -> None:
    one = feederopt.restore("zhang13", "15", ac_check=False)
    assert one.broken == ["15"]
    assert one.shed_kw == feederopt.restore("zhang13", ["15"], ac_check=False).shed_kw
    two = feederopt.restore("zhang13", " 2, 11", ac_check=False)
    assert two.broken == ["2", "11"]
    assert feederopt.restore("zhang13", 15, ac_check=False).broken == ["15"]


def test_plan_takes_a_comma_separated_string() -> None:
    got = feederopt.plan("zhang13", broken="2,11", ac_check=False, measures=False)
    ref = feederopt.plan("zhang13", broken=["2", "11"], ac_check=False, measures=False)
    assert (got.expected_total, got.hardened) == (ref.expected_total, ref.hardened)

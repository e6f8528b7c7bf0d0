"""A closed branch inside the part that broken lines cut off carries nothing: its AC current
is 0, like its power and loss (user test ut36_results #1: ``i_ac_ka`` was null there beside
``p_from_ac_kw`` 0.0, so a sum or filter of the column met nulls for this group only).

zhang13 with lines 2, 11 and 15 broken: buses 10-13 have no path to the source (by the
topology alone; the seed's case has no backup DG), so lines 12, 13 and 14 join dead buses."""
from feederopt.api_resilience import restore


def test_dead_closed_branches_carry_zero_current() -> None:
    r = restore("zhang13", ["2", "11", "15"], time_limit_s=120)
    rows = {row["id"]: row for row in r.branches.iter_rows(named=True)}
    dead = [b for b in ("12", "13", "14") if rows[b]["closed"]]
    assert dead  # the operation keeps at least one of them closed
    for b in dead:
        assert rows[b]["p_from_ac_kw"] == 0.0 and rows[b]["loss_ac_kw"] == 0.0
        assert rows[b]["i_ac_ka"] == 0.0
    assert rows["1"]["i_ac_ka"] > 0  # a live branch keeps its current

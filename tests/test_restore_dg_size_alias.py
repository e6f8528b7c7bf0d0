"""``restore(..., dg_size_kw=...)``: the command line's ``--dg-size`` spelt as a keyword got
"did you mean 'dg_sites'?" (user test ut45b_resil #6). It is now an alias of ``dg_p_max_kw``:
the same restoration as the canonical keyword, and another than the default 100 kW rating
(case33bw with branch 1, the source's only line, broken and a backup DG at bus 18: the
feeder is cut from the source, so only the DG's island is served and a 500 kW unit sheds
less than a 100 kW one).

Branch 1 rather than branch 2: the alias is what is tested, and any broken set where the
rating changes the shed shows it; with branch 2 the ties reconnect most of the feeder and
each restoration's MILP took ~18 s, with branch 1 it is well under a second. The
restorations run without the AC check (``ac_check=False``): the test compares the MILP's
shed, which the AC power flow of the restored operation does not change."""

from __future__ import annotations

import pytest

import feederopt


def test_dg_size_kw_is_dg_p_max_kw() -> None:
    alias = feederopt.restore("case33bw", "1", dg_sites=["18"], dg_size_kw=500, time_limit=60,
                              ac_check=False)
    canonical = feederopt.restore("case33bw", "1", dg_sites=["18"], dg_p_max_kw=500,
                                  time_limit=60, ac_check=False)
    default = feederopt.restore("case33bw", "1", dg_sites=["18"], time_limit=60,
                                ac_check=False)
    assert alias.status == canonical.status == default.status == "optimal"
    assert alias.shed_kw == pytest.approx(canonical.shed_kw, abs=1e-6)
    assert alias.shed_kw < default.shed_kw - 100.0  # the rating acted


def test_both_spellings_at_once_are_refused() -> None:
    with pytest.raises(feederopt.InputError, match="two names of one option"):
        feederopt.restore("case33bw", "2", dg_sites=["18"], dg_size_kw=500, dg_p_max_kw=400)

"""pandapower's placeholder rating is no rating (user test ut46_pyapi).

``pandapower.networks.case33bw()`` writes ``max_i_ka = 99999`` on every line: no current
reaches it (pandapower's own power flow loads the lines to ~0 %), and pandapower's networks use
it for "no rating". It was read as a rating: the report said "ratings held (37 rated
branches)" and "largest loading 0.00 %". From
:data:`feederopt.network.validate.RATING_PLACEHOLDER_KA` (9999 kA) on, the pandapower reader
reads a line as unrated, with a note; a real rating (0.4 kA) is kept as ``max_i_ka x df x
parallel``, as pandapower's ``loading_percent`` divides by.

Independent truth: pandapower's power flow (``res_line.loading_percent`` of the rated line,
against the current it computes) and the report's words for a network without ratings, as the
built-in case33bw (Baran & Wu's data, which give no rating) reads.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn

import feederopt


def test_the_placeholder_is_read_as_no_rating_with_a_note() -> None:
    net = pn.case33bw()
    assert (net.line["max_i_ka"] == 99999.0).all()
    read = feederopt.load(net)
    assert read.branches["i_max_ka"].null_count() == len(net.line)
    notes = " ".join(read.meta["warnings"])
    assert f"{len(net.line)} line(s) have max_i_ka >= 9999 kA" in notes, read.meta


def test_a_real_rating_beside_them_is_kept_as_pandapower_divides_by_it() -> None:
    net = pn.case33bw()
    net.line.loc[0, "max_i_ka"] = 0.4
    net.line.loc[0, "df"] = 0.9
    read = feederopt.load(net)
    i_max = dict(zip(read.branches["id"].to_list(), read.branches["i_max_ka"].to_list(),
                     strict=True))
    pp.runpp(net)
    i_ka = net.res_line.loc[0, "i_ka"]
    # pandapower's loading of line 0 is its current over the rating feederopt reads
    assert math.isclose(net.res_line.loc[0, "loading_percent"], 100 * i_ka / i_max["line:0"],
                        rel_tol=1e-9)
    assert sum(v is not None for v in i_max.values()) == 1
    notes = " ".join(read.meta["warnings"])
    assert f"{len(net.line) - 1} line(s) have max_i_ka >= 9999 kA" in notes


def test_the_solve_and_report_say_no_rating(tmp_path: Path) -> None:
    r = feederopt.solve(pn.case33bw(), time_limit=30, ac_check=False)
    assert r.extra["settings"]["thermal_limits"] is False
    assert r.extra["settings"]["rated_branches"] == 0
    html = feederopt.save(r, tmp_path / "o", report=True) / "report.html"
    text = html.read_text()
    assert "none (no branch has a rating)" in text
    assert "37 rated branches" not in text

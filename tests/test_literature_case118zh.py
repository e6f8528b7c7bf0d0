"""case118zh's published figures (user test ut32_pub #2): Zhang, Fu & Zhang, EPSR 77 (2007),
865.86 kW; later papers about 853.6 kW. The verdicts follow from the bound/UB pair alone
(hand values; the SOCP bound holds for every radial configuration)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from feederopt.cli.solve import print_devices
from feederopt.results.literature import classify


def _verdicts(lb: float, ub: float) -> dict[float, str]:
    return {e["losses_kw"]: e["verdict"] for e in classify("case118zh", lb, ub)}


def test_case118zh_has_its_published_figures() -> None:
    entries = classify("case118zh", 852.45, 869.73)  # the user's 180 s run
    assert {e["losses_kw"] for e in entries} == {865.86, 853.6}
    assert any("Zhang, Fu & Zhang 2007" in e["source"] for e in entries)
    # both between the proven bound and the losses found: neither proven nor refuted
    assert all(e["verdict"] == "undecided" for e in entries)


@pytest.mark.parametrize(("lb", "ub", "expected"), [
    (852.45, 869.73, {865.86: "undecided", 853.6: "undecided"}),
    (858.45, 869.73, {865.86: "undecided", 853.6: "unattainable"}),  # the 600 s run
    (852.45, 865.0, {865.86: "improved upon", 853.6: "undecided"}),  # found below 865.86
    (866.0, 870.0, {865.86: "unattainable", 853.6: "unattainable"}),
    (850.0, 853.0, {865.86: "improved upon", 853.6: "improved upon"}),
    (850.0, 865.86, {865.86: "attainable", 853.6: "undecided"}),     # the figure itself
])
def test_case118zh_verdicts_follow_the_bound_and_the_upper_bound(
        lb: float, ub: float, expected: dict[float, str]) -> None:
    assert _verdicts(lb, ub) == expected


def test_solve_prints_the_case118zh_verdicts(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "240")
    result = SimpleNamespace(dopf=None, literature=classify("case118zh", 852.45, 869.73))
    print_devices(result)
    text = capsys.readouterr().out
    assert "Published figures against the proven lower bound" in text
    assert "865.86" in text and "853.60" in text and "undecided" in text

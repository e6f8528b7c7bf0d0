"""``feederopt solve FILE.m --loss-price L``: the objective by part (``cost_breakdown`` in the
JSON, the table "Objective by part" on the console). MATPOWER counts a generator's ``c0`` in
its total cost whenever it is in service, at 0 MW too (User's Manual, Table B-4: ``f(p) = c2
p^2 + c1 p + c0``); the objective carried it with no word. The parts now sum to the objective:
losses + switching + 1000 / L (fixed c0 + linear c1 p + quadratic c2 p^2 + reactive).

Truth: the .m file's own numbers, read here from its text: the c0 of the in-service generators
that are not at a REF bus (rows 3 and 5: 7 + 4; row 4 is out of service, rows 1 and 2 are the
REF buses' sources), and c1, c2 of each row (c1q, c2q of its reactive row) at the dispatch the
result reports."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from test_matpower_gencost import _with_gencost

#: gencost rows (MODEL 2, NCOST 3: c2 c1 c0) per mpc.gen row: the REF sources' (unread), then
#: bus 8's, bus 9's (out of service) and bus 4's
GENCOST = {3: (4.0, 1.0, 7.0), 4: (5.0, 20.0, 9.0), 5: (3.0, 2.0, 4.0)}
#: the reactive rows (ng+1..2ng: c2q, c1q, c0q) of the same generators
QCOST = {3: (2.0, 3.0, 0.0), 4: (2.0, 3.0, 0.0), 5: (1.0, 5.0, 0.0)}
TEXT = _with_gencost("".join(
    "\t2\t0\t0\t3\t0\t0\t0;\n" * 2 + "".join(
        f"\t2\t0\t0\t3\t{c2:g}\t{c1:g}\t{c0:g};\n" for c2, c1, c0 in costs.values())
    for costs in (GENCOST, QCOST)))
PRICE = 300.0
SWITCH = 2.0


def file_generators(text: str) -> dict[int, tuple[int, int]]:
    """mpc.gen row number -> (bus, status), and the REF buses, read from the file's text."""
    def block(name: str) -> list[list[float]]:
        body = text.split(f"mpc.{name} = [")[1].split("];")[0]
        return [[float(x) for x in line.replace(";", " ").split()]
                for line in body.strip().splitlines()]

    ref = {int(r[0]) for r in block("bus") if int(r[1]) == 3}
    return {k + 1: (int(r[0]), int(r[7])) for k, r in enumerate(block("gen"))
            if int(r[0]) not in ref}


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    folder = tmp_path_factory.mktemp("costs")
    path = folder / "my13c.m"
    path.write_text(TEXT)
    out = folder / "r.json"
    args = ["solve", str(path), "--loss-price", f"{PRICE:g}", "--switch-cost", f"{SWITCH:g}",
            "--time-limit", "60"]
    res = CliRunner().invoke(app, [*args, "--json", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    console = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert console.exit_code == 0, console.output
    return json.loads(out.read_text()), console.output


def test_the_parts_sum_to_the_objective(solved: tuple[dict, str]) -> None:
    doc, _ = solved
    parts = doc["cost_breakdown"]
    total = parts["losses_kw"] + parts["switching_kw"] + sum(
        parts[f"{k}_kw"] for k in ("fixed", "linear", "quadratic", "reactive", "import"))
    assert total == pytest.approx(doc["objective"], rel=1e-6)
    assert parts["total_kw"] == pytest.approx(doc["objective"], rel=1e-6)
    assert parts["losses_kw"] == pytest.approx(doc["losses_kw"], rel=1e-12)
    # each part per hour is 1000 / price of its kW-equivalent
    for k in ("fixed", "linear", "quadratic"):
        assert parts[f"{k}_kw"] == pytest.approx(parts[f"{k}_per_h"] * 1000.0 / PRICE)
    # the answer dispatches both running generators (else c1, c2 would not be tested)
    assert all(g["p_mw"] > 0.05 for g in doc["generators"])


def test_the_fixed_part_is_the_files_c0_of_the_committed_generators(
        solved: tuple[dict, str]) -> None:
    doc, _ = solved
    gens = file_generators(TEXT)
    committed = [row for row, (_, status) in gens.items() if status == 1]
    assert committed == [3, 5]
    parts = doc["cost_breakdown"]
    assert parts["fixed_per_h"] == pytest.approx(sum(GENCOST[r][2] for r in committed))
    # per generator (id = mpc.gen row), c0, c1 p and c2 p^2 with the file's coefficients
    p = {g["id"]: g["p_mw"] for g in doc["generators"]}
    rows = {g["id"]: g for g in parts["per_generator"]}
    assert set(rows) == {str(r) for r in committed}
    for r in committed:
        c2, c1, c0 = GENCOST[r]
        g = rows[str(r)]
        assert g["bus"] == str(gens[r][0])
        assert g["fixed_per_h"] == c0
        assert g["linear_per_h"] == pytest.approx(c1 * p[str(r)], rel=1e-9)
        assert g["quadratic_per_h"] == pytest.approx(c2 * p[str(r)] ** 2, rel=1e-9)
    assert parts["linear_per_h"] == pytest.approx(sum(GENCOST[r][1] * p[str(r)]
                                                      for r in committed), rel=1e-9)
    assert parts["quadratic_per_h"] == pytest.approx(sum(GENCOST[r][0] * p[str(r)] ** 2
                                                         for r in committed), rel=1e-9)
    # the reactive rows' c1q q + c2q q^2 at the reported Q
    q = {g["id"]: g["q_mvar"] for g in doc["generators"]}
    assert parts["reactive_per_h"] == pytest.approx(sum(
        QCOST[r][1] * q[str(r)] + QCOST[r][0] * q[str(r)] ** 2 for r in committed), rel=1e-9)
    assert parts["reactive_per_h"] > 0.1


def test_the_console_shows_the_parts(solved: tuple[dict, str]) -> None:
    doc, console = solved
    text = " ".join(console.split())
    assert f"Objective by part [kW-eq = per h x 1000 / {PRICE:g} per MWh]" in text
    parts = doc["cost_breakdown"]
    assert f"generators' fixed cost (c0) │ {parts['fixed_per_h']:.4f} │ " \
        f"{parts['fixed_kw']:.4f}" in text
    # the parts' sum (the objective to the solver's tolerance, above)
    assert f"total (the objective) │ │ {parts['total_kw']:.4f}" in text
    # the switching part: SWITCH kW per action the answer takes
    actions = doc["switching"]["actions"]
    assert actions > 0 and parts["switching_kw"] == pytest.approx(actions * SWITCH)
    assert f"switching │ │ {actions * SWITCH:.4f}" in text

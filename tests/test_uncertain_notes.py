"""The notes of the uncertain solves (user tests ut38_uncert and ut38_lit).

1. Scenario weights that do not sum to 1 (3, 1, 2, 4: sum 10) are each divided by their sum; the
   note said so on the console only: the JSON's ``notes`` was null, ``Result`` had none and
   the HTML report none (the three-phase path had it in its notes).
2. A robust note said "the model's worst-case losses (148.123 kW) are not the worst case over
   the AC power flows at every extreme point (148.123 kW at extreme point 15)": the same figure.
3. A robust run with no topology within the limits (case84tpc, no generation) ended with the
   least-violating point, whose AC table said "relaxation exact: - (not compared)", but a
   note called the relaxation inexact at the extreme point that needs slack, "to hold the
   voltages within the limits under reverse power flow", quoting "worst-case losses (-)".
"""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.network import Network
from feederopt.results.uncertain import RobustSummary, SlaveOutcome, VertexOutcome
from netbuild import tiny, tiny_tables

pp = pytest.importorskip("pandapower")

WEIGHTS = {"s1": 3.0, "s2": 1.0, "s3": 2.0, "s4": 4.0}  # sum 10 (by hand)


def _plain(text: str) -> str:
    return " ".join(text.split())


# ----- 1. the weights' note in the result's notes -------------------------------------------
@pytest.fixture(scope="module")
def weighted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], str]:
    tmp = tmp_path_factory.mktemp("wnote")
    write_folder(tiny(), tmp / "net", fmt="csv")
    scale = {"s1": 0.8, "s2": 1.0, "s3": 1.1, "s4": 1.2}
    rows = [f"{s},load,{r['id']},{r['p_mw'] * k:.6f},{r['q_mvar'] * k:.6f},{WEIGHTS[s]:g}"
            for s, k in scale.items() for r in tiny_tables()["loads"].iter_rows(named=True)]
    csv = tmp / "s.csv"
    csv.write_text("scenario,kind,element,p_mw,q_mvar,weight\n" + "\n".join(rows) + "\n")
    res = CliRunner().invoke(app, [
        "solve", str(tmp / "net"), "--scenarios", str(csv), "--time-limit", "30",
        "--workers", "1", "--json", str(tmp / "r.json"), "--out", str(tmp / "out"),
        "--report"], env={"COLUMNS": "240"})
    page = (tmp / "out" / "report.html").read_text()
    return res, {**json.loads((tmp / "r.json").read_text()), "_page": page}, csv.read_text()


def _weight_sum(csv_text: str) -> float:
    """The weights' sum as the file gives them (one weight per scenario, on each of its
    rows), read from the file itself."""
    lines = csv_text.strip().splitlines()
    head = lines[0].split(",")
    per: dict[str, float] = {}
    for line in lines[1:]:
        row = dict(zip(head, line.split(","), strict=True))
        per[row["scenario"]] = float(row["weight"])
    return sum(per.values())


def test_weights_note_in_json_console_and_report(weighted: tuple[Any, dict[str, Any], str]
                                                 ) -> None:
    res, doc, csv_text = weighted
    assert res.exit_code == 0, res.output
    total = _weight_sum(csv_text)
    assert total == pytest.approx(sum(WEIGHTS.values())) == pytest.approx(10.0)
    note = (f"the scenario weights summed to {total:.6g}; each was divided by that sum (the "
            "weight column shows the shares)")
    assert note in (doc.get("notes") or [])  # the JSON's notes were null
    assert doc["stochastic"]["given_weight_sum"] == pytest.approx(total)
    shares = {s["scenario"]: s["weight"] for s in doc["scenarios"]}
    assert shares == pytest.approx({s: w / total for s, w in WEIGHTS.items()})
    assert f"note: {note}" in _plain(res.output)  # the console prints the same text, once
    assert _plain(res.output).count("the scenario weights summed to") == 1
    assert "the scenario weights summed to 10;" in doc["_page"]  # the HTML report's notes


def test_weights_note_in_python_result(weighted: tuple[Any, dict[str, Any], str]) -> None:
    import feederopt

    _, _, csv_text = weighted
    rows = [line.split(",") for line in csv_text.strip().splitlines()[1:]]
    table = pl.DataFrame({"scenario": [r[0] for r in rows], "kind": [r[1] for r in rows],
                          "element": [r[2] for r in rows],
                          "p_mw": [float(r[3]) for r in rows],
                          "q_mvar": [float(r[4]) for r in rows],
                          "weight": [float(r[5]) for r in rows]})
    result = feederopt.solve(tiny(), scenarios=table, workers=1, time_limit=30)
    assert any(n.startswith(f"the scenario weights summed to {_weight_sum(csv_text):.6g};")
               for n in result.notes)


# ----- 2. "are not" only when the figures differ --------------------------------------------
def _vertex(k: int, model_kw: float, ac_kw: float, exact: bool) -> VertexOutcome:
    outcome = SlaveOutcome(model_kw, model_kw, 0.0, True, 0.95, 1.0,
                           relaxation_gap=0.0 if exact else 0.5, relaxation_exact=exact)
    ac = SimpleNamespace(converged=True, losses_kw=ac_kw, within_limits=True, violations=[])
    return VertexOutcome(k, (1,), outcome, ac)


def _robust(vertices: list[VertexOutcome], worst_kw: float | None) -> RobustSummary:
    return RobustSummary(vertices, uncertainty=0.8, uncertain_loads=["L"], budget=None,
                         extreme_points=len(vertices), robust_feasible=True,
                         worst_case_losses_kw=worst_kw)


def test_robust_note_says_not_only_when_the_worst_cases_differ() -> None:
    """ut38_uncert r_012: the inexact extreme point 0 (model 118.760 kW, AC 44.894 kW) does
    not set the worst case, extreme point 1 does, exact: 148.123 kW in the model and in AC.
    The note said "are not the worst case ... (148.123 kW ...)"; by hand they are equal."""
    same = _robust([_vertex(0, 118.760, 44.894, False), _vertex(1, 148.1232, 148.1232, True)],
                   148.1232)
    note = same.inexact_note
    assert note is not None and "are not" not in note
    assert ("the model's worst-case losses (148.123 kW) are the worst case over the AC power "
            "flows at every extreme point as well (148.123 kW at extreme point 1)") in note
    assert "the worst case is unaffected" in note
    # within the solvers' tolerance (below the 0.001 kW printed) still the same
    near = _robust([_vertex(0, 118.760, 44.894, False), _vertex(1, 148.1232, 148.12325, True)],
                   148.1232)
    assert "are not" not in (near.inexact_note or "")
    # the inexact point sets the model's worst case (g10c): 513.293 kW against 94.9 kW in AC
    differ = _robust([_vertex(0, 513.293, 40.70, False), _vertex(1, 94.9, 94.9, True)],
                     513.293)
    assert ("the model's worst-case losses (513.293 kW) are not the worst case over the AC "
            "power flows at every extreme point (94.900 kW at extreme point 1)"
            ) in (differ.inexact_note or "")
    # no worst-case losses in the model: no "(-)" quoted
    none = _robust([_vertex(0, 118.760, 44.894, False), _vertex(1, 148.1232, 148.1232, True)],
                   None)
    assert "(-)" not in (none.inexact_note or "x (-)")
    assert ("the worst case over the AC power flows at every extreme point is 148.123 kW at "
            "extreme point 1") in (none.inexact_note or "")


# ----- 3. the least-violating point: no exactness note --------------------------------------
V_MIN = 0.995
LOADS = {"La": ("a", 0.1, 0.05), "Lb": ("b", 1.5, 0.75), "Lc": ("c", 0.1, 0.05),
         "Ld": ("d", 0.1, 0.05)}
LINES = {"l1": ("s", "a", 0.5, 0.4), "l2": ("a", "b", 0.5, 0.4), "l3": ("s", "c", 0.05, 0.04),
         "l4": ("c", "d", 0.05, 0.04), "tie": ("b", "d", 0.5, 0.4)}
X = 0.2


def _two_feeders() -> Network:
    """Two feeders from s (s-a-b, s-c-d) with a tie b-d, a heavy load at b, no generation,
    v_min 0.995 p.u.: no radial topology keeps it at the upper corner (+20 % on every load)."""
    buses = pl.DataFrame({"id": ["s", "a", "b", "c", "d"], "vn_kv": [12.66] * 5,
                          "is_source": [True, False, False, False, False],
                          "v_min_pu": [V_MIN] * 5})
    branches = pl.DataFrame({
        "id": list(LINES), "from_bus": [v[0] for v in LINES.values()],
        "to_bus": [v[1] for v in LINES.values()], "r_ohm": [v[2] for v in LINES.values()],
        "x_ohm": [v[3] for v in LINES.values()], "kind": ["line"] * 5, "switchable": [True] * 5,
        "normally_open": [k == "tie" for k in LINES]})
    loads = pl.DataFrame({"id": list(LOADS), "bus": [v[0] for v in LOADS.values()],
                          "p_mw": [v[1] for v in LOADS.values()],
                          "q_mvar": [v[2] for v in LOADS.values()]})
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="twofeeders")


def _pandapower_min_voltage(open_line: str, scale: float) -> float:
    """pandapower's lowest voltage of the two feeders built by hand with ``open_line`` open and
    every load times ``scale``."""
    net = pp.create_empty_network(sn_mva=1.0)
    idx = {b: pp.create_bus(net, vn_kv=12.66, name=b) for b in "sabcd"}
    pp.create_ext_grid(net, idx["s"], vm_pu=1.0)
    for lid, (f, t, r, x) in LINES.items():
        if lid != open_line:
            pp.create_line_from_parameters(net, idx[f], idx[t], length_km=1.0, r_ohm_per_km=r,
                                           x_ohm_per_km=x, c_nf_per_km=0.0, max_i_ka=10.0)
    for bus, p, q in LOADS.values():
        pp.create_load(net, idx[bus], p_mw=p * scale, q_mvar=q * scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    return float(net.res_bus.vm_pu.min())


def test_least_violating_extreme_point_gets_no_exactness_note(tmp_path: Any) -> None:
    # the truth, by brute force: each of the five radial topologies (one line of the loop
    # opened) breaks v_min in pandapower at the upper corner, so the run ends least-violating
    assert all(_pandapower_min_voltage(k, 1 + X) < V_MIN for k in LINES)
    write_folder(_two_feeders(), tmp_path / "net", fmt="csv")
    res = CliRunner().invoke(app, [
        "solve", str(tmp_path / "net"), "--robust", str(X), "--time-limit", "30",
        "--workers", "1", "--json", str(tmp_path / "r.json")], env={"COLUMNS": "240"})
    doc = json.loads((tmp_path / "r.json").read_text())
    summ = doc["robust_summary"]
    assert summ["robust_feasible"] is False
    slack = [v for v in doc["robust"] if not v["feasible"]]
    assert slack  # the least-violating point needs slack there
    for v in slack:  # not compared, as the AC table's "not compared: the least-violating point"
        assert v["relaxation_exact"] is None and v["relaxation_note"] is None
        assert v["vertex"] not in summ["inexact_vertices"]
    notes = " ".join(doc.get("notes") or [])
    out = _plain(res.output)
    for text in (notes, out):
        assert "relaxation is not exact" not in text
        assert "reverse power flow" not in text  # the feeder has no generation
        assert "worst-case losses (-)" not in text
    assert "(not exact)" not in out
    assert "not compared: the least-violating point" in out

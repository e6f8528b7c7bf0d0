"""User test ut_sched4 (``feederopt schedule`` on a 7-bus pandapower feeder, 4 hours): bad
inputs are typed problems naming what is wrong (exit 2, no traceback), plausibility warnings
for profiles and devices in the wrong units, and the result says what it holds.

Truth: the inputs' own definitions (a hand count of rows, ids and energies), never numbers
copied from a run."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

HOURS = 4


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tester's 7-bus feeder: one loop (tie 3-6 open), four loads of 1.68 MW in all."""
    net = pp.create_empty_network()
    for i in range(7):
        pp.create_bus(net, vn_kv=12.66, name=f"B{i}", min_vm_pu=0.95, max_vm_pu=1.05)
    pp.create_ext_grid(net, 0, vm_pu=1.0)
    lines = {}
    for f, t, r, x in [(0, 1, 0.9, 0.5), (1, 2, 1.2, 0.6), (2, 3, 1.5, 0.8), (1, 4, 1.0, 0.6),
                       (4, 5, 1.4, 0.7), (5, 6, 1.1, 0.6), (3, 6, 1.3, 0.7)]:
        lines[(f, t)] = pp.create_line_from_parameters(
            net, f, t, length_km=1.0, r_ohm_per_km=r, x_ohm_per_km=x, c_nf_per_km=0.0,
            max_i_ka=0.4)
    for (f, t), closed in [((1, 2), True), ((2, 3), True), ((1, 4), True), ((4, 5), True),
                           ((5, 6), True), ((3, 6), False)]:
        pp.create_switch(net, f, lines[(f, t)], et="l", closed=closed)
    for bus, p, q, name in [(2, 0.36, 0.15, "L2"), (3, 0.54, 0.24, "L3"),
                            (5, 0.3, 0.12, "L5"), (6, 0.48, 0.21, "L6")]:
        pp.create_load(net, bus, p_mw=p, q_mvar=q, name=name)
    path = tmp_path_factory.mktemp("tiny") / "tiny.json"
    pp.to_json(net, str(path))
    return path


def _profile(path: Path, rows: list[tuple[object, str, object]]) -> Path:
    pl.DataFrame([(str(t), e, str(v)) for t, e, v in rows], schema=["time", "element", "value"],
                 orient="row").write_csv(path)
    return path


def _loads(value: float = 0.8, hours: int = HOURS) -> list[tuple[object, str, object]]:
    return [(h, f"load:{k}", value) for k in range(4) for h in range(hours)]


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["schedule", *args])
    return res.exit_code, res.output


# ----- #1 mixed time zones --------------------------------------------------------------------
def test_mixed_time_zones_are_a_typed_problem(tiny: Path, tmp_path: Path) -> None:
    # load:0 with +02:00 offsets, the others naive: 4 aware rows and 12 naive ones
    rows: list[tuple[object, str, object]] = []
    for k in range(4):
        for h in range(HOURS):
            rows.append((f"2024-06-01T{h:02d}:00:00" + ("+02:00" if k == 0 else ""),
                         f"load:{k}", 0.8))
    prof = _profile(tmp_path / "p.csv", rows)
    code, out = _run(str(tiny), "--profiles", str(prof), "--hours", str(HOURS), "-q")
    assert code == 2, out
    assert "Traceback" not in out and "TypeError" not in out
    assert "bad_timeseries" in out and "time zone" in out
    assert "4 carry a UTC offset" in out and "12 none" in out
    assert "row 1 (load:0)" in out and "row 5 (load:1)" in out


# ----- #2 EV energy above the charger's capacity --------------------------------------------
def test_ev_energy_the_charger_cannot_deliver_is_unmet_and_named(tiny: Path,
                                                                 tmp_path: Path) -> None:
    from feederopt.api_schedule import check_schedule_result

    dev = tmp_path / "dev"
    dev.mkdir()
    # one station of 0.2 MW, available every hour, 10 MWh a day: over 4 h it needs
    # 10 * 4 / 24 = 1.6667 MWh and delivers at most 4 * 0.2 = 0.8 MWh
    pl.DataFrame({"id": ["EV4"], "bus": [4], "p_max_mw": [0.2], "energy_mwh": [10.0]}
                 ).write_csv(dev / "ev.csv")
    prof = _profile(tmp_path / "p.csv", [*_loads(), *[(h, "EV4", 1.0) for h in range(HOURS)]])
    out = tmp_path / "r.json"
    code, text = _run(str(tiny), "--profiles", str(prof), "--devices", str(dev), "--hours",
                      str(HOURS), "--no-ac-check", "--json", str(out))
    assert code == 0, text
    import json

    doc = json.loads(out.read_text())
    short = 10.0 * HOURS / 24 - HOURS * 0.2
    assert sum(doc["series"]["ev_mw"]["EV4"]) == pytest.approx(HOURS * 0.2, abs=1e-6)
    assert doc["nominal"]["ev_unmet_mwh"] == pytest.approx(short, abs=1e-6)
    # priced at c_shed (500 $/MWh) as the docs say for unmet EV energy
    assert doc["objective"] >= 500.0 * short - 1e-6
    assert any("EV4" in n and "cannot deliver" in n and f"{short:.4g} MWh" in n
               for n in doc["notes"]), doc["notes"]
    assert "EV energy not delivered" in text and "0.8667 MWh" in text
    # check: the undeliverable energy is unmet in every realisation and is not counted
    chk = check_schedule_result(doc, samples=1)
    assert chk["served_pct"] == pytest.approx(100.0)


# ----- #3 profiles and device tables in the wrong units -------------------------------------
def test_load_factors_in_percent_warn(tiny: Path, tmp_path: Path) -> None:
    from feederopt.api_schedule import schedule_inputs

    prof = _profile(tmp_path / "p.csv", _loads(80.0))  # 80 % written as 80
    notes: list[str] = []
    schedule_inputs(str(tiny), str(prof), None, HOURS, notes)
    warned = [n for n in notes if n.startswith("warning:") and "percent or kW" in n]
    assert len(warned) == 1, notes
    assert "load:0@0" in warned[0] and "the first 10 of 16" in warned[0]
    # the same loads at 0.8 (and at the bound, 5) warn of nothing
    for ok in (0.8, 5.0):
        notes = []
        schedule_inputs(str(tiny), str(_profile(tmp_path / "ok.csv", _loads(ok))), None, HOURS,
                        notes)
        assert not [n for n in notes if "percent" in n], notes


def test_device_rating_in_kw_warns(tiny: Path, tmp_path: Path) -> None:
    from feederopt.api_schedule import schedule_inputs

    dev = tmp_path / "dev"
    dev.mkdir()
    # 300 "MW" of DG on a feeder of 0.36 + 0.54 + 0.3 + 0.48 = 1.68 MW of load
    pl.DataFrame({"id": ["G3"], "bus": [3], "p_max_mw": [300.0], "q_max_mvar": [0.2],
                  "cost_per_mwh": [40.0], "fuel": ["gas"]}).write_csv(dev / "dg.csv")
    notes: list[str] = []
    schedule_inputs(str(tiny), str(_profile(tmp_path / "p.csv", _loads())), str(dev), HOURS,
                    notes)
    warned = [n for n in notes if n.startswith("warning:") and "written in kW?" in n]
    assert len(warned) == 1 and "G3" in warned[0] and "1.68 MW" in warned[0], notes
    assert "write 0.3" in warned[0]
    pl.DataFrame({"id": ["G3"], "bus": [3], "p_max_mw": [0.3], "q_max_mvar": [0.2],
                  "cost_per_mwh": [40.0], "fuel": ["gas"]}).write_csv(dev / "dg.csv")
    notes = []
    schedule_inputs(str(tiny), str(tmp_path / "p.csv"), str(dev), HOURS, notes)
    assert not [n for n in notes if "kW" in n], notes


# ----- #4 a device named like a load --------------------------------------------------------
def test_device_id_equal_to_a_load_id_is_a_duplicate(tiny: Path, tmp_path: Path) -> None:
    from feederopt.api_schedule import schedule_inputs
    from feederopt.errors import InputError, ProblemKind

    dev = tmp_path / "dev"
    dev.mkdir()
    pl.DataFrame({"id": ["load:0"], "bus": [6], "p_max_mw": [0.4], "deviation": [0.3]}
                 ).write_csv(dev / "pv.csv")
    prof = _profile(tmp_path / "p.csv", _loads())  # load:0's rows: the load's or the PV's?
    with pytest.raises(InputError) as exc:
        schedule_inputs(str(tiny), str(prof), str(dev), HOURS)
    dup = [p for p in exc.value.problems if p.kind is ProblemKind.DUPLICATE_ID]
    assert len(dup) == 1 and dup[0].ids == ("load:0",), exc.value.problems
    code, out = _run(str(tiny), "--profiles", str(prof), "--devices", str(dev), "--hours",
                     str(HOURS), "-q")
    assert code == 2 and "duplicate_id" in out and "Traceback" not in out, out


# ----- #5 a header-only profile table -------------------------------------------------------
def test_header_only_profile_table_is_noted(tiny: Path, tmp_path: Path) -> None:
    from feederopt.api_schedule import schedule_inputs

    prof = tmp_path / "p.csv"
    prof.write_text("time,element,value\n")
    notes: list[str] = []
    _, _, got = schedule_inputs(str(tiny), str(prof), None, HOURS, notes)
    assert got.elements == []
    assert [n for n in notes if "has no rows" in n and "factor 1" in n], notes
    code, out = _run(str(tiny), "--profiles", str(prof), "--hours", str(HOURS), "--no-ac-check")
    assert code == 0 and "has no rows" in out, out


# ----- #6 the hint of an unknown element ----------------------------------------------------
@pytest.mark.parametrize(("element", "meant"), [
    ("0", "load:0"), ("3", "load:3"),  # the pandapower index
    # the names given at create_load
    ("L2", "L2 is the name of load:0"), ("L6", "L6 is the name of load:3"),
])
def test_unknown_element_hint_gives_the_load_ids(tiny: Path, tmp_path: Path, element: str,
                                                 meant: str) -> None:
    rows = [r for r in _loads() if r[1] != "load:0"] + [(h, element, 0.8) for h in range(HOURS)]
    code, out = _run(str(tiny), "--profiles", str(_profile(tmp_path / "p.csv", rows)),
                     "--hours", str(HOURS), "-q")
    assert code == 2, out
    flat = " ".join(out.split())
    assert "the network's load ids are load:0, load:1, load:2, ..." in flat, out
    assert meant in flat, out


# ----- #10 the report hint on a result file -------------------------------------------------
def test_report_on_a_schedule_json_names_the_schedule_command(tiny: Path,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, text = _run(str(tiny), "--profiles", str(_profile(tmp_path / "p.csv", _loads())),
                      "--hours", str(HOURS), "--no-ac-check", "-q", "--json", str(out))
    assert code == 0, text
    res = CliRunner().invoke(app, ["report", str(out)])
    flat = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    # the network and the profiles the file records (ut38_cli #3: it said CASE)
    assert (f"feederopt schedule {tiny.resolve()} --profiles {(tmp_path / 'p.csv').resolve()} "
            "--out DIR") in flat and "--report" not in flat, res.output
    # `schedule` has no --report option (the old hint's advice fails)
    assert "--report" not in CliRunner().invoke(app, ["schedule", "--help"]).output


# ----- #11 the Python API: profiles in memory, wrongly typed options ------------------------
def test_api_takes_dataframes_and_types_its_options(tiny: Path, tmp_path: Path) -> None:
    import pandas as pd

    from feederopt.api_schedule import schedule
    from feederopt.errors import InputError

    path = _profile(tmp_path / "p.csv", _loads())
    net = pp.from_json(str(tiny))
    by_file = schedule(net, profiles=str(path), hours=HOURS, ac_check=False)
    for frame in (pl.read_csv(path), pd.read_csv(path)):
        got = schedule(net, profiles=frame, hours=HOURS, ac_check=False)
        # the same table in memory: the same schedule as from the file
        assert got.objective == pytest.approx(by_file.objective, rel=1e-9)
        assert got.open_lines == by_file.open_lines
        assert got.inputs["profiles"] is None
    for bad in ({"eps": "0.1"}, {"hourly": "yes"}, {"c_shed": None}):
        with pytest.raises(InputError) as exc:
            schedule(net, profiles=str(path), hours=HOURS, ac_check=False, **bad)
        (name,) = bad
        assert [p.field for p in exc.value.problems] == [name], exc.value.problems


# ----- #9 hourly.png: the price axis's legend hid the substation's Q entry ------------------
def test_price_axis_joins_the_substation_legend(tiny: Path, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from feederopt.api_schedule import schedule
    from feederopt.report.schedule import hourly_figure

    rows = [*_loads(), *[(h, "price", p) for h, p in enumerate((30, 120, 60, 40))]]
    res = schedule(str(tiny), profiles=str(_profile(tmp_path / "p.csv", rows)), hours=HOURS,
                   ac_check=False)
    fig = hourly_figure(res.to_dict())
    sub = next(a for a in fig.axes if a.get_title().startswith("substation"))
    panel = [a for a in fig.axes if a in sub.get_shared_x_axes().get_siblings(sub)]
    legends = [a.get_legend() for a in panel if a.get_legend() is not None]
    assert len(panel) == 2 and len(legends) == 1  # the panel and the price's twin axis
    labels = [t.get_text() for t in legends[0].get_texts()]
    assert "Q [MVAr]" in labels and "price [$/MWh]" in labels, labels
    plt.close(fig)


# ----- #7 a robust result's series are the worst case's, and say so ---------------------------
def test_robust_series_say_they_are_the_worst_case(tiny: Path, tmp_path: Path) -> None:
    """The JSON's ``series`` of a robust run hold the worst case found (its demand): the
    document says so (``series_realisation``), and its demand is the forecast's moved by
    ``gamma`` at the worst case's deviations, hour by hour (ut_sched4 #7: nothing said which
    realisation, and the renewable availability was called a forecast)."""
    import json

    from feederopt.api_schedule import schedule

    path = _profile(tmp_path / "p.csv", _loads())
    net = pp.from_json(str(tiny))
    det = schedule(net, profiles=str(path), hours=HOURS, ac_check=False).to_dict()
    assert det["series_realisation"] == "forecast"
    rob = schedule(net, profiles=str(path), hours=HOURS, ac_check=False, gamma=0.1,
                   budget=1).to_dict()
    assert rob["series_realisation"] == "worst_case"
    json.dumps(rob, allow_nan=False)
    forecast = [0.8 * 1.68] * HOURS  # every load at factor 0.8 (_loads)
    demand = rob["series"]["demand_mw"]
    assert demand != pytest.approx(forecast)  # a deviation at the worst case
    # each hour's demand within the box: forecast +- gamma, one deviation per bus (budget 1)
    for got, base in zip(demand, forecast, strict=True):
        assert base * 0.9 - 1e-6 <= got <= base * 1.1 + 1e-6
    assert "renewable_available_mw" in rob["series"]

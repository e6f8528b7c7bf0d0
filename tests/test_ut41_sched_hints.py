"""User test ut41_sched: two misleading hints of ``feederopt schedule``'s input errors.

1. A share above 1 that is no plausible percentage got "looks like a percentage": ``soc0 = 1.2``
   (meant as 1.2 MWh of a 2 MWh unit) was told "write 0.012 for 1.2 %" (a nearly empty
   battery) and ``eta_ch = 1.2`` likewise (a 1.2 % efficient one). Only a value from 5 up to
   100 (50, 95: the docs' own examples) reads as a percentage; a ``soc0`` at or below the
   unit's ``e_max_mwh`` reads as MWh (soc0 = E0 / e_max_mwh), and an efficiency cannot exceed 1.
2. A profile element named by a generator's pandapower name (``rooftop`` for ``sgen:0``) got a
   hint listing load ids alone; a load's name already gave its id.

Truth: hand calculation (1.2 MWh / 2 MWh = 0.6, 8 MWh / 10 MWh = 0.8, 50 % = 0.5) and the
names and indices the test gives its pandapower elements; never text copied from a run.
"""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, Problem
from feederopt.io.disasters import read_disasters
from feederopt.io.timeseries import device_problems
from feederopt.network.timeseries import DeviceKind

RUNNER = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())  # the console wraps long lines


def _ess_problem(column: str, value: str, e_max: str = "2.0") -> Problem:
    row = {"id": "B1", "bus": "4", "e_max_mwh": e_max, "p_max_mw": "0.4", "eta_ch": "0.9",
           "eta_dis": "0.85", "soc0": "0.5"}
    row[column] = value
    _, problems = device_problems(DeviceKind.ESS, pl.DataFrame([row]), {"4"})
    (p,) = problems
    assert (p.component, p.ids, p.field) == ("devices.ess", ("B1",), column)
    return p


# ----- 1. a share above 1 -------------------------------------------------------------------
def test_soc0_at_or_below_the_energy_reads_as_mwh_not_as_a_percentage() -> None:
    hint = _ess_problem("soc0", "1.2").hint
    assert "percentage" not in hint and "0.012" not in hint, hint
    assert "1.2 MWh of 2 MWh is soc0 0.6" in hint, hint  # 1.2 / 2.0 = 0.6


@pytest.mark.parametrize("column", ["eta_ch", "eta_dis"])
def test_an_efficiency_just_above_1_cannot_exceed_1(column: str) -> None:
    hint = _ess_problem(column, "1.2").hint
    assert "percentage" not in hint and "0.012" not in hint, hint
    assert "an efficiency cannot exceed 1" in hint, hint


def test_a_plausible_percentage_is_still_offered() -> None:
    # 50 on a 2 MWh unit: no MWh reading (above the energy), the share 0.5
    hint = _ess_problem("soc0", "50").hint
    assert "50 looks like a percentage" in hint and "write 0.5 for 50 %" in hint, hint
    assert "MWh of" not in hint, hint
    # 8 on a 10 MWh unit: 8 % or 8 MWh (8 / 10 = 0.8), both offered
    hint = _ess_problem("soc0", "8", e_max="10").hint
    assert "write 0.08 for 8 %" in hint and "8 MWh of 10 MWh is soc0 0.8" in hint, hint
    assert "write 0.95 for 95 %" in _ess_problem("eta_ch", "95").hint


def test_soc0_above_the_energy_and_no_percentage_gets_the_range() -> None:
    hint = _ess_problem("soc0", "3").hint  # 3 MWh of a 2 MWh unit is no state of charge
    assert "percentage" not in hint and "MWh of" not in hint, hint
    assert "within 0..1" in hint and "e.g. 0.5 for 50 %" in hint, hint


def test_a_deviation_just_above_1_is_no_percentage() -> None:
    row = {"id": "PV1", "bus": "4", "p_max_mw": "0.5", "deviation": "1.2"}
    _, (p,) = device_problems(DeviceKind.PV, pl.DataFrame([row]), {"4"})
    assert p.field == "deviation" and "percentage" not in p.hint and "0.012" not in p.hint


def test_probability_just_above_1_is_no_percentage_but_one_with_a_sign_is(
        tmp_path: Path) -> None:
    net = feederopt.load("zhang13")
    path = tmp_path / "s.json"
    path.write_text('{"scenarios": [{"name": "A", "probability": 1.5, "broken": ["2"]}, '
                    '{"name": "B", "probability": "1.2%", "broken": ["2"]}]}')
    with pytest.raises(InputError) as err:
        read_disasters(path, net)
    hints = {p.ids: p.hint for p in err.value.problems if p.field == "probability"}
    assert "percentage" not in hints[("A",)] and "cannot exceed 1" in hints[("A",)], hints
    assert "write 0.012 for 1.2 %" in hints[("B",)], hints  # written "1.2%": 0.012


def test_cli_soc0_in_mwh_exits_2_with_the_mwh_reading(feeder: Path, tmp_path: Path) -> None:
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "ess.csv").write_text("id,bus,e_max_mwh,p_max_mw,eta_ch,eta_dis,soc0\n"
                                 "B1,2,2.0,0.4,0.9,0.85,1.2\n")
    r = RUNNER.invoke(app, ["schedule", str(feeder), "--profiles",
                            str(_profile(tmp_path, [])), "--devices", str(dev), "--hours", "2",
                            "-q"])
    text = _flat(r.output)
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert "1.2 MWh of 2 MWh is soc0 0.6" in text and "0.012" not in text, r.output


# ----- 2. a generator's name as a profile element -------------------------------------------
@pytest.fixture(scope="module")
def feeder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-bus chain with two named loads, a named sgen ``rooftop`` (sgen:0), a named gen
    ``plant`` (gen:0) and a named discharging storage ``bat`` (a fixed injection: storage:0)."""
    net = pp.create_empty_network()
    for _ in range(4):
        pp.create_bus(net, vn_kv=12.66, min_vm_pu=0.9, max_vm_pu=1.1)
    pp.create_ext_grid(net, 0, vm_pu=1.0)
    for f, t in [(0, 1), (1, 2), (2, 3)]:
        pp.create_line_from_parameters(net, f, t, length_km=1.0, r_ohm_per_km=0.5,
                                       x_ohm_per_km=0.3, c_nf_per_km=0.0, max_i_ka=0.4)
    pp.create_load(net, 2, p_mw=0.3, q_mvar=0.1, name="L2")
    pp.create_load(net, 3, p_mw=0.4, q_mvar=0.1, name="L3")
    pp.create_sgen(net, 2, p_mw=0.1, q_mvar=0.0, name="rooftop")
    pp.create_gen(net, 3, p_mw=0.1, vm_pu=1.0, name="plant")
    pp.create_storage(net, 1, p_mw=-0.05, max_e_mwh=0.2, name="bat")
    path = tmp_path_factory.mktemp("ut41") / "feeder.json"
    pp.to_json(net, str(path))
    return path


def _profile(tmp_path: Path, elements: list[str]) -> Path:
    rows = ["time,element,value"] + [f"{h},{e},0.5" for e in ["load:0", "load:1", *elements]
                                     for h in range(2)]
    path = tmp_path / "p.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(("element", "meant"), [
    ("rooftop", "rooftop is the name of sgen:0"),
    ("plant", "plant is the name of gen:0"),
    ("bat", "bat is the name of storage:0"),
    ("L3", "L3 is the name of load:1"),
])
def test_a_generators_name_gives_its_id(feeder: Path, tmp_path: Path, element: str,
                                        meant: str) -> None:
    r = RUNNER.invoke(app, ["schedule", str(feeder), "--profiles",
                            str(_profile(tmp_path, [element])), "--hours", "2", "-q"])
    text = _flat(r.output)
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert f"profiles [{element}].element" in text and meant in text, r.output


def test_an_unknown_element_lists_the_generator_ids_too(feeder: Path, tmp_path: Path) -> None:
    r = RUNNER.invoke(app, ["schedule", str(feeder), "--profiles",
                            str(_profile(tmp_path, ["pv9"])), "--hours", "2", "-q"])
    text = _flat(r.output)
    assert r.exit_code == 2, r.output
    assert "the network's load ids are load:0, load:1" in text, r.output
    # the generators the fixture made: sgen 0, gen 0 and the discharging storage 0
    assert "generator ids are" in text, r.output
    for gid in ("sgen:0", "gen:0", "storage:0"):
        assert gid in text.split("generator ids are")[1], r.output

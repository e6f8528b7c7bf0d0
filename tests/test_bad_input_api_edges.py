"""Bad input at the edges found by user test ut_bad (defects 14 and 16): a file of the wrong
kind names what it is (a feederopt result given as a network, a network given as a result), a
pandas table is read as the Polars one it equals, and a voltage-feedback count below 1 is a
typed problem. Each used to end in an exception's own text (AttributeError, a JSON decoder's
"Expecting value") or be accepted."""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.network import Network
from netbuild import tiny_tables

runner = CliRunner()


def _problem(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "Error:" not in res.output
    return res.output


def test_a_result_given_as_a_network_is_named_as_one(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps({"status": "optimal", "open_branches": ["7"],
                                  "source": "case33bw"}))
    out = _problem(["info", str(result)])
    assert "a feederopt result (result.json), not a network" in out
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}')
    assert "without a pandapower net" in _problem(["info", str(other)])


def test_a_network_given_as_a_result_is_named_as_one(tmp_path: Path) -> None:
    net = tmp_path / "n33.json"
    pp.to_json(pn.case33bw(), str(net))
    assert "a pandapower net, not a feederopt result (give it with --case)" in _problem(
        ["check", str(net)])
    m = tmp_path / "in33.m"
    m.write_text("function mpc = in33\nmpc.baseMVA = 10;\n")
    out = _problem(["check", str(m)])
    assert ".m is a network file: give it with --case" in out
    assert "Expecting value" not in out


def test_pandas_tables_read_as_the_polars_ones() -> None:
    pl_tables = tiny_tables()
    from_pl = Network.from_tables(**pl_tables)
    from_pd = Network.from_tables(**{k: v.to_pandas() for k, v in pl_tables.items()})
    for name in ("buses", "branches", "loads"):
        assert getattr(from_pd, name).equals(getattr(from_pl, name)), name
    with pytest.raises(InputError) as err:
        Network.from_tables(**{**pl_tables, "buses": {"id": ["s"]}})
    (p,) = err.value.problems
    assert p.component == "buses" and "dict, not a table" in p.message


def test_feedback_iterations_below_one_is_a_typed_problem() -> None:
    with pytest.raises(InputError) as err:
        feederopt.solve_three_phase("ieee13mod", feedback_iterations=-1)
    assert [p.field for p in err.value.problems] == ["feedback_iterations"]


@pytest.mark.parametrize("command", [["schedule"], ["restore", "--broken", "2"],
                                     ["plan", "--broken", "2"]])
def test_a_three_phase_feeder_given_to_a_balanced_command_says_so(tmp_path: Path,
                                                                  command: list[str]) -> None:
    """ut_bad 13: the refusal said feederopt does not read .dss files, and the help listed
    them; the help of these commands lists the balanced inputs only."""
    dss = tmp_path / "feeder.dss"
    dss.write_text("Clear\nNew Circuit.c basekv=12.47\n")
    out = _problem([*command, str(dss)])
    assert "is a three-phase OpenDSS network; this needs a balanced one" in out
    assert "not a file type feederopt reads" not in out
    helped = runner.invoke(app, [command[0], "--help"])
    assert "not a three-phase .dss feeder" in " ".join(helped.output.split())


def test_partition_help_lists_three_phase_inputs_only() -> None:
    helped = " ".join(runner.invoke(app, ["partition", "--help"]).output.split())
    assert "OpenDSS .dss file" in helped and "MATPOWER" not in helped


@pytest.mark.parametrize(("args", "says"), [
    (["schedule", "case33bw", "--devices", "{file}"], "it is a file, not a folder"),
    (["schedule", "case33bw", "--profiles", "{dir}"], "it is a folder, not a file"),
    (["solve", "case33bw", "--scenarios", "{dir}"], "it is a folder, not a file"),
    (["partition", "ieee13mod", "--settings", "{dir}"], "it is a folder, not a file"),
    (["partition", "ieee13mod", "--settings", "{dir}/nosuch.json"], "no such file"),
], ids=["devices_file", "profiles_dir", "scenarios_dir", "settings_dir", "settings_missing"])
def test_a_path_of_the_wrong_kind_is_named_as_such(tmp_path: Path, args: list[str],
                                                   says: str) -> None:
    """ut_bad 12: an existing path of the other kind was "no such file/folder" or a raw
    errno."""
    (tmp_path / "net.m").write_text("function mpc = x\n")
    given = [a.format(file=tmp_path / "net.m", dir=tmp_path) for a in args]
    out = " ".join(_problem(given).split())
    assert says in out and "Errno" not in out


@pytest.mark.parametrize(("key", "value", "says"), [
    # since raf: one check of every field (results/document.py) names the field and value
    ("status", "banana", "unknown status 'banana'"),
    ("losses_kw", "abc", "must be a number or null, not 'abc'"),
])
def test_report_refuses_a_tampered_solve_result(tmp_path: Path, key: str, value: str,
                                                says: str) -> None:
    """ut_bad 17: a hand-edited result.json was rendered as if the solver had said it."""
    folder = tmp_path / "r"
    res = runner.invoke(app, ["solve", "case33bw", "--method", "lindistflow", "--no-ac-check",
                              "--out", str(folder), "-q"])
    assert res.exit_code == 0, res.output
    doc = json.loads((folder / "result.json").read_text())
    doc[key] = value
    (folder / "result.json").write_text(json.dumps(doc))
    out = " ".join(_problem(["report", str(folder), "--out", str(tmp_path / "x.html")]).split())
    assert says in out
    assert not (tmp_path / "x.html").exists()


def test_an_isolated_matpower_bus_note_names_it_and_its_load(tmp_path: Path) -> None:
    """ut_bad 15: a type-4 bus carrying load was "left out" without saying its load goes
    too (MATPOWER serves no load at an isolated bus)."""
    path = tmp_path / "iso.m"
    path.write_text("""function mpc = iso
mpc.version = '2';
mpc.baseMVA = 10;
mpc.bus = [
1 3 0 0 0 0 1 1 0 12.66 1 1.1 0.9;
2 1 0.1 0.05 0 0 1 1 0 12.66 1 1.1 0.9;
3 4 0.09 0.04 0 0 1 1 0 12.66 1 1.1 0.9;
];
mpc.gen = [
1 0 0 10 -10 1.0 10 1 10 0
];
mpc.branch = [
1 2 0.01 0.01 0 0 0 0 0 0 1 -360 360;
];
""")
    res = runner.invoke(app, ["info", str(path), "--json"])
    assert res.exit_code == 0, res.output
    (note,) = [w for w in json.loads(res.stdout)["warnings"] if "type 4" in w]
    assert "(3)" in note and "0.09 MW of load" in note


def test_a_three_winding_trafo_rated_far_off_its_bus_is_refused() -> None:
    """As a two-winding one (ut_bad 1): a trafo3w's mv winding rated 0.4 kV on a 20 kV bus."""
    net = pp.create_empty_network(sn_mva=1.0)
    hv, mv, lv = (pp.create_bus(net, kv) for kv in (110.0, 20.0, 10.0))
    pp.create_ext_grid(net, hv)
    pp.create_transformer3w_from_parameters(
        net, hv, mv, lv, vn_hv_kv=110.0, vn_mv_kv=0.4, vn_lv_kv=10.0, sn_hv_mva=40.0,
        sn_mv_mva=20.0, sn_lv_mva=20.0, vk_hv_percent=10.0, vk_mv_percent=10.0,
        vk_lv_percent=10.0, vkr_hv_percent=0.3, vkr_mv_percent=0.3, vkr_lv_percent=0.3,
        pfe_kw=0.0, i0_percent=0.0)
    pp.create_load(net, mv, p_mw=1.0)
    pp.create_load(net, lv, p_mw=1.0)
    with pytest.raises(InputError) as err:
        feederopt.load(net)
    (p,) = [p for p in err.value.problems if p.field == "vn_mv_kv"]
    assert p.ids == ("trafo3w:0",) and "0.4 kV" in p.message and "20 kV" in p.message


def test_a_decimal_comma_in_a_scenario_file_is_named(tmp_path: Path) -> None:
    """ut_bad 10: '1,5' in p_mw was reported as missing."""
    path = tmp_path / "s.csv"
    path.write_text('scenario,kind,element,p_mw,q_mvar,weight\n'
                    'a,load,2,"0,1",0.06,1\nb,load,2,0.1,0.06,1\n')
    out = " ".join(_problem(["solve", "case33bw", "--scenarios", str(path)]).split())
    assert "1 with a decimal comma" in out and "1.5, not 1,5" in out


def test_comma_separated_ids_in_a_plan_csv_get_the_separator_hint(tmp_path: Path) -> None:
    """ut_bad 10: a plan CSV with broken = "2,11" (the --broken separator) said only
    "unknown branch ids"."""
    path = tmp_path / "d.csv"
    path.write_text('name,probability,broken\nA,1.0,"2,11"\n')
    out = " ".join(_problem(["plan", "case33bw", "--scenarios", str(path)]).split())
    assert "separated by ';' ('2;11'), not ','" in out

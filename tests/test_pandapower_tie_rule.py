"""The pandapower reader's tie rule, exposed and explained (user test ut37_realg #2).

``pandapower.networks.case33bw()`` stores Baran & Wu's five ties as out-of-service lines. One
closed line switch added at its feeder head turned the reader's automatic rule to "only
branches with a switch are switchable": solve said "optimal" at the base case's 202.68 kW with
every branch fixed, without a word. The truth is Baran & Wu's published optimum, 139.55 kW
(Baran & Wu, IEEE Trans. Power Delivery 4(2):1401-1407, 1989).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io import write_folder

PUBLISHED_OPTIMUM_KW = 139.55
TIES = ("line:32", "line:33", "line:34", "line:35", "line:36")


def _one_switch() -> pp.pandapowerNet:
    net = pn.case33bw()
    pp.create_switch(net, bus=net.line.from_bus.at[0], element=0, et="l", closed=True,
                     name="CB feeder head")
    return net


def _tie_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if "out-of-service line(s)" in n]


def test_out_of_service_ties_of_a_switched_net_are_named() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = feederopt.load(_one_switch())
    (note,) = _tie_notes(net.meta["warnings"])
    assert all(t in note for t in TIES)
    assert "ties='out_of_service'" in note and "create_switch" in note
    # a net without switches reads them as ties, with no such note
    assert not _tie_notes(feederopt.load(pn.case33bw(), check=False).meta["warnings"])


def test_the_tie_rule_can_be_chosen_and_finds_the_published_optimum() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = feederopt.load(_one_switch(), ties="out_of_service")
        result = feederopt.solve(net, time_limit=60)
    assert result.status.value == "optimal"
    assert result.losses_kw == pytest.approx(PUBLISHED_OPTIMUM_KW, abs=0.01)


def test_a_tie_rule_for_another_format_or_an_unknown_one_is_a_typed_problem() -> None:
    with pytest.raises(feederopt.InputError, match="pandapower nets only"):
        feederopt.load("case33bw", ties="switches")
    with pytest.raises(feederopt.InputError, match="not a tie rule"):
        feederopt.load(_one_switch(), ties="every")  # type: ignore[arg-type]


def test_the_console_prints_the_note(tmp_path) -> None:
    path = tmp_path / "case33bw_one_switch.json"
    pp.to_json(_one_switch(), str(path))
    out = CliRunner().invoke(app, ["info", str(path)])
    assert out.exit_code == 0, out.output
    flat = " ".join(out.output.split())
    assert "line:32" in flat and "ties='out_of_service'" in flat


# ----- the command line's --ties (the note's advice, acted on without Python) ---------------

#: Baran & Wu's optimal open branches, in their 1-based branch numbers (the paper's Table 1;
#: the built-in case33bw prints the same numbers). pandapower's case33bw() numbers its lines
#: from 0 in the same order, so branch k is line:(k - 1).
PUBLISHED_OPEN = (7, 9, 14, 32, 37)
#: The commands that read a balanced network from a file: each takes --ties.
TIES_COMMANDS = ("solve", "info", "scenarios", "check", "restore", "plan", "schedule")


@pytest.fixture(scope="module")
def one_switch_json(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ties") / "case33bw_one_switch.json"
    pp.to_json(_one_switch(), str(path))
    return str(path)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_solve_ties_out_of_service_finds_the_published_optimum(one_switch_json, tmp_path) -> None:
    result = tmp_path / "r.json"
    out = CliRunner().invoke(app, ["solve", one_switch_json, "--ties", "out_of_service",
                                   "--time-limit", "60", "--json", str(result)])
    assert out.exit_code == 0, out.output
    doc = json.loads(result.read_text())
    assert doc["losses_kw"] == pytest.approx(PUBLISHED_OPTIMUM_KW, abs=0.01)
    assert {b["id"] if isinstance(b, dict) else b for b in doc["open_branches"]} == {
        f"line:{k - 1}" for k in PUBLISHED_OPEN}
    assert doc["ties"] == "out_of_service"
    # `check` reads the file again with the tie rule the result records: read with the
    # automatic one, the network had no in-service line:36 and the check was refused
    checked = CliRunner().invoke(app, ["check", str(result), "-u", "0.05", "-n", "3",
                                       "--no-ac-check"])
    assert checked.exit_code == 0, checked.output
    assert "line:36" in _flat(checked.output)


def test_solve_without_ties_keeps_the_base_case(one_switch_json, tmp_path) -> None:
    # the truth: pandapower's own power flow of the net as saved (ties out of service)
    net = pp.from_json(one_switch_json)
    pp.runpp(net)
    base_kw = 1e3 * float(net.res_line.pl_mw.sum())
    result = tmp_path / "r.json"
    out = CliRunner().invoke(app, ["solve", one_switch_json, "--time-limit", "60",
                                   "--json", str(result)])
    assert out.exit_code == 0, out.output
    doc = json.loads(result.read_text())
    assert doc["losses_kw"] == pytest.approx(base_kw, abs=0.01)
    assert doc["open_branches"] == []
    assert doc["ties"] == "switches"  # as the automatic rule read it
    # the note names the option that acts on it
    assert "on the command line --ties out_of_service" in _flat(out.output)


def test_a_bad_tie_rule_is_exit_2_with_a_message(one_switch_json) -> None:
    out = CliRunner().invoke(app, ["solve", one_switch_json, "--ties", "every"])
    assert out.exit_code == 2
    flat = _flat(out.output)
    assert "--ties every is not a tie rule" in flat and "'out_of_service'" in flat
    assert "ties='every'" not in flat  # Python's spelling is Python's (smalls42 #3)
    assert "Traceback" not in out.output


def test_a_bad_tie_rule_from_python_names_the_keyword(one_switch_json) -> None:
    """The same problem from Python names ``ties=``, not the flag (smalls42 #3: it read
    ``ties='every' (--ties)`` for both callers)."""
    with pytest.raises(feederopt.InputError) as exc:
        feederopt.load(one_switch_json, ties="every")
    (p,) = exc.value.problems
    assert p.message == "ties='every' is not a tie rule", p.message
    assert "--" not in p.message + p.hint


@pytest.mark.parametrize("argv", [
    ["solve", "case33bw", "--ties", "out_of_service"],  # a built-in case
    ["info", "ieee13", "--ties", "switches"],  # an OpenDSS feeder
    ["restore", "case33bw", "--broken", "2", "--ties", "switches"],
    ["plan", "zhang13", "--broken", "2", "--ties", "switches"],
    ["schedule", "case33bw", "--ties", "out_of_service"],
])
def test_ties_is_refused_where_the_network_says_what_switches(argv) -> None:
    out = CliRunner().invoke(app, argv)
    assert out.exit_code == 2, out.output
    assert "applies to pandapower nets only" in _flat(out.output)


def test_ties_is_refused_for_a_matpower_file_and_a_table_folder(tmp_path) -> None:
    matpower = Path(__file__).parent / "data" / "io" / "double_circuit.m"
    folder = tmp_path / "net"
    write_folder(feederopt.load(str(matpower), check=False), folder)
    for source in (matpower, folder):
        out = CliRunner().invoke(app, ["info", str(source), "--ties", "switches"])
        assert out.exit_code == 2, out.output
        assert "applies to pandapower nets only" in _flat(out.output)


def test_check_takes_ties_with_case_only(one_switch_json, tmp_path) -> None:
    fake = tmp_path / "r.json"
    fake.write_text("{}")
    out = CliRunner().invoke(app, ["check", str(fake), "-u", "0.1", "--ties", "switches"])
    assert out.exit_code == 2
    assert "--ties reads the network of --case" in _flat(out.output)


def test_restore_with_ties_can_close_a_tie(one_switch_json, tmp_path) -> None:
    """line:12 (buses 12-13) broken: the loads of buses 13-17 beyond it are cut off from the
    source by the in-service lines (networkx on pandapower's own net, checked here) and only
    a tie (line:33 to bus 14, line:35 to bus 17) re-supplies them. (The end of a lateral
    rather than line:1 near the feeder head, whose restoration MILP took HiGHS 30 s; the
    point, --ties making the out-of-service lines closable, is the same.)"""
    import networkx as nx

    net = pp.from_json(one_switch_json)
    g = nx.Graph()
    g.add_nodes_from(net.bus.index)
    g.add_edges_from((int(r.from_bus), int(r.to_bus)) for k, r in net.line.iterrows()
                     if r.in_service and k != 12)
    cut = set(net.bus.index) - nx.node_connected_component(g, int(net.ext_grid.bus.iat[0]))
    assert cut == {13, 14, 15, 16, 17} and cut & set(net.load.bus)
    result = tmp_path / "restore.json"
    out = CliRunner().invoke(app, ["restore", one_switch_json, "--broken", "line:12",
                                   "--ties", "out_of_service", "--no-ac-check",
                                   "--time-limit", "60", "--json", str(result), "-q"])
    assert out.exit_code == 0, out.output
    closed = {w["branch"] for w in json.loads(result.read_text())["switching"]
              if w["action"] == "close"}
    assert closed & set(TIES)


@pytest.mark.parametrize("command", TIES_COMMANDS)
def test_every_balanced_command_lists_ties(command) -> None:
    out = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    assert "--ties <auto|switches|out_of_service>" in out.output


def test_ties_on_a_simbench_case_does_not_deny_it_is_a_pandapower_net() -> None:
    """ut48_simb #4: ``info simbench:... --ties out_of_service`` said the option "applies to
    pandapower nets only" of a SimBench grid, which is a pandapower net (README; simbench's
    get_simbench_net returns one). Refused all the same, before any download, saying why."""
    out = CliRunner().invoke(app, ["info", "simbench:1-LV-rural1--0-sw", "--ties",
                                   "out_of_service"])
    assert out.exit_code == 2, out.output
    text = _flat(out.output)
    assert "pandapower nets only" not in text
    assert "a SimBench case is a pandapower net too" in text
    assert ".json file" in text

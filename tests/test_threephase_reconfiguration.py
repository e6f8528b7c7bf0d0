"""Three-phase reconfiguration (LinDist3Flow MILP) against brute-force enumeration of the switch
states of PowerModelsONM's IEEE 13 microgrid feeder, each radial state solved by OpenDSS."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.algorithms.threephase import reconfigure_three_phase
from feederopt.cases import load_three_phase
from feederopt.cases.threephase import three_phase_case_path
from feederopt.cli import app
from feederopt.network.threephase import ThreePhaseNetwork
from feederopt.validation.opendss import solve_opendss


def _radial(net: ThreePhaseNetwork, open_switches: set[str]) -> bool:
    """Do the closed lines and the transformers form a spanning tree of the buses?"""
    buses = net.buses["id"].to_list()
    parent = {b: b for b in buses}

    def find(b: str) -> str:
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    # parallel single-phase lines between two buses join them once
    edges = list({tuple(sorted((r["from_bus"], r["to_bus"])))
                  for r in net.lines.iter_rows(named=True)
                  if r["in_service"] and r["id"] not in open_switches})
    # a bank of single-phase units joins its two buses once
    edges += list({(r["from_bus"], r["to_bus"]) for r in net.transformers.iter_rows(named=True)})
    for f, t in edges:
        a, b = find(f), find(t)
        if a == b:
            return False
        parent[a] = b
    return len({find(b) for b in buses}) == 1


def _brute_force(net: ThreePhaseNetwork) -> dict[frozenset[str], float]:
    """OpenDSS losses [kW] of every radial switch state (inf where OpenDSS does not converge:
    feeding 675 and 692 over the 15-mile line 675675aux collapses the voltage)."""
    switches = net.lines.filter(pl.col("switchable"))["id"].to_list()
    out = {}
    for k in range(len(switches) + 1):
        for combo in itertools.combinations(switches, k):
            opened = set(combo)
            if _radial(net, opened):
                sol = solve_opendss(net, open_switches=opened)
                out[frozenset(opened)] = sol.losses_kw if sol.converged else math.inf
    return out


def test_ieee13mod_matches_brute_force() -> None:
    """The MILP's topology is the radial state with the least OpenDSS losses (6 radial states:
    one of the six switches of the 670-700-...-801-675 loop open)."""
    net = load_three_phase("ieee13mod")
    losses = _brute_force(net)
    assert len(losses) == 6
    best = min(losses, key=lambda s: losses[s])
    topo = reconfigure_three_phase(net, time_limit_s=60)
    assert topo.status == "optimal"
    assert _radial(net, set(topo.open_switches))
    assert frozenset(topo.open_switches) == best


def test_reconfiguration_leaves_a_bad_base_topology(tmp_path: Path) -> None:
    """The same feeder with the tie moved (701702 open, 801675 closed): the MILP returns to
    the brute-force optimum, and ``feederopt solve FILE.dss`` reports it with OpenDSS's check."""
    text = three_phase_case_path("ieee13mod").read_text()
    text = text.replace("enabled=n  ! tie switch", "enabled=y")
    text = text.replace("New Line.701702 Phases=3 Bus1=701       Bus2=702 Switch=y  r1=0 r0=0 "
                        "x1=0.000 x0=0.000 c1=0.000 c0=0.000 enabled=y",
                        "New Line.701702 Phases=3 Bus1=701       Bus2=702 Switch=y  r1=0 r0=0 "
                        "x1=0.000 x0=0.000 c1=0.000 c0=0.000 enabled=n")
    path = tmp_path / "ieee13mod_moved_tie.dss"
    path.write_text(text)
    net = load_three_phase(path)
    base_open = net.lines.filter(pl.col("normally_open"))["id"].to_list()
    assert base_open == ["701702"]
    losses = _brute_force(net)
    best = min(losses, key=lambda s: losses[s])
    assert best != frozenset(base_open)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["solve", str(path), "--json", str(out), "-q",
                                      "--max-loading", "110"])  # XFM1: 104 % (exit 4)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert frozenset(data["open_switches"]) == best
    assert data["ac_check"]["converged"]
    assert data["ac_check"]["losses_kw"] == pytest.approx(losses[best], rel=1e-6)
    assert data["ac_check"]["losses_kw"] < losses[frozenset(base_open)]


def test_parallel_single_phase_lines_are_one_branch(tmp_path: Path) -> None:
    """Two single-phase lines between the same buses (as Iowa 240 has) are one branch of the bus
    graph: the MILP stays feasible and finds the brute-force optimum."""
    path = tmp_path / "parallel.dss"
    path.write_text(
        "Clear\nNew Circuit.par basekv=12.47 phases=3 bus1=src MVAsc3=1e5 MVAsc1=1e5\n"
        "New Line.la Phases=1 Bus1=src.1 Bus2=b1.1 r1=0.3 x1=0.6 r0=0.9 x0=1.8 Length=1 "
        "units=km\n"
        "New Line.lb Phases=1 Bus1=src.2 Bus2=b1.2 r1=0.3 x1=0.6 r0=0.9 x0=1.8 Length=1 "
        "units=km\n"
        "New Line.l2 Phases=3 Bus1=src Bus2=b2 r1=0.3 x1=0.6 r0=0.9 x0=1.8 Length=2 units=km\n"
        "New Line.sw1 Phases=2 Bus1=b3.1.2 Bus2=b1.1.2 Switch=y enabled=n\n"
        "New Line.sw2 Phases=3 Bus1=b2 Bus2=b3 Switch=y\n"
        "New Load.a Bus1=b1.1 Phases=1 kV=7.2 kW=800 kvar=300\n"
        "New Load.b Bus1=b1.2 Phases=1 kV=7.2 kW=700 kvar=200\n"
        "New Load.c Bus1=b3 Phases=3 kV=12.47 kW=300 kvar=100\n"
        "Set VoltageBases=[12.47]\nCalcVoltageBases\nSolve\n")
    net = load_three_phase(path)
    losses = _brute_force(net)
    assert losses and min(losses.values()) < math.inf
    best = min(losses, key=lambda s: losses[s])
    topo = reconfigure_three_phase(net, time_limit_s=60)
    assert topo.status == "optimal"
    assert frozenset(topo.open_switches) == best


def test_options_the_three_phase_path_lacks_give_exit_2() -> None:
    result = CliRunner().invoke(app, ["solve", "ieee13mod", "--method", "misocp"])
    assert result.exit_code == 2
    assert "--method" in result.stderr and "Traceback" not in result.output

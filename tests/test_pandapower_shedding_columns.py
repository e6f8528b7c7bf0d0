"""``sheddable`` and ``priority`` columns that a user adds to a pandapower net's ``net.load``
are read as a table folder's loads columns are (user test ut36_resil #1: both were ignored
without a word, and ``restore`` shed all 700 kW of a load marked ``sheddable = False``).

Truth: the tester's brute force over all 512 subsets of working lines of this 9-bus net
(/tmp/ut36_resil/brutep.py: its own LinDistFlow LP per forest, the rating 16-gon, the DG with
0 <= Q <= P_max): with load 3 not sheddable and load 0 at priority 10 the least weighted shed
is 2,198.47 kW-eq, with loads 0 and 3 fully served."""
import math

import pandapower as pp
import pytest

from feederopt import load
from feederopt.api_resilience import restore
from feederopt.errors import InputError


def own9(sheddable: object = None, priority: object = None) -> pp.pandapowerNet:
    """The tester's net (mknet.py): 10 kV, 8 loads with q = 0.3 p, ties lines 8 and 9 open."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=10.0, min_vm_pu=0.95, max_vm_pu=1.05) for _ in range(9)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (4, 8), (2, 6)]
    for k, (i, j) in enumerate(edges):
        line = pp.create_line_from_parameters(net, b[i], b[j], length_km=2.0, r_ohm_per_km=0.4,
                                              x_ohm_per_km=0.3, c_nf_per_km=0.0, max_i_ka=0.2)
        pp.create_switch(net, b[i], line, et="l", closed=k < 8)
    for bus, p in {1: 0.6, 2: 0.5, 3: 0.8, 4: 0.7, 5: 0.4, 6: 0.9, 7: 0.6, 8: 0.5}.items():
        pp.create_load(net, b[bus], p_mw=p, q_mvar=0.3 * p)
    if sheddable is not None:
        net.load["sheddable"] = True
        net.load["sheddable"] = net.load["sheddable"].astype(object)
        net.load.at[3, "sheddable"] = sheddable
    if priority is not None:
        net.load["priority"] = 1.0
        net.load["priority"] = net.load["priority"].astype(object)
        net.load.at[0, "priority"] = priority
    return net


def test_the_columns_reach_the_loads_table() -> None:
    net = load(own9(sheddable=False, priority=10.0))
    rows = {r["id"]: r for r in net.loads.iter_rows(named=True)}
    assert rows["load:3"]["sheddable"] is False and rows["load:2"]["sheddable"] is True
    assert rows["load:0"]["priority"] == 10.0 and rows["load:1"]["priority"] == 1.0


def test_an_empty_cell_keeps_the_default() -> None:
    net = own9(sheddable=False, priority=10.0)
    net.load.at[5, "sheddable"] = math.nan
    net.load.at[5, "priority"] = math.nan
    rows = {r["id"]: r for r in load(net).loads.iter_rows(named=True)}
    assert rows["load:5"]["sheddable"] is True and rows["load:5"]["priority"] == 1.0


@pytest.mark.parametrize("column, value", [("sheddable", "no"), ("priority", "high")])
def test_a_value_of_the_wrong_kind_is_named(column: str, value: str) -> None:
    kwargs = {column: value}
    with pytest.raises(InputError) as exc:
        load(own9(**kwargs))  # type: ignore[arg-type]
    p = [q for q in exc.value.problems if q.field == column]
    assert p and ("load:3" if column == "sheddable" else "load:0") in p[0].ids


def test_restore_keeps_the_non_sheddable_load_and_weighs_the_priority() -> None:
    r = restore(own9(sheddable=False, priority=10.0), ["line:0"], dg_sites=["3"],
                dg_p_max_kw=500.0, ac_check=False, time_limit_s=120)
    shed = r.operation.shed_per_load_kw
    assert shed.get("load:3", 0.0) == pytest.approx(0.0, abs=1e-6)
    assert shed.get("load:0", 0.0) == pytest.approx(0.0, abs=1e-6)
    assert r.objective_kw == pytest.approx(2198.47, abs=0.01)  # the tester's brute force

"""A negative load stays refused in pandapower and folder input, and the hint says how to
write the injection it is (user test ut50_iobad #5: "model an injection as a row of the
generators table"). The hint is followed literally here; the truth is pandapower's own power
flow, which takes a negative load as an injection: the net the hint gives has the same
operating point, and the folder row the hint gives turns the user's values round."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest

from feederopt.cases import load
from feederopt.errors import InputError, ProblemKind
from feederopt.io import from_pandapower, read_folder, write_folder


def test_the_pandapower_hint_is_an_sgen_call_with_the_same_power_flow() -> None:
    net = pn.case33bw()
    net.load.loc[3, ["p_mw", "q_mvar"]] = [-0.06, -0.03]
    with pytest.raises(InputError) as info:
        from_pandapower(net)
    found = [p for p in info.value.problems if p.kind is ProblemKind.BAD_LOAD
             and p.field == "p_mw"]
    assert found and found[0].ids == ("load:3",)
    call = re.search(r"pp\.create_sgen\(net, bus=(\d+), p_mw=([-\d.e]+), q_mvar=([-\d.e]+)\)",
                     found[0].hint)
    drop = re.search(r"net\.load\.drop\((\d+), inplace=True\)", found[0].hint)
    assert call and drop, found[0].hint
    fixed = copy.deepcopy(net)
    pp.create_sgen(fixed, bus=int(call.group(1)), p_mw=float(call.group(2)),
                   q_mvar=float(call.group(3)))
    fixed.load.drop(int(drop.group(1)), inplace=True)
    pp.runpp(net)
    pp.runpp(fixed)
    assert np.allclose(net.res_bus.vm_pu, fixed.res_bus.vm_pu, atol=1e-9)
    from_pandapower(fixed)  # and the net the hint gives is read


def test_the_folder_hint_is_a_generators_row(tmp_path: Path) -> None:
    path = tmp_path / "neg_load"
    write_folder(load("case33bw"), path, fmt="csv")
    loads = pl.read_csv(path / "loads.csv", infer_schema_length=0)
    lid, bus = loads["id"][3], loads["bus"][3]
    loads = loads.with_columns(
        pl.when(pl.col("id") == lid).then(pl.lit("-0.5")).otherwise(pl.col("p_mw"))
        .alias("p_mw"),
        pl.when(pl.col("id") == lid).then(pl.lit("0.03")).otherwise(pl.col("q_mvar"))
        .alias("q_mvar"))
    loads.write_csv(path / "loads.csv")
    found = [p for p in read_folder(path).validate() if p.kind is ProblemKind.BAD_LOAD
             and p.field == "p_mw" and p.is_error]
    assert found and found[0].ids == (lid,)
    row = re.search(r"generators\.csv '([^']+)' with '([^']+)'", found[0].hint)
    assert row, found[0].hint
    header, values = row.group(1), row.group(2)
    # hand arithmetic: the injection is the load turned round, -(-0.5) MW and -(0.03) MVAr
    assert dict(zip(header.split(","), values.split(","), strict=True)) == {
        "id": lid, "bus": bus, "p_mw": "0.5", "q_mvar": "-0.03"}
    (path / "generators.csv").write_text(f"{header}\n{values}\n")
    loads.filter(pl.col("id") != lid).write_csv(path / "loads.csv")
    assert not [p for p in read_folder(path).validate() if p.is_error]

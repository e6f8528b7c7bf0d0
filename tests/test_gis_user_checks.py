"""What a GIS/CSV user test (ut44_gis) found in the table-folder reader and its checks: unit
and spelling mistakes a GIS or spreadsheet export makes, each caught with a message that names
the component, field and ids and points at the actual mistake.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import Result
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import ProblemKind, Severity
from feederopt.io import write_folder
from feederopt.network import Network
from netbuild import set_value, tiny, tiny_tables

runner = CliRunner()


def _substation(s_max_mva: float | None = None, **bus_columns: list[object]) -> Network:
    """A 110/20 kV substation, 16 MVA with vk = 12 %: by the definition of vk its series
    impedance at 110 kV is |Z| = vk V^2 / S = 0.12 x 110^2 / 16 = 90.75 Ohm (taken as
    reactance); a 20 kV line to a 2 MW load."""
    z = 0.12 * 110.0**2 / 16.0
    buses = pl.DataFrame({"id": ["hv", "mv", "n1"], "vn_kv": [110.0, 20.0, 20.0],
                          "is_source": [True, False, False], **bus_columns})
    branches = pl.DataFrame({
        "id": ["T1", "L1"], "from_bus": ["hv", "mv"], "to_bus": ["mv", "n1"],
        "r_ohm": [0.0, 0.16], "x_ohm": [z, 0.12], "kind": ["transformer", "line"],
        "s_max_mva": [s_max_mva, None]}, schema_overrides={"s_max_mva": pl.Float64})
    loads = pl.DataFrame({"id": ["D1"], "bus": ["n1"], "p_mw": [2.0], "q_mvar": [0.5]})
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="sub")


# -- 1. a transformer rating typed in kVA ------------------------------------------------------

def _s_max_warnings(net: Network) -> list:
    return [p for p in net.validate() if p.field == "s_max_mva"]


def test_transformer_s_max_in_kva_is_named_with_the_mva_value() -> None:
    # 16000 "MVA" on 90.75 Ohm at 110 kV implies vk = 16000 x 90.75 / 110^2 = 120 = 12000 %
    (p,) = _s_max_warnings(_substation(16000.0))
    assert p.severity is Severity.WARNING and p.component == "branches" and p.ids == ("T1",)
    assert "if 16000 is in kVA, write 16" in p.hint
    assert "1.2e+04 %" in p.message


@pytest.mark.parametrize("s_max", [16.0, 4.0, 40.0, 1e5, 9999.0])
def test_plausible_or_placeholder_transformer_s_max_passes(s_max: float) -> None:
    # 16 MVA: vk 12 %; 40 MVA: 30 % (within the factor 10 of 6 %); 4 MVA too small is not named
    # (it binds, visibly); 1e5 and 9999 are placeholders for "no rating"
    assert _s_max_warnings(_substation(s_max)) == []


def test_transformer_s_max_in_kva_is_shown_by_info(tmp_path: Path) -> None:
    folder = tmp_path / "kva"
    write_folder(_substation(16000.0), folder)
    out = runner.invoke(app, ["info", str(folder)], env={"COLUMNS": "240"})
    assert out.exit_code == 0, out.output
    assert "branches [T1].s_max_mva" in out.output and "write 16" in out.output


# -- 2. voltage limits and set-points given in percent ------------------------------------------

@pytest.mark.parametrize(("column", "value", "written"),
                         [("v_max_pu", 105.0, "1.05"), ("v_min_pu", 90.0, "0.9"),
                          ("v_max_pu", 110.0, "1.1")])
def test_voltage_limit_in_percent_is_refused(column: str, value: float, written: str) -> None:
    other = {"v_min_pu": 0.9, "v_max_pu": 1.1}
    other[column] = value
    net = _substation(16.0, **{c: [v] * 3 for c, v in other.items()})
    (p,) = [p for p in net.validate() if p.field == column and "percentage" in p.message]
    assert p.is_error and p.kind is ProblemKind.INVALID_VALUE and p.component == "buses"
    assert p.ids == ("hv", "mv", "n1")
    assert f"write {written} for {value:g} %" in p.hint


@pytest.mark.parametrize("v_max", [1.1, 1.5, 2.0, 10.0])
def test_plausible_or_open_voltage_limit_passes(v_max: float) -> None:
    net = _substation(16.0, v_max_pu=[v_max] * 3)
    assert [p for p in net.validate() if p.field == "v_max_pu"] == []


def test_voltage_limits_in_percent_exit_2(tmp_path: Path) -> None:
    folder = tmp_path / "pct"
    write_folder(_substation(16.0, v_min_pu=[90.0] * 3, v_max_pu=[110.0] * 3), folder)
    out = runner.invoke(app, ["info", str(folder)], env={"COLUMNS": "240"})
    assert out.exit_code == 2, out.output
    assert "buses [hv, mv, n1].v_min_pu" in out.output and "write 0.9 for 90 %" in out.output
    assert "Traceback" not in out.output


def test_set_point_near_100_is_called_a_percentage() -> None:
    # 102 at a 110 kV source: 102 % is 1.02 p.u.; read as kV it would be 102 / 110 = 0.927 p.u.
    net = _substation(16.0, v_set_pu=[102.0, 1.0, 1.0])
    (p,) = [p for p in net.validate() if p.field == "v_set_pu" and p.is_error]
    assert p.hint.startswith("p.u., not %: 102 looks like a percentage of nominal: write 1.02")
    # 112.2 at 110 kV is 1.02 p.u. in kV (nearer 1 than 1.122): the kV reading comes first
    net = _substation(16.0, v_set_pu=[112.2, 1.0, 1.0])
    (p,) = [p for p in net.validate() if p.field == "v_set_pu" and p.is_error]
    assert p.hint.startswith("p.u., not kV: 112.2 looks like the bus's vn_kv (110 kV)")


# -- 3. ids that differ only by blanks at their ends, or by case --------------------------------

def _tiny_with(table: str, row: dict[str, object]) -> Network:
    t = tiny_tables()
    t[table] = pl.concat([t[table], pl.DataFrame([row], schema=t[table].schema)])
    return Network.from_tables(**t, name="tiny")


def test_bus_ids_differing_by_a_trailing_space_are_a_duplicate(tmp_path: Path) -> None:
    net = _tiny_with("buses", {"id": "b ", "vn_kv": 12.66, "is_source": False})
    (p,) = [p for p in net.validate() if p.kind is ProblemKind.DUPLICATE_ID]
    assert p.is_error and p.component == "buses" and p.field == "id"
    assert set(p.ids) == {"b", "b "} and "b and 'b '" in p.message
    folder = tmp_path / "ws"
    write_folder(net, folder)
    out = runner.invoke(app, ["info", str(folder)], env={"COLUMNS": "240"})
    assert out.exit_code == 2, out.output
    assert "duplicate_id: buses [b, 'b '].id" in out.output and "Traceback" not in out.output


def test_load_ids_differing_only_in_case_are_named_in_a_warning() -> None:
    net = _tiny_with("loads", {"id": "la", "bus": "b", "p_mw": 0.1, "q_mvar": 0.0})
    (p,) = [p for p in net.validate() if p.kind is ProblemKind.DUPLICATE_ID]
    assert p.severity is Severity.WARNING and p.component == "loads"
    assert set(p.ids) == {"La", "la"} and "case-sensitive" in p.message


def test_distinct_ids_raise_no_duplicate() -> None:
    assert [p for p in tiny().validate() if p.kind is ProblemKind.DUPLICATE_ID] == []


def test_wrong_case_reference_is_named_as_such() -> None:
    t = tiny_tables()
    t["loads"] = set_value(t["loads"], "Lb", "bus", "B")
    (p,) = [p for p in Network.from_tables(**t, name="tiny").validate()
            if p.kind is ProblemKind.UNKNOWN_BUS]
    assert p.ids == ("Lb",) and p.hint.startswith("B is not bus b: ids are case-sensitive")


def test_reference_to_a_bus_whose_id_ends_in_a_space_is_named_as_such() -> None:
    t = tiny_tables()
    t["buses"] = set_value(t["buses"], "d", "id", "d ")
    found = [p for p in Network.from_tables(**t, name="tiny").validate()
             if p.kind is ProblemKind.UNKNOWN_BUS]
    assert {(p.component, p.ids) for p in found} == {("branches", ("sw1",)), ("loads", ("Ld",))}
    assert all(p.hint.startswith("d is not bus 'd ': a space") for p in found)


# -- 4. line impedances per km (length_km, r_ohm_per_km, x_ohm_per_km, b_us_per_km) ------------

_R, _X, _C_NF = 0.161, 0.117, 406.0  # per km, a 20 kV cable (pandapower's NA2XS2Y 1x185)
_LENGTHS = {"L1": 1.3, "L2": 0.8, "L3": 2.1}


def _per_km_folder(folder: Path, *, rows: list[str] | None = None) -> Path:
    """A 110/20 kV feeder whose lines give only length_km and per-km values, as a GIS exports
    it; the transformer gives its totals."""
    folder.mkdir()
    (folder / "buses.csv").write_text(
        "id,vn_kv,is_source\nhv,110,True\nmv,20,False\nn1,20,False\nn2,20,False\nn3,20,False\n")
    b_per_km = 2 * 3.141592653589793 * 50 * _C_NF * 1e-3  # uS/km
    lines = rows if rows is not None else [
        f"{lid},{a},{b},,,{km},{_R},{_X},{b_per_km!r}"
        for lid, a, b, km in (("L1", "mv", "n1", 1.3), ("L2", "n1", "n2", 0.8),
                              ("L3", "n2", "n3", 2.1))]
    (folder / "branches.csv").write_text(
        "id,from_bus,to_bus,r_ohm,x_ohm,length_km,r_ohm_per_km,x_ohm_per_km,b_us_per_km,kind\n"
        "T1,hv,mv,0.5,30.25,,,,,transformer\n"
        + "".join(f"{line},line\n" for line in lines))
    (folder / "loads.csv").write_text(
        "id,bus,p_mw,q_mvar\nD1,n1,1.2,0.4\nD2,n2,0.9,0.3\nD3,n3,1.5,0.5\n")
    return folder


def test_per_km_columns_give_the_power_flow_of_pandapower_lines(tmp_path: Path) -> None:
    import pandapower as pp

    from feederopt.io import read_folder
    from feederopt.validation.ac import ac_power_flow

    net = read_folder(_per_km_folder(tmp_path / "gis"))
    # the same grid built by hand in pandapower, lines from their per-km parameters
    pn = pp.create_empty_network(f_hz=50.0)
    bus = {b: pp.create_bus(pn, vn_kv=kv, name=b) for b, kv in
           (("hv", 110.0), ("mv", 20.0), ("n1", 20.0), ("n2", 20.0), ("n3", 20.0))}
    pp.create_ext_grid(pn, bus["hv"], vm_pu=1.0)
    # the transformer as its series impedance referred to 110 kV: an ideal 110/20 ratio
    pp.create_transformer_from_parameters(
        pn, bus["hv"], bus["mv"], sn_mva=25.0, vn_hv_kv=110.0, vn_lv_kv=20.0,
        vkr_percent=100 * 0.5 * 25.0 / 110.0**2,
        vk_percent=100 * abs(complex(0.5, 30.25)) * 25.0 / 110.0**2,
        pfe_kw=0.0, i0_percent=0.0)
    for (lid, km), (a, b) in zip(_LENGTHS.items(), (("mv", "n1"), ("n1", "n2"), ("n2", "n3")),
                                 strict=True):
        pp.create_line_from_parameters(pn, bus[a], bus[b], length_km=km, r_ohm_per_km=_R,
                                       x_ohm_per_km=_X, c_nf_per_km=_C_NF, max_i_ka=1.0,
                                       name=lid)
    for b, p, q in (("n1", 1.2, 0.4), ("n2", 0.9, 0.3), ("n3", 1.5, 0.5)):
        pp.create_load(pn, bus[b], p_mw=p, q_mvar=q)
    pp.runpp(pn)
    ac = ac_power_flow(net)
    assert ac.converged
    pp_loss_kw = 1000 * (pn.res_line.pl_mw.sum() + pn.res_trafo.pl_mw.sum())
    assert ac.losses_kw == pytest.approx(pp_loss_kw, rel=1e-6)
    vm = dict(zip(ac.bus_ids, ac.vm_pu, strict=True))
    for name, v in zip(pn.bus.name, pn.res_bus.vm_pu, strict=True):
        assert vm[name] == pytest.approx(v, abs=1e-9)
    r = dict(zip(net.branches["id"], net.branches["r_ohm"], strict=True))
    assert r["L3"] == pytest.approx(_R * 2.1) and r["T1"] == 0.5


def test_per_km_and_total_that_disagree_are_refused(tmp_path: Path) -> None:
    rows = ["L1,mv,n1,0.2093,0.1521,1.3,0.161,0.117,0",  # agrees: 0.161 x 1.3 = 0.2093
            "L2,n1,n2,0.5,,0.8,0.161,0.117,0",  # r disagrees: 0.161 x 0.8 = 0.1288
            "L3,n2,n3,,,,0.161,0.117,0"]  # no length
    folder = _per_km_folder(tmp_path / "both", rows=rows)
    out = runner.invoke(app, ["info", str(folder)], env={"COLUMNS": "240"})
    assert out.exit_code == 2, out.output
    assert "branches [L2].r_ohm" in out.output and "0.161 x 0.8 km = 0.1288" in out.output
    assert "branches [L3].length_km" in out.output
    assert "branches [L1]" not in out.output and "Traceback" not in out.output
    assert "did you mean 'r_ohm'" not in out.output


# -- 5. messages that point at the actual mistake -----------------------------------------------

def _mv_feeder(r_ohm: float, x_ohm: float, p_mw: float) -> Network:
    """A 20 kV source and three 1 km sections of 0.161 + j0.117 Ohm/km (or whatever is given
    per section), each bus loaded with p_mw at power factor 0.95."""
    buses = pl.DataFrame({"id": ["s", "n1", "n2", "n3"], "vn_kv": [20.0] * 4,
                          "is_source": [True, False, False, False]})
    branches = pl.DataFrame({"id": ["L1", "L2", "L3"], "from_bus": ["s", "n1", "n2"],
                             "to_bus": ["n1", "n2", "n3"], "r_ohm": [r_ohm] * 3,
                             "x_ohm": [x_ohm] * 3, "kind": ["line"] * 3})
    loads = pl.DataFrame({"id": ["D1", "D2", "D3"], "bus": ["n1", "n2", "n3"],
                          "p_mw": [p_mw] * 3, "q_mvar": [p_mw * 0.3287] * 3})
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="mv")


def test_line_impedances_from_metres_are_blamed_not_the_loads() -> None:
    # lengths in m: 161 + j117 Ohm per section; the path to n3 is 3 x 199.03 = 597.1 Ohm, so
    # S_sc = 20^2 / 597 = 0.67 MVA, below n3's 0.8 / 0.95 = 0.84 MVA
    (p,) = [p for p in _mv_feeder(161.0, 117.0, 0.8).validate()
            if p.kind is ProblemKind.BAD_LOAD]
    assert "597.1 Ohm" in p.hint and "look 1000 times too large" in p.hint
    assert "divide them by 1000" in p.hint


def test_loads_in_kw_on_a_sound_feeder_keep_the_kw_hint() -> None:
    # 800 "MW" per bus at 20 kV on 0.199 Ohm sections: S_sc at n3 = 400 / 0.597 = 670 MVA
    (p,) = [p for p in _mv_feeder(0.161, 0.117, 800.0).validate()
            if p.kind is ProblemKind.BAD_LOAD]
    assert "1000 times too large" not in p.hint and "write 0.8" in p.hint


def _transformer(from_bus: str, to_bus: str, i_max_ka: float) -> Network:
    """A 25 MVA 110/20 kV transformer, vk 12 %: |Z| = 0.12 x 110^2 / 25 = 58.08 Ohm at 110 kV
    (IEC 60076-5's definition of vk), rated 25 / (sqrt(3) x 110) = 0.1312 kA at 110 kV."""
    buses = pl.DataFrame({"id": ["hv", "mv", "n1"], "vn_kv": [110.0, 20.0, 20.0],
                          "is_source": [True, False, False]})
    branches = pl.DataFrame({
        "id": ["T1", "L1"], "from_bus": [from_bus, "mv"], "to_bus": [to_bus, "n1"],
        "r_ohm": [0.0, 0.16], "x_ohm": [0.12 * 110.0**2 / 25.0, 0.12],
        "kind": ["transformer", "line"], "i_max_ka": [i_max_ka, None]})
    loads = pl.DataFrame({"id": ["D1"], "bus": ["n1"], "p_mw": [2.0], "q_mvar": [0.5]})
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="t")


def test_transformer_with_swapped_ends_is_called_swapped() -> None:
    (p,) = [p for p in _transformer("mv", "hv", 25.0 / (3**0.5 * 110.0)).validate()
            if p.field == "i_max_ka"]
    assert p.ids == ("T1",) and "from_bus and to_bus look swapped" in p.message
    assert "a 12 % short-circuit voltage" in p.message and "swap them" in p.hint


def test_transformer_rated_at_its_other_winding_keeps_the_current_hint() -> None:
    # the 20 kV side's 0.7217 kA given from the 110 kV bus: impedance at 110 kV is right
    (p,) = [p for p in _transformer("hv", "mv", 25.0 / (3**0.5 * 20.0)).validate()
            if p.field == "i_max_ka"]
    assert "swapped" not in p.message and "i_max_ka 0.1312 kA at 110 kV" in p.message


# -- 6. CSV files as spreadsheets and GIS tools write them --------------------------------------

_BUSES = "id,vn_kv,is_source\ns,20,True\nn1,20,False\nn2,20,False\n"
_BRANCHES = ("id,from_bus,to_bus,r_ohm,x_ohm,kind\nL1,s,n1,0.2,0.15,line\n"
             "L2,n1,n2,0.3,0.2,line\n")
_LOADS = "id,bus,p_mw,q_mvar\nD1,n1,0.5,0.1\nD2,n2,0.4,0.1\n"


def _folder(tmp_path: Path, **files: str | bytes) -> Path:
    folder = tmp_path / "net"
    folder.mkdir()
    for name, text in {"buses": _BUSES, "branches": _BRANCHES, "loads": _LOADS,
                       **files}.items():
        (folder / f"{name}.csv").write_bytes(text if isinstance(text, bytes)
                                             else text.encode())
    return folder


def _info(folder: Path) -> Result:
    return runner.invoke(app, ["info", str(folder)], env={"COLUMNS": "240"})


def test_unquoted_decimal_comma_names_the_file_and_line(tmp_path: Path) -> None:
    out = _info(_folder(tmp_path, loads="id,bus,p_mw,q_mvar\nD1,n1,0,5,0,1\nD2,n2,0.4,0.1\n"))
    assert out.exit_code == 2, out.output
    assert "loads.csv" in out.output and "more fields than the header's 4" in out.output
    assert "(line 2: 6 fields)" in out.output and "decimal comma" in out.output
    assert "Traceback" not in out.output


def test_one_row_with_an_extra_field_names_its_line(tmp_path: Path) -> None:
    out = _info(_folder(tmp_path, loads="id,bus,p_mw,q_mvar\nD1,n1,0.5,0.1\nD2,n2,0.4,0.1,x\n"))
    assert out.exit_code == 2, out.output
    assert "1 line(s) have more fields" in out.output and "(line 3: 5 fields)" in out.output


def test_cp1252_file_is_read_with_a_note(tmp_path: Path) -> None:
    from feederopt.io import read_folder

    buses = "id,name,vn_kv,is_source\ns,Umspannwerk Süd,20,True\nn1,Hauptstraße,20,False\n" \
            "n2,Café,20,False\n"
    net = read_folder(_folder(tmp_path, buses=buses.encode("cp1252")))
    assert net.buses["name"].to_list() == ["Umspannwerk Süd", "Hauptstraße", "Café"]
    assert any("buses.csv is not UTF-8" in w and "Windows-1252" in w
               for w in net.meta.get("warnings", []))
    assert net.loads["p_mw"].to_list() == [0.5, 0.4]


def test_trailing_comma_in_every_line_is_no_column(tmp_path: Path) -> None:
    from feederopt.io import read_folder

    loads = "id,bus,p_mw,q_mvar,\nD1,n1,0.5,0.1,\nD2,n2,0.4,0.1,\n"
    net = read_folder(_folder(tmp_path, loads=loads))
    assert not [c for c in net.loads.columns if c.startswith("column_") or not c.strip()]
    assert [p for p in net.validate() if p.kind is ProblemKind.UNKNOWN_COLUMN] == []
    assert net.loads["q_mvar"].to_list() == [0.1, 0.1]


def test_every_semicolon_file_is_named_at_once(tmp_path: Path) -> None:
    out = _info(_folder(tmp_path, buses=_BUSES.replace(",", ";"),
                        loads=_LOADS.replace(",", ";")))
    assert out.exit_code == 2, out.output
    assert "buses.csv" in out.output and "loads.csv" in out.output
    assert "error: 2 problems" in out.output


# -- 7. a PV in consumer sign, a source with nothing at it, check given a network folder --------

def _with_generators(p_mw: float, **limits: float) -> Network:
    gens = pl.DataFrame({"id": ["PV1"], "bus": ["c"], "p_mw": [p_mw], "q_mvar": [0.0],
                         **{k: [v] for k, v in limits.items()}})
    return tiny(generators=gens)


def test_generator_with_a_fixed_negative_output_is_named() -> None:
    (p,) = [p for p in _with_generators(-0.373).validate() if "negative p_mw" in p.message]
    assert p.severity is Severity.WARNING and p.component == "generators" and p.ids == ("PV1",)
    assert "consumer sign" in p.hint


@pytest.mark.parametrize(("p_mw", "limits"), [(0.373, {}),
                                              (-0.2, {"p_min_mw": -0.5, "p_max_mw": 0.0})])
def test_positive_output_or_a_dispatchable_load_passes(p_mw: float,
                                                      limits: dict[str, float]) -> None:
    assert not [p for p in _with_generators(p_mw, **limits).validate()
                if "negative p_mw" in p.message]


def test_source_bus_with_no_branch_is_named() -> None:
    t = tiny_tables()
    t["buses"] = pl.concat([t["buses"], pl.DataFrame(
        {"id": ["s2"], "vn_kv": [12.66], "is_source": [True]}, schema=t["buses"].schema)])
    found = [p for p in Network.from_tables(**t, name="tiny").validate()
             if "supply nothing" in p.message]
    assert [(p.ids, p.severity) for p in found] == [(("s2",), Severity.WARNING)]
    assert not [p for p in tiny().validate() if "supply nothing" in p.message]


def test_check_given_a_network_folder_says_it_takes_a_result(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = runner.invoke(app, ["check", str(folder)], env={"COLUMNS": "240"})
    assert out.exit_code == 2, out.output
    assert "is a network folder" in out.output and "takes a result file" in out.output
    assert "result.json: no such file" not in out.output and "Traceback" not in out.output


def test_swapped_transformer_with_its_rating_at_the_from_bus_blames_the_impedance() -> None:
    # the swapped transformer with i_max_ka "corrected" to its 20 kV from bus (25 MVA /
    # (sqrt(3) x 20) = 0.7217 kA): 58.08 Ohm at 20 kV is vk 363 %, at 110 kV 12 %
    (p,) = [p for p in _transformer("mv", "hv", 25.0 / (3**0.5 * 20.0)).validate()
            if p.field == "i_max_ka"]
    assert "r_ohm and x_ohm look referred to the other winding" in p.message
    assert "gives a plausible 12 %" in p.message and "(from kV / to kV)^2" in p.hint


def test_dcline_sending_end_is_not_called_consumer_sign() -> None:
    # pandapower's runpp models a dcline as a generator drawing |p_mw| at its from bus
    gens = pl.DataFrame({"id": ["dcline:0:from"], "bus": ["c"], "p_mw": [-0.5],
                         "q_mvar": [0.0], "pp_element": ["dcline"]})
    assert not [p for p in tiny(generators=gens).validate() if "negative p_mw" in p.message]

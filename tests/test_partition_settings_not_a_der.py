"""A settings file that marks an element that is no DER says what the element is (user test
ut42_part #2).

``{"dss": {"Load.671_1": {"inverter": "grid_forming"}}}`` was refused as "settings name a DER
that is not in the network": the load is in the network, and the message said neither that it
is a load nor which elements can be DERs. The truth is the feeder's own OpenDSS file
(``network.ieee13mod.dss``: ``New Load.671``, ``New Capacitor.cap1``, ``New Generator.675``, a
``Line.671692`` with ``switch=y``), read here as text, not through feederopt.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt import InputError
from feederopt.cases import load_three_phase
from feederopt.cli import app
from feederopt.problems.partition import settings_from_file

DSS = Path(__file__).parents[1] / "src/feederopt/cases/data/opendss/network.ieee13mod.dss"


@pytest.fixture(scope="module")
def net():  # type: ignore[no-untyped-def]
    return load_three_phase("ieee13mod")


def _defined(cls: str, name: str) -> bool:
    """Does the OpenDSS file define ``cls.name`` (``New Load.671 ...``)?"""
    return re.search(rf"^\s*new\s+{cls}\.{re.escape(name)}\s", DSS.read_text(),
                     re.IGNORECASE | re.MULTILINE) is not None


@pytest.mark.parametrize(("key", "cls", "name", "says"), [
    ("Load.671", "Load", "671", "Load.671 is a load, not a DER"),
    ("Capacitor.cap1", "Capacitor", "cap1", "Capacitor.cap1 is a capacitor, not a DER"),
    ("Line.671692", "Line", "671692", "Line.671692 is a switch, not a DER"),
    ("Transformer.xfm1", "Transformer", "xfm1", "Transformer.xfm1 is a transformer, not a DER"),
    ("675", "Generator", "675", "675: did you mean Generator.675?"),
])
def test_an_element_of_another_class_is_named_as_such(net, tmp_path: Path, key: str,  # type: ignore[no-untyped-def]
                                                      cls: str, name: str, says: str) -> None:
    assert _defined(cls, name)  # the premise, from the file itself
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"dss": {key: {"inverter": "grid_forming"}}}))
    with pytest.raises(InputError) as exc:
        settings_from_file(f, net)
    (p,) = exc.value.problems
    assert p.ids == (key,) and p.field == "dss"
    assert says in p.message, p.message
    assert "Generator, PVSystem and Storage" in p.hint and "Generator.675" in p.hint


def test_a_der_class_without_such_a_unit(net, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert not _defined("Generator", "nope")
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"dss": {"Generator.nope": {"inverter": "grid_forming"}}}))
    with pytest.raises(InputError) as exc:
        settings_from_file(f, net)
    assert "Generator.nope: no Generator of that name" in exc.value.problems[0].message


def test_the_cli_says_it_is_a_load(tmp_path: Path) -> None:
    f = tmp_path / "s_load.json"
    f.write_text(json.dumps({"dss": {"Load.671": {"inverter": "grid_forming"}}}))
    r = CliRunner().invoke(app, ["partition", "ieee13mod", "--settings", str(f)])
    text = " ".join(r.output.split())
    assert r.exit_code == 2, r.output
    assert "Load.671 is a load, not a DER" in text and "PVSystem" in text
    assert "Traceback" not in r.output

"""Scenario files of user test ut43_resil findings 4, 5 and 6 (``io.disasters``).

* #4: an empty id in a scenario's ``broken`` list (CSV ``2;;11``, JSON ``["2", "", "11"]``)
  is an id left out, refused as ``restore --broken 2,,11`` is ("entry 2 is empty"). Before,
  the CSV one was dropped without a word (the plan broke 2 and 11), and the JSON one was
  refused as "unknown branch ids " with a blank id.
* #5: a JSON probability written as text (``"0.5"``) is a type error, as ``"broken": 4``
  is; it was read as 0.5 in silence.
* #6: a CSV file delimited by ';' has one column, ``scenario;prob;lines``: the hint names
  the delimiter and the column ``prob`` means (``probability``).

The truth is the files' own text (which entry is empty, which type is given).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.io.disasters import read_disasters


@pytest.fixture(scope="module")
def net() -> feederopt.Network:
    return feederopt.load("zhang13")


def problems(path: Path, net: feederopt.Network) -> list[str]:
    with pytest.raises(InputError) as err:
        read_disasters(path, net)
    return [str(p) for p in err.value.problems]


def test_csv_empty_entry_is_refused(tmp_path: Path, net: feederopt.Network) -> None:
    f = tmp_path / "emptyid.csv"
    f.write_text("name,probability,broken\na,0.5,2;;11\nb,0.5,4\n")
    got = problems(f, net)
    assert len(got) == 1 and "[a].broken" in got[0] and "entry 2 is empty" in got[0], got
    # a trailing ';' is an empty last entry too; an empty cell breaks none (no problem)
    f.write_text("name,probability,broken\na,0.5,2;11;\nb,0.5,\n")
    got = problems(f, net)
    assert len(got) == 1 and "[a].broken" in got[0] and "entry 3 is empty" in got[0], got
    f.write_text("name,probability,broken\na,0.5,2;11\nb,0.5,\n")
    ds = read_disasters(f, net)
    assert [d.broken for d in ds.scenarios] == [("2", "11"), ()]


def test_json_empty_string_is_refused(tmp_path: Path, net: feederopt.Network) -> None:
    f = tmp_path / "emptystr.json"
    f.write_text('{"scenarios":[{"name":"a","probability":0.5,"broken":["2","","11"]},'
                 '{"name":"b","probability":0.5,"broken":["4"]}]}')
    got = problems(f, net)
    assert len(got) == 1 and "entry 2 is empty" in got[0], got
    assert "unknown branch ids" not in got[0]


def test_json_text_probability_is_refused(tmp_path: Path, net: feederopt.Network) -> None:
    f = tmp_path / "strprob.json"
    f.write_text('{"scenarios":[{"name":"a","probability":"0.5","broken":["2"]},'
                 '{"name":"b","probability":0.5,"broken":["4"]}]}')
    got = problems(f, net)
    assert len(got) == 1 and "[a].probability" in got[0] and "text '0.5'" in got[0], got
    # in a CSV file every cell is text: 0.5 there is a number
    c = tmp_path / "ok.csv"
    c.write_text("name,probability,broken\na,0.5,2\nb,0.5,4\n")
    assert [d.probability for d in read_disasters(c, net).scenarios] == [0.5, 0.5]


def test_semicolon_delimited_csv_gets_the_delimiter_hint(tmp_path: Path,
                                                         net: feederopt.Network) -> None:
    f = tmp_path / "wrongfmt.csv"
    f.write_text("scenario;prob;lines\na;0.5;2,11\n")
    got = problems(f, net)
    assert len(got) == 1 and "missing columns 'probability', 'broken'" in got[0], got
    assert "delimited by ';'" in got[0] and "rename 'prob' to 'probability'" in got[0]

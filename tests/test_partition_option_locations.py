"""A bad value of a partition option is located at the option, not in the settings file
(user test ut45b_part #7): with no partition section in the settings, ``--uncertain-loads
l1,L9`` read "settings [L9].uncertain_loads", ``--uncertainty -0.1``
"settings.partition.uncertainty", and ``--uncertainty 0.1`` without named loads
"settings [20].uncertain_loads" (the count read as an index). The same values from the
settings file stay the file's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.api_partition import partition
from feederopt.cli import app
from feederopt.errors import InputError

runner = CliRunner(env={"COLUMNS": "200"})


def _refused(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert "1 problem in the input" in r.output, r.output
    return r.output


@pytest.mark.parametrize(("args", "where", "value"), [
    (["--uncertainty", "-0.1"], "options.uncertainty:", "-0.1"),
    (["--k-der", "0"], "options.k_der:", "0"),
    (["--uncertainty", "0.1", "--uncertain-loads", "671,L9"], "options.uncertain_loads:", "L9"),
])
def test_option_values_are_located_at_the_option(args: list[str], where: str,
                                                 value: str) -> None:
    out = _refused(["partition", "ieee13mod", *args])
    assert where in out and value in out, out
    assert "settings" not in out.split("(hint")[0], out


def test_count_of_uncertain_loads_is_not_an_index() -> None:
    out = _refused(["partition", "ieee37", "--uncertainty", "0.1"])
    assert "options.uncertain_loads: 30 uncertain loads" in out, out
    assert "[30]" not in out


def test_settings_file_values_stay_the_files(tmp_path: Path) -> None:
    sfile = tmp_path / "s.json"
    sfile.write_text(json.dumps({"partition": {"uncertainty": -0.1}}))
    with pytest.raises(InputError) as err:
        partition("ieee13mod", settings=sfile)
    (p,) = err.value.problems
    assert (p.component, p.field) == ("settings", "partition.uncertainty")
    with pytest.raises(InputError) as err:
        partition("ieee13mod", uncertainty=-0.1)
    (p,) = err.value.problems
    assert (p.component, p.field) == ("options", "uncertainty")

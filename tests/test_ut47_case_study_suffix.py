"""A built-in case's name with a SimBench study case after ``@`` (user test ut47_docs #3):
``feederopt info case33bw@hL`` was told "'case33bw@hL' is neither a built-in case nor an
existing file" with the hint "e.g. case33bw, case33mg", where the README (the network
argument) says a study case after ``@`` applies only to a SimBench name, as ``info
mv.json@hL`` is told. The truth is the user's own input: the part before ``@`` is the name
the README's case list gives (``case33bw``; the three-phase ``ieee13``)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError

runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("base", ["case33bw", "ieee13"])
def test_a_study_case_after_a_built_in_case_is_told_it_applies_only_to_simbench(
        base: str) -> None:
    out = runner.invoke(app, ["info", f"{base}@hL"])
    assert out.exit_code == 2, out.output
    text = _flat(out.output)
    assert "a study case after '@' ('@hL') applies only to SimBench grids" in text
    assert f"'{base}' is a built-in case, given by its name alone" in text
    assert "e.g. case33bw, case33mg" not in text


def test_from_python_and_for_a_name_that_is_no_case() -> None:
    with pytest.raises(InputError) as e:
        feederopt.load("case33bw@hL")
    (p,) = e.value.problems
    assert "applies only to SimBench grids" in p.hint
    assert "'case33bw' is a built-in case" in p.hint
    with pytest.raises(InputError) as e:
        feederopt.load("nosuchcase@hL")
    (p,) = e.value.problems
    assert "applies only to SimBench grids" in p.hint and "is a built-in case" not in p.hint

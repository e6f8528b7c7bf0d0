"""Option checks of the Python API (user test ut_api #9): every problem at once, typed, also
for wrong types; ``solve_three_phase`` checks its time limit and gap as the CLI does; the
options may be given in the method's place."""

from __future__ import annotations

import math

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.options import SolveOptions, Stop
from netbuild import tiny


def _fields(**kw: object) -> set[str | None]:
    with pytest.raises(InputError) as exc:
        feederopt.solve(tiny(), **kw)  # type: ignore[arg-type]
    return {p.field for p in exc.value.problems}


def test_an_unknown_method_does_not_hide_an_unknown_solver() -> None:
    assert _fields(method="x", solver="y", gap=2, time_limit=-1) == {
        "method", "solver", "gap", "time_limit"}


@pytest.mark.parametrize(("kw", "field"), [({"robust": "abc"}, "robust"),
                                           ({"time_limit": "60"}, "time_limit"),
                                           ({"iteration_limit": True}, "iteration_limit")])
def test_options_of_the_wrong_type_are_typed_problems(kw: dict[str, object], field: str) -> None:
    assert _fields(**kw) == {field}


def test_the_time_limit_given_as_text_is_named_so() -> None:
    with pytest.raises(InputError) as exc:
        feederopt.solve(tiny(), time_limit="60")  # type: ignore[arg-type]
    assert "'60'" in exc.value.problems[0].message


@pytest.mark.parametrize(("kw", "fields"), [({"time_limit_s": -1.0}, {"time_limit_s"}),
                                            ({"time_limit_s": math.nan}, {"time_limit_s"}),
                                            ({"gap": 2.0, "time_limit_s": 0.0},
                                             {"gap", "time_limit_s"})])
def test_solve_three_phase_checks_its_time_limit_and_gap(kw: dict[str, float],
                                                        fields: set[str]) -> None:
    with pytest.raises(InputError) as exc:
        feederopt.solve_three_phase("ieee13", **kw)  # type: ignore[arg-type]
    assert {p.field for p in exc.value.problems} == fields


def test_options_given_in_the_methods_place() -> None:
    opts = SolveOptions(stop=Stop(time_limit_s=20.0), ac_check=False)
    r = feederopt.solve(tiny(), opts)
    assert r.status.value == "optimal"
    with pytest.raises(TypeError):
        feederopt.solve(tiny(), opts, gap=0.1)


def test_switches_given_as_strings_are_refused() -> None:
    """User test ut_io #5: ``ac_polish="false"`` ran the polish (a non-empty string is true)."""
    assert _fields(ac_polish="false", ac_check="no", thermal_limits="no",
                   fix_devices="no") == {"ac_polish", "ac_check", "thermal_limits",
                                         "fix_devices"}
    with pytest.raises(InputError) as exc:
        feederopt.solve(tiny(), gap="0.01")  # type: ignore[arg-type]
    assert "not '0.01'" in exc.value.problems[0].message


def test_an_infinite_time_limit_is_null_in_the_json() -> None:
    """User test ut_io #7: ``--time-limit inf`` wrote ``Infinity``, which JSON does not have."""
    import json

    result = feederopt.solve(tiny(), time_limit=math.inf)
    text = result.to_json()
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text)["settings"]["time_limit_s"] is None


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0"])
def test_a_loss_price_that_is_no_finite_positive_number_says_so(value: str) -> None:
    """``--loss-price inf`` said "must be positive", which inf is (nits #2): the message says
    finite and positive, shows the value given, and the hint gives an example."""
    run = CliRunner().invoke(app, ["solve", "zhang13", "--loss-price", value, "-q"])
    assert run.exit_code == 2, run.output
    text = " ".join(run.output.split())
    assert "options.loss_price_per_mwh" in text and "Traceback" not in text
    assert "finite positive number" in text and f"not {float(value)}" in text
    assert "hint: e.g. --loss-price 50" in text

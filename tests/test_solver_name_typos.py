"""An unknown solver name is refused as unknown, with the nearest name, and an empty one as
empty, not as a solver that "cannot solve this model" (user test ut39_api #3:
``solver="clarbel"`` said "solver 'clarbel' cannot solve this model")."""

from __future__ import annotations

import pytest

from feederopt.solvers.detect import solver_problems


def test_a_misspelt_solver_is_unknown_with_the_nearest_name() -> None:
    (p,) = solver_problems("clarbel", mixed_integer=False)
    assert p.field == "solver"
    assert "unknown solver 'clarbel' (did you mean CLARABEL?)" in p.message
    assert "cannot solve" not in p.message


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_solver_name_is_refused_as_empty(name: str) -> None:
    (p,) = solver_problems(name, mixed_integer=True)
    assert "empty" in p.message
    assert "cannot solve" not in p.message


def test_a_known_solver_of_another_model_class_still_cannot_solve_it() -> None:
    (p,) = solver_problems("SCIP", mixed_integer=False)
    assert "cannot solve this model" in p.message
    assert solver_problems("clarabel", mixed_integer=False) == []

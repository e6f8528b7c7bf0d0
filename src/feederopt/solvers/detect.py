"""Which solvers are installed, and which is the default for a model class.

Open-source solvers from PyPI are the defaults: Clarabel (SOCP), HiGHS (MILP), SCIP (MISOCP).
Gurobi and MOSEK are used for the MISOCP when they are installed *and* licensed; nothing needs
them.
"""

from __future__ import annotations

import difflib
import functools

import cvxpy as cp

from feederopt.errors import InputError, Problem, ProblemKind

#: Solvers that can take a mixed-integer SOCP through cvxpy.
MISOCP_SOLVERS = ("GUROBI", "MOSEK", "SCIP")
#: Solvers that can take a continuous SOCP with duals.
SOCP_SOLVERS = ("CLARABEL", "MOSEK", "GUROBI", "ECOS", "SCS")


#: How results name the solvers (cvxpy's names are upper case).
LABELS = {"CLARABEL": "Clarabel", "GUROBI": "Gurobi"}


def solver_label(name: str) -> str:
    """The name a result gives solver ``name`` (``CLARABEL`` -> ``Clarabel``)."""
    return LABELS.get(name.upper(), name.upper())


@functools.cache
def licensed(solver: str) -> bool:
    """Installed and able to solve a tiny mixed-integer SOCP (a licence check, cached)."""
    if solver not in cp.installed_solvers():
        return False
    try:
        x = cp.Variable(2)
        z = cp.Variable(boolean=True)
        prob = cp.Problem(cp.Minimize(cp.sum(x) + z), [cp.SOC(z + 1, x), x >= -1])
        prob.solve(solver=solver)
    except Exception:
        return False
    return prob.status == "optimal"


def default_misocp_solver() -> str:
    for name in ("GUROBI", "MOSEK"):
        if name in cp.installed_solvers() and licensed(name):
            return name
    return "SCIP"


def solver_problems(name: str, *, mixed_integer: bool) -> list[Problem]:
    """Why solver ``name`` cannot solve the model class (empty when it can). An empty name,
    and one that no solver has (cvxpy's or feederopt's), are refused as such, with the nearest
    name (``clarbel``: "unknown solver 'clarbel' (did you mean CLARABEL?)"), not as a solver
    that "cannot solve this model" (user test ut39_api #3)."""
    wanted = name.strip().upper()
    allowed = MISOCP_SOLVERS if mixed_integer else SOCP_SOLVERS
    installed = [s for s in allowed if s in cp.installed_solvers()]
    if not wanted:
        return [Problem(ProblemKind.INVALID_VALUE, "options", "the solver name is empty",
                        field="solver", hint="use one of " + ", ".join(installed)
                        + ", or leave the solver out for the default")]
    known = {*MISOCP_SOLVERS, *SOCP_SOLVERS, *(str(s).upper() for s in cp.settings.SOLVERS)}
    if wanted not in known:
        near = difflib.get_close_matches(wanted, sorted(known), n=1, cutoff=0.6)
        guess = f" (did you mean {near[0]}?)" if near else ""
        return [Problem(ProblemKind.INVALID_VALUE, "options",
                        f"unknown solver {name!r}{guess}", field="solver",
                        hint="use one of " + ", ".join(installed))]
    if wanted not in allowed:
        return [Problem(ProblemKind.INVALID_VALUE, "options",
                        f"solver {name!r} cannot solve this model", field="solver",
                        hint="use one of " + ", ".join(installed))]
    if wanted not in cp.installed_solvers():
        return [Problem(ProblemKind.INVALID_VALUE, "options", f"solver {name!r} is not installed",
                        field="solver", hint="install it, or use one of " + ", ".join(installed))]
    return []


def require_solver(name: str, *, mixed_integer: bool) -> str:
    """The cvxpy name of solver ``name``, or an :class:`InputError` that says what is there."""
    problems = solver_problems(name, mixed_integer=mixed_integer)
    if problems:
        raise InputError(problems)
    return name.strip().upper()

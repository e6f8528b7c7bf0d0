"""Solver backends: cvxpy (conic, DPP) and persistent HiGHS (MILP with OA cuts)."""

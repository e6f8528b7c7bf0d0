"""feederopt: exact radial reconfiguration of power-distribution feeders."""

from feederopt.network import InputError, Network, Problem, ProblemKind

__version__ = "0.1.0"

__all__ = ["InputError", "Network", "Problem", "ProblemKind", "__version__"]

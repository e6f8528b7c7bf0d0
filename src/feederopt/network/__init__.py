"""Network data model: schemas, the Network container, validation and topology."""

from feederopt.errors import FeederoptError, InputError, Problem, ProblemKind
from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork, to_per_unit

__all__ = [
    "FeederoptError",
    "InputError",
    "Network",
    "PerUnitNetwork",
    "Problem",
    "ProblemKind",
    "to_per_unit",
]

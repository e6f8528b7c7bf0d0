"""MATPOWER cases given as single-phase equivalents, read as the three-phase feeder.

The conversion lives with the MATPOWER reader (:mod:`feederopt.io.matpower_single_phase`), so
that a file read from disk gets it as the built-in case does (user test ut49_bigrid #1); this
module keeps the names it had.
"""

from feederopt.io.matpower_single_phase import (
    NOTE,
    SINGLE_PHASE_EQUIVALENTS,
    SQRT3,
    three_phase_feeder,
)

__all__ = ["NOTE", "SINGLE_PHASE_EQUIVALENTS", "SQRT3", "three_phase_feeder"]

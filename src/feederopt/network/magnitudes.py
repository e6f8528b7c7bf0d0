"""The magnitude bounds of the validation (:mod:`feederopt.network.validate`), in a module of
their own that imports nothing, so that the three-phase checks
(:mod:`feederopt.network.threephase`) use the same bounds without an import cycle."""

from __future__ import annotations

#: The power base [MVA] on which the magnitude bounds below are per unit: the options' default
#: ``s_base_mva``, so that the bounds do not move with that option. A branch's impedance base is
#: then ``vn_kv(from)**2 / 1 MVA`` Ohm (:mod:`feederopt.network.perunit`), a load's power base
#: 1 MW.
MAGNITUDE_BASE_MVA = 1.0

#: Largest series resistance or reactance ``|r|``, ``|x|`` [p.u. on :data:`MAGNITUDE_BASE_MVA`]
#: of a branch. No grid comes near it (the built-in cases reach 1.5 p.u., a small transformer at
#: 0.4 kV; a 100 km 11 kV line is about 0.3 p.u.), and beyond about 1e154 p.u. the squares of
#: the models (``r^2 + x^2``, ``r l``) overflow a float: 1e300 Ohm crashed the solver with
#: "Problem data contains NaN or Inf".
IMPEDANCE_PU_MAX = 1e6

#: Largest ``|p_mw|``, ``|q_mvar|`` of a load [p.u. on :data:`MAGNITUDE_BASE_MVA`]: 1e6 MW, ten
#: times the demand of the largest synchronous grids, where the built-in cases reach 38 MW; a
#: load of 1e300 MW overflowed the solver's arithmetic (``OverflowError``).
LOAD_PU_MAX = 1e6

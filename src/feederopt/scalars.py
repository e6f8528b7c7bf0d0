"""Numbers and switches as every option takes them: one rule for Python's and NumPy's scalars.

An option that is a number accepts any real number (:class:`numbers.Real`: ``int``,
``float``, ``np.int64``, ``np.float32``, ...) and a count any whole number
(:class:`numbers.Integral`), but never a bool (``True`` is no time limit, though Python
counts it as 1); an option that is a switch accepts ``True``/``False`` and NumPy's
``np.True_``/``np.False_``. User test ut41_pyapi #1: ``solve_options(workers=np.int64(1))``
was refused with "workers must be at least 1, not 1", ``time_limit=np.int64(20)`` with "must
be a number of seconds, not np.int64(20)": each check had its own ``isinstance(x, int |
float)``, which NumPy's scalars fail.

:func:`plain` turns such a scalar into Python's own (``np.float32(0.93)`` -> ``0.93...``
as a ``float``, ``np.int64(3)`` -> ``3``, ``np.True_`` -> ``True``), so that what an entry
point passes on (to a solver's options, to a result's JSON) is a plain Python value:
:func:`feederopt.options.option_names` applies it to every argument of the public entry
points, and the option dataclasses to their fields when they are built.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import numpy as np


def is_switch(x: Any) -> bool:
    """``True``/``False``, NumPy's ``np.bool_`` too: what a switch (``ac_check``) takes."""
    return isinstance(x, bool | np.bool_)


def is_real(x: Any) -> bool:
    """A real number of any type (NaN and inf included), not a bool."""
    return isinstance(x, numbers.Real) and not is_switch(x)


def is_number(x: Any) -> bool:
    """A real number that is not NaN (inf included: a time limit may be infinite)."""
    return is_real(x) and not math.isnan(float(x))


def is_finite(x: Any) -> bool:
    """A finite real number, not a bool."""
    return is_real(x) and math.isfinite(float(x))


def is_whole(x: Any) -> bool:
    """A whole number of any integer type (``np.int64`` too), not a bool: a count."""
    return isinstance(x, numbers.Integral) and not is_switch(x)


def plain(x: Any) -> Any:
    """``x`` as Python's own scalar when it is a NumPy (or other) number or bool: a switch
    -> ``bool``, a whole number -> ``int``, another real number -> ``float``; anything else
    (a string, a list, an array, None) unchanged."""
    if type(x) in (bool, int, float):
        return x
    if is_switch(x):
        return bool(x)
    if is_whole(x):
        return int(x)
    if is_real(x):
        return float(x)
    return x


def plain_fields(obj: Any) -> None:
    """Every field of the (frozen) dataclass ``obj`` made :func:`plain`, in place: for the
    ``__post_init__`` of an option dataclass (``Stop(time_limit_s=np.int64(60))``)."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        new = plain(value)
        if new is not value:
            object.__setattr__(obj, f.name, new)


__all__ = ["is_finite", "is_number", "is_real", "is_switch", "is_whole", "plain",
           "plain_fields"]

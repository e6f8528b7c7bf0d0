"""A pandapower net's own power-flow options (``net.user_pf_options``), as the reader takes them.

``pandapower.set_user_pf_options(net, ...)`` stores options that every later ``pp.runpp(net)``
uses unless the call passes them itself (``auxiliary._init_runpp_options``: the stored ones
overrule runpp's defaults). The AC check runs ``pp.runpp`` on a copy of the user's net, so it
follows them; the model must too, or the two differ (a net at 80 C with
``consider_line_temperature``: 7.238 kW in the user's runpp, 6.430 kW in the model at 20 C).
Each option that changes runpp's answer is either modelled or named in a note; those that only
change how runpp finds it are irrelevant. Per option (pandapower 3.x):

=================================  ===========  ================================================
option                             taken as     how
=================================  ===========  ================================================
``consider_line_temperature``      modelled     line resistance ``r20 (1 + alpha (T - 20))``
                                                (:func:`line_temperature_factors`)
``neglect_open_switch_branches``   modelled     a line or trafo with an open switch is out
                                                entirely, not charged from its other end
``trafo_model`` ("t" / "pi")       modelled     "pi": half the magnetising admittance at each
                                                end, no star-delta transform
``switch_rx_ratio``                modelled     r/x of closed bus-bus switches with ``z_ohm``
``trafo3w_losses``                 modelled     the winding of a trafo3w's iron losses where
                                                ``net.trafo3w`` has no ``loss_side`` column
                                                ("star": noted, taken on the hv winding)
``voltage_depend_loads``           modelled     False: ZIP parts ignored, constant power, no note
``enforce_q_lims``                 modelled     a ``gen``'s q within its limits
``tdpf`` (and ``tdpf_*``)          noted        the temperature-dependent power flow
``distributed_slack``              noted        the slack shared among sources by weight
``enforce_p_lims``                 noted        generators' active power clipped to limits
``trafo_loading`` ("power")        noted        the AC check's trafo loading is of ``sn_mva``
``algorithm``, ``init``,           irrelevant   how runpp reaches its answer, not the answer
``init_vm_pu``, ``init_va_degree``,             (the AC check passes its own ``algorithm``,
``max_iteration``,                              ``init``, ``tolerance_mva``, ``max_iteration``
``tolerance_mva``, ``numba``,                   and ``calculate_voltage_angles``)
``lightsim2grid``,
``check_connectivity``,
``calculate_voltage_angles``,
``delta_q``, ``recycle``, ...
=================================  ===========  ================================================

``calculate_voltage_angles`` only turns phasors by the transformers' phase shifts; in a radial
topology the magnitudes, and so the losses, do not depend on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from feederopt.errors import Problem, ProblemKind

#: pandapower's ``alpha`` where ``net.line`` has no ``alpha`` column
#: (``build_branch._end_temperature_correction_factor``: ``ALPHA_TDPF`` = 4e-3 [1/K]).
PP_DEFAULT_ALPHA = 4e-3
#: runpp's default ``switch_rx_ratio``.
PP_SWITCH_RX = 2.0

#: Options that change runpp's answer and that the model does not follow: option -> (the
#: value that makes a difference, or None for "any true value", what it does).
_NOTED = {
    "tdpf": "the temperature-dependent power flow (line temperatures from the currents)",
    "distributed_slack": "the slack power shared among the sources by their slack_weight",
    "enforce_p_lims": "generators' active power clipped to min/max_p_mw",
}


@dataclass(frozen=True)
class PfOptions:
    """The ``net.user_pf_options`` that the reader models (see the module docstring)."""

    consider_line_temperature: bool = False
    neglect_open_switch_branches: bool = False
    trafo_model: str = "t"
    switch_rx_ratio: float = PP_SWITCH_RX
    trafo3w_losses: str = "hv"
    voltage_depend_loads: bool = True
    enforce_q_lims: bool = False


def user_pf_options(net: Any) -> dict[str, Any]:
    """``net.user_pf_options`` as a dict (empty when the net has none)."""
    opts = net.get("user_pf_options") if hasattr(net, "get") else None
    return dict(opts) if isinstance(opts, dict) else {}


def pf_options(net: Any) -> tuple[PfOptions, list[str]]:
    """The options the reader models and the notes on those it does not (module docstring)."""
    given = user_pf_options(net)
    model = str(given.get("trafo_model", "t")).lower()
    losses = str(given.get("trafo3w_losses", "hv")).lower()
    rx = given.get("switch_rx_ratio", PP_SWITCH_RX)
    try:
        rx = float(rx)
    except (TypeError, ValueError):
        rx = PP_SWITCH_RX
    opts = PfOptions(
        consider_line_temperature=bool(given.get("consider_line_temperature", False)),
        neglect_open_switch_branches=bool(given.get("neglect_open_switch_branches", False)),
        trafo_model="pi" if model == "pi" else "t",
        switch_rx_ratio=rx if math.isfinite(rx) and rx > 0 else PP_SWITCH_RX,
        trafo3w_losses=losses if losses in ("hv", "mv", "lv") else "hv",
        voltage_depend_loads=bool(given.get("voltage_depend_loads", True)),
        enforce_q_lims=bool(given.get("enforce_q_lims", False)),
    )
    notes: list[str] = []
    unmodelled = [f"{k} ({what})" for k, what in _NOTED.items() if bool(given.get(k, False))]
    if unmodelled:
        notes.append("net.user_pf_options sets " + "; ".join(unmodelled) + ", which the model "
                     "does not follow: its power flow differs from the user's pp.runpp(net), "
                     "which the AC check runs")
    if str(given.get("trafo_loading", "current")).lower() == "power":
        notes.append("net.user_pf_options sets trafo_loading='power': the AC check's "
                     "transformer loading is pandapower's, of the apparent power over sn_mva, "
                     "while the model limits the transformers' current (trafo_loading "
                     "'current')")
    if losses == "star" and "trafo3w" in net and len(net.trafo3w) and (
            "loss_side" not in net.trafo3w.columns):
        notes.append("net.user_pf_options sets trafo3w_losses='star': the three-winding "
                     "transformers' iron losses are taken on their hv winding in the model, "
                     "pandapower's runpp puts them at the star point")
    if opts.neglect_open_switch_branches:
        notes.append("net.user_pf_options sets neglect_open_switch_branches: a line or "
                     "transformer opened by a switch is out entirely in the model too (not "
                     "charged or magnetised from its other end), as in pandapower's runpp")
    if opts.trafo_model == "pi":
        notes.append("net.user_pf_options sets trafo_model='pi': the transformers' magnetising "
                     "admittance is split half and half between their ends in the model too, "
                     "as in pandapower's runpp (not the T model's star-delta equivalent)")
    return opts, notes


def line_temperature_factors(net: Any, opts: PfOptions) -> tuple[
        dict[int, float], list[Problem], str]:
    """Per line index, the factor on its resistance under ``consider_line_temperature``, the
    problems of its columns and the note that it was applied (empty dict and note when the
    option is off).

    As pandapower's runpp (``build_branch._end_temperature_correction_factor``):
    ``r = r20 (1 + alpha (T - 20))`` with ``T`` = ``net.line.temperature_degree_celsius``
    [deg C] and ``alpha`` = ``net.line.alpha`` [1/K], a NaN ``alpha`` taken as 0 and a missing
    column as 4e-3 (:data:`PP_DEFAULT_ALPHA`). A missing temperature column fails pandapower's
    runpp (UserWarning "Specify line temperature"), a NaN temperature gives it NaN
    impedances: both are problems here, on the lines' field."""
    if not opts.consider_line_temperature or not len(net.line):
        return {}, [], ""
    line = net.line
    hint = ("give net.line.temperature_degree_celsius the lines' operating temperature in "
            "deg C (e.g. 20, the temperature of r_ohm_per_km), or switch the option off: "
            "pandapower.set_user_pf_options(net, consider_line_temperature=False)")
    if "temperature_degree_celsius" not in line.columns:
        return {}, [Problem(
            ProblemKind.MISSING_COLUMN, "line", "net.user_pf_options sets "
            "consider_line_temperature but net.line has no temperature_degree_celsius column "
            "(pandapower's runpp fails on it)", field="temperature_degree_celsius",
            hint=hint)], ""
    temp = line["temperature_degree_celsius"].to_numpy(dtype=float, na_value=np.nan)
    in_service = line["in_service"].astype(bool).to_numpy()
    bad = [f"line:{i}" for i, t, on in zip(line.index, temp, in_service, strict=True)
           if on and not math.isfinite(t)]
    problems = [Problem(
        ProblemKind.INVALID_VALUE, "line", "temperature_degree_celsius is NaN or infinite "
        "while net.user_pf_options sets consider_line_temperature", ids=tuple(bad),
        field="temperature_degree_celsius", hint=hint)] if bad else []
    if "alpha" in line.columns:
        alpha = np.nan_to_num(line["alpha"].to_numpy(dtype=float, na_value=np.nan), nan=0.0)
        source = "net.line.alpha (a NaN alpha taken as 0, as pandapower takes it)"
    else:
        alpha = np.full(len(line), PP_DEFAULT_ALPHA)
        source = (f"alpha {PP_DEFAULT_ALPHA:g} 1/K, pandapower's default, as net.line has no "
                  "alpha column")
    factor = 1.0 + alpha * (temp - 20.0)
    out = {int(i): float(f) for i, f in zip(line.index, factor, strict=True)}
    hot = temp[in_service & np.isfinite(temp)]
    span = (f"{hot.min():g} C" if hot.size and hot.min() == hot.max()
            else f"{hot.min():g}..{hot.max():g} C" if hot.size else "no line in service")
    note = ("net.user_pf_options sets consider_line_temperature: the lines' resistance is "
            f"taken at their temperature_degree_celsius ({span}), r20 (1 + alpha (T - 20)) "
            f"with {source}, as pandapower's runpp takes it")
    return out, problems, note

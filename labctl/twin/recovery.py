"""Random served parameters and the fit's recovery of them (the twin's test and benchmark).

A die's fitted parameters are drawn uniformly within the ranges ``labctl sim
params`` states; a draw is kept when it makes a die the model builds and the
characterisation can read: TMR0 = r_ap_mean/r_p_mean - 1 within 0.5-3, both
resistance CVs within 5-30 % (the model needs the R_P spread above RA's 5 %),
every column's trip level positive and below its final voltage at MAC
-64 with offsets of 4 standard deviations, and I_ref times the largest
column resistance within the MAC kernel's exact range (0.125 V).  Draws outside are redrawn.
"""

from __future__ import annotations

import numpy as np

from sim_chip import ChipParameters
from sim_chip.die import Spreads
from sim_chip.readout import readout_circuit

from .fit import IDENTIFIES, TwinFit

FITTED = tuple(name for names in IDENTIFIES.values() for name in names)


def _usable(p: ChipParameters) -> bool:
    d, r = p.device, p.readout
    if not (0.5 <= d.r_ap_mean / d.r_p_mean - 1 <= 3.0 and 0.05 < d.r_p_sigma / d.r_p_mean <= 0.3
            and 0.05 <= d.r_ap_sigma / d.r_ap_mean <= 0.3):
        return False
    try:
        Spreads.of(d)
        circuit = readout_circuit(p)
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return False
    v_inf = p.defaults.v_read - circuit.reference_current * 64 * (d.r_fet_mean + d.r_ap_mean) * 1.1
    margin = 4 * r.comparator_offset_sigma
    kernel_volts = circuit.reference_current * 64 * (d.r_fet_mean + d.r_ap_mean) * 1.3
    return bool(circuit.reference_current > 0 and circuit.threshold - margin > 0.002
                and circuit.threshold + margin < 0.8 * v_inf and kernel_volts < 0.12)


def random_parameters(rng: np.random.Generator) -> dict[str, float]:
    """Every fitted parameter drawn uniformly within its stated range, redrawn until usable (module docstring)."""
    ranges = {name: span for name, _, _, _, span in ChipParameters().described() if span}
    for _ in range(10_000):
        drawn = {name: float(rng.uniform(*ranges[name])) for name in FITTED}
        with np.errstate(all="raise"):
            try:
                if _usable(ChipParameters().with_overrides(drawn)):
                    return drawn
            except FloatingPointError:
                continue
    raise RuntimeError("no usable draw in 10,000")


def write_params(path, values: dict[str, float]) -> None:
    """A parameter file of ``values`` (dotted names)."""
    groups: dict[str, list[str]] = {}
    for name, value in values.items():
        group, _, key = name.partition(".")
        groups.setdefault(group, []).append(f"{key} = {value!r}")
    path.write_text("".join(f"[{g}]\n" + "\n".join(lines) + "\n\n" for g, lines in groups.items()))


def standard_scores(fit: TwinFit, truth: dict[str, float]) -> dict[str, float]:
    """(fitted - served) / standard error of every fitted parameter."""
    return {name: (e.value - truth[name]) / e.stderr for name, e in fit.estimates.items() if name in truth}

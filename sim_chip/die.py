"""Fabrication: the per-die device parameters, frozen from a die seed.

Array quantities have shape ``(64, 64, 2)`` indexed ``[row, column, side]``
with side 0 the left branch (MTJ_L) and side 1 the right branch (MTJ_R).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS

from .parameters import ChipParameters
from .rng import derive_key

SHAPE = (ROWS, COLUMNS, 2)

#: Defect codes of :attr:`Die.defect`.
HEALTHY, STUCK_P, STUCK_AP, SHORTED = 0, 1, 2, 3


@dataclass(frozen=True)
class Die:
    """Everything that fabrication froze for one die.  Resistances at zero bias and T_ref."""

    seed: int
    die_id: str
    r_fet: np.ndarray        #: access-FET on-resistance, ohm, (64, 64, 2)
    r_p: np.ndarray          #: MTJ parallel resistance, ohm, (64, 64, 2)
    r_ap: np.ndarray         #: MTJ antiparallel resistance, ohm, (64, 64, 2)
    delta: np.ndarray        #: Delta of the thermal switching law at T_ref, (64, 64, 2)
    delta_retention: np.ndarray  #: zero-bias thermal stability at T_ref (retention), (64, 64, 2)
    vc0_p_to_ap: np.ndarray  #: critical voltage P->AP at the MTJ, V, (64, 64, 2)
    vc0_ap_to_p: np.ndarray  #: critical voltage AP->P at the MTJ, V, (64, 64, 2)
    weak_bit: np.ndarray     #: MTJs of the weak (write-hard) population, bool (64, 64, 2)
    defect: np.ndarray       #: defect code per MTJ (HEALTHY, STUCK_P, STUCK_AP, SHORTED)
    column_capacitance: np.ndarray  #: sense-node capacitance per column, F, (64,)
    column_offset: np.ndarray  #: comparator delay mismatch per column, s, (64,)
    sense_offset: np.ndarray   #: verify sense-amplifier offset per column, ohm, (64,)
    test_mtj: dict[str, float]  #: r_p, r_ap, delta, delta_retention, vc0_p_to_ap, vc0_ap_to_p of the test MTJ


def _positive_normal(rng: np.random.Generator, mean: float, sigma: float, size) -> np.ndarray:
    """Normal draws, redrawn below 20 % of the mean (no negative resistances)."""
    x = rng.normal(mean, sigma, size)
    low = x < 0.2 * mean
    while low.any():
        x[low] = rng.normal(mean, sigma, int(low.sum()))
        low = x < 0.2 * mean
    return x


def _lognormal(mean: float, sigma: float, z: np.ndarray) -> np.ndarray:
    """Log-normal values of the given mean and standard deviation from standard normals ``z``.

    Resistances are log-normal: R_P ~ RA / area and RA grows exponentially
    with the barrier thickness, so both spreads multiply.
    """
    s2 = np.log1p((sigma / mean) ** 2)
    return mean * np.exp(np.sqrt(s2) * z - 0.5 * s2)


def _mtj_resistances(z_p: np.ndarray, z_ap: np.ndarray, d) -> tuple[np.ndarray, np.ndarray]:
    """R_P and R_AP from two standard normals; their logarithms correlate by ``r_pa_correlation``."""
    rho = d.r_pa_correlation
    r_p = _lognormal(d.r_p_mean, d.r_p_sigma, z_p)
    r_ap = _lognormal(d.r_ap_mean, d.r_ap_sigma, rho * z_p + np.sqrt(1.0 - rho**2) * z_ap)
    return r_p, np.maximum(r_ap, 1.05 * r_p)


def _weak_factor(rng: np.random.Generator, d, size) -> tuple[np.ndarray, np.ndarray]:
    """(weak mask, Vc0 factor): the weak population's factor is normal, at least 1."""
    weak = rng.random(size) < d.weak_bit_fraction
    factor = np.maximum(rng.normal(d.weak_bit_vc0_factor, d.weak_bit_vc0_factor_sigma, size), 1.0)
    return weak, np.where(weak, factor, 1.0)


def fabricate(seed: int, params: ChipParameters) -> Die:
    """Draw one die from its seed.  Deterministic: same seed, same die."""
    d, r = params.device, params.readout
    die_id = f"MX64-{derive_key(seed, 'die-id') & 0xFFFFFFFF:08X}"
    c_column = ROWS * r.line_capacitance_per_cell + r.comparator_capacitance
    retention = d.delta_retention_mean / d.delta_mean
    if not params.stochastic:
        ones = np.ones(SHAPE)
        return Die(seed, die_id, d.r_fet_mean * ones, d.r_p_mean * ones, d.r_ap_mean * ones,
                   d.delta_mean * ones, d.delta_retention_mean * ones, d.vc0_p_to_ap * ones,
                   d.vc0_ap_to_p * ones, np.zeros(SHAPE, bool), np.zeros(SHAPE, np.int8),
                   np.full(COLUMNS, c_column), np.zeros(COLUMNS), np.zeros(COLUMNS),
                   dict(r_p=d.r_p_mean, r_ap=d.r_ap_mean, delta=d.delta_mean,
                        delta_retention=d.delta_retention_mean,
                        vc0_p_to_ap=d.vc0_p_to_ap, vc0_ap_to_p=d.vc0_ap_to_p))

    rng = np.random.Generator(np.random.Philox(key=derive_key(seed, "fabrication")))
    r_fet = _positive_normal(rng, d.r_fet_mean, d.r_fet_cv * d.r_fet_mean, SHAPE)
    r_p, r_ap = _mtj_resistances(rng.standard_normal(SHAPE), rng.standard_normal(SHAPE), d)
    delta = _positive_normal(rng, d.delta_mean, d.delta_cv * d.delta_mean, SHAPE)
    weak, factor = _weak_factor(rng, d, SHAPE)
    vc_pa = _positive_normal(rng, d.vc0_p_to_ap, d.vc0_cv * d.vc0_p_to_ap, SHAPE) * factor
    vc_ap = _positive_normal(rng, d.vc0_ap_to_p, d.vc0_cv * d.vc0_ap_to_p, SHAPE) * factor

    u = rng.random(SHAPE)
    f = params.defects
    defect = np.full(SHAPE, HEALTHY, np.int8)
    defect[u < f.stuck_p + f.stuck_ap + f.shorted] = SHORTED
    defect[u < f.stuck_p + f.stuck_ap] = STUCK_AP
    defect[u < f.stuck_p] = STUCK_P

    capacitance = c_column * rng.normal(1.0, r.column_capacitance_cv, COLUMNS)
    offset = rng.normal(0.0, r.column_offset_sigma, COLUMNS)
    sense = rng.normal(0.0, r.sense_offset_sigma, COLUMNS)

    t = rng.standard_normal(5)
    test_rp, test_rap = _mtj_resistances(t[0], t[1], d)
    _, test_factor = _weak_factor(rng, d, 1)
    test_delta = d.delta_mean * (1 + d.delta_cv * t[2])
    test = dict(
        r_p=float(test_rp), r_ap=float(test_rap), delta=float(test_delta),
        delta_retention=float(test_delta * retention),
        vc0_p_to_ap=float(d.vc0_p_to_ap * (1 + d.vc0_cv * t[3]) * test_factor[0]),
        vc0_ap_to_p=float(d.vc0_ap_to_p * (1 + d.vc0_cv * t[4]) * test_factor[0]),
    )
    return Die(seed, die_id, r_fet, r_p, r_ap, delta, delta * retention, vc_pa, vc_ap, weak, defect,
               capacitance, offset, sense, test)

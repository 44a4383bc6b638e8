"""Fabrication: the per-die device parameters, frozen from a die seed.

Array quantities have shape ``(64, 64, 2)`` indexed ``[row, column, side]``
with side 0 the left branch (MTJ_L) and side 1 the right branch (MTJ_R).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parameters import ChipParameters
from .rng import derive_key

ROWS = 64
COLUMNS = 64
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
    delta: np.ndarray        #: thermal stability at T_ref, (64, 64, 2)
    vc0_p_to_ap: np.ndarray  #: critical voltage P->AP at the MTJ, V, (64, 64, 2)
    vc0_ap_to_p: np.ndarray  #: critical voltage AP->P at the MTJ, V, (64, 64, 2)
    defect: np.ndarray       #: defect code per MTJ (HEALTHY, STUCK_P, STUCK_AP, SHORTED)
    column_gain: np.ndarray  #: relative column-delay slope, (64,)
    column_offset: np.ndarray  #: TDC start offset per column, s, (64,)
    sense_offset: np.ndarray   #: verify sense-amplifier offset per column, ohm, (64,)
    test_mtj: dict[str, float]  #: r_p, r_ap, delta, vc0_p_to_ap, vc0_ap_to_p of the test MTJ


def _positive_normal(rng: np.random.Generator, mean: float, sigma: float, size) -> np.ndarray:
    """Normal draws, redrawn below 20 % of the mean (no negative resistances)."""
    x = rng.normal(mean, sigma, size)
    low = x < 0.2 * mean
    while low.any():
        x[low] = rng.normal(mean, sigma, int(low.sum()))
        low = x < 0.2 * mean
    return x


def fabricate(seed: int, params: ChipParameters) -> Die:
    """Draw one die from its seed.  Deterministic: same seed, same die."""
    d, r = params.device, params.readout
    die_id = f"MX64-{derive_key(seed, 'die-id') & 0xFFFFFFFF:08X}"
    if not params.stochastic:
        ones = np.ones(SHAPE)
        return Die(seed, die_id, d.r_fet_mean * ones, d.r_p_mean * ones, d.r_ap_mean * ones,
                   d.delta_mean * ones, d.vc0_p_to_ap * ones, d.vc0_ap_to_p * ones,
                   np.zeros(SHAPE, np.int8), np.ones(COLUMNS), np.zeros(COLUMNS), np.zeros(COLUMNS),
                   dict(r_p=d.r_p_mean, r_ap=d.r_ap_mean, delta=d.delta_mean,
                        vc0_p_to_ap=d.vc0_p_to_ap, vc0_ap_to_p=d.vc0_ap_to_p))

    rng = np.random.Generator(np.random.Philox(key=derive_key(seed, "fabrication")))
    r_fet = _positive_normal(rng, d.r_fet_mean, d.r_fet_cv * d.r_fet_mean, SHAPE)
    z_p = rng.standard_normal(SHAPE)
    z_ap = d.r_pa_correlation * z_p + np.sqrt(1 - d.r_pa_correlation**2) * rng.standard_normal(SHAPE)
    r_p = np.maximum(d.r_p_mean + d.r_p_sigma * z_p, 0.2 * d.r_p_mean)
    r_ap = np.maximum(d.r_ap_mean + d.r_ap_sigma * z_ap, r_p * 1.05)
    delta = _positive_normal(rng, d.delta_mean, d.delta_cv * d.delta_mean, SHAPE)
    vc_pa = _positive_normal(rng, d.vc0_p_to_ap, d.vc0_cv * d.vc0_p_to_ap, SHAPE)
    vc_ap = _positive_normal(rng, d.vc0_ap_to_p, d.vc0_cv * d.vc0_ap_to_p, SHAPE)

    u = rng.random(SHAPE)
    f = params.defects
    defect = np.full(SHAPE, HEALTHY, np.int8)
    defect[u < f.stuck_p + f.stuck_ap + f.shorted] = SHORTED
    defect[u < f.stuck_p + f.stuck_ap] = STUCK_AP
    defect[u < f.stuck_p] = STUCK_P

    gain = rng.normal(1.0, r.column_gain_cv, COLUMNS)
    offset = rng.normal(0.0, r.column_offset_sigma, COLUMNS)
    sense = rng.normal(0.0, r.sense_offset_sigma, COLUMNS)

    t = rng.standard_normal(5)
    test = dict(
        r_p=float(max(d.r_p_mean + d.r_p_sigma * t[0], 0.2 * d.r_p_mean)),
        r_ap=float(max(d.r_ap_mean + d.r_ap_sigma * t[1], 1.05 * d.r_p_mean)),
        delta=float(d.delta_mean * (1 + d.delta_cv * t[2])),
        vc0_p_to_ap=float(d.vc0_p_to_ap * (1 + d.vc0_cv * t[3])),
        vc0_ap_to_p=float(d.vc0_ap_to_p * (1 + d.vc0_cv * t[4])),
    )
    return Die(seed, die_id, r_fet, r_p, r_ap, delta, vc_pa, vc_ap, defect, gain, offset, sense, test)

"""Fabrication: the per-die device parameters, frozen from a die seed (or given as measured maps).

Array quantities have shape ``(64, 64, 2)`` indexed ``[row, column, side]``
with side 0 the left branch (MTJ_L) and side 1 the right branch (MTJ_R).

One device population (datasheet 1 and 4).  An MTJ's parallel resistance
is R_P = RA / A, its critical current Ic0 = Jc0 A and its thermal stability
Delta ~ A^k (k = ``delta_area_exponent``; to first order in the area's
deviation, so Delta stays normal as retention bakes fit it), so the
junction area A ties the three together.  Log-normal spreads: RA (barrier thickness) s_RA, Jc0 s_J,
A s_A.  The paper's R_P spread s_P and the datasheet's Vc0 spread
s_V (Vc0 = Ic0 R_P = Jc0 RA: the area cancels) fix s_A = sqrt(s_P^2 -
s_RA^2) and s_J = sqrt(s_V^2 - s_RA^2) once s_RA is chosen.  R_P is drawn
first (ln R_P standard score z_P); the area's score is then
z_A = -(s_A/s_P) z_P + sqrt(1 - (s_A/s_P)^2) zeta (its part of ln R_P,
and the rest from RA), so a die built from a measured R_P map draws its
Delta and Ic0 conditioned on it, as one population.  R_AP correlates with
R_P as before (datasheet 1).

Readout, per column: the sense node's capacitance, the comparator's
input-referred offset (V) and its temperature drift (V/K), the reference
sink's relative mismatch, the verify sense offset, and the random-telegraph
traps of the comparator and of the column's MTJs (:mod:`sim_chip.slow_noise`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS

from .parameters import ChipParameters, DeviceParameters
from .readout import mtj_trap_step
from .rng import derive_key
from .slow_noise import Traps

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
    ic0_p_to_ap: np.ndarray  #: critical current P->AP, A, (64, 64, 2)
    ic0_ap_to_p: np.ndarray  #: critical current AP->P, A, (64, 64, 2)
    weak_bit: np.ndarray     #: MTJs of the weak (write-hard) population, bool (64, 64, 2)
    defect: np.ndarray       #: defect code per MTJ (HEALTHY, STUCK_P, STUCK_AP, SHORTED)
    column_capacitance: np.ndarray  #: sense-node capacitance per column, F, (64,)
    comparator_offset: np.ndarray   #: comparator input-referred offset per column at T_ref, V, (64,)
    offset_drift: np.ndarray        #: temperature drift of that offset, V/K, (64,)
    reference_mismatch: np.ndarray  #: relative deviation of each column's reference sink, (64,)
    sense_offset: np.ndarray   #: verify sense-amplifier offset per column, ohm, (64,)
    traps: Traps               #: random-telegraph traps of each column's comparator and MTJs
    test_mtj: dict[str, float]  #: r_p, r_ap, delta, delta_retention, ic0_*, vc0_* of the test MTJ


@dataclass(frozen=True)
class DieMaps:
    """Per-cell and per-column values measured on one die, used instead of the seed's draws (any subset).

    Resistances are the MTJ's (and FET's) at zero bias and T_ref, ohm,
    (64, 64, 2); ``comparator_offset`` is each column's input-referred
    offset, V, (64,); ``defect`` holds a code per MTJ (HEALTHY, STUCK_P,
    STUCK_AP, SHORTED).  What is not given is drawn from the seed, as it
    would be (Delta and Ic0 conditioned on the given R_P); so is a NaN entry
    of a resistance or offset map (a cell or column that was not measured).
    """

    r_p: np.ndarray | None = None
    r_ap: np.ndarray | None = None
    r_fet: np.ndarray | None = None
    comparator_offset: np.ndarray | None = None
    defect: np.ndarray | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            shape = (COLUMNS,) if f.name == "comparator_offset" else SHAPE
            array = np.array(value, dtype=np.int8 if f.name == "defect" else float)
            if array.shape != shape:
                raise ValueError(f"die map {f.name}: shape {array.shape}, expected {shape}")
            if np.isinf(array).any() or (f.name == "defect" and np.isnan(array).any()):
                raise ValueError(f"die map {f.name}: not every value is finite (NaN marks a value not measured)")
            if f.name == "defect" and not np.isin(array, (HEALTHY, STUCK_P, STUCK_AP, SHORTED)).all():
                raise ValueError("die map defect: codes must be 0 (healthy), 1 (stuck P), 2 (stuck AP), 3 (shorted)")
            if f.name.startswith("r_") and (array[~np.isnan(array)] <= 0).any():
                raise ValueError(f"die map {f.name}: resistances must be positive")
            array.setflags(write=False)
            object.__setattr__(self, f.name, array)
        if self.r_p is not None and self.r_ap is not None and (self.r_ap <= self.r_p).any():
            raise ValueError("die map r_ap: every R_AP must exceed its R_P")

    def digest(self) -> str:
        """A short hash of the maps' contents (identifies a die built from them)."""
        h = hashlib.blake2b(digest_size=8)
        for f in fields(self):
            value = getattr(self, f.name)
            h.update(f.name.encode() + (b"-" if value is None else np.ascontiguousarray(value).tobytes()))
        return h.hexdigest()


def _merged(given: np.ndarray | None, drawn: np.ndarray) -> np.ndarray:
    """A map's values where it has them, the seed's draws where it has none (None) or NaN."""
    if given is None:
        return drawn
    return np.where(np.isnan(given), drawn, given) if np.isnan(given).any() else given


def _positive_normal(rng: np.random.Generator, mean: float, sigma: float, size) -> np.ndarray:
    """Normal draws, redrawn below 20 % of the mean (no negative resistances)."""
    x = rng.normal(mean, sigma, size)
    low = x < 0.2 * mean
    while low.any():
        x[low] = rng.normal(mean, sigma, int(low.sum()))
        low = x < 0.2 * mean
    return x


def _log_sd(cv: float) -> float:
    """Standard deviation of ln X for a log-normal X of coefficient of variation ``cv``."""
    return float(np.sqrt(np.log1p(cv**2)))


def _lognormal(mean: float, sigma: float, z: np.ndarray) -> np.ndarray:
    """Log-normal values of the given mean and standard deviation from standard normals ``z``.

    Resistances are log-normal: R_P ~ RA / area and RA grows exponentially
    with the barrier thickness, so both spreads multiply.
    """
    s = _log_sd(sigma / mean)
    return mean * np.exp(s * z - 0.5 * s**2)


def _unit_lognormal(s: float, z: np.ndarray) -> np.ndarray:
    """exp(s z - s^2/2): a log-normal factor of mean 1."""
    return np.exp(s * z - 0.5 * s**2)


@dataclass(frozen=True)
class Spreads:
    """Log-normal spreads of the device population (module docstring)."""

    r_p: float    #: s_P of R_P
    area: float   #: s_A of the junction area
    jc0: float    #: s_J of the critical current density

    @classmethod
    def of(cls, d: DeviceParameters) -> Spreads:
        s_p, s_ra, s_v = _log_sd(d.r_p_sigma / d.r_p_mean), _log_sd(d.resistance_area_cv), _log_sd(d.vc0_cv)
        if s_ra > min(s_p, s_v):
            raise ValueError(f"device.resistance_area_cv ({d.resistance_area_cv:g}) exceeds the R_P spread "
                             f"({d.r_p_sigma / d.r_p_mean:.3g}) or device.vc0_cv ({d.vc0_cv:g}): with R_P = RA/A "
                             "and Vc0 = Jc0 RA neither could be that narrow")
        return cls(s_p, float(np.sqrt(s_p**2 - s_ra**2)), float(np.sqrt(s_v**2 - s_ra**2)))


def nominal_ic0(d: DeviceParameters) -> tuple[float, float]:
    """(Ic0 P->AP, Ic0 AP->P) of the nominal MTJ, A: its Vc0 over its resistance at that bias."""
    tmr0 = d.r_ap_mean / d.r_p_mean - 1.0
    r_ap_at_vc0 = d.r_p_mean * (1.0 + tmr0 / (1.0 + (d.vc0_ap_to_p / d.v_half_tmr) ** 2))
    return d.vc0_p_to_ap / d.r_p_mean, d.vc0_ap_to_p / r_ap_at_vc0


def _mtj_population(z_p: np.ndarray, z_ap: np.ndarray, zeta: np.ndarray, z_delta: np.ndarray,
                    z_jc: np.ndarray, d: DeviceParameters, r_p: np.ndarray | None = None,
                    r_ap: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """R_P, R_AP, Delta (switching and retention) and Ic0 of MTJs from standard normals (module docstring).

    ``z_jc`` has a leading axis of 2 (P->AP, AP->P).  A given ``r_p``
    (``r_ap``) replaces the drawn one; the area is then conditioned on it.
    """
    s = Spreads.of(d)
    rho = d.r_pa_correlation
    if r_p is None:
        r_p = _lognormal(d.r_p_mean, d.r_p_sigma, z_p)
    else:
        z_p = (np.log(r_p / d.r_p_mean) + 0.5 * s.r_p**2) / s.r_p
    if r_ap is None:
        r_ap = np.maximum(_lognormal(d.r_ap_mean, d.r_ap_sigma, rho * z_p + np.sqrt(1.0 - rho**2) * z_ap),
                          1.05 * r_p)
    share = s.area / s.r_p
    z_area = -share * z_p + np.sqrt(1.0 - share**2) * zeta
    k = d.delta_area_exponent                          # Delta ~ A^k to first order: normal, as measured
    delta = d.delta_mean * np.maximum(1.0 + k * s.area * z_area + d.delta_cv * z_delta, 0.2)
    # Vc0 = Ic0 R_P = Jc0 RA: ln RA's deviation is ln R_P's plus ln A's; Ic0 = Vc0 / R_P (= Jc0 A)
    s_v = np.hypot(np.sqrt(s.r_p**2 - s.area**2), s.jc0)
    ic0 = [nominal * (d.r_p_mean / r_p) * _unit_lognormal(s_v, (s.r_p * z_p + s.area * z_area + s.jc0 * z) / s_v)
           for nominal, z in zip(nominal_ic0(d), z_jc)]
    return dict(r_p=r_p, r_ap=r_ap, delta=delta, delta_retention=delta * (d.delta_retention_mean / d.delta_mean),
                ic0_p_to_ap=ic0[0], ic0_ap_to_p=ic0[1])


def critical_voltages(r_p: float, r_ap: float, ic0_p_to_ap: float, ic0_ap_to_p: float,
                      d: DeviceParameters) -> tuple[float, float]:
    """(Vc0 P->AP, Vc0 AP->P) in V of one MTJ: the MTJ voltage at which its current reaches Ic0 at T_ref
    (in AP, R_AP falls with the bias: solved by fixed point)."""
    tmr0 = r_ap / r_p - 1.0
    v = ic0_ap_to_p * r_ap
    for _ in range(40):
        v = ic0_ap_to_p * r_p * (1.0 + tmr0 / (1.0 + (v / d.v_half_tmr) ** 2))
    return ic0_p_to_ap * r_p, float(v)


def _weak_factor(rng: np.random.Generator, d, size) -> tuple[np.ndarray, np.ndarray]:
    """(weak mask, Ic0 factor): the weak population's factor is normal, at least 1."""
    weak = rng.random(size) < d.weak_bit_fraction
    factor = np.maximum(rng.normal(d.weak_bit_ic0_factor, d.weak_bit_ic0_factor_sigma, size), 1.0)
    return weak, np.where(weak, factor, 1.0)


def _test_mtj(values: dict[str, np.ndarray], factor: float, d: DeviceParameters) -> dict[str, float]:
    out = {name: float(np.asarray(v).ravel()[0]) for name, v in values.items()}
    out["ic0_p_to_ap"] *= factor
    out["ic0_ap_to_p"] *= factor
    out["vc0_p_to_ap"], out["vc0_ap_to_p"] = critical_voltages(out["r_p"], out["r_ap"], out["ic0_p_to_ap"],
                                                               out["ic0_ap_to_p"], d)
    return out


def fabricate(seed: int, params: ChipParameters, maps: DieMaps | None = None) -> Die:
    """Draw one die from its seed, with ``maps`` (measured values) where given.  Deterministic."""
    d, r = params.device, params.readout
    maps = maps or DieMaps()
    die_id = f"MX64-{derive_key(seed, 'die-id') & 0xFFFFFFFF:08X}"
    c_column = ROWS * r.line_capacitance_per_cell + r.comparator_capacitance
    if not params.stochastic:
        ones = np.ones(SHAPE)
        ic_pa, ic_ap = nominal_ic0(d)
        nominal = {"r_p": d.r_p_mean * ones, "r_ap": d.r_ap_mean * ones, "delta": d.delta_mean * ones,
                   "delta_retention": d.delta_retention_mean * ones, "ic0_p_to_ap": ic_pa * ones,
                   "ic0_ap_to_p": ic_ap * ones}
        zero = np.zeros(COLUMNS)
        return Die(seed, die_id, d.r_fet_mean * ones if maps.r_fet is None else maps.r_fet,
                   nominal["r_p"] if maps.r_p is None else maps.r_p,
                   nominal["r_ap"] if maps.r_ap is None else maps.r_ap,
                   nominal["delta"], nominal["delta_retention"], nominal["ic0_p_to_ap"], nominal["ic0_ap_to_p"],
                   np.zeros(SHAPE, bool), np.zeros(SHAPE, np.int8) if maps.defect is None else maps.defect,
                   np.full(COLUMNS, c_column), zero if maps.comparator_offset is None else maps.comparator_offset,
                   zero, zero, zero, Traps.none(), _test_mtj(nominal, 1.0, d))

    rng = np.random.Generator(np.random.Philox(key=derive_key(seed, "fabrication")))
    r_fet = _positive_normal(rng, d.r_fet_mean, d.r_fet_cv * d.r_fet_mean, SHAPE)
    z = rng.standard_normal((6, *SHAPE))
    r_p = None if maps.r_p is None else _merged(maps.r_p, _lognormal(d.r_p_mean, d.r_p_sigma, z[0]))
    mtj = _mtj_population(z[0], z[1], z[2], z[3], z[4:], d, r_p)
    if maps.r_ap is not None:
        mtj["r_ap"] = _merged(maps.r_ap, mtj["r_ap"])
    weak, factor = _weak_factor(rng, d, SHAPE)

    u = rng.random(SHAPE)
    f = params.defects
    defect = np.full(SHAPE, HEALTHY, np.int8)
    defect[u < f.stuck_p + f.stuck_ap + f.shorted] = SHORTED
    defect[u < f.stuck_p + f.stuck_ap] = STUCK_AP
    defect[u < f.stuck_p] = STUCK_P

    capacitance = c_column * rng.normal(1.0, r.column_capacitance_cv, COLUMNS)
    offset = rng.normal(0.0, r.comparator_offset_sigma, COLUMNS)
    drift = rng.normal(0.0, r.comparator_offset_drift, COLUMNS)
    mismatch = rng.normal(0.0, r.reference_current_mismatch, COLUMNS)
    sense = rng.normal(0.0, r.sense_offset_sigma, COLUMNS)
    traps = Traps.draw(rng, r.comparator_rtn_traps, r.comparator_rtn_amplitude, ROWS * d.mtj_rtn_fraction,
                       mtj_trap_step(params))

    t = rng.standard_normal(6)
    test = _mtj_population(t[0:1], t[1:2], t[2:3], t[3:4], t[4:6, None], d)
    _, test_factor = _weak_factor(rng, d, 1)
    return Die(seed, die_id, _merged(maps.r_fet, r_fet), mtj["r_p"], mtj["r_ap"], mtj["delta"],
               mtj["delta_retention"], mtj["ic0_p_to_ap"] * factor, mtj["ic0_ap_to_p"] * factor, weak,
               defect if maps.defect is None else maps.defect, capacitance,
               _merged(maps.comparator_offset, offset), drift, mismatch, sense, traps,
               _test_mtj(test, float(test_factor[0]), d))

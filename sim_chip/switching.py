"""Spin-torque switching of one MTJ under a bias pulse: thermal and precessional regimes.

Units: volt, second.  ``v`` is the bias across the MTJ in the direction of
the switch (negative: it opposes the switch), ``vc0`` the critical voltage
of that direction, ``delta_sw`` the Delta of the datasheet's thermal law,
``delta_ret`` the zero-bias barrier out of the starting state (retention
thermal stability with the stray field, :func:`physics.state_barriers`).
All at the present temperature.  x = v / vc0 is the overdrive.

Thermal regime (Neel-Brown, datasheet 4): a Poisson process of rate
k(x) = exp(-B(x)) / tau0 with the barrier

    B(x) = max( Delta_sw (1 - x),  Delta_ret (1 - x)^2,  B_min ).

The linear term is the datasheet's law, fitted where thermally activated
switching is measured (x of 0.6-0.95).  Extrapolated to zero bias it would
give the switching Delta, below the retention barrier (Thomas et al., IEDM
2015: switching-derived Delta underestimates retention); the quadratic
term is the macrospin Fokker-Planck law (Taniguchi & Imamura, PRB 85,
184403, 2012, exponent 2) anchored on the retention barrier, and is the
larger of the two below x = 1 - Delta_sw/Delta_ret.  B_min: the Neel-Brown
law needs a barrier of several kT; near and above Vc0 the thermal rate
stays at exp(-B_min)/tau0 instead of growing to 1/tau0.

Precessional regime (x > 1, macrospin, Sun PRB 62, 570, 2000): from a
thermal initial angle theta0 the magnetisation spirals out at the rate
(x - 1)/tau_D and reverses after the incubation time
t_sw = tau_D ln(pi / (2 theta0)) / (x - 1).  With the Boltzmann distribution
P(theta0 < theta) = 1 - exp(-Delta_ret theta^2) a pulse of width t fails
with probability

    S_prec(x, t) = 1 - exp( -(pi^2 Delta_ret / 4) exp(-2 (x - 1) t / tau_D) )

(Butler et al., IEEE Trans. Magn. 48, 4684, 2012).  Its median switching
time is tau_D ln(pi^2 Delta_ret / (4 ln 2)) / (2 (x - 1)), 1-2 ns at 3 x Vc0.

The two act together: a pulse leaves the MTJ unswitched with probability
S = exp(-t k(x)) * S_prec(x, t).  S is continuous and falls monotonically
with x and t; the crossover between the regimes is where the precessional
factor overtakes the saturated thermal one, just above Vc0.
"""

from __future__ import annotations

import numpy as np

from .parameters import DeviceParameters


def barrier(v: np.ndarray | float, vc0: np.ndarray, delta_sw: np.ndarray, delta_ret: np.ndarray,
            p: DeviceParameters) -> np.ndarray:
    """Thermal barrier B(x) in kT under bias ``v`` (module docstring)."""
    under = 1.0 - np.asarray(v, dtype=float) / vc0
    quadratic = delta_ret * np.square(np.maximum(under, 0.0))
    return np.maximum(np.maximum(delta_sw * under, quadratic), p.neel_brown_min_barrier)


def thermal_rate(v: np.ndarray | float, vc0: np.ndarray, delta_sw: np.ndarray, delta_ret: np.ndarray,
                 p: DeviceParameters) -> np.ndarray:
    """Thermally activated switching rate exp(-B)/tau0 in 1/s."""
    return np.exp(-barrier(v, vc0, delta_sw, delta_ret, p)) / p.tau0


def precessional_survival(v: np.ndarray | float, width: np.ndarray | float, vc0: np.ndarray,
                          delta_ret: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """Probability that precession has not reversed the MTJ after ``width`` s (1 below Vc0)."""
    over = np.asarray(v, dtype=float) / vc0 - 1.0
    decay = np.exp(-2.0 * np.maximum(over, 0.0) * np.asarray(width) / p.tau_precession)
    return np.where(over > 0.0, -np.expm1(-0.25 * np.pi**2 * delta_ret * decay), 1.0)


def survival(v: np.ndarray | float, width: np.ndarray | float, vc0: np.ndarray, delta_sw: np.ndarray,
             delta_ret: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """Probability that a pulse of ``width`` s at ``v`` leaves the MTJ unswitched (write error)."""
    k = thermal_rate(v, vc0, delta_sw, delta_ret, p)
    return np.exp(-np.asarray(width) * k) * precessional_survival(v, width, vc0, delta_ret, p)


def switching_probability(v: np.ndarray | float, width: np.ndarray | float, vc0: np.ndarray,
                          delta_sw: np.ndarray, delta_ret: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """Probability that the pulse switches the MTJ, 1 - survival, exact also when it is tiny."""
    k = thermal_rate(v, vc0, delta_sw, delta_ret, p)
    t = np.asarray(width)
    return -np.expm1(-t * k) + np.exp(-t * k) * (1.0 - precessional_survival(v, width, vc0, delta_ret, p))


#: Cumulative hazard of a pulse that switches for certain (survival e^-50).
CERTAIN = 50.0


def pulse_hazard(v: np.ndarray | float, width: float, vc0: np.ndarray, delta_sw: np.ndarray,
                 delta_ret: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """-ln(survival) of one pulse, capped at :data:`CERTAIN`: the hazard a read pulse adds (read disturb)."""
    k = thermal_rate(v, vc0, delta_sw, delta_ret, p)
    with np.errstate(divide="ignore"):
        hazard = width * k - np.log(precessional_survival(v, width, vc0, delta_ret, p))
    return np.minimum(hazard, CERTAIN)

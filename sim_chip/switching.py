"""Spin-torque switching of one MTJ under a bias pulse: thermal, critical and precessional regimes.

Units: second.  The overdrive x = I / Ic0 is the current through the MTJ in
the direction of the switch over the critical current of that direction
(negative: it opposes the switch); R_AP falls with bias, so a voltage ratio
V/Vc0 would understate the AP->P overdrive (datasheet 4).  ``delta_sw`` is
the Delta of the datasheet's thermal law, ``delta_ret`` the zero-bias
barrier out of the starting state (retention thermal stability with the
stray field, :func:`physics.state_barriers`).  All at the present
temperature.

Thermal regime (Neel-Brown, datasheet 4): the activated escape takes a mean
time tau0 exp(B(x)) with the barrier

    B(x) = max( Delta_sw (1 - x),  Delta_ret (1 - x)^2 )   for x < 1,  0 above.

The linear term is the datasheet's law, fitted where thermally activated
switching is measured (x of 0.6-0.95).  Extrapolated to zero bias it would
give the switching Delta, below the retention barrier: a linear-law fit
underestimates the barrier (Taniguchi & Imamura, arXiv:1010.5845: the
macrospin Fokker-Planck exponent is 2, not 1; Munira & Visscher,
arXiv:1410.7361: incoherent reversal lowers the barrier under current).
The quadratic term is that exponent-2 law anchored on the retention
barrier, and the larger of the two below x = 1 - Delta_sw/Delta_ret.

Critical regime.  Near x = 1 the barrier vanishes, but the magnetisation
still has to leave the (now flat) top: the mean first-passage time of the
axially symmetric macrospin Fokker-Planck equation at x = 1, from the
thermal well to the equator, is

    T_c = 2 tau_D sqrt(Delta) int_0^sqrt(Delta) F(u) / (u (2 - u/sqrt(Delta))) du
        = K tau_D sqrt(Delta_ret),   K = 1.44 for Delta of 40-100

(F Dawson's integral; K tends to int_0^inf F(u)/u du = 1.39 for large
Delta), 13-14 ns for Delta_ret ~ 90 and tau_D = 1 ns.  Above x = 1 the
torque's drift (x - 1)/tau_D shortens that passage; it outweighs the
diffusion 1/(Delta tau_D) once (x - 1) sqrt(Delta) >~ 1, where precession
takes over.  The thermal branch is the activation and the passage in
series, a Poisson rate

    k(x) = 1 / (tau0 exp(B(x)) + T_p(x)),
    T_p(x) = T_c (1 + exp(-sqrt(Delta_ret) (x - 1)+)) / 2,

a fitted interpolation: the Neel-Brown rate while the barrier is several
kT, 1/(tau0 + T_c) at x = 1, rising towards 2/T_c above (bounded, so that
precession, whose rate grows with x - 1, is the limit far above).  k rises
continuously and strictly with x: no floor on B, no plateau in the
switching probability.

Precessional regime (x > 1, macrospin, Sun PRB 62, 570, 2000): from a
thermal initial angle theta0 the magnetisation spirals out at the rate
(x - 1)/tau_D and reverses after the incubation time
t_sw = tau_D ln(pi / (2 theta0)) / (x - 1).  With the Boltzmann distribution
P(theta0 < theta) = 1 - exp(-Delta_ret theta^2) a pulse of width t fails
with probability

    S_prec(x, t) = 1 - exp( -(pi^2 Delta_ret / 4) exp(-2 (x - 1) t / tau_D) )

(Butler et al., IEEE Trans. Magn. 48, 4684, 2012), 1 at x = 1.

The two act together: a pulse leaves the MTJ unswitched with probability
S = exp(-t k(x)) * S_prec(x, t), continuous and strictly monotonic in x and
t; it is the Neel-Brown law far below x = 1, the precessional law far
above (the thermal branch's bounded rate against precession's growing
one), and the fitted interpolation of the critical passage in between.
"""

from __future__ import annotations

import numpy as np

from .parameters import DeviceParameters

#: K of the critical passage time T_c = K tau_D sqrt(Delta) (module docstring), at Delta 40-100.
CRITICAL_PASSAGE = 1.44


def barrier(x: np.ndarray | float, delta_sw: np.ndarray, delta_ret: np.ndarray) -> np.ndarray:
    """Thermal barrier B(x) in kT at overdrive ``x`` (module docstring); 0 from x = 1 on."""
    under = np.maximum(1.0 - np.asarray(x, dtype=float), 0.0)
    return np.maximum(delta_sw * under, delta_ret * np.square(under))


def passage_time(x: np.ndarray | float, delta_ret: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """Mean passage time T_p(x) from the barrier's top, s: T_c at and below x = 1 (module docstring)."""
    root = np.sqrt(delta_ret)
    over = np.maximum(np.asarray(x, dtype=float) - 1.0, 0.0)
    return CRITICAL_PASSAGE * p.tau_precession * root * 0.5 * (1.0 + np.exp(-root * over))


def thermal_rate(x: np.ndarray | float, delta_sw: np.ndarray, delta_ret: np.ndarray,
                 p: DeviceParameters) -> np.ndarray:
    """Switching rate of the thermal branch, 1 / (tau0 exp(B) + T_p), in 1/s."""
    with np.errstate(over="ignore"):
        mean_time = p.tau0 * np.exp(barrier(x, delta_sw, delta_ret)) + passage_time(x, delta_ret, p)
    return 1.0 / mean_time


def precessional_survival(x: np.ndarray | float, width: np.ndarray | float, delta_ret: np.ndarray,
                          p: DeviceParameters) -> np.ndarray:
    """Probability that precession has not reversed the MTJ after ``width`` s (1 up to x = 1)."""
    over = np.maximum(np.asarray(x, dtype=float) - 1.0, 0.0)
    decay = np.exp(-2.0 * over * np.asarray(width) / p.tau_precession)
    return -np.expm1(-0.25 * np.pi**2 * delta_ret * decay)


def survival(x: np.ndarray | float, width: np.ndarray | float, delta_sw: np.ndarray, delta_ret: np.ndarray,
             p: DeviceParameters) -> np.ndarray:
    """Probability that a pulse of ``width`` s at overdrive ``x`` leaves the MTJ unswitched (write error)."""
    k = thermal_rate(x, delta_sw, delta_ret, p)
    return np.exp(-np.asarray(width) * k) * precessional_survival(x, width, delta_ret, p)


def switching_probability(x: np.ndarray | float, width: np.ndarray | float, delta_sw: np.ndarray,
                          delta_ret: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """Probability that the pulse switches the MTJ, 1 - survival, exact also when it is tiny."""
    k = thermal_rate(x, delta_sw, delta_ret, p)
    t = np.asarray(width)
    return -np.expm1(-t * k) + np.exp(-t * k) * (1.0 - precessional_survival(x, width, delta_ret, p))


#: Cumulative hazard of a pulse that switches for certain (survival e^-50).
CERTAIN = 50.0


def pulse_hazard(x: np.ndarray | float, width: float, delta_sw: np.ndarray, delta_ret: np.ndarray,
                 p: DeviceParameters) -> np.ndarray:
    """-ln(survival) of one pulse, capped at :data:`CERTAIN`: the hazard a read pulse adds (read disturb)."""
    k = thermal_rate(x, delta_sw, delta_ret, p)
    with np.errstate(divide="ignore"):
        hazard = width * k - np.log(precessional_survival(x, width, delta_ret, p))
    return np.minimum(hazard, CERTAIN)

"""Device physics of one MTJ and its access FET: pure, vectorised functions.

Units: ohm, volt, second, kelvin.  ``p`` is a :class:`DeviceParameters`.

Switching model.  Switching is a Poisson process of time constant

    tau(V) = max( tau0 * exp(Delta * (1 - V/Vc0)),  tau_p * Vc0 / V )

The first term is the datasheet's thermal regime.  The second is the
precessional limit: spin-torque reversal cannot be faster than a time that
scales inversely with the drive (Sun, PRB 62, 570, 2000).  Above Vc0 it
dominates, so the write error rate exp(-t/tau) falls exponentially with
pulse width there, as the datasheet says; the max keeps tau continuous and
monotonic in V.  ``tau_p`` is calibrated to a nominal write error rate of
order 1e-4 (1.5 V on the branch, one 90 ns clock).

Temperature.  Bloch law for the free layer's magnetisation m(T); thermal
stability Delta(T) = Delta_ref * (T_ref/T) * (m(T)/m(T_ref))^2, and
Vc0 scales with the barrier energy, (m(T)/m(T_ref))^2.
"""

from __future__ import annotations

import numpy as np

from .parameters import DeviceParameters


def magnetisation_ratio(temperature: float, p: DeviceParameters) -> float:
    """m(T)/m(T_ref) from the Bloch T^1.5 law."""
    tc = p.curie_temperature
    return (1.0 - (temperature / tc) ** 1.5) / (1.0 - (p.t_ref / tc) ** 1.5)


def thermal_stability(delta_ref: np.ndarray, temperature: float, p: DeviceParameters) -> np.ndarray:
    """Delta(T) from the reference-temperature value."""
    return delta_ref * (p.t_ref / temperature) * magnetisation_ratio(temperature, p) ** 2


def critical_voltage(vc0_ref: np.ndarray, temperature: float, p: DeviceParameters) -> np.ndarray:
    """Vc0(T) in volt from the reference-temperature value."""
    return vc0_ref * magnetisation_ratio(temperature, p) ** 2


def fet_resistance(r_fet_ref: np.ndarray, temperature: float, p: DeviceParameters) -> np.ndarray:
    """Access-FET on-resistance at temperature, ohm."""
    return r_fet_ref * (1.0 + p.r_fet_tempco * (temperature - p.t_ref))


def mtj_resistance(r_p: np.ndarray, r_ap: np.ndarray, is_ap: np.ndarray, voltage: np.ndarray | float,
                   temperature: float, p: DeviceParameters) -> np.ndarray:
    """MTJ resistance in ohm at a bias across the MTJ and a temperature.

    ``r_p`` and ``r_ap`` are zero-bias values at ``t_ref``.  R_P scales with
    its small tempco; the TMR falls with temperature and with bias,
    TMR(V) = TMR0 / (1 + V^2/Vh^2).
    """
    dt = temperature - p.t_ref
    rp = r_p * (1.0 + p.r_p_tempco * dt)
    tmr0 = (r_ap / r_p - 1.0) * max(0.0, 1.0 + p.tmr_tempco * dt)
    tmr = tmr0 / (1.0 + np.square(voltage) / p.v_half_tmr**2)
    return np.where(is_ap, rp * (1.0 + tmr), rp)


def mtj_voltage_in_series(v_total: np.ndarray | float, r_series: np.ndarray, r_p: np.ndarray,
                          r_ap: np.ndarray, is_ap: np.ndarray, temperature: float,
                          p: DeviceParameters) -> np.ndarray:
    """Voltage across an MTJ in series with ``r_series`` under ``v_total``.

    The MTJ's resistance depends on its own bias, so the divider is solved
    by fixed-point iteration (it contracts quickly: dR/dV is small).
    """
    v = np.asarray(v_total, dtype=float) * np.ones_like(r_p)
    for _ in range(5):  # error < 1 uV at write biases
        r = mtj_resistance(r_p, r_ap, is_ap, v, temperature, p)
        v = v_total * r / (r + r_series)
    return v


def switching_time_constant(v_mtj: np.ndarray, vc0: np.ndarray, delta: np.ndarray,
                            p: DeviceParameters) -> np.ndarray:
    """tau(V) in seconds (module docstring); infinite for V <= 0."""
    v = np.maximum(np.asarray(v_mtj, dtype=float), 0.0)
    with np.errstate(divide="ignore", over="ignore"):
        thermal = p.tau0 * np.exp(np.minimum(delta * (1.0 - v / vc0), 700.0))
        precessional = np.where(v > 0, p.tau_precess * vc0 / np.where(v > 0, v, 1.0), np.inf)
    return np.where(v > 0, np.maximum(thermal, precessional), np.inf)


def switching_probability(v_mtj: np.ndarray, width: float | np.ndarray, vc0: np.ndarray,
                          delta: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """Probability that a pulse of ``width`` seconds at ``v_mtj`` switches the MTJ."""
    tau = switching_time_constant(v_mtj, vc0, delta, p)
    with np.errstate(divide="ignore"):
        return -np.expm1(-np.asarray(width) / tau)


def breakdown_rate(v_mtj: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """Barrier breakdown hazard rate in 1/s at |V| across the MTJ (E-model TDDB)."""
    x = (np.abs(v_mtj) - p.v_breakdown) / p.v_breakdown_slope
    return np.exp(np.minimum(x, 700.0)) / p.tau_breakdown_at_vbd


def thermal_flip_rate(delta: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """Unbiased (retention) flip rate exp(-Delta)/tau0 in 1/s."""
    return np.exp(-delta) / p.tau0

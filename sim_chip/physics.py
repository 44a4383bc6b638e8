"""Device physics of one MTJ and its access FET at read biases: pure, vectorised functions.

Units: ohm, volt, second, kelvin.  ``p`` is a :class:`DeviceParameters`.

Temperature.  Bloch law for the free layer's magnetisation m(T); thermal
stability Delta(T) = Delta_ref * (T_ref/T) * (m(T)/m(T_ref))^2, and
Ic0 scales with the barrier energy, (m(T)/m(T_ref))^2.

Stray field.  The reference layer's residual field h (in units of the
anisotropy field) tilts the double well: the barrier out of P is
Delta (1 + h)^2 and out of AP Delta (1 - h)^2 (Stoner-Wohlfarth energy of a
uniaxial particle in an axial field).

Switching under bias is in :mod:`sim_chip.switching`; the access FET at
write biases in :mod:`sim_chip.write_path`.
"""

from __future__ import annotations

import numpy as np

from .parameters import DeviceParameters


def magnetisation_ratio(temperature: float, p: DeviceParameters) -> float:
    """m(T)/m(T_ref) from the Bloch T^1.5 law."""
    tc = p.curie_temperature
    return (1.0 - (temperature / tc) ** 1.5) / (1.0 - (p.t_ref / tc) ** 1.5)


def thermal_stability(delta_ref: np.ndarray, temperature: float, p: DeviceParameters) -> np.ndarray:
    """Delta(T) from the reference-temperature value (either Delta of the die)."""
    return delta_ref * (p.t_ref / temperature) * magnetisation_ratio(temperature, p) ** 2


def state_barriers(delta: np.ndarray, p: DeviceParameters) -> tuple[np.ndarray, np.ndarray]:
    """(barrier out of P, barrier out of AP) in kT from a thermal stability, with the stray field."""
    h = p.stray_field_ratio
    return delta * (1.0 + h) ** 2, delta * (1.0 - h) ** 2


def critical_current(ic0_ref: np.ndarray, temperature: float, p: DeviceParameters) -> np.ndarray:
    """Ic0(T) in ampere from the reference-temperature value."""
    return ic0_ref * magnetisation_ratio(temperature, p) ** 2


def fet_resistance(r_fet_ref: np.ndarray, temperature: float, p: DeviceParameters) -> np.ndarray:
    """Access-FET on-resistance (linear region) at temperature, ohm."""
    return r_fet_ref * (1.0 + p.r_fet_tempco * (temperature - p.t_ref))


def mtj_resistance(r_p: np.ndarray, r_ap: np.ndarray, is_ap: np.ndarray, voltage: np.ndarray | float,
                   temperature: float, p: DeviceParameters) -> np.ndarray:
    """MTJ resistance in ohm at a bias across the MTJ and a temperature.

    ``r_p`` and ``r_ap`` are zero-bias values at ``t_ref``.  R_P scales with
    its small tempco; the TMR falls with temperature and with bias,
    TMR(V) = TMR0 / (1 + V^2/Vh^2).
    """
    return mtj_resistance_at_bias(*mtj_at_temperature(r_p, r_ap, temperature, p), is_ap, voltage, p)


def mtj_at_temperature(r_p: np.ndarray, r_ap: np.ndarray, temperature: float,
                       p: DeviceParameters) -> tuple[np.ndarray, np.ndarray]:
    """(R_P in ohm, zero-bias TMR) at a temperature, from the zero-bias values at ``t_ref``."""
    dt = temperature - p.t_ref
    return r_p * (1.0 + p.r_p_tempco * dt), (r_ap / r_p - 1.0) * max(0.0, 1.0 + p.tmr_tempco * dt)


def mtj_resistance_at_bias(rp: np.ndarray, tmr0: np.ndarray, is_ap: np.ndarray, voltage: np.ndarray | float,
                           p: DeviceParameters) -> np.ndarray:
    """MTJ resistance in ohm at a bias from :func:`mtj_at_temperature` (for a bias solved by iteration)."""
    tmr = tmr0 / (1.0 + np.square(voltage) / p.v_half_tmr**2)
    return np.where(is_ap, rp * (1.0 + tmr), rp)


def mtj_voltage_in_series(v_total: np.ndarray | float, r_series: np.ndarray, r_p: np.ndarray,
                          r_ap: np.ndarray, is_ap: np.ndarray, temperature: float,
                          p: DeviceParameters) -> np.ndarray:
    """Voltage across an MTJ in series with a linear ``r_series`` under ``v_total``.

    The MTJ's resistance depends on its own bias, so the divider is solved
    by fixed-point iteration (it contracts quickly: dR/dV is small).
    """
    v = np.asarray(v_total, dtype=float) * np.ones_like(r_p)
    for _ in range(5):  # error < 1 uV at write biases
        r = mtj_resistance(r_p, r_ap, is_ap, v, temperature, p)
        v = v_total * r / (r + r_series)
    return v


def breakdown_rate(v_mtj: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """Barrier breakdown hazard rate in 1/s at |V| across the MTJ (E-model TDDB)."""
    x = (np.abs(v_mtj) - p.v_breakdown) / p.v_breakdown_slope
    return np.exp(np.minimum(x, 700.0)) / p.tau_breakdown_at_vbd

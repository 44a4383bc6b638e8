"""TMR bias and temperature dependence, thermal stability, breakdown rate."""

from __future__ import annotations

import numpy as np
import pytest

from sim_chip import MX64, physics
from sim_chip.parameters import DeviceParameters

DEV = DeviceParameters()


def test_tmr_falls_with_bias_as_the_datasheet_says() -> None:
    r_p, r_ap = 10e3, 23e3
    for v in (0.0, 0.25, 0.5, 1.0):
        r = float(physics.mtj_resistance(r_p, r_ap, True, v, DEV.t_ref, DEV))
        assert (r - r_p) / r_p == pytest.approx(1.3 / (1 + v**2 / 0.5**2))
    assert float(physics.mtj_resistance(r_p, r_ap, False, 1.0, DEV.t_ref, DEV)) == r_p


def test_heat_lowers_tmr_and_thermal_stability() -> None:
    rp, rap = 10e3, 23e3
    tmr = [float(physics.mtj_resistance(rp, rap, True, 0.0, t, DEV)
                 / physics.mtj_resistance(rp, rap, False, 0.0, t, DEV)) - 1 for t in (250.0, 300.0, 400.0)]
    assert tmr[0] > tmr[1] > tmr[2]
    deltas = physics.thermal_stability(np.array(60.0), np.array([300.0, 350.0, 400.0, 450.0]), DEV)
    assert np.all(np.diff(deltas) < 0)
    assert float(physics.thermal_stability(np.array(60.0), DEV.t_ref, DEV)) == pytest.approx(60.0)


def test_test_mtj_measured_tmr_falls_with_temperature() -> None:
    mtj = MX64(3).test_mtj
    def tmr(t: float) -> float:
        r_p = mtj.measure(0.01, t)
        mtj.apply(1.0, 1e-6, t)                  # to AP
        r_ap = mtj.measure(0.01, t)
        mtj.apply(-1.0, 1e-6, t)                 # back to P
        return (r_ap - r_p) / r_p
    assert tmr(300.0) > tmr(350.0) + 0.05


def test_stray_field_makes_ap_the_less_stable_state() -> None:
    out_of_p, out_of_ap = physics.state_barriers(np.array(90.0), DEV)
    h = DEV.stray_field_ratio
    assert float(out_of_p) == pytest.approx(90 * (1 + h) ** 2) and float(out_of_ap) == pytest.approx(90 * (1 - h) ** 2)
    assert out_of_ap < 90 < out_of_p


def test_breakdown_rate_is_steep_around_1_5_volt() -> None:
    rates = physics.breakdown_rate(np.array([1.2, 1.5, 2.0]), DEV)
    assert rates[1] == pytest.approx(1 / DEV.tau_breakdown_at_vbd)
    assert rates[0] * 90e-9 < 1e-9           # nominal pulses: endurance beyond 1e9 cycles
    assert rates[2] * 90e-9 > 1              # 2 V on the MTJ: breaks within one pulse


def test_temperature_laws_of_the_fet_the_mtj_and_ic0() -> None:
    """docs/chip_model.md: R_FET +0.25 %/K, R_P -1e-4/K, TMR0 -0.15 %/K, Ic0 as m(T)^2 (Bloch, Tc 800 K)."""
    from datasheet import bloch_delta
    for t in (250.0, 350.0, 420.0):
        dt = t - DEV.t_ref
        assert float(physics.fet_resistance(3e3, t, DEV)) == pytest.approx(3e3 * (1 + 2.5e-3 * dt), rel=1e-12)
        r_p = float(physics.mtj_resistance(10e3, 23e3, False, 0.0, t, DEV))
        assert r_p == pytest.approx(10e3 * (1 - 1e-4 * dt), rel=1e-12)
        r_ap = float(physics.mtj_resistance(10e3, 23e3, True, 0.0, t, DEV))
        assert r_ap / r_p - 1 == pytest.approx(1.3 * (1 - 1.5e-3 * dt), rel=1e-12)
        m2 = bloch_delta(1.0, t, DEV.curie_temperature) * t / DEV.t_ref          # (m(T)/m(T_ref))^2
        assert float(physics.critical_current(45e-6, t, DEV)) == pytest.approx(45e-6 * m2, rel=1e-12)
        assert float(physics.thermal_stability(np.array(60.0), t, DEV)) == pytest.approx(
            bloch_delta(60.0, t, DEV.curie_temperature), rel=1e-12)
    hot = 2000.0                                                    # TMR0 (1 - 0.0015/K dT) would be < 0: none
    assert float(physics.mtj_resistance(10e3, 23e3, True, 0.0, hot, DEV)) == pytest.approx(
        10e3 * (1 - 1e-4 * (hot - DEV.t_ref)), rel=1e-12)


def test_tmr_bias_law_holds_for_any_vh() -> None:
    dev = DeviceParameters(v_half_tmr=0.4)
    for v in (0.1, 0.3, 0.6):
        r = float(physics.mtj_resistance(10e3, 23e3, True, v, dev.t_ref, dev))
        assert r / 10e3 - 1 == pytest.approx(1.3 / (1 + v**2 / 0.16), rel=1e-12)


def test_an_mtj_in_series_gets_the_divider_share_of_its_own_bias_dependent_resistance() -> None:
    """Solved here by bisection: V_m = V R(V_m) / (R(V_m) + R_s), for both states and several series resistors."""
    for is_ap in (False, True):
        for v_total, r_series in ((0.05, 50.0), (0.5, 50.0), (0.9, 50.0), (1.2, 500.0)):    # pads, pads + mux
            lo, hi = 0.0, v_total
            for _ in range(80):
                mid = 0.5 * (lo + hi)
                r = 10e3 * (1 + 1.3 / (1 + mid**2 / 0.25)) if is_ap else 10e3
                lo, hi = (mid, hi) if mid < v_total * r / (r + r_series) else (lo, mid)
            got = physics.mtj_voltage_in_series(v_total, np.full(3, r_series), np.full(3, 10e3), np.full(3, 23e3),
                                                is_ap, DEV.t_ref, DEV)
            assert got.shape == (3,) and got.dtype == float
            assert np.allclose(got, lo, rtol=0, atol=1e-6)      # five fixed-point steps: < 1 uV

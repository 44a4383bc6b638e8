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

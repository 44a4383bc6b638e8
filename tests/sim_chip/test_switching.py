"""Stochastic switching against the datasheet's analytic formula; write error rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import powered, random_signs
from sim_chip import MX64, physics
from sim_chip.die import HEALTHY
from sim_chip.parameters import DeviceParameters

DEV = DeviceParameters()
T25 = 298.15


def datasheet_p_switch(v: float, width: float, vc0: float, delta: float) -> float:
    """Datasheet section 4, thermal regime: P = 1 - exp(-t/tau), tau = tau0 exp(Delta (1 - V/Vc0))."""
    tau = 1e-9 * math.exp(delta * (1 - v / vc0))
    return -math.expm1(-width / tau)


def test_physics_equals_the_thermal_formula_below_vc0() -> None:
    for v in (0.25, 0.3, 0.35, 0.38):
        for width in (1e-8, 1e-6, 1e-3):
            got = float(physics.switching_probability(v, width, 0.45, 60.0, DEV))
            assert got == pytest.approx(datasheet_p_switch(v, width, 0.45, 60.0), rel=1e-9, abs=1e-300)


def test_switching_is_monotonic_and_continuous_across_vc0() -> None:
    v = np.linspace(0.05, 2.0, 4000)
    for width in (1e-9, 1e-8, 9.009e-8, 1e-6):
        p = physics.switching_probability(v, width, 0.45, 60.0, DEV)
        assert np.all(np.diff(p) >= -1e-15)
        assert np.max(np.abs(np.diff(p))) < 0.05       # no jump anywhere


def test_precessional_error_rate_falls_exponentially_with_width() -> None:
    widths = np.array([30e-9, 60e-9, 90e-9, 120e-9])
    wer = 1 - physics.switching_probability(1.15, widths, 0.45, 60.0, DEV)
    slopes = np.diff(np.log(wer)) / np.diff(widths)
    assert np.allclose(slopes, slopes[0], rtol=1e-6) and slopes[0] < 0


def test_test_mtj_switches_with_the_analytic_probability() -> None:
    """Monte Carlo of the test MTJ against the datasheet formula (binomial, 4.5 sigma)."""
    chip = MX64(21)
    mtj = chip.test_mtj
    v = mtj._v
    pad = chip.params.readout.test_pad_resistance
    width = 1e-6
    for target in (0.2, 0.5, 0.8):
        # pads voltage whose MTJ share gives the target probability (P state: no bias dependence)
        tau = -width / math.log(1 - target)
        v_mtj = v["vc0_p_to_ap"] * (1 - math.log(tau / 1e-9) / v["delta"])
        v_pads = v_mtj * (v["r_p"] + pad) / v["r_p"]
        n, hits = 2000, 0
        for _ in range(n):
            assert not mtj.is_ap
            hits += mtj.apply(v_pads, width, T25)
            if mtj.is_ap:
                assert mtj.apply(-1.0, 1e-6, T25)          # reliable reset to P
        expected = datasheet_p_switch(v_mtj, width, v["vc0_p_to_ap"], v["delta"])
        assert expected == pytest.approx(target, abs=1e-6)
        sigma = math.sqrt(expected * (1 - expected) / n)
        assert abs(hits / n - expected) < 4.5 * sigma


def test_nominal_write_error_rate_is_of_order_1e_4() -> None:
    chip = powered(5)
    rng = np.random.default_rng(0)
    healthy = (chip.die.defect == HEALTHY).all(axis=2)
    errors = switches = 0
    for _ in range(60):
        w = random_signs(rng, (64, 64))
        before = chip.stored_weights()
        chip.write_array(w)
        need = (before != w) & healthy
        switches += 2 * int(need.sum())                  # both MTJs of a cell switch
        errors += int(((chip.stored_weights() != w) & healthy).sum())
    wer = errors / switches
    assert 1e-5 < wer < 1e-3, wer


def test_lower_write_voltage_raises_the_error_rate() -> None:
    rng = np.random.default_rng(1)
    rates = []
    for v_write in (1.5, 0.9):
        chip = powered(6)
        chip.set_rails(vwrite=v_write)
        wrong = 0
        for _ in range(5):
            w = random_signs(rng, (64, 64))
            chip.write_array(w)
            wrong += int((chip.stored_weights() != w).sum())
        rates.append(wrong)
    assert rates[1] > 10 * max(rates[0], 1)

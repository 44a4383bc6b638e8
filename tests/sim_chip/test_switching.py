"""Switching: thermal and precessional regimes against their laws; write error rate against its expectation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chips import powered, random_signs
from datasheet import survival as datasheet_survival
from sim_chip import MX64, ChipParameters, switching
from sim_chip.die import HEALTHY
from sim_chip.parameters import DeviceParameters

DEV = DeviceParameters()
T25 = 298.15
VC0, D_SW, D_RET = 0.45, 60.0, 90.0


def test_thermal_regime_is_the_datasheet_law_where_it_is_stated() -> None:
    """Below Vc0, where the linear barrier is above B_min and above the quadratic one: tau0 exp(Delta (1 - V/Vc0))."""
    for x in (0.4, 0.6, 0.75, 0.85, 0.9):
        for width in (1e-8, 1e-6, 1e-3):
            tau = 1e-9 * math.exp(D_SW * (1 - x))
            got = float(switching.switching_probability(x * VC0, width, VC0, D_SW, D_RET, DEV))
            assert got == pytest.approx(-math.expm1(-width / tau), rel=1e-9, abs=1e-300)


def test_zero_bias_rate_is_the_retention_barrier_and_joins_the_linear_law() -> None:
    """Quadratic (Fokker-Planck) branch from Delta_ret at V = 0; it meets the linear law at x = 1 - D_sw/D_ret."""
    assert float(switching.thermal_rate(0.0, VC0, D_SW, D_RET, DEV)) == pytest.approx(math.exp(-D_RET) / 1e-9, abs=0)
    x = 0.2
    assert float(switching.barrier(x * VC0, VC0, D_SW, D_RET, DEV)) == pytest.approx(D_RET * (1 - x) ** 2)
    joint = 1 - D_SW / D_RET
    for x in (joint - 1e-6, joint + 1e-6):
        assert float(switching.barrier(x * VC0, VC0, D_SW, D_RET, DEV)) == pytest.approx(D_SW * (1 - joint), rel=1e-4)
    assert float(switching.barrier(-0.3, VC0, D_SW, D_RET, DEV)) == pytest.approx(D_RET * (1 + 0.3 / VC0) ** 2)


def test_survival_is_monotonic_and_continuous_across_vc0() -> None:
    v = np.linspace(0.05, 3.0, 6000)
    for width in (1e-9, 3e-9, 9.009e-8, 1e-6):
        s = switching.survival(v, width, VC0, D_SW, D_RET, DEV)
        assert np.all(np.diff(s) <= 1e-15)
        assert np.max(np.abs(np.diff(s))) < 0.05       # no jump anywhere
        assert np.allclose(s, datasheet_survival(v / VC0, width, D_SW, D_RET, DEV), rtol=1e-9, atol=1e-300)


def test_switching_probability_is_one_minus_the_datasheet_survival_and_exact_when_tiny() -> None:
    """P = 1 - S of datasheet 4 on both sides of Vc0 (thermal and precessional factors together); where
    P is below 1e-16, 1 - S would round to 0, and P is the thermal rate times the width."""
    v = np.linspace(0.05, 3.0, 3000)
    for width in (1e-9, 3e-9, 1e-6):
        got = switching.switching_probability(v, width, VC0, D_SW, D_RET, DEV)
        expected = 1 - datasheet_survival(v / VC0, width, D_SW, D_RET, DEV)
        assert np.allclose(got, expected, rtol=1e-9, atol=1e-15)
    tiny = float(switching.switching_probability(0.3 * VC0, 1e-9, VC0, D_SW, D_RET, DEV))
    assert tiny == pytest.approx(1e-9 * math.exp(-D_RET * 0.7**2) / DEV.tau0, rel=1e-9)


def precessional_median(x: float) -> float:
    """Median switching time of Sun's macrospin law with the saturated thermal rate, by bisection."""
    lo, hi = 1e-12, 1e-6
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        s = math.exp(-mid * math.exp(-DEV.neel_brown_min_barrier) / DEV.tau0) * \
            -math.expm1(-0.25 * math.pi**2 * D_RET * math.exp(-2 * (x - 1) * mid / DEV.tau_precession))
        lo, hi = (mid, hi) if s > 0.5 else (lo, mid)
    return lo


@pytest.mark.parametrize("overdrive", [1.5, 2.0, 3.0, 4.0])
def test_precessional_switching_time_follows_sun(overdrive: float) -> None:
    """Median t with S(t) = 1/2: tau_D ln(pi^2 Delta / (4 ln 2)) / (2 (x - 1)), the thermal factor included."""
    expected = precessional_median(overdrive)
    pure = DEV.tau_precession * math.log(math.pi**2 * D_RET / (4 * math.log(2))) / (2 * (overdrive - 1))
    assert expected == pytest.approx(pure, rel=0.03)
    s_at = lambda t: float(switching.survival(overdrive * VC0, t, VC0, D_SW, D_RET, DEV))
    assert s_at(expected * 0.999) > 0.5 > s_at(expected * 1.001)
    if overdrive == 3.0:
        assert 1e-9 < expected < 2e-9                # the 1-2 ns at ~3 x Vc0


def test_precessional_error_rate_falls_with_width_at_the_macrospin_rate() -> None:
    """ln WER falls with slope 2 (x-1)/tau_D + exp(-B_min)/tau0, far faster than one decade per 24 ns."""
    x = 1.2
    widths = np.array([60e-9, 70e-9, 80e-9, 90e-9])             # WER << 1: 1 - exp(-a) = a
    wer = switching.survival(x * VC0, widths, VC0, D_SW, D_RET, DEV)
    slopes = np.diff(np.log(wer)) / np.diff(widths)
    expected = -(2 * (x - 1) / DEV.tau_precession + math.exp(-DEV.neel_brown_min_barrier) / DEV.tau0)
    assert np.allclose(slopes, expected, rtol=1e-6)
    assert expected * 24e-9 < -4 * math.log(10)      # > 4 decades per 24 ns at only 1.2 x Vc0


def test_test_mtj_switches_with_the_analytic_probability_in_both_regimes() -> None:
    """Monte Carlo of the test MTJ: thermal (1 us) and precessional (ns) pulses (binomial, 4.5 sigma)."""
    chip = MX64(21)
    mtj = chip.test_mtj
    v = mtj._v
    pad = chip.params.readout.test_pad_resistance
    cases = []
    for target in (0.2, 0.5, 0.8):        # thermal regime, 1 us
        width = 1e-6
        tau = -width / math.log(1 - target)
        cases.append((v["vc0_p_to_ap"] * (1 - math.log(tau / 1e-9) / v["delta"]), width))
    cases.append((3.0 * v["vc0_p_to_ap"], 1.6e-9))   # precessional, near its median
    barrier_out_of_p = v["delta_retention"] * (1 + DEV.stray_field_ratio) ** 2
    for v_mtj, width in cases:
        v_pads = v_mtj * (v["r_p"] + pad) / v["r_p"]        # P state: no bias dependence
        n, hits = 1500, 0
        for _ in range(n):
            assert not mtj.is_ap
            hits += mtj.apply(v_pads, width, T25)
            chip.advance_idle(1e-6)                           # time moves: fresh draws
            if mtj.is_ap:
                assert mtj.apply(-1.0, 1e-6, T25)          # reliable reset to P
        expected = 1 - float(datasheet_survival(v_mtj / v["vc0_p_to_ap"], width, v["delta"], barrier_out_of_p, DEV))
        sigma = math.sqrt(expected * (1 - expected) / n)
        assert 0.1 < expected < 0.9
        assert abs(hits / n - expected) < 4.5 * sigma


def full_flip_errors(chip: MX64, w: np.ndarray, writes: int) -> tuple[int, float, float]:
    """Write -w, w, -w, ...: (errors, expected errors, their variance) over MTJs that had to switch.

    Expected from the datasheet's switching law at each MTJ's write bias (the
    model's write path), its own Vc0, Delta and barriers.
    """
    d, dev = chip.die, chip.params.device
    healthy = d.defect == HEALTHY
    width = chip.write_width_clocks / chip.clock_hz
    errors, expected, variance = 0, 0.0, 0.0
    for k in range(writes):
        target_w = -w if k % 2 == 0 else w
        target = np.stack([target_w == -1, target_w == 1], axis=-1)
        before = chip._ap.copy()
        v_mtj, _ = chip.write_bias(target_w)
        vc0 = np.where(target, d.vc0_p_to_ap, d.vc0_ap_to_p)
        out_of_p, out_of_ap = d.delta_retention * (1 + dev.stray_field_ratio) ** 2, \
            d.delta_retention * (1 - dev.stray_field_ratio) ** 2
        p_fail = datasheet_survival(v_mtj / vc0, width, d.delta, np.where(target, out_of_p, out_of_ap), dev)
        must = (before != target) & healthy
        chip.write_array(target_w)
        errors += int(((chip._ap != target) & must).sum())
        expected += float(p_fail[must].sum())
        variance += float((p_fail * (1 - p_fail))[must].sum())
    return errors, expected, variance


@pytest.mark.parametrize("v_write, width", [(1.5, 1), (1.3, 1), (1.3, 2)])
def test_write_errors_match_the_analytic_expectation(v_write: float, width: int) -> None:
    chip = powered(5)
    chip.set_rails(vwrite=v_write)
    chip.set_write_width(width)
    w = random_signs(np.random.default_rng(0), (64, 64))
    chip.write_array(w)
    errors, expected, variance = full_flip_errors(chip, w, 40)
    assert abs(errors - expected) < 4.5 * math.sqrt(variance) + 2


def test_error_rate_falls_with_width_and_rises_as_the_voltage_drops() -> None:
    rates = {}
    for v_write, width in ((1.5, 1), (1.3, 1), (1.3, 2), (1.2, 1)):
        chip = powered(6)
        chip.set_rails(vwrite=v_write)
        chip.set_write_width(width)
        chip.write_array(random_signs(np.random.default_rng(1), (64, 64)))
        rates[v_write, width] = chip.write_error_rates().mean()
    assert rates[1.2, 1] > rates[1.3, 1] > rates[1.5, 1]
    assert rates[1.3, 2] < rates[1.3, 1]


def test_nominal_write_error_rate_is_of_order_1e_4_from_the_tails() -> None:
    """Per column, the datasheet's switching law at each MTJ's write bias (the write path, checked by
    test_write_path) with its own Vc0, Delta and barrier; over dies 0-7 docs/chip_model.md's 1.4e-4
    (datasheet 4: of order 1e-4); the failing MTJs are the tails (weak bits, low R_P under the current
    limit), not slow precession."""
    rates, tail = [], []
    for seed in range(8):
        chip = powered(seed)
        w = random_signs(np.random.default_rng(seed), (64, 64))
        chip.write_array(w)
        per_column = chip.write_error_rates()
        assert per_column.shape == (64,)
        stored = chip.stored_weights()
        v_mtj, _ = chip.write_bias(-stored)
        target = np.stack([stored == 1, stored == -1], axis=-1)          # the complement of what is held
        d, dev = chip.die, chip.params.device
        vc0 = np.where(target, d.vc0_p_to_ap, d.vc0_ap_to_p)
        barrier = d.delta_retention * np.where(target, (1 + dev.stray_field_ratio) ** 2,
                                               (1 - dev.stray_field_ratio) ** 2)
        p_fail = datasheet_survival(v_mtj / vc0, 1 / chip.clock_hz, d.delta, barrier, dev)
        counted = (chip._ap != target) & (d.defect == HEALTHY) & ~chip._broken
        expected = (p_fail * counted).sum(axis=(0, 2)) / counted.sum(axis=(0, 2))
        assert np.allclose(per_column, expected, rtol=1e-6, atol=1e-18)
        rates.append(expected.mean())
        tail.append(np.median((v_mtj / vc0)[d.defect == HEALTHY]))
    assert np.mean(rates) == pytest.approx(1.4e-4, rel=0.05)          # the documented figure
    assert min(tail) > 1.8     # the typical MTJ is driven to ~2 x Vc0: no slow precession involved


def test_far_columns_see_less_write_voltage_and_fail_more() -> None:
    """IR drop along the row's write lines: raised to 1 ohm per pitch, the far columns' error rate rises."""
    params = ChipParameters().with_overrides({"device.write_line_resistance": 1.0})
    rates = []
    for seed in range(4):
        chip = powered(seed, params)
        chip.write_array(random_signs(np.random.default_rng(seed), (64, 64)))
        rates.append(chip.write_error_rates())
    rates = np.mean(rates, axis=0)
    assert rates[-16:].mean() > 3 * rates[:16].mean()

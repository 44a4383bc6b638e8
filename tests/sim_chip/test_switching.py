"""Switching: thermal and precessional regimes against their laws; write error rate against its expectation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chips import powered, random_signs
from datasheet import CRITICAL_K, survival as datasheet_survival
from sim_chip import MX64, ChipParameters, switching
from sim_chip.die import HEALTHY
from sim_chip.parameters import DeviceParameters

DEV = DeviceParameters()
T25 = 298.15
D_SW, D_RET = 60.0, 90.0
T_C = CRITICAL_K * DEV.tau_precession * math.sqrt(D_RET)       # the critical passage time, ~13.7 ns


def test_the_critical_passage_constant_is_the_fokker_planck_first_passage_time() -> None:
    """T_c = 2 tau_D sqrt(D) int_0^sqrt(D) F(u) / (u (2 - u/sqrt(D))) du at I = Ic0 (F Dawson's integral; the
    axially symmetric macrospin from its well to the equator) is K tau_D sqrt(D), K within 1 % of 1.44 for
    Delta 40-100 (the model's constant, docs/chip_model.md)."""
    from scipy.integrate import quad
    from scipy.special import dawsn
    for delta in (40.0, 60.0, 90.0, 100.0):
        root = math.sqrt(delta)
        k = 2 * quad(lambda u, root=root: dawsn(u) / (u * (2 - u / root)), 0, root, limit=200)[0]
        assert k == pytest.approx(switching.CRITICAL_PASSAGE, rel=0.01) == pytest.approx(CRITICAL_K, rel=0.01)


def test_thermal_regime_is_the_datasheet_law_where_it_is_stated() -> None:
    """Below Ic0, where the activation time dwarfs the critical passage: tau0 exp(Delta (1 - I/Ic0)), to
    within T_c / (tau0 exp(B)) (under 4 % at x = 0.9, 1e-5 at x = 0.6); exactly the stated rate throughout."""
    for x in (0.4, 0.6, 0.75, 0.85, 0.9):
        for width in (1e-8, 1e-6, 1e-3):
            tau = 1e-9 * math.exp(D_SW * (1 - x))
            got = float(switching.switching_probability(x, width, D_SW, D_RET, DEV))
            assert got == pytest.approx(-math.expm1(-width / (tau + T_C)), rel=1e-9, abs=1e-300)
            assert got == pytest.approx(-math.expm1(-width / tau), rel=1.05 * T_C / tau, abs=1e-300)


def test_zero_bias_rate_is_the_retention_barrier_and_joins_the_linear_law() -> None:
    """Quadratic (Fokker-Planck) branch from Delta_ret at I = 0; it meets the linear law at x = 1 - D_sw/D_ret."""
    assert float(switching.thermal_rate(0.0, D_SW, D_RET, DEV)) == pytest.approx(math.exp(-D_RET) / 1e-9, rel=1e-12)
    x = 0.2
    assert float(switching.barrier(x, D_SW, D_RET)) == pytest.approx(D_RET * (1 - x) ** 2)
    joint = 1 - D_SW / D_RET
    for x in (joint - 1e-6, joint + 1e-6):
        assert float(switching.barrier(x, D_SW, D_RET)) == pytest.approx(D_SW * (1 - joint), rel=1e-4)
    assert float(switching.barrier(-0.7, D_SW, D_RET)) == pytest.approx(D_RET * 1.7**2)
    assert float(switching.barrier(1.3, D_SW, D_RET)) == 0.0


def test_survival_is_monotonic_and_continuous_across_ic0_with_no_plateau() -> None:
    """The crossover is continuous: S falls strictly through 0.9 < x < 1.1 at a clock's pulse (where the old
    floor on the barrier held every pulse at one probability), never jumps, and is datasheet.py's law."""
    x = np.linspace(0.1, 6.0, 6000)
    for width in (1e-9, 3e-9, 9.009e-8, 1e-6):
        s = switching.survival(x, width, D_SW, D_RET, DEV)
        assert np.all(np.diff(s) <= 1e-15)
        assert np.max(np.abs(np.diff(s))) < 0.05       # no jump anywhere
        assert np.allclose(s, datasheet_survival(x, width, D_SW, D_RET, DEV), rtol=1e-9, atol=1e-300)
    near = np.linspace(0.9, 1.1, 201)
    s = switching.survival(near, 9.009e-8, D_SW, D_RET, DEV)
    assert np.all(np.diff(s) < 0) and s[0] / s[-1] > 1e3
    below, at, above = (float(switching.survival(v, 9.009e-8, D_SW, D_RET, DEV)) for v in (1 - 1e-9, 1.0, 1 + 1e-9))
    assert below == pytest.approx(at, rel=1e-6) and above == pytest.approx(at, rel=1e-6)


def test_switching_probability_is_one_minus_the_datasheet_survival_and_exact_when_tiny() -> None:
    """P = 1 - S of datasheet 4 on both sides of Ic0 (thermal and precessional factors together); where
    P is below 1e-16, 1 - S would round to 0, and P is the thermal rate times the width."""
    x = np.linspace(0.1, 6.0, 3000)
    for width in (1e-9, 3e-9, 1e-6):
        got = switching.switching_probability(x, width, D_SW, D_RET, DEV)
        expected = 1 - datasheet_survival(x, width, D_SW, D_RET, DEV)
        assert np.allclose(got, expected, rtol=1e-9, atol=1e-15)
    tiny = float(switching.switching_probability(0.3, 1e-9, D_SW, D_RET, DEV))
    assert tiny == pytest.approx(1e-9 * math.exp(-D_RET * 0.7**2) / DEV.tau0, rel=1e-9)


def precessional_median(x: float) -> float:
    """Median switching time of Sun's macrospin law with the critical thermal branch, by bisection."""
    lo, hi = 1e-12, 1e-6
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        t_p = T_C * (1 + math.exp(-math.sqrt(D_RET) * (x - 1))) / 2
        s = math.exp(-mid / (DEV.tau0 + t_p)) * \
            -math.expm1(-0.25 * math.pi**2 * D_RET * math.exp(-2 * (x - 1) * mid / DEV.tau_precession))
        lo, hi = (mid, hi) if s > 0.5 else (lo, mid)
    return lo


@pytest.mark.parametrize("overdrive", [1.5, 2.0, 3.0, 4.0])
def test_precessional_switching_time_follows_sun(overdrive: float) -> None:
    """Far above Ic0 the median t with S(t) = 1/2 tends to tau_D ln(pi^2 Delta / (4 ln 2)) / (2 (x - 1)): the
    thermal branch's bounded rate (under 2/T_c) moves it by its share of the hazard, t 2/T_c against ln 2."""
    expected = precessional_median(overdrive)
    pure = DEV.tau_precession * math.log(math.pi**2 * D_RET / (4 * math.log(2))) / (2 * (overdrive - 1))
    assert expected == pytest.approx(pure, rel=pure * 2 / T_C / math.log(2))
    s_at = lambda t: float(switching.survival(overdrive, t, D_SW, D_RET, DEV))
    assert s_at(expected * 0.999) > 0.5 > s_at(expected * 1.001)
    if overdrive == 3.0:
        assert 1e-9 < expected < 2e-9                # 1-2 ns at ~3 x Ic0


def test_precessional_error_rate_falls_with_width_at_the_macrospin_rate() -> None:
    """ln WER falls with slope 2 (x-1)/tau_D + 1/(tau0 + T_p), far faster than one decade per 24 ns."""
    x = 1.2
    widths = np.array([60e-9, 70e-9, 80e-9, 90e-9])             # WER << 1: 1 - exp(-a) = a
    wer = switching.survival(x, widths, D_SW, D_RET, DEV)
    slopes = np.diff(np.log(wer)) / np.diff(widths)
    t_p = T_C * (1 + math.exp(-math.sqrt(D_RET) * (x - 1))) / 2
    expected = -(2 * (x - 1) / DEV.tau_precession + 1 / (DEV.tau0 + t_p))
    assert np.allclose(slopes, expected, rtol=1e-6)
    assert expected * 24e-9 < -4 * math.log(10)      # > 4 decades per 24 ns at only 1.2 x Ic0


def test_overdrive_is_the_current_over_ic0_which_v_over_vc0_understates_for_ap_to_p() -> None:
    """Datasheet 4: R_AP falls with bias, so at the nominal write the AP->P current over Ic0 (= Vc0 / R_AP(Vc0))
    exceeds V/Vc0 by R_AP(Vc0)/R_AP(V) (about 1.4 at 0.9 V); for P->AP (R_P flat) the two agree."""
    chip = powered(3, ChipParameters.ideal())
    w = np.ones((64, 64), np.int8)
    v_mtj, current = chip.write_bias(w)                     # from all-P: left stays P (no switch), right to AP
    chip.write_array(-w)
    v_ap, i_ap = chip.write_bias(w)                         # left AP -> P
    d = DEV
    tmr0 = d.r_ap_mean / d.r_p_mean - 1
    r_ap = lambda v: d.r_p_mean * (1 + tmr0 / (1 + (v / d.v_half_tmr) ** 2))
    ic_ap = d.vc0_ap_to_p / r_ap(d.vc0_ap_to_p)
    x_ap, v = i_ap[:, :, 0] / ic_ap, v_ap[:, :, 0]
    assert np.allclose(x_ap, v / d.vc0_ap_to_p * r_ap(d.vc0_ap_to_p) / r_ap(v), rtol=1e-9)
    assert 1.3 < float(np.median(x_ap / (v / d.vc0_ap_to_p))) < 1.6
    x_pa = current[:, :, 1] / (d.vc0_p_to_ap / d.r_p_mean)
    assert np.allclose(x_pa, v_mtj[:, :, 1] / d.vc0_p_to_ap, rtol=1e-9)


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
    assert v["vc0_p_to_ap"] == pytest.approx(v["ic0_p_to_ap"] * v["r_p"], rel=1e-12)   # in P: I/Ic0 = V/Vc0
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

    Expected from the datasheet's switching law at each MTJ's write current (the
    model's write path) over its own Ic0, with its Delta and barriers.
    """
    d, dev = chip.die, chip.params.device
    healthy = d.defect == HEALTHY
    width = chip.write_width_clocks / chip.clock_hz
    errors, expected, variance = 0, 0.0, 0.0
    for k in range(writes):
        target_w = -w if k % 2 == 0 else w
        target = np.stack([target_w == -1, target_w == 1], axis=-1)
        before = chip._ap.copy()
        _, current = chip.write_bias(target_w)
        ic0 = np.where(target, d.ic0_p_to_ap, d.ic0_ap_to_p)
        out_of_p, out_of_ap = d.delta_retention * (1 + dev.stray_field_ratio) ** 2, \
            d.delta_retention * (1 - dev.stray_field_ratio) ** 2
        p_fail = datasheet_survival(current / ic0, width, d.delta, np.where(target, out_of_p, out_of_ap), dev)
        must = (before != target) & healthy
        chip.write_array(target_w)
        errors += int(((chip._ap != target) & must).sum())
        expected += float(p_fail[must].sum())
        variance += float((p_fail * (1 - p_fail))[must].sum())
    return errors, expected, variance


@pytest.mark.parametrize("v_write, width", [(0.8, 1), (0.75, 1), (0.75, 2)])
def test_write_errors_match_the_analytic_expectation(v_write: float, width: int) -> None:
    """At a lowered V_WRITE (the nominal 1.5 V fails too rarely to count), Monte Carlo errors against each
    MTJ's analytic failure probability."""
    chip = powered(5)
    chip.set_rails(vwrite=v_write)
    chip.set_write_width(width)
    w = random_signs(np.random.default_rng(0), (64, 64))
    chip.write_array(w)
    errors, expected, variance = full_flip_errors(chip, w, 40)
    assert expected > 20
    assert abs(errors - expected) < 4.5 * math.sqrt(variance) + 2


def test_error_rate_falls_with_width_and_rises_as_the_voltage_drops() -> None:
    rates = {}
    for v_write, width in ((1.0, 1), (0.9, 1), (0.9, 2), (0.8, 1)):
        chip = powered(6)
        chip.set_rails(vwrite=v_write)
        chip.set_write_width(width)
        chip.write_array(random_signs(np.random.default_rng(1), (64, 64)))
        rates[v_write, width] = chip.write_error_rates().mean()
    assert rates[0.8, 1] > rates[0.9, 1] > rates[1.0, 1]
    assert rates[0.9, 2] < rates[0.9, 1]


def nominal_rates(seed: int, params: ChipParameters | None = None) -> tuple[np.ndarray, np.ndarray, MX64]:
    """(the model's per-column WER, datasheet.py's per-MTJ failure probability, the chip) of writing the
    complement of a random pattern at the nominal 1.5 V and one clock."""
    chip = powered(seed, params)
    chip.write_array(random_signs(np.random.default_rng(seed), (64, 64)))
    per_column = chip.write_error_rates()
    stored = chip.stored_weights()
    _, current = chip.write_bias(-stored)
    target = np.stack([stored == 1, stored == -1], axis=-1)          # the complement of what is held
    d, dev = chip.die, chip.params.device
    ic0 = np.where(target, d.ic0_p_to_ap, d.ic0_ap_to_p)
    barrier = d.delta_retention * np.where(target, (1 + dev.stray_field_ratio) ** 2, (1 - dev.stray_field_ratio) ** 2)
    p_fail = datasheet_survival(current / ic0, 1 / chip.clock_hz, d.delta, barrier, dev)
    counted = (chip._ap != target) & (d.defect == HEALTHY) & ~chip._broken
    return per_column, np.where(counted, p_fail, np.nan), chip


def test_nominal_write_error_rate_follows_from_the_junction_tails() -> None:
    """Per column, the datasheet's switching law at each MTJ's write current (the write path, checked by
    test_write_path) over its own Ic0, with its Delta and barrier.  Without a sized weak-bit population the
    nominal write (every MTJ at I/Ic0 above ~1.25, the median 2.05 P->AP and 3.85 AP->P) fails only in
    the far tail of the area distribution: docs/chip_model.md's mean of ~4e-29 over dies 0-7."""
    rates, lowest = [], []
    for seed in range(8):
        per_column, p_fail, chip = nominal_rates(seed)
        assert per_column.shape == (64,)
        expected = np.nanmean(p_fail, axis=(0, 2))
        assert np.allclose(per_column, expected, rtol=1e-6, atol=1e-300)
        rates.append(expected.mean())
        stored = chip.stored_weights()
        _, current = chip.write_bias(-stored)
        target = np.stack([stored == 1, stored == -1], axis=-1)
        lowest.append((current / np.where(target, chip.die.ic0_p_to_ap, chip.die.ic0_ap_to_p)).min())
    assert math.log10(np.mean(rates)) == pytest.approx(math.log10(3.6e-29), abs=0.5)    # the documented figure
    assert min(lowest) > 1.2


def test_a_twins_weak_bit_population_sets_the_tail() -> None:
    """A weak-bit population (a twin's measured tail; none by default) raises the nominal WER by orders."""
    base = np.nanmean(nominal_rates(2)[1])
    weak = np.nanmean(nominal_rates(2, ChipParameters().with_overrides({"device.weak_bit_fraction": 2e-3,
                                                                        "device.weak_bit_ic0_factor": 2.0}))[1])
    assert weak > 1e6 * base


def test_far_rows_and_far_columns_see_less_write_voltage_and_fail_more() -> None:
    """IR drop: a column's own write lines drop more for rows far from its driver, the V_WRITE and ground buses
    more for columns far from their feed.  Raised (20 ohm per row pitch, 2 ohm per column pitch) at a write
    voltage where errors are countable, the far 16 rows (columns) fail more than the near 16."""
    for name, value, axis in (("device.write_line_resistance", 20.0, 0), ("device.write_bus_resistance", 2.0, 1)):
        params = ChipParameters().with_overrides({name: value})
        near, far = 0.0, 0.0
        for seed in range(3):
            chip = powered(seed, params)
            chip.set_rails(vwrite=0.85)
            chip.write_array(random_signs(np.random.default_rng(seed), (64, 64)))
            stored = chip.stored_weights()
            v_mtj, current = chip.write_bias(-stored)
            target = np.stack([stored == 1, stored == -1], axis=-1)
            ic0 = np.where(target, chip.die.ic0_p_to_ap, chip.die.ic0_ap_to_p)
            dev, d = chip.params.device, chip.die
            barrier = d.delta_retention * np.where(target, (1 + dev.stray_field_ratio) ** 2,
                                                   (1 - dev.stray_field_ratio) ** 2)
            p_fail = np.moveaxis(datasheet_survival(current / ic0, 1 / chip.clock_hz, d.delta, barrier, dev), axis, 0)
            near, far = near + p_fail[:16].mean(), far + p_fail[-16:].mean()
            assert np.moveaxis(current, axis, 0)[-16:].mean() < np.moveaxis(current, axis, 0)[:16].mean()
        assert far > 2 * near, name

"""Fabrication: per-die parameters reproduce the datasheet's distributions."""

from __future__ import annotations

import numpy as np
import pytest

from sim_chip import MX64, ChipParameters, InvalidArgument
from sim_chip.die import HEALTHY, SHORTED, STUCK_AP, STUCK_P, fabricate


@pytest.fixture(scope="module")
def dies():
    return [fabricate(seed, ChipParameters()) for seed in range(4)]


def test_branch_resistances_match_the_paper(dies) -> None:
    """R_low 13 kOhm (sigma 1.6), R_high 26 kOhm (sigma 2.0) over 8,192 branches per die."""
    for die in dies:
        healthy = die.defect == HEALTHY
        r_low = (die.r_fet + die.r_p)[healthy]
        r_high = (die.r_fet + die.r_ap)[healthy]
        # the FET (5 % of 3 kOhm) and the MTJ spreads add in quadrature; 4 standard errors of N branches
        for r, mean, sigma in ((r_low, 13e3, np.hypot(150, 1593)), (r_high, 26e3, np.hypot(150, 1994))):
            assert sigma == pytest.approx(1.6e3 if mean < 20e3 else 2.0e3, rel=0.002)      # the paper's
            assert r.mean() == pytest.approx(mean, abs=4 * sigma / np.sqrt(r.size))
            assert r.std() == pytest.approx(sigma, abs=4 * sigma / np.sqrt(2 * r.size))


def test_r_p_and_r_ap_are_correlated_and_the_tmr_spread_is_narrow(dies) -> None:
    """Datasheet 1: the same area and barrier set both (correlation 0.9-0.95), so TMR CV <~ 15 %."""
    for die in dies:
        healthy = die.defect == HEALTHY
        r_p, r_ap = die.r_p[healthy], die.r_ap[healthy]
        assert 0.9 < np.corrcoef(np.log(r_p), np.log(r_ap))[0, 1] < 0.97
        tmr = r_ap / r_p - 1
        assert tmr.mean() == pytest.approx(1.3, abs=0.05)
        assert 0.10 < tmr.std() / tmr.mean() < 0.15
        assert tmr.min() > 0.5 and tmr.max() < 3.0


def test_weak_bits_are_a_small_write_hard_population(dies) -> None:
    d = ChipParameters().device
    weak = np.concatenate([die.weak_bit.ravel() for die in dies])
    expected = d.weak_bit_fraction * weak.size
    assert abs(weak.sum() - expected) < 5 * np.sqrt(expected)
    die = dies[0]
    ratio = die.vc0_p_to_ap[die.weak_bit] / d.vc0_p_to_ap
    assert ratio.mean() == pytest.approx(d.weak_bit_vc0_factor, rel=0.1)
    assert die.delta_retention.mean() / die.delta.mean() == pytest.approx(d.delta_retention_mean / d.delta_mean)


def test_defect_fraction_is_about_five_in_ten_thousand() -> None:
    codes = np.concatenate([fabricate(seed, ChipParameters()).defect.ravel() for seed in range(40)])
    fraction = np.mean(codes != HEALTHY)
    assert 2.5e-4 < fraction < 8e-4                # 0.05 %, ~164 of 327,680 MTJs
    for kind in (STUCK_P, STUCK_AP, SHORTED):
        assert np.any(codes == kind)


def test_same_seed_same_die_other_seed_other_die() -> None:
    a, b, c = (fabricate(s, ChipParameters()) for s in (11, 11, 12))
    assert a.die_id == b.die_id and np.array_equal(a.r_p, b.r_p) and np.array_equal(a.defect, b.defect)
    assert a.die_id != c.die_id and not np.array_equal(a.r_p, c.r_p)


def test_ideal_die_has_no_variation() -> None:
    die = fabricate(5, ChipParameters.ideal())
    assert np.ptp(die.r_p) == 0 and np.ptp(die.r_ap) == 0 and not die.defect.any()


def test_parameters_are_overridable_and_documented() -> None:
    params = ChipParameters().with_overrides({"device.r_p_mean": 8e3, "stochastic": False})
    assert fabricate(1, params).r_p.mean() == 8e3
    rows = ChipParameters().describe()
    assert all(unit is not None and source for _, _, unit, source in rows)
    names = {name for name, *_ in rows}
    import dataclasses
    for group in ("device", "defects", "readout", "defaults", "energy"):
        for f in dataclasses.fields(getattr(ChipParameters(), group)):
            assert f"{group}.{f.name}" in names          # every input is listed with its unit and source
    assert {"device.fet_isat_p_to_ap", "device.write_line_resistance", "device.tau_precession",
            "device.delta_retention_mean", "device.stray_field_ratio", "readout.topology",
            "readout.noise_sigma_common", "energy.tdc_energy_per_lsb"} <= names
    with pytest.raises(InvalidArgument, match="device.nonsense"):
        ChipParameters().with_overrides({"device.nonsense": 1})


def test_chip_state_starts_from_fabrication() -> None:
    chip = MX64(3)
    assert chip.broken_mtjs == int((chip.die.defect == SHORTED).sum())
    assert not chip.powered

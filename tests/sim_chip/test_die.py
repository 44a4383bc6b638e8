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


def test_weak_bits_are_a_small_write_hard_population_when_a_twin_sets_one() -> None:
    """No sized weak-bit population by default (none has a source); a given fraction marks that many MTJs
    and multiplies their Ic0 by its factor."""
    assert not fabricate(0, ChipParameters()).weak_bit.any()
    params = ChipParameters().with_overrides({"device.weak_bit_fraction": 2e-3})
    d = params.device
    plain, dies = fabricate(0, ChipParameters()), [fabricate(seed, params) for seed in range(3)]
    weak = np.concatenate([die.weak_bit.ravel() for die in dies])
    expected = d.weak_bit_fraction * weak.size
    assert abs(weak.sum() - expected) < 5 * np.sqrt(expected)
    die = dies[0]
    ratio = die.ic0_p_to_ap[die.weak_bit] / plain.ic0_p_to_ap[die.weak_bit]
    assert ratio.mean() == pytest.approx(d.weak_bit_ic0_factor, rel=0.1)
    assert die.delta_retention.mean() / die.delta.mean() == pytest.approx(d.delta_retention_mean / d.delta_mean)


def log_sd(cv: float) -> float:
    return float(np.sqrt(np.log1p(cv**2)))


def test_delta_ic0_and_r_p_are_one_population_through_the_junction_area(dies) -> None:
    """R_P = RA/A, Ic0 = Jc0 A, Delta ~ A^k (docs/chip_model.md): with log spreads s_P (the paper's R_P), s_RA,
    s_A = sqrt(s_P^2 - s_RA^2), s_J = sqrt(s_V^2 - s_RA^2) (s_V the datasheet's Vc0 CV) and s_D (Delta's own),
    corr(ln Delta, ln R_P) = -k s_A^2 / (sqrt(k^2 s_A^2 + s_D^2) s_P), corr(ln Ic0, ln R_P) =
    -s_A^2 / (sqrt(s_A^2 + s_J^2) s_P), and Vc0 = Ic0 R_P keeps the datasheet's CV: the area cancels."""
    d = ChipParameters().device
    s_p, s_ra, s_v, s_d = (log_sd(d.r_p_sigma / d.r_p_mean), log_sd(d.resistance_area_cv), log_sd(d.vc0_cv),
                           log_sd(d.delta_cv))
    s_a, s_j, k = np.sqrt(s_p**2 - s_ra**2), np.sqrt(s_v**2 - s_ra**2), d.delta_area_exponent
    for die in dies:
        ln_rp, ln_delta, ln_ic = np.log(die.r_p).ravel(), np.log(die.delta).ravel(), np.log(die.ic0_p_to_ap).ravel()
        n = ln_rp.size
        tolerance = 4 / np.sqrt(n)                                              # ~4 standard errors
        assert np.corrcoef(ln_delta, ln_rp)[0, 1] == pytest.approx(
            -k * s_a**2 / (np.hypot(k * s_a, s_d) * s_p), abs=tolerance)
        assert np.corrcoef(ln_ic, ln_rp)[0, 1] == pytest.approx(-s_a**2 / (np.hypot(s_a, s_j) * s_p), abs=tolerance)
        assert np.corrcoef(ln_delta, ln_ic)[0, 1] == pytest.approx(k * s_a**2 / (np.hypot(k * s_a, s_d)
                                                                                * np.hypot(s_a, s_j)), abs=tolerance)
        vc0 = die.ic0_p_to_ap * die.r_p
        assert np.std(np.log(vc0)) == pytest.approx(s_v, rel=0.03)
        assert vc0.mean() == pytest.approx(d.vc0_p_to_ap, rel=0.01)               # Ic0 = Vc0 / R_P on average
        assert die.delta.mean() == pytest.approx(d.delta_mean, rel=0.01)
        assert np.std(ln_delta) == pytest.approx(np.hypot(k * s_a, s_d), rel=0.03)


def test_a_die_built_from_maps_holds_them_and_draws_the_rest_as_one_population(dies) -> None:
    """Measured R_P/R_AP per MTJ, offsets per column and stuck cells replace the seed's draws exactly; Delta and
    Ic0 are drawn conditioned on the given R_P (the area correlation holds for the mapped die too)."""
    from sim_chip.die import DieMaps
    source = dies[1]
    defect = np.zeros((64, 64, 2), np.int8)
    defect[3, 4, 1] = STUCK_AP
    offsets = np.linspace(-5e-3, 5e-3, 64)
    maps = DieMaps(r_p=source.r_p, r_ap=source.r_ap, comparator_offset=offsets, defect=defect)
    die = fabricate(7, ChipParameters(), maps)
    assert np.array_equal(die.r_p, source.r_p) and np.array_equal(die.r_ap, source.r_ap)
    assert np.array_equal(die.comparator_offset, offsets) and np.array_equal(die.defect, defect)
    assert not np.array_equal(die.r_fet, source.r_fet)                       # not mapped: drawn from seed 7
    other = dies[2]
    d = ChipParameters().device
    s_p, s_ra = log_sd(d.r_p_sigma / d.r_p_mean), log_sd(d.resistance_area_cv)
    s_a = np.sqrt(s_p**2 - s_ra**2)
    expected = -s_a**2 / (np.hypot(s_a, np.sqrt(log_sd(d.vc0_cv) ** 2 - s_ra**2)) * s_p)
    assert np.corrcoef(np.log(die.ic0_p_to_ap).ravel(), np.log(die.r_p).ravel())[0, 1] == pytest.approx(
        expected, abs=0.03)
    assert not np.allclose(die.ic0_p_to_ap, other.ic0_p_to_ap)
    chip = MX64(7, maps=maps)
    assert np.array_equal(chip._ap, defect == STUCK_AP) and chip.die.die_id == fabricate(7, ChipParameters()).die_id
    for bad, message in ((dict(r_p=np.ones((64, 64))), "shape"), (dict(defect=np.full((64, 64, 2), 9)), "codes"),
                         (dict(r_p=-source.r_p), "positive"), (dict(r_p=source.r_ap, r_ap=source.r_p), "exceed")):
        with pytest.raises(ValueError, match=message):
            DieMaps(**bad)


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


def test_parameters_are_overridable_and_documented_with_a_physical_range() -> None:
    params = ChipParameters().with_overrides({"device.r_p_mean": 8e3, "stochastic": False})
    assert fabricate(1, params).r_p.mean() == 8e3
    rows = ChipParameters().described()
    assert all(unit is not None and source for _, _, unit, source, _ in rows)
    names = {name for name, *_ in rows}
    import dataclasses
    for group in ("device", "defects", "readout", "defaults", "energy"):
        for f in dataclasses.fields(getattr(ChipParameters(), group)):
            assert f"{group}.{f.name}" in names          # every input is listed with its unit and source
    assert {"device.fet_isat_p_to_ap", "device.write_line_resistance", "device.write_bus_resistance",
            "device.tau_precession", "device.delta_retention_mean", "device.delta_area_exponent",
            "device.mtj_hooge", "readout.topology", "readout.comparator_offset_sigma", "readout.comparator_gm",
            "readout.comparator_flicker", "readout.reference_current_mismatch", "readout.clock_jitter",
            "energy.tdc_stage_capacitance"} <= names
    for name, value, _, _, span in rows:
        if isinstance(value, str):
            assert span is None
            continue
        low, high = span                                # a number: its plausible physical range
        assert low <= value <= high, name
    described = {name: span for name, *_, span in rows}
    assert described["device.vc0_p_to_ap"] == (0.3, 0.5) and described["device.r_pa_correlation"] == (0.9, 0.95)
    with pytest.raises(InvalidArgument, match="device.nonsense"):
        ChipParameters().with_overrides({"device.nonsense": 1})


def test_chip_state_starts_from_fabrication() -> None:
    chip = MX64(3)
    assert chip.broken_mtjs == int((chip.die.defect == SHORTED).sum())
    assert not chip.powered

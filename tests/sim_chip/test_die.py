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
        assert r_low.mean() == pytest.approx(13e3, abs=0.1e3)
        assert r_low.std() == pytest.approx(1.6e3, abs=0.1e3)
        assert r_high.mean() == pytest.approx(26e3, abs=0.1e3)
        assert r_high.std() == pytest.approx(2.0e3, abs=0.12e3)


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
    assert any(name == "device.delta_mean" for name, *_ in rows)
    with pytest.raises(InvalidArgument, match="device.nonsense"):
        ChipParameters().with_overrides({"device.nonsense": 1})


def test_chip_state_starts_from_fabrication() -> None:
    chip = MX64(3)
    assert chip.broken_mtjs == int((chip.die.defect == SHORTED).sum())
    assert not chip.powered

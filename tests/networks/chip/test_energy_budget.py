"""The full-system energy per image: its parts add up, programming is shared by the batch, and nothing is
claimed without a supply."""

import pytest

from procedures.networks.chip.energy_budget import ADD_J, BATCHES, LOOKUP_J, full_energy

COSTS = {"energy_per_image_J": 2e-9, "calibration_energy_J": 1e-6, "programming_energy_J": 5e-6,
         "inference_clocks": 1000, "calibration_clocks": 500, "program_clocks": 2000,
         "time_per_image_s": 1e-5, "mac_vectors_per_image": 10}


def test_parts_add_up_and_programming_is_shared_by_the_batch():
    images, idle = 100, 1e-3
    out = full_energy(COSTS, images, idle, ops_per_image=1e6)
    parts = out["energy_parts_j"]
    clock = COSTS["inference_clocks"] / images / COSTS["time_per_image_s"]
    assert parts["calibration_j"] == pytest.approx(1e-8)
    assert parts["host_decoding_j"] == pytest.approx(10 * 64 * (LOOKUP_J + ADD_J))
    assert parts["leakage_j"] == pytest.approx(idle * 1500 / images / clock)
    shared = (5e-6 + idle * 2000 / clock)
    for batch in BATCHES:
        expected = parts["mac_j"] + parts["calibration_j"] + parts["host_decoding_j"] + parts["leakage_j"] \
            + shared / batch
        assert out["energy_per_image_full_by_batch_j"][str(batch)] == pytest.approx(expected)
    totals = list(out["energy_per_image_full_by_batch_j"].values())
    assert totals == sorted(totals, reverse=True)
    assert out["tops_per_w"] == pytest.approx(1e6 / out["energy_per_image_full_j"] / 1e12)
    assert out["energy_per_image_full_j"] > out["energy_per_image_mac_j"]


def test_no_supply_no_energy():
    assert full_energy({**COSTS, "energy_per_image_J": None}, 100, None, 1e6) == {
        "energy_per_image_full_j": None, "tops_per_w": None}

"""The full-system energy of a network on the chip, per image, beside the MAC-only figure.

Measured on the bench (the supply's rail currents, ``session.metered``):

- **MAC**: the inference's energy above idle, per image;
- **programming**: writing every tile, which a batch of images pays once
  (the array holds one tile at a time, so every batch programs them all
  again): given per image at batches of 1, 100 and 10,000 images;
- **calibration**: the tiles' calibration reads (and a die-level table),
  paid once per run and spread over its images;
- **leakage**: the chip's idle power over the chip time an image takes
  (programming and calibration shared as above, inference its own).

Estimated (not measured: the host is not on the bench), with the inputs
stated:

- **host digital work**: per image, every column code the chip returns is
  decoded (a table lookup) and added into its neuron's sum (the row tiles'
  and windows' partial sums), at ``LOOKUP_J`` and ``ADD_J`` per operation: a 16-entry per-column table in
  a register file and a 16-bit adder in 28 nm, from Horowitz, "Computing's
  energy problem", ISSCC 2014 (45 nm: 16-bit add 0.05 pJ, small-SRAM read
  ~1-2 pJ per 16 bits), scaled by about 0.6 to 28 nm.
"""

from __future__ import annotations

from typing import Any

from benchspec.mx64 import COLUMNS

#: host energy per decode-table lookup (16-bit word from a small register file, 28 nm), J: an estimate
LOOKUP_J = 1.0e-12
#: host energy per 16-bit addition (28 nm), J: an estimate
ADD_J = 0.03e-12
#: the batches at which programming is amortised, images
BATCHES = (1, 100, 10_000)


def full_energy(costs: dict[str, Any], images: int, idle_watts: float | None, ops_per_image: float) -> dict[str, Any]:
    """Energy per image by part, J (None without a supply); full-system totals at each batch and TOPS/W (ops
    counted as 2 per multiply-accumulate of the network) at the largest.  ``costs`` is a pass's summary
    (``_costs`` of a network procedure); every MAC vector returns one code per column (64)."""
    if costs.get("energy_per_image_J") is None:
        return {"energy_per_image_full_j": None, "tops_per_w": None}
    clock = costs["inference_clocks"] / images / costs["time_per_image_s"] if costs["time_per_image_s"] else 0.0
    per_image = {
        "mac_j": costs["energy_per_image_J"],
        "calibration_j": (costs["calibration_energy_J"] or 0.0) / images,
        "host_decoding_j": costs["mac_vectors_per_image"] * COLUMNS * (LOOKUP_J + ADD_J),
    }
    run_clocks = costs["calibration_clocks"] + costs["inference_clocks"]
    per_image["leakage_j"] = (idle_watts or 0.0) * run_clocks / images / clock if clock else 0.0
    programming = costs["programming_energy_J"] or 0.0
    program_leakage = (idle_watts or 0.0) * costs["program_clocks"] / clock if clock else 0.0
    totals = {batch: sum(per_image.values()) + (programming + program_leakage) / batch for batch in BATCHES}
    full = totals[BATCHES[-1]]
    return {"energy_per_image_mac_j": per_image["mac_j"],
            "energy_parts_j": {**per_image, **{f"programming_at_batch_{b}_j": (programming + program_leakage) / b
                                               for b in BATCHES}},
            "energy_per_image_full_j": full, "energy_per_image_full_by_batch_j": {str(b): t for b, t in totals.items()},
            "host_energy_is_estimate": True,
            "tops_per_w": ops_per_image / full / 1e12 if full > 0 else None}

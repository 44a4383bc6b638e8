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

from collections.abc import Iterable
from math import prod
from typing import Any

from benchspec.mx64 import COLUMNS
from procedures.networks.host.layers import WeightedLayer
from procedures.networks.host.network import BinaryNetwork

from .session import Session

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


def chip_ops(network: BinaryNetwork, layers: Iterable[int] | None = None) -> int:
    """Operations per image of ``network``'s weighted ``layers`` (indices among its weighted layers; default all),
    2 per multiply-accumulate: a convolution's at every output position."""
    weighted = [(layer, shape) for layer, shape in zip(network.layers, network.shapes[1:])
                if isinstance(layer, WeightedLayer)]
    chosen = range(len(weighted)) if layers is None else layers
    return sum(2 * weighted[i][0].weights.size * prod(weighted[i][1][:-1]) for i in chosen)


def pass_costs(session: Session, images: int, ops_per_image: float) -> dict[str, Any]:
    """Programming cycles, chip clocks and energy per image of a pass over ``images`` images (the session's
    costs so far): the MAC's, and the full system's by part (``full_energy``)."""
    costs, clock_hz = session.costs, session.conditions["clock_hz"]
    clocks = costs.program_clocks + costs.calibration_clocks + costs.inference_clocks
    summary = {"programming_cycles": costs.tiles_programmed, "cells_wrong": costs.cells_wrong,
               "program_clocks": costs.program_clocks, "calibration_clocks": costs.calibration_clocks,
               "calibration_reads": costs.calibration_reads,
               "inference_clocks": costs.inference_clocks, "mac_vectors_per_image": costs.inference_vectors / images,
               "time_per_image_s": costs.inference_clocks / images / clock_hz,
               "chip_time_per_image_s": clocks / images / clock_hz,
               "energy_per_image_J": None if costs.inference_joules is None else costs.inference_joules / images,
               "programming_energy_J": costs.program_joules, "calibration_energy_J": costs.calibration_joules}
    idle_watts = None if session.meter is None else session.meter.idle_watts
    return {**summary, **full_energy(summary, images, idle_watts, ops_per_image)}


def report_energy(summary: dict[str, Any], ops: str) -> list[str]:
    """Report lines: a pass's chip time and MAC energy per image, then the full system's by batch and TOPS/W
    (``ops`` says whose operations count, e.g. "the network's")."""
    if "time_per_image_s" not in summary:
        return []
    energy = summary["energy_per_image_J"]
    lines = [f"  per image: {summary['time_per_image_s'] * 1e6:.1f} us of MAC at the chip's clock, "
             + ("no supply to measure energy" if energy is None else f"{energy * 1e9:.2f} nJ")
             + f"; {summary['programming_cycles']} tiles programmed"]
    full = summary.get("energy_per_image_full_by_batch_j")
    if full:
        lines.append("  full system per image (MAC, calibration, leakage, programming shared by the batch; host "
                     "decoding estimated): " + ", ".join(f"{t * 1e9:.3g} nJ at {b}" for b, t in full.items())
                     + f" images a batch; {summary['tops_per_w']:.3g} TOPS/W at the largest ({ops} operations)")
    return lines

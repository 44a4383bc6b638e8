"""The network runtime's costs, pinned as the energy figures are: calibration reads per tile (one typically, never
more than MAX_READS), and calibrations a session already made are reused, reading no calibration vector again."""

from __future__ import annotations

import numpy as np
import pytest

from benchspec.tdc import TdcSetting
from labctl.chip import open_chip
from procedures.networks.chip.layer import LayerJob, chip_layer
from procedures.networks.chip.readout import MAX_READS
from procedures.networks.chip.session import close_session, open_session
from tests.networks.chip.test_layer import on_chip, signs

TILES = 2 * 2                    # a 100 x 70 layer: two row tiles, two column tiles
SETTING = TdcSetting(0.4e-9, 2)  # two windows: every vector is read twice


class Counting:
    """A chip that counts the vectors streamed through ``mac_batch`` (``vectors``, one entry per call)."""

    def __init__(self, chip) -> None:
        object.__setattr__(self, "chip", chip)
        object.__setattr__(self, "vectors", [])

    def mac_batch(self, x, *args, **kwargs):
        self.vectors.append(len(x))
        return self.chip.mac_batch(x, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.chip, name)

    def __setattr__(self, name, value) -> None:
        setattr(self.chip, name, value)


@pytest.fixture
def chip() -> Counting:
    """A real (noisy) die."""
    chip = open_chip("sim:4")
    chip.power_on()
    return Counting(chip)


def passes(chip, jobs, shift: float = 0.0):
    """Plan: one session, then chip_layer over the same weights once per job list; the session and, per pass, the
    vectors streamed and its ``tile_read`` records."""
    rng = np.random.default_rng(5)
    weights = signs(rng, (100, 70))

    def plan():
        session = yield from open_session()
        session.zero_mac_times = session.zero_mac_times + shift
        streamed = []
        try:
            for job in jobs:
                before = len(chip.vectors)
                yield from chip_layer(session, 0, weights, [job(rng)])
                streamed.append(sum(chip.vectors[before:]))
        finally:
            yield from close_session(session)
        return session, streamed

    (session, streamed), records = on_chip(chip, plan())
    reads = [v for name, v in records if name == "tile_read"]
    return session, streamed, [reads[k * TILES: (k + 1) * TILES] for k in range(len(jobs))]


def job(n: int, m: int, setting: TdcSetting = SETTING):
    return lambda rng: LayerJob(setting, signs(rng, (n, 100)), signs(rng, (m, 100)))


def test_a_tile_is_calibrated_in_one_read_typically_and_never_more_than_max_reads(chip) -> None:
    session, (streamed,), (tiles,) = passes(chip, [job(64, 256)])
    reads = [t["calibration_reads"] for t in tiles]
    assert MAX_READS == 3 and all(1 <= r <= MAX_READS for r in reads)
    assert sum(reads) <= 1.25 * TILES                                      # typically one read
    assert session.costs.calibration_reads == sum(reads)
    assert session.costs.calibration_vectors == sum(reads) * 256 * 2       # each read: every vector, every window
    assert streamed == session.costs.calibration_vectors + TILES * 64 * 2  # nothing else reaches the chip
    assert session.costs.inference_vectors == TILES * 64 * 2


def test_windows_placed_wrong_cost_reads_up_to_max_reads_only(chip) -> None:
    """Told that every column's MAC 0 is 2 ns later than it is, each tile reads again, within MAX_READS."""
    session, (streamed,), (tiles,) = passes(chip, [job(64, 256)], shift=2e-9)
    reads = [t["calibration_reads"] for t in tiles]
    assert all(2 <= r <= MAX_READS for r in reads)
    assert streamed == sum(reads) * 256 * 2 + TILES * 64 * 2


def test_a_second_pass_of_a_session_reads_no_calibration_vectors(chip) -> None:
    """The same tiles and setting again (as face-detection's detection pass after its test patches): every
    calibration is reused; another setting calibrates anew."""
    other = TdcSetting(0.3e-9, 2)
    session, streamed, (first, second, third) = passes(chip, [job(64, 256), job(32, 256), job(16, 256, other)])
    assert not any(t["reused"] for t in first) and all(t["reused"] for t in second)
    assert [t["calibration_reads"] for t in second] == [0] * TILES
    assert streamed[1] == TILES * 32 * 2                                   # inference vectors only
    assert not any(t["reused"] for t in third) and streamed[2] > TILES * 16 * 2
    assert len(session.reuse) == 2 * TILES
    assert session.costs.calibration_reads == sum(t["calibration_reads"] for t in first + third)

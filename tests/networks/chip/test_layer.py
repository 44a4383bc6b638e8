"""The network runtime's plans on simulated chips: exact on the ideal chip, padding and replicas on a real die,
windows that find the partial sums."""

from __future__ import annotations

import numpy as np
import pytest

from labctl.bench import Rails, SafetyLimits, Wiring
from labctl.chip import open_chip
from labctl.engine import drive
from labctl.plan import Compute, Call, Context, Read, Record, RunContext, Set
from benchspec.tdc import TdcSetting
from procedures.networks.chip.layer import LayerJob, chip_layer
from procedures.networks.chip.pipeline import Pipeline
from procedures.networks.chip.readout import RECENTRE_CODES, calibrate
from procedures.networks.chip.session import close_session, open_session

CONTEXT = RunContext(0, np.random.default_rng(0), None, frozenset(), Wiring(), Rails(), SafetyLimits())


def on_chip(chip, plan):
    """Drive a plan on a bare chip (no instruments): its result and the records it yielded."""
    records = []

    def handle(message):
        if isinstance(message, Call):
            return getattr(chip, message.target.removeprefix("chip."))(*message.args, **message.kwargs)
        if isinstance(message, Read):
            return getattr(chip, message.target.removeprefix("chip."))
        if isinstance(message, Set):
            return setattr(chip, message.target.removeprefix("chip."), message.value)
        if isinstance(message, Record):
            records.append((message.name, message.value))
        if isinstance(message, Compute):
            return message.function(*message.args, **message.kwargs)
        return CONTEXT if isinstance(message, Context) else None

    return drive(plan, handle), records


def signs(rng, shape):
    return rng.choice(np.array([-1, 1], np.int8), shape)


def layer_on(chip, weights, x, calibration, setting, replicate=True):
    def plan():
        session = yield from open_session(Pipeline(replicas=replicate))
        try:
            (result,) = yield from chip_layer(session, 0, weights, [LayerJob(setting, x, calibration)])
        finally:
            yield from close_session(session)
        return result, session

    return on_chip(chip, plan())


@pytest.fixture
def ideal_chip():
    chip = open_chip("sim:1", ideal=True)
    chip.power_on()
    return chip


def test_decoding_gives_the_exact_products_on_the_ideal_chip(ideal_chip) -> None:
    """Awkward shapes (a short row tile padded with pairs and one odd row, a narrow column tile with replicas):
    with an LSB finer than a MAC step and every code calibrated, the decoded layer is x @ W exactly."""
    rng = np.random.default_rng(1)
    weights, x = signs(rng, (101, 70)), signs(rng, (300, 101))
    before = ideal_chip.tdc_start, ideal_chip.tdc_lsb
    (result, session), records = layer_on(ideal_chip, weights, x, x, TdcSetting(0.2e-9, 9))
    assert np.array_equal(result.preactivations, x.astype(np.int64) @ weights.astype(np.int64))
    assert np.array_equal(result.calibration_decoded, result.calibration_ideal)      # the calibration reads, too
    programs = [v for name, v in records if name == "tile_program"]
    assert [(p["row_tile"], p["column_tile"], p["replicas"]) for p in programs] == \
        [(0, 0, 1), (0, 1, 10), (1, 0, 1), (1, 1, 10)]
    assert session.costs.tiles_programmed == 4 and session.costs.inference_vectors == 4 * 300 * 9
    assert session.costs.inference_clocks == 4 * 300 * 9                 # one clock per vector and window
    after = ideal_chip.tdc_start, ideal_chip.tdc_lsb
    assert all(np.array_equal(a, b) for a, b in zip(before, after))      # the session put the windows back


def test_padding_adds_nothing_on_a_real_die() -> None:
    """A layer of 12 inputs (52 padding rows: 26 pairs) decodes without bias, with the error of a full tile."""
    chip = open_chip("sim:3")
    chip.power_on()
    rng = np.random.default_rng(2)
    errors = {}
    for inputs in (12, 64):
        weights, x, calibration = signs(rng, (inputs, 64)), signs(rng, (4000, inputs)), signs(rng, (2000, inputs))
        (result, _), _ = layer_on(chip, weights, x, calibration, TdcSetting(0.4e-9))
        errors[inputs] = result.preactivations - x.astype(np.int64) @ weights.astype(np.int64)
    short = errors[12]
    # reads share a common delay noise, so vectors (not MACs) are independent; the tables' own error
    # (2,000 calibration vectors) adds as much again as half the test vectors' (4,000)
    standard_error = short.mean(axis=1).std() / np.sqrt(len(short)) * np.sqrt(1 + 4000 / 2000)
    assert abs(short.mean()) < 4 * standard_error
    assert abs(np.log(short.std() / errors[64].std())) < np.log(1.5)
    assert short.std() < 3.0


def test_replicas_reduce_the_error_of_a_narrow_layer() -> None:
    chip = open_chip("sim:3")
    chip.power_on()
    rng = np.random.default_rng(3)
    weights, x, calibration = signs(rng, (64, 10)), signs(rng, (4000, 64)), signs(rng, (2000, 64))
    exact = x.astype(np.int64) @ weights.astype(np.int64)
    std = {}
    for replicate in (False, True):
        (result, _), _ = layer_on(chip, weights, x, calibration, TdcSetting(0.4e-9), replicate)
        std[replicate] = (result.preactivations - exact).std()
    assert std[True] < 0.75 * std[False]


def test_calibration_moves_windows_onto_the_reads() -> None:
    """Told that every column's MAC-0 delay is 2 ns later than it is, the calibration finds the reads and
    centres the windows on them within RECENTRE_CODES."""
    chip = open_chip("sim:4")
    chip.power_on()
    rng = np.random.default_rng(4)
    weights = signs(rng, (64, 64))
    x = np.where(rng.random((1000, 64)) < 0.2, -weights[:, 0], weights[:, 0]).astype(np.int8)  # column 0 near +38
    ideal = x.astype(np.int32) @ weights.astype(np.int32)
    setting = TdcSetting(0.4e-9)

    def plan():
        session = yield from open_session()
        yield Call("chip.write_array", weights)
        calibration, codes, reads = yield from calibrate(session.windows, session.zero_mac_times + 2e-9, x, ideal,
                                                         setting)
        yield from close_session(session)
        return calibration, codes, reads

    (calibration, codes, reads), _ = on_chip(chip, plan())
    assert reads >= 2
    assert (np.abs(np.median(codes[0], axis=0) - 7.5) <= RECENTRE_CODES + 0.5).all()
    decoded = calibration.tables[0][np.arange(64), codes[0]]
    assert np.abs(decoded - ideal).mean() < 3.0


@pytest.mark.parametrize("reads", [1, 3])
def test_a_window_the_chip_cannot_hold_is_clamped_and_the_calibration_goes_on(reads, monkeypatch) -> None:
    """A column whose partial sums are expected before 0 s (a large offset) gets the window at the start of the
    range instead of the chip's -222, and is reported while it stays there; with more reads it is moved onto
    where its reads are."""
    import procedures.networks.chip.readout as readout
    monkeypatch.setattr(readout, "MAX_READS", reads)
    chip = open_chip("sim:4")
    chip.power_on()
    rng = np.random.default_rng(5)
    weights = signs(rng, (64, 64))
    x = signs(rng, (200, 64))
    ideal = x.astype(np.int32) @ weights.astype(np.int32)

    def plan():
        session = yield from open_session()
        yield Call("chip.write_array", weights)
        shifted = session.zero_mac_times.copy()
        shifted[[5, 9]] = -20e-9                                   # far before the range
        calibration, _, _ = yield from calibrate(session.windows, shifted, x, ideal, TdcSetting(0.4e-9))
        yield from close_session(session)
        return calibration

    calibration, _ = on_chip(chip, plan())
    if reads == 1:
        assert np.flatnonzero(calibration.unplaced).tolist() == [5, 9]
        assert calibration.starts[0, 5] == 0.0 and calibration.starts[0, 0] > 1e-9
    else:
        assert not calibration.unplaced.any() and calibration.starts[0, 5] > 1e-9


def layer_with(chip, weights, x, calibration, pipeline, shift=0.0):
    """A layer read under ``pipeline`` (the host told each column's MAC-0 delay ``shift`` s late); (result,
    session, records)."""
    def plan():
        session = yield from open_session(pipeline)
        session.zero_mac_times = session.zero_mac_times + shift
        try:
            (result,) = yield from chip_layer(session, 0, weights, [LayerJob(TdcSetting(0.4e-9), x, calibration)])
        finally:
            yield from close_session(session)
        return result, session

    (result, session), records = on_chip(chip, plan())
    return result, session, records


def test_every_step_of_the_ablation_changes_what_it_claims() -> None:
    """Switched off one at a time from the optimised pipeline, each step changes exactly its part: the windows'
    placement, the tables' origin, the replicas, the recalibration reads."""
    from procedures.networks.chip.pipeline import PIPELINES
    rng = np.random.default_rng(6)
    weights, x, calibration = signs(rng, (100, 10)), signs(rng, (200, 100)), signs(rng, (200, 100))
    x[:, :64] = -1                                             # the first row tile's inputs are background: far from 0
    calibration[:, :64] = -1
    runs = {}
    for name in ("optimised", "paper-like", "tile-windows", "tile-tables", "replicas"):
        chip = open_chip("sim:7")
        chip.power_on()
        runs[name] = layer_with(chip, weights, x, calibration, PIPELINES[name])
    starts = {n: np.array([r[1] for r in recs if r[0] == "tile_starts"]) for n, (_, _, recs) in runs.items()}
    program = {n: [r[1] for r in recs if r[0] == "tile_program"] for n, (_, _, recs) in runs.items()}
    reads = {n: [r[1]["calibration_reads"] for r in recs if r[0] == "tile_read"] for n, (_, _, recs) in runs.items()}
    die_table = {n: any(r[0] == "die_table" for r in recs) for n, (_, _, recs) in runs.items()}
    # windows: fixed (the same for every tile) without tile_windows, placed per tile with it
    assert np.array_equal(starts["paper-like"][0], starts["paper-like"][1])
    assert not np.array_equal(starts["tile-windows"][0], starts["tile-windows"][1])
    # tables: die-level (no calibration reads of the tiles, one die table) without tile_tables
    assert die_table["paper-like"] and die_table["tile-windows"] and not die_table["tile-tables"]
    assert reads["paper-like"] == [0, 0] and reads["tile-windows"] == [0, 0] and min(reads["tile-tables"]) >= 1
    assert len(runs["paper-like"][0].calibration_ideal) == 0 < len(runs["tile-tables"][0].calibration_ideal)
    # replicas: a 10-output tile holds six copies with them, one without
    assert [p["replicas"] for p in program["tile-tables"]] == [1, 1]
    assert [p["replicas"] for p in program["replicas"]] == [6, 6]
    # recalibration: one read per tile without it; with it off-centre reads move the windows and read again
    late = {}
    for name in ("replicas", "optimised"):
        chip = open_chip("sim:7")
        chip.power_on()
        late[name] = [r[1]["calibration_reads"] for r in layer_with(chip, weights, x, calibration, PIPELINES[name],
                                                                    2e-9)[2] if r[0] == "tile_read"]
    assert late["replicas"] == [1, 1] and min(late["optimised"]) >= 2
    exact = x.astype(np.int32) @ weights.astype(np.int32)
    error = {n: np.abs(r[0].preactivations - exact).mean() for n, r in runs.items()}
    assert error["optimised"] < error["tile-windows"] < error["paper-like"]

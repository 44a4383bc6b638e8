"""The MX64 macro: 64 x 64 complementary 2T-2MTJ cells, write, verify, MAC.

One :class:`MX64` is one die.  Time is counted in clocks of the chip's
clock; every operation costs a defined number of them (see ``CLOCKS``) and
drives the time-dependent physics.  The host-readable cycle counter counts
clocks since power-up or :meth:`MX64.reset_counter`; random streams are
keyed on the die's lifetime clock, which never goes back.

Conventions: weights and inputs are +1/-1; w = +1 stores MTJ_L in P and
MTJ_R in AP; x = +1 selects the left branch.  Side 0 is left, side 1 right.
Voltages in V, times in s, resistances in ohm, temperatures in K.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from benchspec.mx64 import (RAILS, READ_BIAS_RANGE, TDC_LSB_RANGE, TDC_LSB_STEP, TDC_START_RANGE, TDC_START_STEP,
                           VERIFY_BIAS_RANGE, WRITE_WIDTH_RANGE)

from . import array_physics, physics, validation
from .die import COLUMNS, ROWS, SHAPE, SHORTED, STUCK_AP, STUCK_P, DieMaps, fabricate
from .energy import EnergyMeter, MacEnergy, MacTally
from .errors import InvalidArgument, NotPowered
from .factory import fuse_table
from .flips import ThermalFlips
from .kernel import MacKernel, ReadNoise
from .mac_batch import Levels, read_batch
from .parameters import ChipParameters
from .readout import NoiseBudget, column_constants, noise_budget
from .rng import DenseStream, derive_key, exponential_thresholds, gaussian16, hash_uniform
from .slow_noise import BLOCK_NS, SlowNoise
from .test_mtj import TestMTJ

#: Clock cost of each operation (write costs are per write-width clock).
CLOCKS = {"mac": 1, "write_half_row": 1, "write_row": 2, "write_array": 128, "verify_row": 1,
          "write_cycle": 256}

#: Register ranges (value limits the chip's DACs and counters accept).
CLOCK_MIN_HZ = 1.0e6
WRITE_WIDTH_MAX = WRITE_WIDTH_RANGE[1]   # clocks
TEMPERATURE_RANGE = (4.0, 500.0)  # K the model is calibrated for
RAIL_RANGE = (0.0, 5.0)        # V at any supply pin
_CHUNK = 8064                  # most vectors in one chunk of a batch (128 BLAS blocks of 63)
#: the die's random streams, each keyed by the die's seed and its name (rng.derive_key)
STREAMS = ("breakdown", "mac-noise", "mac-noise-common", "mac-noise-tails", "write", "verify", "verify-tails",
           "analog", "flips-idle", "flips-disturb", "slow-noise", "test-mtj", "test-mtj-events", "test-mtj-bd")
_LEVELS_KEPT = 8               # blocks of slow noise whose trip levels a kernel keeps


class MX64:
    """Cycle-accurate model of one MX64 die (and nothing of its board).

    ``maps`` are measured per-cell and per-column values to build the die
    from instead of the seed's draws (:class:`sim_chip.die.DieMaps`);
    ``fuses`` the power-up TDC starts (64,) in s, by default the factory's
    calibration of this die (:mod:`sim_chip.factory`); ``streams`` names a
    separate set of random streams (the factory tester's reads).
    """

    ROWS = ROWS
    COLUMNS = COLUMNS

    def __init__(self, seed: int = 0, params: ChipParameters | None = None, *, maps: DieMaps | None = None,
                 fuses: np.ndarray | None = None, streams: str = "") -> None:
        self.params = params or ChipParameters()
        p = self.params
        self.seed = int(seed)
        self.die = fabricate(self.seed, p, maps)
        d = self.die
        self._ap = d.defect == STUCK_AP
        self._broken = d.defect == SHORTED
        self._stuck = (d.defect == STUCK_P) | (d.defect == STUCK_AP)
        cells = np.arange(np.prod(SHAPE)).reshape(SHAPE)
        key = {name: derive_key(seed, f"{streams}:{name}" if streams else name) for name in STREAMS}
        self._bd_threshold = (exponential_thresholds(key["breakdown"], cells, 0) if p.stochastic
                              else np.ones(SHAPE))
        self._bd_stress = np.zeros(SHAPE)
        self._clock = 0            # lifetime clocks
        self._counter_base = 0     # clock at the last counter reset
        self._busy_seconds = 0.0
        self._idle_seconds = 0.0
        self._analog_reads = 0
        self.temperature = p.defaults.temperature
        self.rails = dict.fromkeys(RAILS, 0.0)
        self._mac_noise = ReadNoise(DenseStream(key["mac-noise"]), key["mac-noise-common"], key["mac-noise-tails"])
        self._write_stream = DenseStream(key["write"])
        self._verify_stream = DenseStream(key["verify"])
        self._verify_tail_key = key["verify-tails"]
        self._analog_key = key["analog"]
        self._meter = EnergyMeter()
        self._macs = MacTally()        # MAC reads not yet booked on the meter
        self._powered = False
        self.test_mtj = TestMTJ(key, d.test_mtj, p, lambda: self.elapsed_seconds)
        self._slow = SlowNoise(key["slow-noise"], d.traps)
        self._time_base = (0, 0, 0)    # (lifetime clock, slow-noise block and ns into it there): model time
        self._power_up_start = (np.array(fuses, dtype=float) if fuses is not None
                                else fuse_table(self.seed, p, maps, lambda: _tester(self.seed, p, maps)))
        self._reset_registers()
        self._flips = ThermalFlips(key["flips-idle"], key["flips-disturb"], self._flip_rates())
        self._kernel: MacKernel | None = None
        self._mac_energy: MacEnergy | None = None
        self._budget: NoiseBudget | None = None
        self._levels: tuple[MacKernel | None, dict[int, np.ndarray]] = (None, {})
        self._held_level: tuple[MacKernel | None, int, int, np.ndarray] = (None, 0, 0, np.zeros(COLUMNS))
        self._state_changes = 0        # thermal events applied to the array so far

    # ------------------------------------------------------------ identity
    @property
    def die_id(self) -> str:
        return self.die.die_id

    # ------------------------------------------------------------- power
    @property
    def powered(self) -> bool:
        """True when VDD and VDDIO are within tolerance of nominal."""
        return self._powered

    def _power_problem(self) -> str | None:
        dflt = self.params.defaults
        for rail, nominal in (("vdd", dflt.vdd), ("vddio", dflt.vddio)):
            v = self.rails[rail]
            if abs(v - nominal) > dflt.supply_tolerance * nominal:
                return f"{rail.upper()} = {v:.3g} V, needs {nominal:g} V +-{dflt.supply_tolerance:.0%}"
        return None

    def require_power(self, operation: str) -> None:
        if not self._powered:
            raise NotPowered(operation, self._power_problem() or "")

    def set_rails(self, vdd: float | None = None, vddio: float | None = None,
                  vwrite: float | None = None) -> None:
        """Voltages at the chip's supply pins, V.  Power-up resets registers and the counter."""
        new = dict(self.rails)
        for name, value in (("vdd", vdd), ("vddio", vddio), ("vwrite", vwrite)):
            if value is not None:
                new[name] = validation.number(name, value, *RAIL_RANGE, "V")
        was_powered = self.powered
        self._new_kernel()  # MAC energy depends on VDD
        self.rails = new
        self._powered = self._power_problem() is None
        if self.powered and not was_powered:
            self._reset_registers()
            self._counter_base = self._clock
            self._new_segment()

    # --------------------------------------------------------- registers
    def _reset_registers(self) -> None:
        dflt = self.params.defaults
        self.clock_hz = dflt.clock_hz
        self.write_width_clocks = dflt.write_width_clocks
        self.read_bias = dflt.v_read
        self.verify_bias = dflt.v_verify
        self.tdc_start = self._power_up_start.copy()
        self.tdc_lsb = np.full(COLUMNS, _quantise(dflt.tdc_lsb, TDC_LSB_STEP))
        self.test_mux: int | None = None
        self.hold_input = np.ones(ROWS, np.int8)
        self._last_input = np.ones(ROWS, np.int8)   # the row drivers' state

    def reset(self) -> None:
        """Registers to power-up defaults and the cycle counter to zero (the array keeps its data)."""
        self.require_power("reset")
        self._reset_registers()
        self._counter_base = self._clock
        self._new_segment()

    def set_clock(self, hz: float) -> None:
        """Chip clock frequency, Hz (1 MHz .. the analog limit)."""
        self.require_power("set_clock")
        hz = validation.number("clock", hz, CLOCK_MIN_HZ, self.params.defaults.clock_max_hz, "Hz")
        self._rebase_time()
        self.clock_hz = hz
        self._new_segment()

    def set_write_width(self, clocks: int) -> None:
        """Write pulse width in clocks (1 .. 255); one half-row write lasts this long."""
        self.require_power("set_write_width")
        self.write_width_clocks = validation.integer("write_width", clocks, 1, WRITE_WIDTH_MAX, "clocks")

    def set_read_bias(self, volts: float) -> None:
        """MAC read bias across a column, V."""
        self.require_power("set_read_bias")
        self.read_bias = validation.number("read_bias", volts, *READ_BIAS_RANGE, "V")
        self._new_segment()

    def set_verify_bias(self, volts: float) -> None:
        """Verify-read bias across a branch, V."""
        self.require_power("set_verify_bias")
        self.verify_bias = validation.number("verify_bias", volts, *VERIFY_BIAS_RANGE, "V")
        self._new_segment()

    def set_tdc_window(self, start: float, lsb: float, column: int | None = None) -> None:
        """TDC start offset and LSB (s) of one column, or of all when ``column`` is None.

        Values are rounded to the DAC steps (start 1/64 ns, LSB 1/256 ns).
        """
        self.require_power("set_tdc_window")
        start = validation.number("tdc_start", start, *TDC_START_RANGE, "s")
        lsb = validation.number("tdc_lsb", lsb, *TDC_LSB_RANGE, "s")
        cols = slice(None) if column is None else validation.index("column", column, COLUMNS)
        self.tdc_start[cols] = _quantise(start, TDC_START_STEP)
        self.tdc_lsb[cols] = _quantise(lsb, TDC_LSB_STEP)
        self._new_kernel()

    def set_tdc_windows(self, starts: np.ndarray, lsbs: np.ndarray) -> None:
        """Every column's TDC start offset and LSB at once (64 each, s), rounded to the DAC steps."""
        self.require_power("set_tdc_windows")
        starts = validation.number_array("tdc_start", starts, (COLUMNS,), *TDC_START_RANGE, "s")
        lsbs = validation.number_array("tdc_lsb", lsbs, (COLUMNS,), *TDC_LSB_RANGE, "s")
        self.tdc_start[:] = _quantise(starts, TDC_START_STEP)
        self.tdc_lsb[:] = _quantise(lsbs, TDC_LSB_STEP)
        self._new_kernel()

    def set_test_mux(self, column: int | None) -> None:
        """Route a column to the analog test pad (None disconnects the pad)."""
        self.require_power("set_test_mux")
        self.test_mux = None if column is None else validation.index("column", column, COLUMNS)

    def set_hold_input(self, x: np.ndarray) -> None:
        """Static row inputs (+1/-1, 64) applied while the test pad is measured."""
        self.require_power("set_hold_input")
        self.hold_input = validation.signs("hold_input", x, (ROWS,)).copy()

    # ------------------------------------------------------- environment
    def set_temperature(self, kelvin: float) -> None:
        """Die temperature, K (set by the bench's temperature controller)."""
        self.temperature = validation.number("temperature", kelvin, *TEMPERATURE_RANGE, "K")
        self._new_segment()

    # -------------------------------------------------------------- time
    @property
    def cycle_counter(self) -> int:
        """Clocks since power-up or the last counter reset."""
        return self._clock - self._counter_base

    def reset_counter(self) -> None:
        self.require_power("reset_counter")
        self._counter_base = self._clock

    @property
    def elapsed_seconds(self) -> float:
        """Model time since fabrication: busy clocks plus idle time, s."""
        return self._busy_seconds + self._idle_seconds

    def advance_idle(self, seconds: float) -> None:
        """Let ``seconds`` pass with the array unbiased (retention), powered or not."""
        seconds = validation.number("seconds", seconds, 0.0, 1e12, "s")
        self._rebase_time(round(seconds * 1e9))
        self._settle()
        self._set_states(self._flips.idle(self._clock, seconds))
        self.test_mtj.idle(seconds, self.temperature)
        if self.powered:
            self.energy.static(seconds, self.rails, self.params)
        self._idle_seconds += seconds

    def _ns_since_base(self, clocks: np.ndarray) -> np.ndarray:
        """Whole ns from the time base's clock to lifetime ``clocks`` (int64 array) at the present clock rate."""
        return np.floor((clocks - self._time_base[0]) * (1e9 / self.clock_hz)).astype(np.int64)

    def _blocks_at(self, clocks: np.ndarray) -> np.ndarray:
        """The slow noise's block (ms of model time) of each of ``clocks`` (int64 array)."""
        _, block, ns = self._time_base
        return block + (ns + self._ns_since_base(clocks)) // BLOCK_NS

    def _rebase_time(self, extra_ns: int = 0) -> None:
        """Restart the slow noise's time axis at the present clock (the clock rate changes, or idle time)."""
        _, block, ns = self._time_base
        total = ns + int(self._ns_since_base(np.array([self._clock]))[0]) + extra_ns
        self._time_base = (self._clock, block + total // BLOCK_NS, total % BLOCK_NS)
        self._held_level = (None, 0, 0, self._held_level[3])

    def _level(self, kernel: MacKernel, block: int) -> np.ndarray:
        """The columns' trip levels (64,) float32 in block ``block`` of slow noise, for ``kernel``."""
        cached, table = self._levels
        if cached is not kernel:
            table = {}
            self._levels = (kernel, table)
        level = table.get(block)
        if level is None:
            if len(table) >= _LEVELS_KEPT:
                table.clear()
            budget = self._budget
            shift = self._slow.threshold_shift(block, math.sqrt(budget.flicker * math.log(2.0)),
                                               budget.volts_per_relative_r)
            level = table[block] = kernel.thresholds(shift)
        return level

    def _level_at(self, kernel: MacKernel, clock: int) -> np.ndarray:
        """The trip levels (64,) float32 of one read at ``clock``: the block's, kept with the clocks it spans."""
        held, lo, hi, level = self._held_level
        if held is kernel and lo <= clock < hi:
            return level
        block = int(self._blocks_at(np.array([clock]))[0])
        level = self._level(kernel, block)
        ahead = np.arange(clock, clock + 4096)                           # the block's clocks from here on
        inside = int(np.searchsorted(self._blocks_at(ahead), block, side="right"))
        self._held_level = (kernel, clock, clock + inside, level)
        return level

    def _levels_of(self, kernel: MacKernel, first_clock: int, n: int) -> Levels:
        """Runs (first vector, stop vector, trip levels) of a batch of n reads from ``first_clock``."""
        if not kernel.noisy:
            return []
        ends = self._blocks_at(np.array([first_clock, first_clock + n - 1]))
        if ends[0] == ends[1]:
            return [(0, n, self._level(kernel, int(ends[0])))]
        blocks = self._blocks_at(np.arange(first_clock, first_clock + n))
        edges = [0, *(np.flatnonzero(np.diff(blocks)) + 1).tolist(), n]
        return [(a, z, self._level(kernel, int(blocks[a]))) for a, z in zip(edges[:-1], edges[1:])]

    def _tick(self, operation: str, clocks: int, block_joules: dict[str, float]) -> None:
        """Book an operation's clocks, time and energy by block."""
        self._clock += clocks
        seconds = clocks / self.clock_hz
        self._busy_seconds += seconds
        self.energy.book(operation, block_joules, self.rails, seconds, self.params)

    @property
    def energy(self) -> EnergyMeter:
        """Energy and charge spent so far, by rail and by block."""
        self._book_macs()
        return self._meter

    def _book_macs(self) -> None:
        """Book the MAC reads tallied since the last booking (one kernel, one VDD, one clock)."""
        t = self._macs
        if not t.vectors:
            return
        t.count_singles()
        kernel, n = self._kernel, t.vectors
        delays = n * kernel.start + kernel.lsb * t.units                  # each column's summed delays, s
        if kernel.never_trips:                                         # the driver stops at the clock's end
            delays = np.minimum(delays, n / self.clock_hz)
        blocks = self._mac_energy.blocks(n, float(t.toggles), float(t.counted), delays)
        self._meter.book("mac", blocks, self.rails, n / self.clock_hz, self.params)
        t.clear()

    def _new_kernel(self) -> None:
        """The array, a register, a rail or the temperature changed: book the reads so far, compile anew."""
        self._book_macs()
        self._kernel = None

    # ------------------------------------------------------ array physics
    def _flip_rates(self):
        return array_physics.flip_rates(self.die, self._stuck | self._broken, self.read_bias, self.verify_bias,
                                        self.temperature, self.clock_hz, self.params)

    def _new_segment(self) -> None:
        """Rates changed (temperature, a bias, the clock, a breakdown): settle, then start a segment."""
        self._settle()
        self._flips.begin_segment(self._clock, self._flip_rates())
        self._new_kernel()

    def _set_states(self, change: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Apply (flat cells, is_ap) from thermal events."""
        if change is None:
            return
        cells, is_ap = change
        flat = self._ap.reshape(-1)
        moved = flat[cells] != is_ap
        if moved.any():
            flat[cells[moved]] = is_ap[moved]
            self._state_changes += 1
            self._new_kernel()

    def _settle(self) -> None:
        """Apply retention flips that fell in clocks no read selected (writes), up to now."""
        self._set_states(self._flips.settle(self._clock))

    # ------------------------------------------------------------- write
    def write_row(self, row: int, weights: np.ndarray) -> None:
        """Program one row: left MTJs in one write pulse, right MTJs in the next."""
        row = validation.index("row", row, ROWS)
        w = validation.signs("weights", weights, (COLUMNS,))
        self.require_power("write_row")
        self._write_rows(row, w[None, :])

    def write_array(self, weights: np.ndarray) -> None:
        """Program all 64 rows (64 x 64 of +1/-1), row by row: 128 write pulses."""
        w = validation.signs("weights", weights, (ROWS, COLUMNS))
        self.require_power("write_array")
        self._write_rows(0, w)

    def cycle_writes(self, weights: np.ndarray, cycles: int) -> None:
        """Endurance cycling: write -weights then weights, ``cycles`` times (256 pulses a cycle).

        All but the last cycle are computed in closed form: every MTJ gets one
        pulse from P and one from AP per cycle, its breakdown stress grows by
        their hazard, and it breaks in the cycle where the stress crosses its
        threshold.  The last cycle is written pulse by pulse, so the array
        ends holding ``weights`` with that write's errors.
        """
        w = validation.signs("weights", weights, (ROWS, COLUMNS))
        cycles = validation.integer("cycles", cycles, 1, 10**12, "")
        self.require_power("cycle_writes")
        if cycles > 1:
            self._stress_cycles(w, cycles - 1)
        self._write_rows(0, -w)
        self._write_rows(0, w)

    def write_bias(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(MTJ voltage V, branch current A), (64, 64, 2), of every branch while ``weights`` are written.

        From the present states, at the present V_WRITE and temperature, each
        half-row pulse with its FETs and write lines.  Model-side truth for
        tests and characterisation; real hardware has no such call.
        """
        w = validation.signs("weights", weights, (ROWS, COLUMNS))
        target = _targets(w)
        return array_physics.write_bias(self.die, slice(None), target, self._ap, self._broken,
                                        self.rails["vwrite"], self.temperature, self.params)

    def write_error_rates(self) -> np.ndarray:
        """Expected write error rate per column (64,): the mean chance that a pulse fails to switch an MTJ.

        For writing the complement of what the array holds (every healthy MTJ
        of the column must switch), at the present V_WRITE, pulse width and
        temperature, over the column's healthy MTJs.  Model-side analysis
        that a board could expose; real hardware measures it.
        """
        w = -self.stored_weights()
        target = _targets(w)
        _, current = self.write_bias(w)
        width = self.write_width_clocks / self.clock_hz
        fail = array_physics.write_survival(self.die, slice(None), target, current, width, self.temperature,
                                            self.params)
        counted = (self._ap != target) & ~self._broken & ~self._stuck
        return (fail * counted).sum(axis=(0, 2)) / np.maximum(counted.sum(axis=(0, 2)), 1)

    def _stress_cycles(self, w: np.ndarray, cycles: int) -> None:
        """Breakdown stress of ``cycles`` endurance cycles (-w then w), in closed form."""
        d, p = self.die, self.params
        width = self.write_width_clocks / self.clock_hz
        v = self.rails["vwrite"]
        stuck_p, stuck_ap = d.defect == STUCK_P, d.defect == STUCK_AP
        per_cycle, amps = np.zeros(SHAPE), np.zeros(SHAPE)
        for target in (_targets(-w), _targets(w)):
            ap = np.where(stuck_p, False, np.where(stuck_ap, True, ~target))
            v_mtj, current = array_physics.write_bias(d, slice(None), target, ap, self._broken, v,
                                                      self.temperature, p)
            per_cycle += physics.breakdown_rate(v_mtj, p.device) * width
            amps += current
        per_cycle = np.where(self._broken, 0.0, per_cycle)
        with np.errstate(divide="ignore", invalid="ignore"):
            needed = np.where(per_cycle > 0, (self._bd_threshold - self._bd_stress) / per_cycle, np.inf)
        breaks = ~self._broken & (needed <= cycles)
        self._bd_stress += per_cycle * cycles
        self._settle()
        clocks = 256 * self.write_width_clocks * cycles
        self._tick("write", clocks, {"write": v * float(amps.sum()) * width * cycles,
                                     "control": p.energy.control_energy_per_clock * clocks})
        if breaks.any():
            self._broken |= breaks
            self._new_segment()

    def _write_rows(self, first: int, w: np.ndarray) -> None:
        """Write rows first .. first+k-1, in order: row r left, row r right, row r+1 left, ...

        Each pulse acts only on its own 64 MTJs, so the k rows are computed
        at once, each pulse with the random numbers of its own clock.  If a
        retention flip could fall inside the sequence, the rows go one at a
        time so that the flip lands between the right pulses.
        """
        k = w.shape[0]
        width = self.write_width_clocks
        if k > 1 and self._clock + 2 * k * width > self._flips.horizon:
            for i in range(k):
                self._write_rows(first + i, w[i:i + 1])
            return
        self._settle()
        p, d = self.params, self.die
        at = slice(first, first + k)
        target_ap = _targets(w)                                           # (k, 64, 2)
        pulse = 2 * np.arange(k)[:, None, None] + np.arange(2)[None, None, :]  # pulse index
        clocks = self._clock + pulse * width                              # (k, 1, 2) start clocks
        duration = width / self.clock_hz
        v = self.rails["vwrite"]
        ap, broken = self._ap[at], self._broken[at]
        v_mtj, current = array_physics.write_bias(d, at, target_ap, ap, broken, v, self.temperature, p)
        needs = (ap != target_ap) & ~broken & ~self._stuck[at]
        fail = array_physics.write_survival(d, at, target_ap, current, duration, self.temperature, p)
        if p.stochastic:
            u = np.stack([self._write_stream.uniforms(int(c) * 16, 16) for c in clocks.ravel()])
            switched = needs & (u.reshape(k, 2, COLUMNS).transpose(0, 2, 1) >= fail)
        else:
            switched = needs & (fail < 0.5)

        stress = self._bd_stress[at]
        stress += np.where(broken, 0.0, physics.breakdown_rate(v_mtj, p.device) * duration)
        newly_broken = ~broken & (stress >= self._bd_threshold[at])
        self._ap[at] ^= switched
        self._broken[at] |= newly_broken
        if switched.any():
            self._new_kernel()
        self._tick("write", 2 * k * width,
                   {"write": v * float(current.sum()) * duration,
                    "control": p.energy.control_energy_per_clock * 2 * k * width})
        if newly_broken.any():
            self._new_segment()

    # ------------------------------------------------------------ verify
    def verify_row(self, row: int) -> np.ndarray:
        """Differential read of MTJ_L against MTJ_R of one row: the stored signs (64,) int8."""
        row = validation.index("row", row, ROWS)
        self.require_power("verify_row")
        return self._verify_rows(row, 1)[0]

    def verify_array(self) -> np.ndarray:
        """Every row's verify, row by row (64 clocks): the stored signs (64, 64) int8."""
        self.require_power("verify_array")
        return self._verify_rows(0, ROWS)

    def _verify_rows(self, first: int, count: int) -> np.ndarray:
        """Verify reads of rows first .. first+count-1, one clock each, in order.

        The rows' branches are solved at once, and again from the next row
        whenever a thermal event changed the array: each row reads the
        states of its own clock, as one verify at a time would.
        """
        p = self.params
        out = np.empty((count, COLUMNS), np.int8)
        solved_at, r, current = -1, None, None
        for row in range(first, first + count):
            self._settle()
            if solved_at != self._state_changes:
                at = slice(row, first + count)
                r, current = array_physics.verify_branches(self.die, at, self._ap[at], self._broken[at],
                                                           self.verify_bias, self.temperature, p)
                solved_at, base = self._state_changes, row
            k = row - base
            diff = r[k, :, 1] - r[k, :, 0] + self.die.sense_offset
            if p.stochastic:
                words = self._verify_stream.words(self._clock * 4, 4)
                lanes = self._clock * COLUMNS                   # the clock's first draw
                diff = diff + p.readout.sense_noise_sigma * gaussian16(words, self._verify_tail_key, lanes)
            events = self._flips.scan_verify(row, self._clock)
            self._flips.count_verify(row, self._clock + CLOCKS["verify_row"])
            period = 1.0 / self.clock_hz
            self._tick("verify", CLOCKS["verify_row"],
                       {"verify": self.verify_bias * float(current[k].sum()) * 0.5 * period
                        + COLUMNS * p.energy.sense_energy_per_column,
                        "control": p.energy.control_energy_per_clock})
            if events is not None:
                self._set_states((events.cell, events.is_ap))
            out[row - first] = np.where(diff > 0, 1, -1)
        return out

    # --------------------------------------------------------------- MAC
    def _mac_kernel(self) -> MacKernel:
        if self._kernel is None:
            d, p, t = self.die, self.params, self.temperature
            r = array_physics.read_branches(d, self._ap, self._broken, self.read_bias, t, p)
            columns = column_constants(d.comparator_offset, d.offset_drift, d.reference_mismatch, t, p)
            self._budget = noise_budget(p, t, self.read_bias)
            try:
                kernel = MacKernel.compile(r[:, :, 0], r[:, :, 1], d.column_capacitance, columns, self.tdc_start,
                                           self.tdc_lsb, t, self.read_bias, self._budget, p)
            except ValueError as exc:
                raise InvalidArgument("tdc window", "start/lsb", str(exc)) from None
            self._mac_energy = MacEnergy.at(self.rails["vdd"], d.column_capacitance, columns.threshold,
                                            columns.reference_current, r.mean(axis=2), kernel.start,
                                            self.read_bias, t, p)
            self._kernel = kernel
        return self._kernel

    def mac(self, x: np.ndarray) -> np.ndarray:
        """TDC codes (64,) uint8 of all columns for one input vector (64,) of +1/-1: one clock."""
        x = validation.signs("x", x, (ROWS,))
        if not self._powered:
            self.require_power("mac")
        if self._clock + 1 > self._flips.horizon:       # a thermal event may fall in this clock
            return self._mac(x[None, :])[0]
        codes = self._read_one(x)
        self._flips.count_mac(1, x, self._clock)
        return codes

    def mac_batch(self, x: np.ndarray) -> np.ndarray:
        """TDC codes (n, 64) uint8 for a batch (n, 64) of +1/-1 input vectors: n clocks."""
        x = validation.signs("x", x, (None, ROWS))
        self.require_power("mac")
        return self._mac(x)

    def _mac(self, x: np.ndarray) -> np.ndarray:
        """Run a batch; thermal events inside it change the array after their own vector."""
        flips, n = self._flips, x.shape[0]
        if self._clock + n <= flips.horizon:             # no thermal event can fall in these clocks
            out, sums = self._mac_run(x)
        else:
            self._settle()
            events = flips.scan_mac(x, self._clock)
            if events is None:
                out, sums = self._mac_run(x)
            else:
                out, sums = np.empty((n, COLUMNS), np.uint8), np.zeros(ROWS, np.int64)
                start = 0
                for k in np.unique(events.k):
                    out[start:k + 1], part = self._mac_run(x[start:k + 1])
                    sums += part
                    at = events.k == k
                    self._set_states((events.cell[at], events.is_ap[at]))
                    start = int(k) + 1
                if start < n:
                    out[start:], part = self._mac_run(x[start:])
                    sums += part
        flips.count_mac(n, sums, self._clock)
        return out

    def _mac_run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(codes, per-row input sums) of vectors that all see the same array state; tallies their clocks and
        energy."""
        if x.shape[0] == 1:
            return self._read_one(x[0])[None, :], x[0]
        kernel = self._kernel or self._mac_kernel()
        n, tally = x.shape[0], self._macs
        reads = read_batch(kernel, self._mac_noise if kernel.noisy else None, x, self._clock, self._last_input,
                           _CHUNK, self._levels_of(kernel, self._clock, n))
        tally.units += reads.units
        tally.toggles += reads.toggles
        tally.counted += reads.counted
        tally.vectors += n
        self._last_input = x[-1].copy()
        self._clock += n * CLOCKS["mac"]
        self._busy_seconds += n * CLOCKS["mac"] / self.clock_hz
        if kernel.never_trips:                           # its delay is clipped per run
            self._book_macs()
        return reads.codes, reads.input_sums

    def _read_one(self, x: np.ndarray) -> np.ndarray:
        """Codes (64,) of one vector (64,) int8 that sees the present array state; tallies its clock and energy."""
        kernel = self._kernel or self._mac_kernel()
        tally = self._macs
        noise = (self._mac_noise.clock(self._clock, kernel, self._level_at(kernel, self._clock)) if kernel.noisy
                 else None)
        codes = kernel.read_one(x, noise, tally.units)
        tally.add_single(self._last_input, x, codes)
        self._last_input = x.copy()
        self._clock += CLOCKS["mac"]
        self._busy_seconds += CLOCKS["mac"] / self.clock_hz
        if kernel.never_trips:
            self._book_macs()
        return codes

    # ------------------------------------------------------- analog pad
    def test_pad_resistance(self, bias: float) -> float:
        """Resistance (ohm) an SMU sees at the analog test pad under ``bias`` volt.

        The column selected by the test multiplexer, with the held row
        inputs, plus the multiplexer's on-resistance; infinite when the pad is
        disconnected.  Cells see their share of the bias (series chain).
        """
        bias = validation.number("bias", bias, -RAIL_RANGE[1], RAIL_RANGE[1], "V")
        self.require_power("test_pad_resistance")
        if self.test_mux is None:
            return float("inf")
        d, T, dev, j = self.die, self.temperature, self.params.device, self.test_mux
        at = (np.arange(ROWS), j, (self.hold_input == -1).astype(int))     # each row's selected branch
        r_fet = physics.fet_resistance(d.r_fet[at], T, dev)
        rp, tmr0 = physics.mtj_at_temperature(d.r_p[at], d.r_ap[at], T, dev)
        ap, broken = self._ap[at], self._broken[at]
        r_mtj = physics.mtj_resistance_at_bias(rp, tmr0, ap, 0.0, dev)
        for _ in range(4):
            r_mtj = np.where(broken, dev.r_short, r_mtj)
            current = bias / (r_fet + r_mtj).sum()
            r_mtj = physics.mtj_resistance_at_bias(rp, tmr0, ap, current * r_mtj, dev)
        r_mtj = np.where(broken, dev.r_short, r_mtj)
        total = float((r_fet + r_mtj).sum()) + self.params.readout.test_mux_resistance
        if self.params.stochastic:
            u = hash_uniform(self._analog_key, self._analog_reads)
            total *= 1.0 + self.params.readout.read_noise_rel * NormalDist().inv_cdf(u)
        self._analog_reads += 1
        return total

    # ------------------------------------------------------- inspection
    def stored_weights(self) -> np.ndarray:
        """What the array holds, as the sign a perfect verify would read (64, 64) int8.

        Model-side truth for tests and the simulated bench; real hardware has no such call.
        """
        r = array_physics.idle_branches(self.die, self._ap, self._broken, self.temperature, self.params)
        return np.where(r[:, :, 1] > r[:, :, 0], 1, -1).astype(np.int8)

    @property
    def broken_mtjs(self) -> int:
        """Number of MTJs whose barrier is broken (including fabrication shorts)."""
        return int(self._broken.sum())


def _tester(seed: int, params: ChipParameters, maps: DieMaps | None) -> MX64:
    """The factory tester's view of a die: its twin on nominal rails, with the tester's own noise streams."""
    twin = MX64(seed, params, maps=maps, fuses=np.zeros(COLUMNS), streams="factory")
    d = params.defaults
    twin.set_rails(vdd=d.vdd, vddio=d.vddio, vwrite=d.v_write)
    return twin


def _targets(w: np.ndarray) -> np.ndarray:
    """Target states (rows, 64, 2), True for AP, of weights (rows, 64): w = +1 puts MTJ_R in AP."""
    return np.stack([w == -1, w == 1], axis=-1)


def _quantise(value: Any, step: float) -> Any:
    """``value`` (a number or an array) rounded to a multiple of ``step``."""
    return np.round(np.asarray(value) / step) * step if isinstance(value, np.ndarray) else round(value / step) * step

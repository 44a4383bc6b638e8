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

from statistics import NormalDist

import numpy as np

from . import physics, validation
from .die import COLUMNS, ROWS, SHAPE, SHORTED, STUCK_AP, STUCK_P, fabricate
from .energy import EnergyMeter, mac_energy_per_vector, verify_energy, write_energy
from .errors import InvalidArgument, NotPowered
from .flips import FlipRates, ThermalFlips
from .parameters import ChipParameters
from .readout import MacKernel
from .rng import DenseStream, derive_key, exponential_thresholds, gaussian16, hash_uniform
from .test_mtj import TestMTJ

#: Clock cost of each operation (write costs are per write-width clock).
CLOCKS = {"mac": 1, "write_half_row": 1, "write_row": 2, "write_array": 128, "verify_row": 1,
          "write_cycle": 256}

#: Register ranges (value limits the chip's DACs and counters accept).
CLOCK_MIN_HZ = 1.0e6
WRITE_WIDTH_MAX = 255          # clocks
READ_BIAS_RANGE = (0.05, 2.0)  # V across a column
VERIFY_BIAS_RANGE = (0.02, 1.0)  # V across a branch
TDC_START_RANGE = (0.0, 60e-9)   # s
TDC_LSB_RANGE = (1.0 / 16 * 1e-9, 4e-9)  # s
TDC_START_STEP = 1e-9 / 64     # s, DAC resolution of the start offset
TDC_LSB_STEP = 1e-9 / 256      # s, DAC resolution of the LSB
TEMPERATURE_RANGE = (4.0, 500.0)  # K the model is calibrated for
RAIL_RANGE = (0.0, 5.0)        # V at any supply pin
_CHUNK = 4096                  # vectors per MAC kernel call (fits the L2 cache)
_FLIP_WINDOW = 256             # vectors looked ahead at once when flips may fall inside a batch


class MX64:
    """Cycle-accurate model of one MX64 die (and nothing of its board)."""

    ROWS = ROWS
    COLUMNS = COLUMNS

    def __init__(self, seed: int = 0, params: ChipParameters | None = None) -> None:
        self.params = params or ChipParameters()
        p = self.params
        self.seed = int(seed)
        self.die = fabricate(self.seed, p)
        d = self.die
        self._ap = d.defect == STUCK_AP
        self._broken = d.defect == SHORTED
        self._stuck = (d.defect == STUCK_P) | (d.defect == STUCK_AP)
        cells = np.arange(np.prod(SHAPE)).reshape(SHAPE)
        self._bd_threshold = (exponential_thresholds(derive_key(seed, "breakdown"), cells, 0)
                              if p.stochastic else np.ones(SHAPE))
        self._bd_stress = np.zeros(SHAPE)
        self._clock = 0            # lifetime clocks
        self._counter_base = 0     # clock at the last counter reset
        self._busy_seconds = 0.0
        self._idle_seconds = 0.0
        self._advances = 0
        self._analog_reads = 0
        self.temperature = p.defaults.temperature
        self.rails = {"vdd": 0.0, "vddio": 0.0, "vwrite": 0.0}
        self._mac_stream = DenseStream(seed, "mac-noise")
        self._write_stream = DenseStream(seed, "write")
        self._verify_stream = DenseStream(seed, "verify")
        self._analog_key = derive_key(seed, "analog")
        self.energy = EnergyMeter()
        self.test_mtj = TestMTJ(self.seed, d.test_mtj, p)
        self._reset_registers()
        self._rate_cache: tuple | None = None
        self._flips = ThermalFlips(derive_key(seed, "flips"), self._flip_rates(), p.stochastic)
        self._kernel: MacKernel | None = None

    # ------------------------------------------------------------ identity
    @property
    def die_id(self) -> str:
        return self.die.die_id

    # ------------------------------------------------------------- power
    @property
    def powered(self) -> bool:
        """True when VDD and VDDIO are within tolerance of nominal."""
        return self._power_problem() is None

    def _power_problem(self) -> str | None:
        dflt = self.params.defaults
        for rail, nominal in (("vdd", dflt.vdd), ("vddio", dflt.vddio)):
            v = self.rails[rail]
            if abs(v - nominal) > dflt.supply_tolerance * nominal:
                return f"{rail.upper()} = {v:.3g} V, needs {nominal:g} V +-{dflt.supply_tolerance:.0%}"
        return None

    def require_power(self, operation: str) -> None:
        problem = self._power_problem()
        if problem is not None:
            raise NotPowered(operation, problem)

    def set_rails(self, vdd: float | None = None, vddio: float | None = None,
                  vwrite: float | None = None) -> None:
        """Voltages at the chip's supply pins, V.  Power-up resets registers and the counter."""
        new = dict(self.rails)
        for name, value in (("vdd", vdd), ("vddio", vddio), ("vwrite", vwrite)):
            if value is not None:
                new[name] = validation.number(name, value, *RAIL_RANGE, "V")
        was_powered = self.powered
        self.rails = new
        self._kernel = None  # MAC energy depends on VDD
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
        self.tdc_start = np.full(COLUMNS, _quantise(dflt.tdc_start, TDC_START_STEP))
        self.tdc_lsb = np.full(COLUMNS, _quantise(dflt.tdc_lsb, TDC_LSB_STEP))
        self.test_mux: int | None = None
        self.hold_input = np.ones(ROWS, np.int8)
        self._kernel = None

    def reset(self) -> None:
        """Registers to power-up defaults and the cycle counter to zero (the array keeps its data)."""
        self.require_power("reset")
        self._reset_registers()
        self._counter_base = self._clock
        self._new_segment()

    def set_clock(self, hz: float) -> None:
        """Chip clock frequency, Hz (1 MHz .. the analog limit)."""
        self.require_power("set_clock")
        self.clock_hz = validation.number("clock", hz, CLOCK_MIN_HZ, self.params.defaults.clock_max_hz, "Hz")
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
        self._kernel = None

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
        self._settle()
        self._flips.begin_segment(self._clock, self._flips.rates)
        toggled = self._flips.idle_flips(seconds, self._advances) % 2 == 1
        self._advances += 1
        if toggled.any():
            self._ap ^= toggled
            self._new_segment()
        self.test_mtj.idle(seconds, self.temperature)
        if self.powered:
            self.energy.static(seconds, self.rails, self.params)
        self._idle_seconds += seconds

    def _tick(self, operation: str, clocks: int, rail_joules: dict[str, float]) -> None:
        """Book an operation's clocks, time and energy."""
        self._clock += clocks
        seconds = clocks / self.clock_hz
        self._busy_seconds += seconds
        self.energy.book(operation, rail_joules, self.rails, seconds, self.params)

    # ------------------------------------------------------ array physics
    def _branch_resistance(self, bias_across_branch: float | None, rows: slice = slice(None)) -> np.ndarray:
        """Branch resistances (rows, 64, 2), FET included, at a branch bias (None: MAC read bias)."""
        d, T, dev = self.die, self.temperature, self.params.device
        r_fet = physics.fet_resistance(d.r_fet[rows], T, dev)
        r_p, r_ap, ap, broken = d.r_p[rows], d.r_ap[rows], self._ap[rows], self._broken[rows]
        if bias_across_branch is None:
            r0 = physics.mtj_resistance(r_p, r_ap, ap, 0.0, T, dev)
            r0 = np.where(broken, dev.r_short, r0)
            column = (r_fet + r0).sum(axis=(0, 2)) / 2.0        # mean column resistance
            v_mtj = self.read_bias * r0 / column[None, :, None]
        else:
            v_mtj = physics.mtj_voltage_in_series(bias_across_branch, r_fet, r_p, r_ap, ap, T, dev)
        r_mtj = physics.mtj_resistance(r_p, r_ap, ap, v_mtj, T, dev)
        return r_fet + np.where(broken, dev.r_short, r_mtj)

    def _rate_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Flip rates for the present temperature and biases, 1/s, (64, 64, 2) each.

        Returns (idle, mac if in P, verify if in P, is susceptible direction P).
        The extra rates under read bias apply to MTJs in the state that the
        read current pushes out of (``read_disturb_direction``); a MAC cell's
        bias is its share of the read bias against its column's mean
        resistance (half the branches in each state).  Cached until the
        temperature, a bias or the clock changes.
        """
        key = (self.temperature, self.read_bias, self.verify_bias, self.clock_hz)
        if self._rate_cache is not None and self._rate_cache[0] == key:
            return self._rate_cache[1]
        p = self.params
        d, T, dev = self.die, self.temperature, p.device
        delta = physics.thermal_stability(d.delta, T, dev)
        idle = np.where(self._stuck, 0.0, physics.thermal_flip_rate(delta, dev))
        from_p = p.readout.read_disturb_direction == "P->AP"
        vc0 = physics.critical_voltage(d.vc0_p_to_ap if from_p else d.vc0_ap_to_p, T, dev)
        r_fet = physics.fet_resistance(d.r_fet, T, dev)
        r_mtj = physics.mtj_resistance(d.r_p, d.r_ap, not from_p, 0.0, T, dev)  # in the susceptible state
        r_p0 = physics.mtj_resistance(d.r_p, d.r_ap, False, 0.0, T, dev)
        r_ap0 = physics.mtj_resistance(d.r_p, d.r_ap, True, 0.0, T, dev)
        column = (r_fet + 0.5 * (r_p0 + r_ap0)).sum(axis=(0, 2)) / 2.0

        def extra(v_mtj: np.ndarray) -> np.ndarray:
            rate = 1.0 / physics.switching_time_constant(v_mtj, vc0, delta, dev)
            return np.where(idle > 0, np.maximum(rate - idle, 0.0), 0.0)

        tables = (idle, extra(self.read_bias * r_mtj / column[None, :, None]),
                  extra(self.verify_bias * r_mtj / (r_mtj + r_fet)), from_p)
        self._rate_cache = (key, tables)
        return tables

    def _flip_rates(self) -> FlipRates:
        """Retention and read-disturb hazard rates for the present state and biases."""
        if not self.params.stochastic:
            return FlipRates.zero(self.clock_hz)
        idle, mac, verify, from_p = self._rate_tables()
        susceptible = (self._ap != from_p) & ~self._broken
        return FlipRates(np.where(self._broken, 0.0, idle), np.where(susceptible, mac, 0.0),
                         np.where(susceptible, verify, 0.0), self.clock_hz)

    def _new_segment(self) -> None:
        self._flips.begin_segment(self._clock, self._flip_rates())
        self._kernel = None

    def _apply_flips(self, mask: np.ndarray) -> None:
        self._ap ^= mask
        self._flips.renew(mask, self._clock)
        self._new_segment()

    def _settle(self) -> None:
        """Apply retention/disturb flips that are due by now."""
        due = self._flips.due(self._clock)
        if due is not None:
            self._apply_flips(due)

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
            self._stress_cycles(cycles - 1)
        self._write_rows(0, -w)
        self._write_rows(0, w)

    def _stress_cycles(self, cycles: int) -> None:
        d, T, dev, p = self.die, self.temperature, self.params.device, self.params
        width = self.write_width_clocks / self.clock_hz
        v = self.rails["vwrite"]
        r_fet = physics.fet_resistance(d.r_fet, T, dev)
        from_p = physics.mtj_voltage_in_series(v, r_fet, d.r_p, d.r_ap, False, T, dev)
        from_ap = physics.mtj_voltage_in_series(v, r_fet, d.r_p, d.r_ap, True, T, dev)
        rate_p, rate_ap = physics.breakdown_rate(from_p, dev), physics.breakdown_rate(from_ap, dev)
        stuck_p, stuck_ap = d.defect == STUCK_P, d.defect == STUCK_AP
        per_cycle = np.where(stuck_p, 2 * rate_p, np.where(stuck_ap, 2 * rate_ap, rate_p + rate_ap)) * width
        per_cycle = np.where(self._broken, 0.0, per_cycle)
        with np.errstate(divide="ignore", invalid="ignore"):
            needed = np.where(per_cycle > 0, (self._bd_threshold - self._bd_stress) / per_cycle, np.inf)
        breaks = ~self._broken & (needed <= cycles)
        self._bd_stress += per_cycle * cycles
        self._broken |= breaks
        self._settle()
        if breaks.any():
            self._flips.renew(breaks, self._clock)
            self._new_segment()
        r_p = r_fet + physics.mtj_resistance(d.r_p, d.r_ap, False, from_p, T, dev)
        r_ap = r_fet + physics.mtj_resistance(d.r_p, d.r_ap, True, from_ap, T, dev)
        joules = float(np.sum(v**2 / r_p + v**2 / r_ap) * width) * cycles
        clocks = 256 * self.write_width_clocks * cycles
        self._tick("write", clocks, {"vwrite": joules, "vdd": p.energy.control_energy_per_clock * clocks})

    def _write_rows(self, first: int, w: np.ndarray) -> None:
        """Write rows first .. first+k-1, in order: row r left, row r right, row r+1 left, ...

        Each pulse acts only on its own 64 MTJs, so the k rows are computed
        at once, each pulse with the random numbers of its own clock.  If a
        retention or disturb flip could fall inside the sequence, the rows go
        one at a time so that the flip lands between the right pulses.
        """
        k = w.shape[0]
        width = self.write_width_clocks
        if k > 1 and self._clock + 2 * k * width > self._flips.horizon:
            for i in range(k):
                self._write_rows(first + i, w[i:i + 1])
            return
        self._settle()
        p, d, T, dev = self.params, self.die, self.temperature, self.params.device
        at = slice(first, first + k)
        target_ap = np.stack([w == -1, w == 1], axis=-1)                 # (k, 64, 2)
        pulse = 2 * np.arange(k)[:, None, None] + np.arange(2)[None, None, :]  # pulse index
        clocks = self._clock + pulse * width                              # (k, 1, 2) start clocks
        duration = width / self.clock_hz
        v = self.rails["vwrite"]
        ap, broken = self._ap[at], self._broken[at]
        r_fet = physics.fet_resistance(d.r_fet[at], T, dev)
        v_mtj = physics.mtj_voltage_in_series(v, r_fet, d.r_p[at], d.r_ap[at], ap, T, dev)
        v_mtj = np.where(broken, v * dev.r_short / (dev.r_short + r_fet), v_mtj)
        r_mtj = np.where(broken, dev.r_short, physics.mtj_resistance(d.r_p[at], d.r_ap[at], ap, v_mtj, T, dev))

        needs = (ap != target_ap) & ~broken & ~self._stuck[at]
        vc0 = physics.critical_voltage(np.where(target_ap, d.vc0_p_to_ap[at], d.vc0_ap_to_p[at]), T, dev)
        delta = physics.thermal_stability(d.delta[at], T, dev)
        p_switch = physics.switching_probability(v_mtj, duration, vc0, delta, dev)
        if p.stochastic:
            u = np.stack([self._write_stream.uniforms(int(c) * 16, 16) for c in clocks.ravel()])
            switched = needs & (u.reshape(k, 2, COLUMNS).transpose(0, 2, 1) < p_switch)
        else:
            switched = needs & (p_switch > 0.5)

        stress = self._bd_stress[at]
        stress += np.where(broken, 0.0, physics.breakdown_rate(v_mtj, dev) * duration)
        newly_broken = ~broken & (stress >= self._bd_threshold[at])
        self._ap[at] ^= switched
        self._broken[at] |= newly_broken
        renewed = np.zeros(SHAPE, bool)
        renewed[at] = switched | newly_broken
        if renewed.any():
            end_of_pulse = np.zeros((ROWS, 1, 2), np.int64)
            end_of_pulse[at] = clocks + width
            self._flips.renew(renewed, end_of_pulse)
        self._tick("write", 2 * k * width,
                   {"vwrite": write_energy(v, r_fet + r_mtj, duration, p),
                    "vdd": p.energy.control_energy_per_clock * 2 * k * width})
        if renewed.any():
            self._new_segment()

    # ------------------------------------------------------------ verify
    def verify_row(self, row: int) -> np.ndarray:
        """Differential read of MTJ_L against MTJ_R of one row: the stored signs (64,) int8."""
        row = validation.index("row", row, ROWS)
        self.require_power("verify_row")
        self._settle()
        p = self.params
        r = self._branch_resistance(self.verify_bias, slice(row, row + 1))[0]
        diff = r[:, 1] - r[:, 0] + self.die.sense_offset
        if p.stochastic:
            diff = diff + p.readout.sense_noise_sigma * gaussian16(self._verify_stream.words(self._clock * 4, 4))
        self._flips.sel_verify[row, 0, 0] += 1
        period = 1.0 / self.clock_hz
        self._tick("verify", CLOCKS["verify_row"], {"vdd": verify_energy(self.verify_bias, r, 0.5 * period, p)})
        self._settle()
        return np.where(diff > 0, 1, -1).astype(np.int8)

    # --------------------------------------------------------------- MAC
    def _mac_kernel(self) -> MacKernel:
        if self._kernel is None:
            self._mac_energy = mac_energy_per_vector(self.read_bias, self.rails["vdd"], self.params)
            r = self._branch_resistance(None)
            try:
                self._kernel = MacKernel.compile(r[:, :, 0], r[:, :, 1], self.die.column_gain,
                                                 self.die.column_offset, self.tdc_start, self.tdc_lsb,
                                                 self.params)
            except ValueError as exc:
                raise InvalidArgument("tdc window", "start/lsb", str(exc)) from None
        return self._kernel

    def mac(self, x: np.ndarray) -> np.ndarray:
        """TDC codes (64,) uint8 of all columns for one input vector (64,) of +1/-1: one clock."""
        x = validation.signs("x", x, (ROWS,))
        self.require_power("mac")
        return self._mac(x[None, :])[0]

    def mac_batch(self, x: np.ndarray) -> np.ndarray:
        """TDC codes (n, 64) uint8 for a batch (n, 64) of +1/-1 input vectors: n clocks."""
        x = validation.signs("x", x, (None, ROWS))
        self.require_power("mac")
        return self._mac(x)

    def _mac(self, x: np.ndarray) -> np.ndarray:
        self._settle()
        n = x.shape[0]
        if self._clock + n <= self._flips.horizon:  # no flip can happen: one state throughout
            return self._mac_run(x)
        out = np.empty((n, COLUMNS), np.uint8)
        start = 0
        while start < n:  # look ahead a window at a time: few candidates, short trajectories
            window = x[start:start + _FLIP_WINDOW]
            hit = self._flips.first_flip_in_batch(window, self._clock)
            end = start + (window.shape[0] if hit is None else hit[0] + 1)
            out[start:end] = self._mac_run(x[start:end])
            if hit is not None:
                self._apply_flips(hit[1])
            start = end
        return out

    def _mac_run(self, x: np.ndarray) -> np.ndarray:
        """MAC of vectors that all see the same array state."""
        kernel = self._mac_kernel()
        n = x.shape[0]
        stream = self._mac_stream if kernel.noisy else None
        sums = np.zeros(ROWS, np.int64)
        if n <= _CHUNK:
            words = stream.words(self._clock * 4, 4 * n) if stream else None
            out = kernel.codes(x, words, sums)
        else:
            out = np.empty((n, COLUMNS), np.uint8)
            for s in range(0, n, _CHUNK):
                chunk = x[s:s + _CHUNK]
                words = stream.words((self._clock + s) * 4, 4 * chunk.shape[0]) if stream else None
                out[s:s + chunk.shape[0]] = kernel.codes(chunk, words, sums)
        self._flips.count_mac(n, sums)
        self._tick("mac", n * CLOCKS["mac"], {"vdd": n * self._mac_energy})
        return out

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
        side = (self.hold_input == -1).astype(int)
        rows = np.arange(ROWS)
        r_fet = physics.fet_resistance(d.r_fet[rows, j, side], T, dev)
        rp, rap, ap = d.r_p[rows, j, side], d.r_ap[rows, j, side], self._ap[rows, j, side]
        broken = self._broken[rows, j, side]
        r_mtj = physics.mtj_resistance(rp, rap, ap, 0.0, T, dev)
        for _ in range(4):
            r_mtj = np.where(broken, dev.r_short, r_mtj)
            current = bias / (r_fet + r_mtj).sum()
            r_mtj = physics.mtj_resistance(rp, rap, ap, current * r_mtj, T, dev)
        r_mtj = np.where(broken, dev.r_short, r_mtj)
        total = float((r_fet + r_mtj).sum()) + self.params.readout.test_mux_resistance
        if self.params.stochastic:
            u = float(hash_uniform(self._analog_key, self._analog_reads))
            total *= 1.0 + self.params.readout.read_noise_rel * NormalDist().inv_cdf(u)
        self._analog_reads += 1
        return total

    # ------------------------------------------------------- inspection
    def stored_weights(self) -> np.ndarray:
        """What the array holds, as the sign a perfect verify would read (64, 64) int8.

        Model-side truth for tests and the simulated bench; real hardware has no such call.
        """
        r = self._branch_resistance(0.0)
        return np.where(r[:, :, 1] > r[:, :, 0], 1, -1).astype(np.int8)

    @property
    def broken_mtjs(self) -> int:
        """Number of MTJs whose barrier is broken (including fabrication shorts)."""
        return int(self._broken.sum())


def _quantise(value: float, step: float) -> float:
    return round(value / step) * step

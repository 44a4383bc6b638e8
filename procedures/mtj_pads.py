"""Shared steps for procedures on the stand-alone test MTJ (SMU and generator on its pads)."""

from __future__ import annotations

from typing import Any

GENERATOR_SOURCE_OHM = 50.0     # the generator's output impedance


class TestStructure:
    """The test MTJ as the SMU and the generator see it."""

    __test__ = False  # not a pytest class

    def __init__(self, bench: Any, read_bias: float, pad_ohm: float, nplc: float = 0.1) -> None:
        self.bench, self.read_bias, self.pad_ohm = bench, read_bias, pad_ohm
        self.smu = bench.smu
        self.generator = bench.generator
        self.smu.source_voltage_measure_current(current_limit=1e-3, nplc=nplc)
        self.smu.source_voltage = read_bias
        self.smu.output = True

    def resistance(self, volts: float | None = None) -> float:
        """MTJ resistance (pads subtracted), ohm, read at ``volts`` (default: the read bias)."""
        if volts is not None:
            self.smu.source_voltage = volts
        bias = self.read_bias if volts is None else volts
        r = bias / self.smu.read() - self.pad_ohm
        if volts is not None:
            self.smu.source_voltage = self.read_bias
        return r

    def mtj_share(self, amplitude: float, r_mtj: float) -> float:
        """Voltage the MTJ itself gets from a generator amplitude (open-circuit, high-Z setting), V."""
        return amplitude * r_mtj / (r_mtj + self.pad_ohm + GENERATOR_SOURCE_OHM)

    def arm_pulses(self, amplitude: float, width: float, cycles: int = 1) -> None:
        ch = self.generator.ch[1]
        ch.configure_pulse_burst(amplitude=amplitude, width=width, period=max(10 * width, 1e-6), cycles=cycles)
        ch.output = True

    def fire(self) -> None:
        self.generator.trigger()

    def close(self) -> None:
        self.generator.ch[1].output = False
        self.smu.shutdown()

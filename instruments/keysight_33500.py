"""Keysight 33600A / 33500B waveform generators, pulse functions (33500/33600 Series Operating Guide).

Their settings come from the command set (:mod:`benchspec.models.keysight33500`);
here are their actions.  Safety limits: ``pulse_amplitude`` (V, |high| and
|low|), ``pulse_width`` (s).
"""

from __future__ import annotations

from benchspec.models import keysight33500 as k33500

from .scpi import ChannelOf, SCPIInstrument


class GeneratorChannel(ChannelOf, spec=k33500.SPEC):
    """One output."""

    status_settings = ("output", "function", "high_level", "low_level", "pulse_width")

    def configure_pulse_burst(self, amplitude: float, width: float, period: float, cycles: int = 1,
                              high_z: bool = True) -> None:
        """Pulses from 0 V to ``amplitude`` (V, either sign), ``cycles`` per software trigger (``*TRG``).

        A negative pulse is the positive one inverted: levels ``amplitude`` .. 0 V
        with the output polarity inverted, so the baseline stays at 0 V.
        """
        high, low = (amplitude, 0.0) if amplitude >= 0 else (0.0, amplitude)
        self.output = False
        self.load = "INF" if high_z else 50
        self.function = "PULS"
        self.polarity = "NORM" if amplitude >= 0 else "INV"
        # keep width < period, and below high > low, at every step
        if width >= self.pulse_period:  # type: ignore[has-type]
            self.pulse_period = period
            self.pulse_width = width
        else:
            self.pulse_width = width
            self.pulse_period = period
        if high > self.high_level:  # type: ignore[has-type]
            self.high_level = high
            self.low_level = low
        else:
            self.low_level = low
            self.high_level = high
        self.burst_mode = "TRIG"
        self.burst_cycles = cycles
        self.burst = True
        self.trigger_source = "BUS"


class Keysight33500(SCPIInstrument, spec=k33500.SPEC):
    """33500B and 33600A series; ``gen.ch[1].configure_pulse_burst(...)``, ``gen.trigger()``."""

    channel_class = GeneratorChannel

    def trigger(self) -> None:
        """Software trigger (``*TRG``) and wait until the burst is out."""
        self.write("*TRG")
        self.wait_complete()

    def shutdown(self) -> None:
        for channel in self.ch.values():
            channel.output = False

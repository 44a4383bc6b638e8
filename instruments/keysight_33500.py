"""Keysight 33600A / 33500B waveform generators, pulse functions (33500/33600 Series Operating Guide)."""

from __future__ import annotations

from .scpi import ChannelOf, Channels, Choice, Range, SCPIInstrument, Setting, on_off


class GeneratorChannel(ChannelOf):
    """One output.  Safety limits: ``pulse_amplitude`` (V, |high| and |low|), ``pulse_width`` (s)."""

    status_settings = ("output", "function", "high_level", "low_level", "pulse_width")

    function = Setting("SOUR{ch}:FUNC?", "SOUR{ch}:FUNC {value}", "waveform",
                       validator=Choice({"PULS": "PULS", "PULSE": "PULS", "SIN": "SIN", "SQU": "SQU", "DC": "DC"}),
                       parse=lambda s: s.strip().upper())
    pulse_width = Setting("SOUR{ch}:FUNC:PULS:WIDT?", "SOUR{ch}:FUNC:PULS:WIDT {value}", "pulse width", "s",
                          Range(5e-9, 1e6, "s"), limit="pulse_width")
    pulse_period = Setting("SOUR{ch}:FUNC:PULS:PER?", "SOUR{ch}:FUNC:PULS:PER {value}", "pulse period", "s",
                           Range(10e-9, 1e6, "s"))
    high_level = Setting("SOUR{ch}:VOLT:HIGH?", "SOUR{ch}:VOLT:HIGH {value}", "high level", "V",
                         Range(-10, 10, "V"), limit="pulse_amplitude")
    low_level = Setting("SOUR{ch}:VOLT:LOW?", "SOUR{ch}:VOLT:LOW {value}", "low level", "V",
                        Range(-10, 10, "V"), limit="pulse_amplitude")
    burst_cycles = Setting("SOUR{ch}:BURS:NCYC?", "SOUR{ch}:BURS:NCYC {value}", "pulses per burst",
                           validator=Range(1, 1e8), parse=lambda s: int(float(s)), format=lambda v: str(int(v)))
    burst = Setting("SOUR{ch}:BURS:STAT?", "SOUR{ch}:BURS:STAT {value}", "burst mode on",
                    validator=Choice({True: "1", False: "0"}), parse=on_off)
    output = Setting("OUTP{ch}?", "OUTP{ch} {value}", "output on",
                     validator=Choice({True: "1", False: "0"}), parse=on_off)
    polarity = Setting("OUTP{ch}:POL?", "OUTP{ch}:POL {value}", "output polarity (NORM or INV)",
                       validator=Choice({"NORM": "NORM", "NORMAL": "NORM", "INV": "INV", "INVERTED": "INV"}),
                       parse=lambda s: s.strip().upper()[:4])
    load = Setting("OUTP{ch}:LOAD?", "OUTP{ch}:LOAD {value}", "load the levels refer to (50 ohm or INF)",
                   validator=Choice({50: "50", "INF": "INF", float("inf"): "INF"}),
                   parse=lambda s: float("inf") if float(s) > 1e30 else float(s))

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
        if width >= self.pulse_period:        # keep width < period at every step
            self.pulse_period = period
            self.pulse_width = width
        else:
            self.pulse_width = width
            self.pulse_period = period
        if high > self.high_level:            # keep high > low at every step
            self.high_level = high
            self.low_level = low
        else:
            self.low_level = low
            self.high_level = high
        self.write(f"SOUR{self.number}:BURS:MODE TRIG")
        self.burst_cycles = cycles
        self.burst = True
        self.write(f"TRIG{self.number}:SOUR BUS")


class Keysight33500(SCPIInstrument):
    """33500B and 33600A series; ``gen.ch[1].configure_pulse_burst(...)``, ``gen.trigger()``."""

    models = ("33509B", "33510B", "33511B", "33512B", "33519B", "33520B", "33521B", "33522B",
              "33611A", "33612A", "33621A", "33622A")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ch = Channels(self.name, {n: GeneratorChannel(self, n) for n in (1, 2)})

    def trigger(self) -> None:
        """Software trigger (``*TRG``) and wait until the burst is out."""
        self.write("*TRG")
        self.wait_complete()

    def shutdown(self) -> None:
        for channel in self.ch.values():
            channel.output = False

"""Keysight 33600A / 33500B waveform generators, pulse functions (33500/33600 Series Operating Guide)."""

from ..instrument import CommandSet, Quantity

FUNCTIONS = {k: v for v in ("SIN", "SQU", "RAMP", "PULS", "NOIS", "DC", "ARB", "PRBS", "TRI")
             for k in (v, {"SIN": "SINUSOID", "SQU": "SQUARE", "PULS": "PULSE", "NOIS": "NOISE",
                           "TRI": "TRIANGLE"}.get(v, v))}
POLARITIES = {"NORM": "NORM", "NORMAL": "NORM", "INV": "INV", "INVERTED": "INV"}
TRIGGER_SOURCES = {"IMM": "IMM", "IMMEDIATE": "IMM", "EXT": "EXT", "EXTERNAL": "EXT", "TIM": "TIM", "TIMER": "TIM",
                   "BUS": "BUS"}
MIN_WIDTH = 5e-9                   #: s, the 33600A's narrowest pulse (33500B: 16 ns)
HIGH_Z = float("inf")

SPEC = CommandSet(
    models=("33509B", "33510B", "33511B", "33512B", "33519B", "33520B", "33521B", "33522B",
            "33611A", "33612A", "33621A", "33622A"),
    idn="Keysight Technologies,33622A,MY53400817,A.02.02-3.15-03.64-02.56-02-01",
    role="generator",
    channels=(1, 2),
    answers={"*OPT?": "MEM,IQP", "SYSTem:VERSion?": "1999.0"},
    quantities=(
        Quantity("function", "[SOURce{ch}:]FUNCtion[:SHAPe]", "waveform", kind="choice", choices=FUNCTIONS,
                 default="SIN", channels="suffix"),
        Quantity("pulse_width", "[SOURce{ch}:]FUNCtion:PULSe:WIDTh", "pulse width", "s", low=MIN_WIDTH, high=1e6,
                 default=100e-9, reply="{:+.15E}", limit="pulse_width", channels="suffix"),
        Quantity("pulse_period", "[SOURce{ch}:]FUNCtion:PULSe:PERiod", "pulse period", "s", low=2 * MIN_WIDTH,
                 high=1e6, default=1e-3, reply="{:+.15E}", channels="suffix"),
        Quantity("high_level", "[SOURce{ch}:]VOLTage:HIGH", "high level", "V", low=-10.0, high=10.0, default=0.05,
                 reply="{:+.15E}", limit="pulse_amplitude", channels="suffix"),
        Quantity("low_level", "[SOURce{ch}:]VOLTage:LOW", "low level", "V", low=-10.0, high=10.0, default=-0.05,
                 reply="{:+.15E}", limit="pulse_amplitude", channels="suffix"),
        Quantity("burst_cycles", "[SOURce{ch}:]BURSt:NCYCles", "pulses per burst", kind="int", low=1, high=1e8,
                 default=1, reply="{:+.15E}", channels="suffix"),
        Quantity("burst", "[SOURce{ch}:]BURSt:STATe", "burst mode on", kind="bool", default=False, channels="suffix"),
        Quantity("burst_mode", "[SOURce{ch}:]BURSt:MODE", "burst mode", kind="choice",
                 choices={"TRIG": "TRIG", "TRIGGERED": "TRIG", "GAT": "GAT", "GATED": "GAT"}, default="TRIG",
                 channels="suffix"),
        Quantity("trigger_source", "TRIGger{ch}:SOURce", "trigger source", kind="choice", choices=TRIGGER_SOURCES,
                 default="IMM", channels="suffix"),
        Quantity("output", "OUTPut{ch}[:STATe]", "output on", kind="bool", default=False, channels="suffix"),
        Quantity("polarity", "OUTPut{ch}:POLarity", "output polarity (NORM or INV)", kind="choice",
                 choices=POLARITIES, default="NORM", channels="suffix"),
        Quantity("load", "OUTPut{ch}:LOAD", "load the levels refer to (50 ohm, or INF)", "ohm", low=1.0,
                 high=10e3, choices={"INF": HIGH_Z, "INFINITY": HIGH_Z, "MAX": HIGH_Z}, default=50.0,
                 reply="{:+.15E}", channels="suffix"),
    ),
)

TRIGGER = "*TRG"
TRIGGER_CHANNEL = "TRIGger{ch}[:IMMediate]"
FREQUENCY = "[SOURce{ch}:]FREQuency"

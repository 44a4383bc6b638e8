"""Keysight E36312A triple-output DC power supply (E36300 Series Programming Guide)."""

from ..instrument import CommandSet, Quantity, Ramp

#: (max volts, max amps) of each output: the programming ranges
RATINGS = {1: (6.18, 5.15), 2: (25.75, 1.03), 3: (25.75, 1.03)}
#: over-voltage protection: the largest level per output, V
OVP_MAX = {ch: volts * 1.1 + 0.5 for ch, (volts, _) in RATINGS.items()}

SPEC = CommandSet(
    models=("E36312A", "E36313A", "E36311A"),
    idn="Keysight Technologies,E36312A,MY59004417,2.1.0-1.0.4-1.12",
    role="supply",
    channels=(1, 2, 3),
    answers={"*OPT?": "0", "SYSTem:VERSion?": "1999.0"},
    quantities=(
        Quantity("voltage", "[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]", "programmed voltage", "V",
                 low=0.0, high={ch: v for ch, (v, _) in RATINGS.items()}, limit="ch{ch}_voltage", channels="list",
                 ramp=Ramp(step=0.1, dwell=0.005, while_on="output")),
        Quantity("current", "[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]", "current limit", "A",
                 low=0.0, high={ch: a for ch, (_, a) in RATINGS.items()}, default=1.0, limit="ch{ch}_current",
                 channels="list"),
        Quantity("ovp", "[SOURce:]VOLTage:PROTection[:LEVel]", "over-voltage protection level", "V",
                 low=0.0, high=OVP_MAX, default=None, channels="list"),
        Quantity("output", "OUTPut[:STATe]", "output on", kind="bool", default=False, channels="list"),
        Quantity("ovp_tripped", "[SOURce:]VOLTage:PROTection:TRIPped", "over-voltage protection tripped "
                 "(latched; the output is off)", kind="bool", default=False, channels="list", settable=False),
    ),
)

MEASURE_VOLTAGE = "MEASure[:SCALar]:VOLTage[:DC]?"
MEASURE_CURRENT = "MEASure[:SCALar]:CURRent[:DC]?"
CLEAR_PROTECTION = "[SOURce:]VOLTage:PROTection:CLEar"
APPLY = "APPLy"
SELECT = "INSTrument[:SELect]"
SELECT_NUMBER = "INSTrument:NSELect"

"""Lake Shore Model 336 temperature controller (Model 336 User's Manual, chapter 6).

No SCPI error queue: a refused command sets the standard event status
register, read with ``*ESR?`` (bit 5 command error, bit 4 execution error,
bit 2 query error).
"""

from ..instrument import CommandSet, Quantity

HEATER_RANGES = ("off", "low", "medium", "high")
SETPOINT_MAX_K = 1500.0
ESR_MEANING = {32: (-100, "command error"), 16: (-200, "execution error (value out of range)"),
               4: (-400, "query error")}

SPEC = CommandSet(
    models=("MODEL336",),
    idn="LSCI,MODEL336,LSA21C7/7421130,2.9",
    role="thermo",
    terminator="\r\n",
    error_query="*ESR?",
    channels=(1, 2, 3, 4),
    answers={"*OPT?": "0,0,0"},
    quantities=(
        Quantity("setpoint", "SETP", "control setpoint", "K", low=0.0, high=SETPOINT_MAX_K, default=298.15,
                 reply="{:+.3f}", limit="temperature", channels="first"),
        Quantity("heater_range", "RANGE", "heater range (off, low, medium, high)", kind="choice",
                 choices={**{name.upper(): str(i) for i, name in enumerate(HEATER_RANGES)},
                          **{str(i): str(i) for i in range(4)}, "MED": "2"},
                 labels={str(i): name for i, name in enumerate(HEATER_RANGES)}, default="0", channels="first"),
        Quantity("heater_output", "HTR", "heater output, percent of range", "%", default=0.0, reply="{:+.1f}",
                 channels="first", settable=False),
    ),
)

RAMP = "RAMP"
READING_KELVIN = "KRDG?"
READING_CELSIUS = "CRDG?"

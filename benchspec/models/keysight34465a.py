"""Keysight 34465A digital multimeter (Truevolt DMM Operating and Service Guide)."""

from ..instrument import CommandSet, Quantity

FUNCTIONS = {"VOLT": "VOLT", "VOLT:DC": "VOLT", "VOLTAGE": "VOLT", "VOLTAGE:DC": "VOLT", "RES": "RES",
             "RESISTANCE": "RES", "FRES": "FRES", "FRESISTANCE": "FRES"}
#: node of each function, and its ranges (lowest, highest) and range at reset
NODES = {"VOLT": "VOLTage[:DC]", "RES": "RESistance", "FRES": "FRESistance"}
RANGES = {"VOLT": (0.1, 1000.0, 10.0), "RES": (100.0, 1e9, 1e3), "FRES": (100.0, 1e9, 1e3)}
LINE_HZ = 50.0
#: resolution (ppm of range) at each integration time (PLC), the 34465A with its DIG option
RESOLUTION_PPM = {0.001: 30.0, 0.002: 15.0, 0.006: 6.0, 0.02: 3.0, 0.06: 1.5, 0.2: 0.7, 1.0: 0.3, 10.0: 0.1,
                  100.0: 0.03}


def _per_function(name: str, tail: str, doc: str, unit: str = "", **kw) -> tuple[Quantity, ...]:
    return tuple(Quantity(f"{function.lower()}_{name}", f"[SENSe:]{node}:{tail}", f"{doc} ({function})", unit,
                          **kw) for function, node in NODES.items())


SPEC = CommandSet(
    models=("34465A", "34460A", "34461A", "34470A"),
    idn="Keysight Technologies,34465A,MY57503309,A.03.01-02.40-03.01-00.52-04-02",
    role="dmm",
    answers={"*OPT?": "DIG,MEM", "SYSTem:VERSion?": "1999.0", "SYSTem:LFRequency?": f"{LINE_HZ:.0f}",
             "SYSTem:LICense:CATalog?": '"DIG","MEM"'},
    quantities=(
        Quantity("function", "[SENSe:]FUNCtion[:ON]", "measurement function", kind="choice", choices=FUNCTIONS,
                 default="VOLT", reply='"{}"', quoted=True),
        *_per_function("nplc", "NPLCycles", "integration time", "PLC", low=0.001, high=100.0, default=10.0,
                       reply="{:+.8E}"),
        *(Quantity(f"{function.lower()}_range", f"[SENSe:]{node}:RANGe[:UPPer]", f"measurement range ({function})",
                   "V" if function == "VOLT" else "Ohm", low=RANGES[function][0], high=RANGES[function][1],
                   default=RANGES[function][2], reply="{:+.8E}") for function, node in NODES.items()),
        *_per_function("range_auto", "RANGe:AUTO", "autorange", kind="bool", default=True),
        *_per_function("zero_auto", "ZERO:AUTO", "autozero", kind="bool", default=True),
        *_per_function("aperture_enabled", "APERture:ENABled", "integration set as an aperture time",
                       kind="bool", default=False),
        *_per_function("aperture", "APERture", "aperture time", "s", low=1e-5, high=1.0, default=0.1,
                       reply="{:+.8E}"),
        Quantity("sample_count", "SAMPle:COUNt", "readings per trigger", kind="int", low=1, high=1e6, default=1,
                 reply="{:+d}"),
        Quantity("trigger_count", "TRIGger:COUNt", "triggers the meter accepts before it returns to idle",
                 kind="int", low=1, high=1e6, default=1, reply="{:+d}"),
        Quantity("trigger_source", "TRIGger:SOURce", "where a trigger comes from", kind="choice",
                 choices={"IMM": "IMM", "IMMEDIATE": "IMM", "BUS": "BUS", "EXT": "EXT", "EXTERNAL": "EXT",
                          "INT": "INT", "INTERNAL": "INT"}, default="IMM"),
        Quantity("display", "DISPlay[:STATe]", "front-panel display on", kind="bool", default=True),
        Quantity("display_text", "DISPlay:TEXT[:DATA]", "message shown on the display", kind="text", default="",
                 reply='"{}"', quoted=True),
    ),
)

READ = "READ?"
MEASURE = {name: f"MEASure:{node}?" for name, node in NODES.items()}
CONFIGURE = {name: f"CONFigure:{node}" for name, node in NODES.items()}
RESOLUTION = {name: f"[SENSe:]{node}:RESolution" for name, node in NODES.items()}
CLEAR_TEXT = "DISPlay:TEXT:CLEar"

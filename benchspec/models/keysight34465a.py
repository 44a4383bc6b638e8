"""Keysight 34465A digital multimeter (Truevolt DMM Operating and Service Guide)."""

from ..instrument import CommandSet, Quantity

FUNCTIONS = {"VOLT": "VOLT", "VOLT:DC": "VOLT", "VOLTAGE": "VOLT", "VOLTAGE:DC": "VOLT", "RES": "RES",
             "RESISTANCE": "RES", "FRES": "FRES", "FRESISTANCE": "FRES"}
#: node of each function, and its reply to FUNC?
NODES = {"VOLT": ("VOLTage[:DC]", '"VOLT"'), "RES": ("RESistance", '"RES"'), "FRES": ("FRESistance", '"FRES"')}
LINE_HZ = 50.0

SPEC = CommandSet(
    models=("34465A", "34460A", "34461A", "34470A"),
    idn="Keysight Technologies,34465A,MY57503309,A.03.01-02.40-03.01-00.52-04-02",
    role="dmm",
    answers={"*OPT?": "DIG,MEM", "SYSTem:VERSion?": "1999.0"},
    quantities=(
        Quantity("function", "[SENSe:]FUNCtion[:ON]", "measurement function", kind="choice", choices=FUNCTIONS,
                 default="VOLT", reply='"{}"'),
        *(Quantity(f"{name.lower()}_nplc", f"[SENSe:]{node}:NPLCycles", f"integration time ({name})", "PLC",
                   low=0.001, high=100.0, default=10.0, reply="{:+.8E}") for name, (node, _) in NODES.items()),
    ),
)

READ = "READ?"
MEASURE = {name: f"MEASure:{node}?" for name, (node, _) in NODES.items()}
CONFIGURE = {name: f"CONFigure:{node}" for name, (node, _) in NODES.items()}

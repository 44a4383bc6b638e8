"""The MX64 evaluation board's command set, said once (docs/protocol.md is checked against it).

Every row gives the SCPI header, the arguments with units and ranges, the
binary block a command takes and what it replies.  From this table come the
board firmware's dispatch (``sim_chip.firmware``: one handler per row), the
board driver's methods and settings (``instruments.mx64_board``) and the
protocol document's command list (``tests/sim_chip/test_protocol.py`` checks
it).  The ranges are the chip's own: the simulated chip validates with them.

Binary data: weights, inputs and verify results are int8 signs (+1 = 0x01,
-1 = 0xFF), row-major; TDC codes are uint8 0..15, vector-major.
"""

from __future__ import annotations

from dataclasses import dataclass

# the array and its readout (datasheet sections 2 and 3)
ROWS = 64                                #: inputs, one per row
COLUMNS = 64                             #: outputs, one series chain and one TDC each
TDC_BITS = 4
TDC_CODES = 2**TDC_BITS                  #: codes 0 .. 15
MAC_RANGE = (-ROWS, ROWS)                #: a full column's MAC, +1/-1 inputs times +1/-1 weights
#: a column's delay at MAC = +64 and -64 at 25 degC, s (the datasheet's nominal span, paper)
DELAY_AT_MAC_RANGE = (13e-9, 29e-9)
#: the nominal delay per MAC unit, s: the delay falls as the MAC rises
DELAY_PER_MAC_S = (DELAY_AT_MAC_RANGE[1] - DELAY_AT_MAC_RANGE[0]) / (MAC_RANGE[1] - MAC_RANGE[0])
#: the chip's supply rails: core, I/O, write
RAILS = ("vdd", "vddio", "vwrite")

MANUFACTURER = "LABCTL"
MODEL = "MX64-EVB"
FIRMWARE_VERSION = "1.1.0"
ERROR_QUEUE_LENGTH = 32
#: largest number of input vectors a host sends in one MAC:BATCh? (4 MiB block)
MAX_BATCH = 65536

# ranges of the chip's registers
CLOCK_RANGE = (1e6, 17.2e6)              # Hz
VWRITE_RANGE = (0.0, 3.3)                # V, the on-board regulator (host safety limits are lower)
WRITE_WIDTH_RANGE = (1, 255)             # clocks
READ_BIAS_RANGE = (0.05, 2.0)            # V across a column during MAC
VERIFY_BIAS_RANGE = (0.02, 1.0)          # V across a branch during verify
TDC_START_RANGE = (0.0, 60e-9)           # s
TDC_LSB_RANGE = (1.0 / 16 * 1e-9, 4e-9)  # s
TDC_START_STEP = 1e-9 / 64               # s, resolution of the start DAC
TDC_LSB_STEP = 1e-9 / 256                # s, resolution of the LSB DAC
CYCLES_RANGE = (1, 10**12)               # endurance cycles per command


@dataclass(frozen=True)
class Arg:
    """An ASCII argument: ``kind`` float, int, onoff (ON/OFF/1/0) or column (0..63, or OFF for none)."""

    name: str
    kind: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    optional: bool = False

    def describe(self) -> str:
        span = f" {self.low:g} .. {self.high:g}" if self.low is not None and self.high is not None else ""
        return f"{self.name}{span}{' ' + self.unit if self.unit else ''}" + (" (optional)" if self.optional else "")


#: a block's element types: name -> (NumPy dtype string, what the protocol document calls it)
DTYPES = {"signs": ("i1", "int8 signs"), "codes": ("u1", "uint8 codes"), "seconds": ("<f8", "float64 seconds")}


@dataclass(frozen=True)
class Data:
    """A binary block: ``dtype`` signs (int8 +-1), codes (uint8 0..15) or seconds (float64, little-endian),
    ``shape`` (None: any count)."""

    name: str
    dtype: str
    shape: tuple[int | None, ...]

    def describe(self) -> str:
        dims = " x ".join("n" if s is None else str(s) for s in self.shape)
        return f"block of {dims} {DTYPES[self.dtype][1]} ({self.name})"


@dataclass(frozen=True)
class Command:
    """One command: ``name`` is the driver's method and the firmware's handler."""

    name: str
    header: str
    doc: str
    args: tuple[Arg, ...] = ()
    data: Data | None = None
    #: None, "int", "float", "onoff", "text", "floats" (comma-separated) or a Data block
    reply: str | Data | None = None
    clocks: str = "0"                     #: what it costs, for the document
    needs_power: bool = True
    reading: bool = False                 #: a state read: a read-only property of the driver
    unit: str = ""                        #: the unit of the reply

    @property
    def query(self) -> bool:
        return self.header.endswith("?")



@dataclass(frozen=True)
class Setting:
    """A register with its query form: the driver's property of ``name``."""

    name: str
    header: str
    doc: str
    value: Arg | Data
    default: str
    per_column: bool = False              #: takes an optional column; the query without one gives all 64
    limit: str | None = None              #: the bench safety limit a host checks before sending a value


VECTOR = Data("x", "signs", (64,))
MATRIX = Data("weights", "signs", (64, 64))

SETTINGS: tuple[Setting, ...] = (
    Setting("clock_hz", "CONFigure:CLOCk", "chip clock", Arg("hz", "float", "Hz", *CLOCK_RANGE), "11.1e6"),
    Setting("write_voltage", "CONFigure:VWRite", "write rail from the on-board regulator (-241 when the rails "
            "come from bench supplies)", Arg("volts", "float", "V", *VWRITE_RANGE), "1.5", limit="vwrite"),
    Setting("write_width", "CONFigure:WIDTh", "write pulse", Arg("clocks", "int", "clock", *WRITE_WIDTH_RANGE), "1"),
    Setting("read_bias", "CONFigure:VREad", "voltage across a column during MAC",
            Arg("volts", "float", "V", *READ_BIAS_RANGE), "0.25"),
    Setting("verify_bias", "CONFigure:VVERify", "voltage across a branch during verify",
            Arg("volts", "float", "V", *VERIFY_BIAS_RANGE), "0.1"),
    Setting("tdc_start", "CONFigure:TDC:STARt", "TDC window start, 1/64 ns steps",
            Arg("seconds", "float", "s", *TDC_START_RANGE), "centred on MAC 0 (calibrated)", per_column=True),
    Setting("tdc_lsb", "CONFigure:TDC:LSB", "TDC LSB, 1/256 ns steps", Arg("seconds", "float", "s", *TDC_LSB_RANGE),
            "0.3984 ns", per_column=True),
    Setting("test_mux", "CONFigure:TMUX", "column routed to the analog test pad (None: disconnected)",
            Arg("column", "column", "", 0, 63), "OFF"),
    Setting("held_input", "CONFigure:HOLD", "row input held while the test pad is measured", VECTOR, "all +1"),
)

COMMANDS: tuple[Command, ...] = (
    Command("identify_board", "*IDN?", "identification: LABCTL,MX64-EVB,<serial>,<firmware>", reply="text",
            needs_power=False),
    Command("die", "SYSTem:DIE?", "the die's id, quoted", reply="text", needs_power=False),
    Command("reset", "*RST", "registers to defaults, cycle counter to 0; the array keeps its data"),
    Command("clear_errors", "*CLS", "empties the error queue", needs_power=False),
    Command("complete", "*OPC?", "1 when every previous command is complete", reply="int", needs_power=False),
    Command("next_error", "SYSTem:ERRor[:NEXT]?", 'oldest error as <number>,"<text>"', reply="text",
            needs_power=False),
    Command("error_count", "SYSTem:ERRor:COUNt?", "errors queued", reply="int", needs_power=False),
    Command("sync", "SYSTem:SYNC?", "echoes the token: everything before its reply is stale",
            (Arg("token", "int"),), reply="int", needs_power=False),
    Command("power", "POWer[:STATe]", "on-board regulators on or off (with bench supplies: ON checks them)",
            (Arg("state", "onoff"),), needs_power=False),
    Command("powered", "POWer[:STATe]?", "1 when VDD and VDDIO are within 10 % of nominal", reply="onoff",
            needs_power=False, reading=True),
    Command("write_row", "WRITe:ROW", "write one row: its left MTJs in one pulse, its right ones in the next",
            (Arg("row", "int", "", 0, 63),), Data("weights", "signs", (64,)), clocks="2 x WIDTh"),
    Command("write_array", "WRITe:ARRay", "write every row", data=MATRIX, clocks="128 x WIDTh"),
    Command("cycle_writes", "WRITe:CYCLe", "endurance mode: the complement, then the weights, cycles times",
            (Arg("cycles", "int", "", *CYCLES_RANGE),), MATRIX, clocks="256 x WIDTh per cycle"),
    Command("verify_row", "VERify:ROW?", "the stored signs of one row", (Arg("row", "int", "", 0, 63),),
            reply=Data("signs", "signs", (64,)), clocks="1"),
    Command("verify_array", "VERify:ARRay?", "the stored signs of every row", reply=Data("signs", "signs", (64, 64)),
            clocks="64"),
    Command("mac", "MAC?", "TDC codes of the 64 columns for one input", data=VECTOR,
            reply=Data("codes", "codes", (64,)), clocks="1"),
    Command("mac_batch", "MAC:BATCh?", "TDC codes for n inputs", data=Data("x", "signs", (None, 64)),
            reply=Data("codes", "codes", (None, 64)), clocks="n"),
    Command("set_tdc_windows", "CONFigure:TDC:WINDows", "every column's TDC window in one command: the 64 "
            "starts, then the 64 LSBs (s; rounded as CONF:TDC:STAR and CONF:TDC:LSB round them)",
            data=Data("windows", "seconds", (2, 64))),
    Command("cycle_counter", "COUNter?", "clocks since power-up, *RST or COUN:RES", reply="int", reading=True,
            unit="clock"),
    Command("reset_counter", "COUNter:RESet", "cycle counter to 0"),
)


def setting(name: str) -> Setting:
    return next(s for s in SETTINGS if s.name == name)


def command(name: str) -> Command:
    return next(c for c in COMMANDS if c.name == name)

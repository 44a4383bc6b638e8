"""Keithley 2450 SourceMeter, SCPI command set (2450 Reference Manual, section 6)."""

from ..instrument import CommandSet, Quantity

SOURCE_FUNCTIONS = {"VOLT": "VOLT", "VOLTAGE": "VOLT", "VOLT:DC": "VOLT", "CURR": "CURR", "CURRENT": "CURR",
                    "CURR:DC": "CURR"}
SENSE_FUNCTIONS = {"VOLT": "VOLT:DC", "VOLT:DC": "VOLT:DC", "VOLTAGE": "VOLT:DC", "VOLTAGE:DC": "VOLT:DC",
                   "CURR": "CURR:DC", "CURR:DC": "CURR:DC", "CURRENT": "CURR:DC", "CURRENT:DC": "CURR:DC",
                   "RES": "RES", "RESISTANCE": "RES"}
#: node of each sense function in [SENSe:]<node>:...
SENSE_NODES = {"VOLT:DC": "VOLTage[:DC]", "CURR:DC": "CURRent[:DC]", "RES": "RESistance"}
LINE_HZ = 50.0


def _per_function(name: str, tail: str, doc: str, unit: str = "", **kw) -> tuple[Quantity, ...]:
    return tuple(Quantity(f"{short}_{name}", f"[SENSe:]{node}:{tail}", f"{doc} ({short} measurement)", unit, **kw)
                 for short, node in (("voltage", SENSE_NODES["VOLT:DC"]), ("current", SENSE_NODES["CURR:DC"]),
                                     ("resistance", SENSE_NODES["RES"])))


SPEC = CommandSet(
    models=("MODEL 2450",),
    idn="KEITHLEY INSTRUMENTS,MODEL 2450,04419762,1.7.12b",
    role="smu",
    answers={"*LANG?": "SCPI", "*OPT?": "0", "SYSTem:LFRequency?": f"{LINE_HZ:.0f}", "SYSTem:VERSion?": "1999.0"},
    quantities=(
        Quantity("source_function", "SOURce:FUNCtion[:MODE]", "source function", kind="choice",
                 choices=SOURCE_FUNCTIONS, default="VOLT"),
        Quantity("source_voltage", "SOURce:VOLTage[:LEVel][:IMMediate][:AMPLitude]", "source voltage", "V",
                 low=-210.0, high=210.0, limit="smu_voltage"),
        Quantity("source_current", "SOURce:CURRent[:LEVel][:IMMediate][:AMPLitude]", "source current", "A",
                 low=-1.05, high=1.05, limit="smu_current"),
        Quantity("current_limit", "SOURce:VOLTage:ILIMit[:LEVel]", "current limit while sourcing voltage", "A",
                 low=1e-9, high=1.05, default=105e-6, limit="smu_current"),
        Quantity("voltage_limit", "SOURce:CURRent:VLIMit[:LEVel]", "voltage limit while sourcing current", "V",
                 low=0.02, high=210.0, default=21.0, limit="smu_voltage"),
        Quantity("voltage_range", "SOURce:VOLTage:RANGe", "source voltage range", "V", low=0.02, high=210.0,
                 default=0.02),
        Quantity("current_range", "SOURce:CURRent:RANGe", "source current range", "A", low=1e-8, high=1.05,
                 default=1e-8),
        Quantity("voltage_range_auto", "SOURce:VOLTage:RANGe:AUTO", "source voltage autorange", kind="bool",
                 default=True),
        Quantity("current_range_auto", "SOURce:CURRent:RANGe:AUTO", "source current autorange", kind="bool",
                 default=True),
        Quantity("sense_function", "[SENSe:]FUNCtion[:ON]", "measure function", kind="choice",
                 choices=SENSE_FUNCTIONS, default="CURR:DC", reply='"{}"', quoted=True),
        *_per_function("nplc", "NPLCycles", "integration time", "PLC", low=0.01, high=10.0, default=1.0,
                       reply="{:g}"),
        *_per_function("range", "RANGe[:UPPer]", "measure range", low=0.0, high=2e8, default=1e-4),
        *_per_function("range_auto", "RANGe:AUTO", "measure autorange", kind="bool", default=True),
        *_per_function("four_wire", "RSENse", "remote (four-wire) sense", kind="bool", default=False),
        Quantity("output", "OUTPut[:STATe]", "output on", kind="bool", default=False),
        Quantity("terminals", "ROUTe:TERMinals", "terminals in use", kind="choice",
                 choices={"FRON": "FRON", "FRONT": "FRON", "REAR": "REAR"}, default="FRON"),
    ),
)

#: reading buffers a READ? or MEASure? may name (the 2450 keeps its readings in one)
BUFFERS = ("defbuffer1", "defbuffer2")
READ = "READ?"
MEASURE_SENSED = "MEASure?"            #: a reading of the measure function (2450 manual, :MEASure?)
#: whether the last reading ran into the limit (voltage source: ILIMit, current source: VLIMit)
TRIPPED = {"VOLT": "SOURce:VOLTage:ILIMit[:LEVel]:TRIPped?", "CURR": "SOURce:CURRent:VLIMit[:LEVel]:TRIPped?"}
MEASURE = {"VOLT:DC": "MEASure:VOLTage[:DC]?", "CURR:DC": "MEASure:CURRent[:DC]?", "RES": "MEASure:RESistance?"}

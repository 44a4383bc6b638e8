"""Each driver against its pyvisa-sim device: the commands it sends, read back, and its errors."""

from __future__ import annotations

from importlib.resources import files

import pytest
import pyvisa

from instruments.errors import CommandError, LinkError, OutOfRange, SafetyLimitError
from instruments.keithley_2450 import Keithley2450
from instruments.keysight_33500 import Keysight33500
from instruments.keysight_34465a import Keysight34465A
from instruments.keysight_e36312a import KeysightE36312A
from instruments.lakeshore_336 import LakeShore336
from instruments.scpi import Limits, VisaAdapter


class CountingClock:
    def __init__(self) -> None:
        self.slept = 0.0

    def sleep(self, seconds: float) -> None:
        self.slept += seconds

    def now(self) -> float:
        return self.slept


def open_sim(cls, yaml: str, resource: str, terminator: str = "\n", limits: Limits | None = None):
    path = files("instruments") / "sim_devices" / yaml
    rm = pyvisa.ResourceManager(f"{path}@sim")
    adapter = VisaAdapter(resource, resource_manager=rm, read_termination=terminator,
                          write_termination=terminator)
    return cls(adapter, limits=limits, clock=CountingClock())


def test_keithley_2450() -> None:
    smu = open_sim(Keithley2450, "keithley_2450.yaml", "TCPIP::2450.sim::5025::SOCKET",
                   limits=Limits({"smu_voltage": (-1.0, 1.0, "V")}))
    assert smu.check_model().model == "MODEL 2450"
    smu.source_voltage_measure_current(current_limit=1e-3, nplc=2)
    assert (smu.source_function, smu.sense_function, smu.current_limit, smu.nplc) == ("VOLT", "CURR", 1e-3, 2.0)
    smu.ramp_voltage(0.5, step=0.1)
    assert smu.source_voltage == 0.5 and smu.clock.slept == pytest.approx(0.04)   # 5 steps, 4 dwells
    smu.output = True
    assert smu.output is True and smu.read() == 1e-6
    with pytest.raises(SafetyLimitError, match="smu_voltage = 2.0 exceeds the bench safety limit"):
        smu.source_voltage = 2.0
    with pytest.raises(OutOfRange, match="allowed -210 .. 210 V"):
        smu.source_voltage = 500
    with pytest.raises(CommandError, match=r"':SOUR:VOLT 500' failed with -100, Command error"):
        smu.write(":SOUR:VOLT 500")                 # past the driver: the instrument's own refusal
    smu.close()                                     # ramps to 0 and turns the output off first


def test_keysight_e36312a() -> None:
    supply = open_sim(KeysightE36312A, "keysight_e36312a.yaml", "TCPIP::e36312a.sim::5025::SOCKET",
                      limits=Limits({"ch3_voltage": (0, 1.6, "V")}))
    assert supply.check_model().model == "E36312A"
    ch = supply.ch[2]
    ch.current = 0.1
    ch.voltage = 1.8
    ch.output = True
    assert (ch.voltage, ch.current, ch.output) == (1.8, 0.1, True)
    assert supply.ch[1].voltage == 0.0                 # channels are independent
    assert ch.measure_voltage() == 0.9 and ch.measure_current() == 1e-4
    assert ch.ovp_tripped() is False
    supply.ch[3].output = True
    supply.ch[3].voltage = 1.5
    assert supply.clock.slept > 0                      # ramped in steps while the output was on
    with pytest.raises(SafetyLimitError, match="ch3_voltage"):
        supply.ch[3].voltage = 2.0
    assert supply.ch[3].voltage == 1.5
    supply.close()


def test_keysight_33500() -> None:
    gen = open_sim(Keysight33500, "keysight_33500.yaml", "TCPIP::33622a.sim::5025::SOCKET",
                   limits=Limits({"pulse_amplitude": (-1.2, 1.2, "V"), "pulse_width": (0, 1e-3, "s")}))
    assert gen.check_model().model == "33622A"
    ch = gen.ch[1]
    ch.configure_pulse_burst(amplitude=0.6, width=200e-9, period=1e-6, cycles=10)
    assert (ch.function, ch.high_level, ch.low_level, ch.pulse_width, ch.burst_cycles, ch.burst) == \
        ("PULS", 0.6, 0.0, 200e-9, 10, True)
    assert ch.polarity == "NORM"
    ch.configure_pulse_burst(amplitude=-0.4, width=200e-9, period=1e-6)
    assert (ch.high_level, ch.low_level, ch.polarity) == (0.0, -0.4, "INV")
    assert ch.load == float("inf")
    ch.output = True
    gen.trigger()
    with pytest.raises(SafetyLimitError, match="pulse_amplitude"):
        ch.high_level = 3.0
    with pytest.raises(SafetyLimitError, match="pulse_width"):
        ch.pulse_width = 0.1
    assert gen.ch[2].output is False
    gen.close()


def test_lakeshore_336() -> None:
    tc = open_sim(LakeShore336, "lakeshore_336.yaml", "TCPIP::336.sim::7777::SOCKET", terminator="\r\n",
                  limits=Limits({"temperature": (0, 423.15, "K")}))
    assert tc.check_model().model == "MODEL336"
    tc.ch[1].setpoint = 350.0
    tc.ch[1].heater_range = "medium"
    tc.ch[1].set_ramp(5.0)
    assert tc.ch[1].setpoint == 350.0 and tc.ch[1].heater_range == "medium"
    assert tc.temperature("A") == 298.15 and tc.ch[1].heater_output == 0.0
    with pytest.raises(SafetyLimitError, match="temperature = 500.0"):
        tc.ch[1].setpoint = 500.0
    with pytest.raises(CommandError, match="command error"):
        tc.write("NOSUCH 1")                          # *ESR? bit 5, not an SCPI queue
    tc.close()


def test_keysight_34465a() -> None:
    dmm = open_sim(Keysight34465A, "keysight_34465a.yaml", "TCPIP::34465a.sim::5025::SOCKET")
    assert dmm.check_model().model == "34465A"
    dmm.configure_resistance(four_wire=True, nplc=1)
    assert dmm.read() == pytest.approx(1108.92)
    assert dmm.measure_resistance(four_wire=True) == pytest.approx(1108.915)
    assert dmm.measure_voltage_dc() == pytest.approx(1.2e-6)
    with pytest.raises(OutOfRange, match="nplc"):
        dmm.configure_resistance(nplc=1000)
    dmm.close()


def test_wrong_instrument_is_refused() -> None:
    smu = open_sim(KeysightE36312A, "keithley_2450.yaml", "TCPIP::2450.sim::5025::SOCKET")
    with pytest.raises(LinkError, match="expected one of E36312A"):
        smu.check_model()

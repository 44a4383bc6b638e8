"""Each driver's commands, written out as the programming manual writes them, then played against the
simulated twin made from the same command set: every command the driver sends is one the instrument takes.

A transcript is (what the driver sends, what the instrument answers); ``None`` for a command without a
reply.  The drivers send each command and then ask for the error queue (``SYST:ERR?``, or ``*ESR?`` on
the Lake Shore), which the transcripts leave out.
"""

from __future__ import annotations

import pytest

from instruments.errors import CommandError, OutOfRange, SafetyLimitError
from instruments.keithley_2450 import Keithley2450
from instruments.keysight_33500 import Keysight33500
from instruments.keysight_34465a import Keysight34465A
from instruments.keysight_e36312a import KeysightE36312A
from instruments.lakeshore_336 import LakeShore336
from instruments.scpi import Limits
from sim_chip.bench import World


class Transcript:
    """An adapter that checks what the driver sends against a transcript, and answers from it."""

    def __init__(self, exchanges: list[tuple[str, str | None]], error_query: str = "SYST:ERR?") -> None:
        self.exchanges = list(exchanges)
        self.error_query = error_query
        self.sent: list[str] = []
        self.resource = "transcript"

    def _next(self, command: str) -> str | None:
        self.sent.append(command)
        assert self.exchanges, f"the driver sent {command!r} after the transcript ended"
        expected, reply = self.exchanges.pop(0)
        assert command == expected, f"the driver sent {command!r}, the manual says {expected!r}"
        return reply

    def write(self, command: str) -> None:
        assert self._next(command) is None

    def query(self, command: str) -> str:
        if command == self.error_query:
            self.sent.append(command)
            return "0" if command == "*ESR?" else '+0,"No error"'
        reply = self._next(command)
        assert reply is not None, f"{command!r} has no reply in the transcript"
        return reply

    def close(self) -> None:
        assert not self.exchanges, f"the driver did not send {self.exchanges}"


class Clock:
    def sleep(self, seconds: float) -> None:
        pass

    def now(self) -> float:
        return 0.0


def drive(cls, exchanges, action, limits: Limits | None = None):
    adapter = Transcript(exchanges, cls.spec.error_query)
    instrument = cls(adapter, limits=limits or Limits(), clock=Clock())
    action(instrument)
    adapter.close()
    return [c for c in adapter.sent if c != cls.spec.error_query]


def played_on_the_twin(role: str, commands: list[str]) -> None:
    """Every command goes through the simulated instrument without an error."""
    device = World(1).instruments()[role]
    for command in commands:
        device.handle_line(command)
        assert device.errors.pop() == (0, "No error") if role != "thermo" else device.esr == 0, command


SUPPLY = [("VOLT:PROT 1.65,(@3)", None), ("CURR 0.1,(@3)", None), ("OUTP? (@3)", "0"),
          ("VOLT 1.5,(@3)", None), ("OUTP 1,(@3)", None), ("VOLT? (@3)", "+1.500000E+00"),
          ("VOLT:PROT:TRIP? (@3)", "0"), ("MEAS:CURR? (@3)", "+1.0E-04"), ("VOLT:PROT:CLE (@3)", None),
          ("OUTP OFF,(@1:3)", None)]


def test_supply_transcript() -> None:
    def act(supply: KeysightE36312A) -> None:
        ch = supply.ch[3]
        ch.ovp = 1.65
        ch.current = 0.1
        ch.voltage = 1.5                   # off: in one step
        ch.output = True
        assert ch.voltage == 1.5 and not ch.ovp_tripped and ch.measure_current() == 1e-4
        ch.clear_ovp()
        supply.shutdown()
    played_on_the_twin("supply", drive(KeysightE36312A, SUPPLY, act))


def test_supply_ratings_and_limits_are_checked_before_sending() -> None:
    limits = Limits({"vwrite": (0.0, 1.6, "V")}, {"ch3_voltage": "vwrite"})
    supply = KeysightE36312A(Transcript([]), limits=limits, clock=Clock())
    with pytest.raises(OutOfRange, match="voltage = 7 refused before sending; allowed 0 .. 6.18 V"):
        supply.ch[1].voltage = 7                                 # CH1's rating
    with pytest.raises(SafetyLimitError, match="vwrite = 2.0 exceeds the bench safety limit 0 .. 1.6 V"):
        supply.ch[3].voltage = 2.0
    with pytest.raises(KeyError, match="has channels 1, 2, 3; no channel 4"):
        supply.ch[4]


SMU = [("SOUR:FUNC VOLT", None), ("SOUR:VOLT:ILIM 0.001", None), ('FUNC "CURR:DC"', None),
       ("FUNC?", '"CURR:DC"'), ("CURR:NPLC 0.1", None), ("SOUR:VOLT 0.2", None), ("OUTP 1", None),
       ("READ?", "1.000000E-05"), ("OUTP?", "1"), ("SOUR:FUNC?", "VOLT"), ("SOUR:VOLT?", "2.000000E-01"),
       ("SOUR:VOLT 0.15", None), ("SOUR:VOLT 0.1", None), ("SOUR:VOLT 0.05", None), ("SOUR:VOLT 0", None),
       ("OUTP 0", None)]


def test_smu_transcript() -> None:
    def act(smu: Keithley2450) -> None:
        smu.source_voltage_measure_current(current_limit=1e-3, nplc=0.1)
        smu.source_voltage = 0.2
        smu.output = True
        assert smu.read() == 1e-5
        smu.shutdown()                      # ramps to zero in 0.05 V steps, then off
    played_on_the_twin("smu", drive(Keithley2450, SMU, act))


GENERATOR = [("OUTP1 0", None), ("OUTP1:LOAD INF", None), ("SOUR1:FUNC PULS", None), ("OUTP1:POL NORM", None),
             ("SOUR1:FUNC:PULS:PER?", "+1.000000000000000E-03"), ("SOUR1:FUNC:PULS:WIDT 2e-07", None),
             ("SOUR1:FUNC:PULS:PER 2e-06", None), ("SOUR1:VOLT:HIGH?", "+5.000000000000000E-02"),
             ("SOUR1:VOLT:HIGH 0.6", None), ("SOUR1:VOLT:LOW 0", None),
             ("SOUR1:BURS:MODE TRIG", None), ("SOUR1:BURS:NCYC 10", None), ("SOUR1:BURS:STAT 1", None),
             ("TRIG1:SOUR BUS", None), ("OUTP1 1", None), ("*TRG", None), ("*OPC?", "1"),
             ("OUTP1 0", None), ("OUTP2 0", None)]


def test_generator_transcript() -> None:
    def act(gen: Keysight33500) -> None:
        ch = gen.ch[1]
        ch.configure_pulse_burst(amplitude=0.6, width=200e-9, period=2e-6, cycles=10)
        ch.output = True
        gen.trigger()
        gen.shutdown()
    sent = drive(Keysight33500, GENERATOR, act, Limits({"pulse_amplitude": (-1.2, 1.2, "V")}))
    played_on_the_twin("generator", sent)


THERMO = [("SETP 1,350", None), ("RANGE 1,2", None), ("RANGE? 1", "2"), ("SETP? 1", "+350.000"),
          ("RAMP 1,1,5", None), ("KRDG? A", "+298.150"), ("HTR? 1", "+12.5"), ("RANGE 1,0", None),
          ("RANGE 2,0", None)]


def test_temperature_controller_transcript() -> None:
    def act(tc: LakeShore336) -> None:
        loop = tc.ch[1]
        loop.setpoint = 350.0
        loop.heater_range = "medium"
        assert loop.heater_range == "medium" and loop.setpoint == 350.0
        loop.set_ramp(5.0)
        assert tc.temperature("A") == 298.15 and loop.heater_output == 12.5
        tc.shutdown()
    played_on_the_twin("thermo", drive(LakeShore336, THERMO, act))


def test_temperature_controller_errors_come_from_the_status_register() -> None:
    adapter = Transcript([("NOSUCH 1", None)], "*ESR?")
    adapter.query = lambda command: "32" if command == "*ESR?" else "" + str(adapter._next(command))
    tc = LakeShore336(adapter, clock=Clock())
    with pytest.raises(CommandError, match="-100, command error \\(ESR=32\\)"):
        tc.write("NOSUCH 1")


DMM = [('FUNC "FRES"', None), ("FRES:NPLC 1", None), ("READ?", "+1.108920000E+03"),
       ("MEAS:RES?", "+1.108915000E+03"), ("MEAS:VOLT:DC?", "+1.200000000E-06")]


def test_dmm_transcript() -> None:
    def act(dmm: Keysight34465A) -> None:
        dmm.configure_resistance(four_wire=True, nplc=1)
        assert dmm.read() == pytest.approx(1108.92) and dmm.measure_resistance() == pytest.approx(1108.915)
        assert dmm.measure_voltage_dc() == pytest.approx(1.2e-6)
    played_on_the_twin("dmm", drive(Keysight34465A, DMM, act))
    with pytest.raises(OutOfRange, match="fres_nplc"):
        Keysight34465A(Transcript([('FUNC "FRES"', None)]), clock=Clock()).configure_resistance(four_wire=True,
                                                                                              nplc=1000)


@pytest.mark.parametrize("role", ["supply", "smu", "generator", "thermo", "dmm"])
def test_every_setting_of_a_command_set_reads_back_on_the_twin(role) -> None:
    """What a driver would send for each quantity (its manual syntax) sets and reads back on the twin."""
    from benchspec.models import COMMAND_SETS
    spec = COMMAND_SETS[role]
    device = World(1).instruments()[role]
    for q in spec.quantities:
        if not q.settable:
            continue
        value = {"bool": "1", "choice": next(iter((q.choices or {}).values()), ""), "int": "3"}.get(q.kind)
        if value is None:                   # its value at reset, or just inside its range
            value = repr(float(q.default if isinstance(q.default, float) else (q.low or 0.0) + 1e-3))
        command = q.command(False).format(ch=spec.channels[0] if spec.channels else "", value=value)
        device.handle_line(command)
        reply = device.handle_line(q.command(True).format(ch=spec.channels[0] if spec.channels else ""))
        assert reply is not None, (command, device.errors.pop() if role != "thermo" else device.esr)
        if role != "thermo":
            assert device.errors.pop() == (0, "No error"), command

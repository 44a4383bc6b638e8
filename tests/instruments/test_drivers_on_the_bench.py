"""Each driver against the coupled simulated bench, over pyvisa-py TCPIP::127.0.0.1::<port>::SOCKET."""

from __future__ import annotations

import numpy as np
import pytest

from instruments.errors import CommandError
from instruments.keithley_2450 import Keithley2450
from instruments.keysight_33500 import Keysight33500
from instruments.keysight_34465a import Keysight34465A
from instruments.keysight_e36312a import KeysightE36312A
from instruments.lakeshore_336 import LakeShore336
from instruments.mx64_board import MX64Board
from instruments.scpi import VisaAdapter
from labctl.clock import RemoteVirtualClock
from sim_chip.bench import World, Wiring
from sim_chip.bench.serve import BenchServer


@pytest.fixture(scope="module")
def served():
    world = World(6, wiring=Wiring(smu="test_mtj"))
    with BenchServer(world, pty=False) as server:
        yield server


def visa(served: BenchServer, role: str, terminator: str = "\n") -> VisaAdapter:
    resource = served.resources()[role]
    assert resource.startswith("TCPIP::127.0.0.1::") and resource.endswith("::SOCKET")
    return VisaAdapter(resource, read_termination=terminator)


def test_supply_powers_the_chip_over_the_wire(served: BenchServer) -> None:
    supply = KeysightE36312A(visa(served, "supply"))
    assert supply.check_model().model == "E36312A"
    for ch, volts in ((2, 1.8), (1, 0.9), (3, 1.5)):
        supply.ch[ch].voltage = volts
        supply.ch[ch].output = True
    with MX64Board(served.resources()["board"]) as board:
        board.power_on()
        board.write_array(np.ones((64, 64)))
        supply.ch[3].measure_current()
        board.write_array(-np.ones((64, 64)))
        assert supply.ch[3].measure_current() > 1e-6          # writes draw from V_WRITE
        assert supply.ch[1].measure_voltage() == pytest.approx(0.9)
        supply.ch[1].output = False
        with pytest.raises(CommandError, match="not powered") as off:
            board.mac(np.ones(64))
        assert off.value.code == -241
    with pytest.raises(CommandError, match=r"-222, Data out of range; voltage 9 outside 0 to 6.18"):
        supply.write("VOLT 9,(@1)")
    supply.close()


def test_smu_measures_the_test_mtj(served: BenchServer) -> None:
    smu = Keithley2450(visa(served, "smu"))
    assert smu.check_model().model == "MODEL 2450"
    smu.source_voltage_measure_current(current_limit=1e-3)
    smu.source_voltage = 0.05
    smu.output = True
    resistance = 0.05 / smu.read()
    assert 6e3 < resistance < 35e3                          # one MTJ plus pads
    smu.sense_function = "RES"
    assert smu.read() == pytest.approx(resistance, rel=0.01)
    smu.close()
    assert served.world.smu.output_on() is False


def test_generator_switches_the_test_mtj(served: BenchServer) -> None:
    gen = Keysight33500(visa(served, "generator"))
    assert gen.check_model().model == "33622A"
    mtj = served.world.chip.test_mtj
    gen.ch[1].configure_pulse_burst(amplitude=-1.0, width=1e-6, period=10e-6, cycles=1)
    gen.ch[1].output = True
    gen.trigger()
    assert not mtj.is_ap                                    # a hard negative pulse: P
    gen.ch[1].configure_pulse_burst(amplitude=1.0, width=1e-6, period=10e-6, cycles=1)
    gen.ch[1].output = True
    gen.trigger()
    assert mtj.is_ap                                        # a hard positive pulse: AP
    gen.close()


def test_temperature_controller_heats_the_die_in_virtual_time(served: BenchServer) -> None:
    tc = LakeShore336(visa(served, "thermo", "\r\n"))
    clock = RemoteVirtualClock(visa(served, "clock"))
    assert tc.check_model().model == "MODEL336"
    start = clock.now()
    tc.ch[1].setpoint = 350.0
    tc.ch[1].heater_range = "medium"
    tc.clock = clock
    waited = tc.wait_for_temperature(350.0, tolerance=0.2, poll=30.0)
    assert 120.0 <= waited <= 900.0                       # a first-order lag of one minute
    assert clock.now() - start >= waited                  # virtual time passed, at once
    assert tc.temperature("A") == pytest.approx(350.0, abs=0.2)
    assert served.world.chip.temperature == pytest.approx(tc.temperature("A"), abs=0.01)
    assert 0 < tc.ch[1].heater_output <= 100
    tc.close()                                              # heaters off
    clock.sleep(1200.0)
    assert served.world.chip.temperature < 300.0
    clock.close()


def test_dmm_reads_the_sensor(served: BenchServer) -> None:
    dmm = Keysight34465A(visa(served, "dmm"))
    assert dmm.check_model().model == "34465A"
    t = served.world.chip.temperature - 273.15
    expected = 1000 * (1 + 3.9083e-3 * t - 5.775e-7 * t * t)
    assert dmm.measure_resistance(four_wire=True) == pytest.approx(expected, rel=1e-4)
    dmm.close()

"""Another project's drivers (PyMeasure) work against our simulated instruments.

Our simulated instruments implement the vendors' SCPI, not our drivers' habits:
PyMeasure's own drivers for the same models drive them over pyvisa-py.
"""

from __future__ import annotations

import pytest

from sim_chip.bench import World
from sim_chip.bench.serve import BenchServer

pymeasure = pytest.importorskip("pymeasure")


@pytest.fixture(scope="module")
def served():
    world = World(9)
    with BenchServer(world, pty=False) as server:
        yield server


def test_pymeasure_keithley_2450(served: BenchServer) -> None:
    from pymeasure.instruments.keithley import Keithley2450

    world = served.world
    world.chip.set_rails(vdd=0.9, vddio=1.8, vwrite=1.5)            # powered, so the test pad connects
    world.board.set_register("test_mux", 7)
    smu = Keithley2450(served.resources()["smu"], read_termination="\n", timeout=5000)
    assert "MODEL 2450" in smu.id
    smu.apply_voltage(compliance_current=1e-3)
    smu.measure_current()
    smu.source_voltage = 0.1
    smu.enable_source()
    current = smu.current
    column = world.chip.test_pad_resistance(0.1)
    assert current == pytest.approx(0.1 / column, rel=0.01)
    smu.disable_source()
    assert smu.source_enabled is False and world.smu.output_on() is False
    assert not world.smu.errors                                   # every command was understood


def test_pymeasure_keysight_e36312a(served: BenchServer) -> None:
    from pymeasure.instruments.keysight import KeysightE36312A

    world = served.world
    supply = KeysightE36312A(served.resources()["supply"], read_termination="\n", timeout=5000)
    assert "E36312A" in supply.id
    supply.ch_3.voltage_setpoint = 1.4
    supply.ch_3.output_enabled = True
    assert supply.ch_3.voltage == pytest.approx(1.4)
    assert world.chip.rails["vwrite"] == pytest.approx(1.4)
    supply.ch_3.output_enabled = False
    assert supply.ch_3.output_enabled is False and world.chip.rails["vwrite"] == 0.0
    assert not world.supply.errors


def test_pymeasure_agilent_33500(served: BenchServer) -> None:
    from pymeasure.instruments.agilent import Agilent33500

    world = served.world
    gen = Agilent33500(served.resources()["generator"], read_termination="\n", timeout=5000)
    assert "33622A" in gen.id
    gen.shape = "PULS"
    gen.pulse_period = 1e-5
    gen.pulse_width = 1e-6
    assert gen.shape == "PULS" and gen.pulse_width == pytest.approx(1e-6)
    assert world.generator.value("pulse_width", 1) == pytest.approx(1e-6)
    assert not world.generator.errors


def test_pymeasure_agilent_34410a(served: BenchServer) -> None:
    """PyMeasure's 34410A driver (the 344xx family's common SCPI) on our 34465A."""
    from pymeasure.instruments.agilent import Agilent34410A

    world = served.world
    dmm = Agilent34410A(served.resources()["dmm"], read_termination="\n", timeout=5000)
    assert "34465A" in dmm.id
    ohms = dmm.resistance_4w
    assert world.dmm.value("function") == "FRES" and world.dmm.value("fres_range_auto") is True
    assert 900 < ohms < 1300                                      # the board's PT1000 near room temperature
    assert abs(dmm.voltage_dc) < 1e-4                             # nothing on the input
    assert not world.dmm.errors

"""QCoDeS's drivers for the same models work against our simulated instruments.

Each driver is constructed (its own initialisation queries run), changes a
setting away from its default and back, takes a reading, and leaves nothing
in the simulated instrument's error queue: every command it sent was one the
model's manual defines.
"""

from __future__ import annotations

import pytest
from qcodes.instrument import Instrument
from qcodes.instrument_drivers.Keithley import Keithley2450
from qcodes.instrument_drivers.Keysight import Keysight34465A
from qcodes.instrument_drivers.Lakeshore import LakeshoreModel336

from sim_chip.bench import World
from sim_chip.bench.serve import BenchServer


def synced(instrument: Instrument) -> Instrument:
    """The instrument once everything written to it has been executed (writes do not wait)."""
    assert instrument.ask("*OPC?") == "1"
    return instrument


@pytest.fixture(scope="module")
def served():
    world = World(11)
    with BenchServer(world, pty=False) as server:
        yield server
    Instrument.close_all()


def test_qcodes_keithley_2450(served: BenchServer) -> None:
    world = served.world
    world.chip.set_rails(vdd=0.9, vddio=1.8, vwrite=1.5)
    world.board.set_register("test_mux", 7)
    smu = Keithley2450("qc_smu", served.resources()["smu"], visalib="@py", terminator="\n")
    try:
        assert smu.IDN()["model"] == "2450"
        smu.source.function("voltage")
        smu.sense.function("current")
        synced(smu)
        assert world.smu.value("sense_function") == "CURR:DC"
        smu.source.limit(1e-3)
        synced(smu)
        assert world.smu.value("current_limit") == pytest.approx(1e-3)
        smu.source.voltage(0.1)
        smu.output_enabled(True)
        assert synced(smu) and world.smu.output_on()
        current = smu.sense.current()
        assert current == pytest.approx(0.1 / world.chip.test_pad_resistance(0.1), rel=0.01)
        assert smu.source.limit_tripped() is False
        smu.source.limit(1e-9)                          # far below what the pad draws: in compliance
        assert abs(smu.sense.current()) == pytest.approx(1e-9) and smu.source.limit_tripped() is True
        smu.source.limit(1e-3)
        smu.sense.nplc(0.1)
        synced(smu)
        assert world.smu.value("current_nplc") == pytest.approx(0.1)
        smu.sense.nplc(1.0)
        smu.output_enabled(False)
        assert synced(smu) and not world.smu.output_on()
        assert synced(smu) and not world.smu.errors
    finally:
        smu.close()


def test_qcodes_keysight_34465a(served: BenchServer) -> None:
    world = served.world
    dmm = Keysight34465A("qc_dmm", served.resources()["dmm"], visalib="@py", terminator="\n")
    try:
        assert dmm.IDN()["model"] == "34465A" and dmm.has_DIG
        dmm.sense_function("4 Wire Resistance")
        synced(dmm)
        assert world.dmm.value("function") == "FRES"
        dmm.NPLC(1.0)
        synced(dmm)
        assert world.dmm.value("fres_nplc") == pytest.approx(1.0)
        dmm.NPLC(10.0)
        assert dmm.NPLC() == pytest.approx(10.0)
        dmm.sense_function("DC Voltage")
        assert abs(dmm.volt()) < 1e-4                  # open input
        dmm.display.text("labctl")
        synced(dmm)
        assert world.dmm.value("display_text") == "labctl"
        dmm.display.clear()
        synced(dmm)
        assert world.dmm.value("display_text") == ""
        assert synced(dmm) and not world.dmm.errors
    finally:
        dmm.close()


def test_qcodes_lakeshore_336(served: BenchServer) -> None:
    world = served.world
    tc = LakeshoreModel336("qc_tc", served.resources()["thermo"], visalib="@py")
    try:
        assert tc.IDN()["model"] == "336"
        kelvin = tc.A.temperature()
        assert kelvin == pytest.approx(world.chuck.temperature, abs=0.5)
        tc.output_1.setpoint(350.0)
        synced(tc)
        assert world.thermo.value("setpoint", 1) == pytest.approx(350.0)
        tc.output_1.output_range("high")
        assert tc.output_1.output_range() == "high"
        tc.output_1.output_range("off")
        tc.output_1.setpoint(300.0)
        assert synced(tc) and not world.thermo.errors
    finally:
        tc.close()

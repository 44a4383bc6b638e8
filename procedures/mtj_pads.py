"""Plans for the stand-alone test MTJ: the SMU and the pulse generator on its pads.

The SMU reads the MTJ in series with the pads' resistance; the generator
(50 ohm source) drives it through the same pads, so the MTJ itself gets
amplitude * R_mtj / (R_mtj + R_pads + 50 ohm) of an open-circuit (high-Z)
pulse amplitude.
"""

from __future__ import annotations

from labctl.plan import Call, Plan, Read, Set

GENERATOR_SOURCE_OHM = 50.0     # the generator's output impedance


def smu_on(read_bias: float, nplc: float) -> Plan:
    """The SMU sourcing the read bias (V) with a 1 mA current limit, output on."""
    yield Call("smu.source_voltage_measure_current", current_limit=1e-3, nplc=nplc)
    yield Set("smu.source_voltage", read_bias)
    yield Set("smu.output", True)


def resistance(bias: float, pad_ohm: float) -> Plan:
    """MTJ resistance (pads subtracted), ohm, read with the SMU at ``bias`` (V) already applied."""
    return bias / (yield Read("smu.read")) - pad_ohm


def resistance_at(volts: float, read_bias: float, pad_ohm: float) -> Plan:
    """Apply ``volts`` (V) with the SMU, read the MTJ there (ohm), return to the read bias."""
    yield Set("smu.source_voltage", volts)
    ohm = yield from resistance(volts, pad_ohm)
    yield Set("smu.source_voltage", read_bias)
    return ohm


def mtj_share(amplitude: float, r_mtj: float, pad_ohm: float) -> float:
    """Voltage the MTJ itself gets from a generator amplitude (open-circuit, high-Z setting), V."""
    return amplitude * r_mtj / (r_mtj + pad_ohm + GENERATOR_SOURCE_OHM)


def arm_pulses(amplitude: float, width: float, cycles: int = 1) -> Plan:
    """Generator CH1: bursts of ``cycles`` pulses of ``amplitude`` (V) and ``width`` (s) per trigger."""
    yield Call("generator.ch1.configure_pulse_burst", amplitude=amplitude, width=width,
               period=max(10 * width, 1e-6), cycles=cycles)
    yield Set("generator.ch1.output", True)


def fire() -> Plan:
    yield Call("generator.trigger")


def release() -> Plan:
    """Generator off, SMU to zero and off."""
    yield Set("generator.ch1.output", False)
    yield Call("smu.shutdown")

"""The simulated bench is one coupled world: what the instruments do, the chip feels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from instruments.errors import CommandError
from labctl.bench import default_bench
from sim_chip import switching


def test_supply_off_makes_the_chip_unpowered() -> None:
    with default_bench(5) as bench:
        bench.power_up()
        bench.chip.mac(np.ones(64))
        bench.supply.ch[bench.wiring.vddio].output = False
        with pytest.raises(CommandError) as info:
            bench.chip.mac(np.ones(64))
        assert info.value.code == -241 and "VDDIO = 0 V" in info.value.message


def test_supply_current_follows_chip_activity() -> None:
    """The VDD channel reads the static current idle, and with 400k random MACs the laws' energy per vector
    (tests/sim_chip/datasheet.py: 32 toggles on average, the codes read, each column's own delay at MAC = 0)
    over the reading's window."""
    from datasheet import circuit_constants, column_delays_at_mac0, mac_energy_blocks
    with default_bench(5) as bench:
        bench.power_up()
        chip = bench.world.chip
        chip.write_array(np.random.default_rng(1).choice(np.array([-1, 1], np.int8), (64, 64)))
        vdd = bench.supply.ch[bench.wiring.vdd]
        vdd.measure_current()
        bench.wait(1.0)
        idle = vdd.measure_current()
        vdd.measure_current()
        start = bench.world.now
        n = 400_000
        x = np.random.default_rng(0).choice(np.array([-1, 1], np.int8), (n, 64))
        codes = bench.chip.mac_batch(x)
        busy = vdd.measure_current()
        window = bench.world.now - start                       # the MACs and the reading's own 20 ms
    p = chip.params
    static = p.energy.static_current_vdd
    assert idle == pytest.approx(static, rel=1e-6, abs=0)
    die = chip.die
    _, v_th, i_ref = circuit_constants(p)
    per_vector = sum(mac_energy_blocks(p, 0.9, 1, 32, codes.sum() / n, column_delays_at_mac0(die, p),
                                       float(chip.tdc_start.max()), die.column_capacitance, v_th + die.comparator_offset,
                                       i_ref * (1 + die.reference_mismatch)).values())
    assert window == pytest.approx(n / p.defaults.clock_hz + 0.02, rel=1e-6)
    assert busy == pytest.approx(static + n * per_vector / 0.9 / window, rel=0.01, abs=0)


def measured_tmr(bench, volts: float = 0.02) -> float:
    """TMR of the test MTJ from SMU readings in P and in AP (generator pulses switch it)."""
    smu, gen = bench.smu, bench.generator.ch[1]

    def resistance() -> float:
        return volts / smu.read()

    def pulse(amplitude: float) -> None:
        gen.configure_pulse_burst(amplitude=amplitude, width=10e-6, period=100e-6)
        gen.output = True
        bench.generator.trigger()

    pulse(-1.0)
    r_p = resistance()
    pulse(1.0)
    r_ap = resistance()
    return (r_ap - r_p) / r_p


def test_higher_temperature_lowers_the_tmr_the_smu_measures() -> None:
    with default_bench(7, smu="test_mtj") as bench:
        bench.smu.source_voltage_measure_current(current_limit=1e-3)
        bench.smu.source_voltage = 0.02
        bench.smu.output = True
        cold = measured_tmr(bench)
        bench.thermo.ch[1].setpoint = 400.0
        bench.thermo.ch[1].heater_range = "high"
        bench.thermo.wait_for_temperature(400.0, tolerance=0.1, poll=60.0)
        hot = measured_tmr(bench)
        v, pad = bench.world.chip.test_mtj._v, 50.0
        assert cold == pytest.approx((v["r_ap"] - v["r_p"]) / (v["r_p"] + pad), rel=0.02)  # this die's MTJ
        assert hot == pytest.approx(cold * (1 - 0.0015 * (400 - 298.15)), rel=0.03)        # -0.15 %/K


def test_generator_pulses_flip_the_test_mtj_with_the_model_probability() -> None:
    """The generator (50 ohm source, high-Z levels) drives the MTJ through the pads (50 ohm): the MTJ gets
    amplitude * R_P / (R_P + 100 ohm).  800 pulses at the amplitude that the datasheet's thermal law says
    switches 1 - 1/e of them: a divider off by the source's 50 ohm (0.5 % of the voltage) moves that by
    ~5 standard deviations."""
    with default_bench(8, smu="test_mtj") as bench:
        world = bench.world
        mtj = world.chip.test_mtj
        v = mtj._v
        smu, gen = bench.smu, bench.generator.ch[1]
        smu.source_voltage_measure_current(current_limit=1e-3, nplc=0.1)
        smu.source_voltage = 0.02
        smu.output = True
        width, trials = 10e-6, 800
        v_mtj = v["vc0_p_to_ap"] * (1 - math.log(width / 1e-9) / v["delta"])      # tau = width
        pad = world.chip.params.readout.test_pad_resistance
        amplitude = v_mtj * (v["r_p"] + pad + 50.0) / v["r_p"]                    # open circuit, 50 ohm source
        dev = world.chip.params.device
        out_of_p = v["delta_retention"] * (1 + dev.stray_field_ratio) ** 2
        expected = float(switching.switching_probability(v_mtj / v["vc0_p_to_ap"], width, v["delta"], out_of_p,
                                                         dev))                   # in P: I/Ic0 = V/Vc0
        assert expected == pytest.approx(1 - math.exp(-1), abs=0.002)          # the datasheet's law, here
        assert v["vc0_p_to_ap"] == pytest.approx(v["ic0_p_to_ap"] * v["r_p"], rel=1e-12)
        switched = 0
        for _ in range(trials):
            gen.configure_pulse_burst(amplitude=-1.0, width=10e-6, period=100e-6)   # reset to P
            gen.output = True
            bench.generator.trigger()
            assert 0.02 / smu.read() < 15e3
            gen.configure_pulse_burst(amplitude=amplitude, width=width, period=100e-6)
            gen.output = True
            bench.generator.trigger()
            switched += 0.02 / smu.read() > 15e3
        sigma = math.sqrt(expected * (1 - expected) / trials)
        assert abs(switched / trials - expected) < 3.5 * sigma

"""Bench configuration, safety limits, virtual time and safe shutdown."""

from __future__ import annotations

import numpy as np
import pytest

from instruments.errors import CommandError, SafetyLimitError
from labctl.bench import BenchConfigError, SafetyLimits, default_bench, load_bench, write_bench_file


def test_a_destructive_write_voltage_is_refused_and_the_chip_is_unharmed() -> None:
    with default_bench(2) as bench:
        bench.power_up()
        chip = bench.world.chip
        broken = chip.broken_mtjs
        bench.chip.write_array(np.ones((64, 64)))
        with pytest.raises(SafetyLimitError, match="supply CH3: vwrite = 3.0 exceeds the bench safety limit 0 .. 1.6 V"):
            bench.supply.ch[bench.wiring.vwrite].voltage = 3.0      # what a buggy procedure might ask
        assert chip.rails["vwrite"] == 1.5                          # nothing was sent
        bench.chip.write_array(-np.ones((64, 64)))
        assert chip.broken_mtjs == broken
        assert bench.supply.ch[3].ovp == pytest.approx(1.65)        # and the supply's OVP backs the limit up


def test_the_supply_trips_on_its_ovp_even_past_the_driver() -> None:
    with default_bench(2) as bench:
        bench.power_up()
        bench.supply.write("VOLT 2.5,(@3)")                        # raw SCPI, around the driver's check
        assert bench.supply.ch[3].ovp_tripped
        assert bench.supply.ch[3].output is False                  # a trip latches the output off (OUTP? 0)
        assert bench.world.chip.rails["vwrite"] == 0.0
        with pytest.raises(CommandError, match="-221.*protection tripped"):
            bench.supply.ch[3].output = True                       # not on again until cleared


def test_a_tripped_protection_is_found_before_power_up_and_says_what_to_do(capsys) -> None:
    from labctl.bench import BenchStateError
    with default_bench(2) as bench:
        bench.power_up()
        bench.supply.write("VOLT 2.5,(@3)")
        with pytest.raises(BenchStateError, match="CH3 \\(vwrite\\): over-voltage protection tripped.*"
                                                  "labctl bench check --clear-protection"):
            bench.power_up()
        assert bench.clear_protection() == [3]
        assert bench.supply.ch[3].output is False                  # cleared, still off
        bench.power_up()
        assert bench.world.chip.powered and bench.world.chip.rails["vwrite"] == 1.5


def test_bench_check_reports_and_clears_a_tripped_protection(served_bench_file, capsys) -> None:
    from labctl.cli import main
    with served_bench_file(3) as (world, path):
        with load_bench(path) as bench:
            bench.power_up()
            bench.supply.write("VOLT 2.5,(@3)")
        assert main(["bench", "check", "--bench", str(path)]) == 2
        assert "over-voltage protection tripped" in capsys.readouterr().err
        assert main(["bench", "check", "--bench", str(path), "--clear-protection"]) == 0
        assert "cleared the over-voltage protection of CH3" in capsys.readouterr().out
        assert not world.supply.value("ovp_tripped", 3)


def test_limits_are_configurable_per_bench() -> None:
    with default_bench(2, limits=SafetyLimits(smu_voltage_max=0.2)) as bench:
        with pytest.raises(SafetyLimitError, match="smu_voltage"):
            bench.smu.source_voltage = 0.5
        bench.smu.source_voltage = 0.15


def test_temperature_ceiling() -> None:
    with default_bench(2) as bench:
        with pytest.raises(SafetyLimitError, match="temperature = 500.0"):
            bench.thermo.ch[1].setpoint = 500.0
        assert bench.world.thermo.setpoint[1] == pytest.approx(298.15)


def test_leaving_the_bench_on_an_exception_turns_every_output_off() -> None:
    with pytest.raises(RuntimeError, match="procedure bug"):
        with default_bench(3, smu="test_mtj") as bench:
            world = bench.world
            bench.power_up()
            bench.smu.source_voltage = 0.2
            bench.smu.output = True
            bench.generator.ch[1].output = True
            bench.thermo.ch[1].setpoint = 330.0
            bench.thermo.ch[1].heater_range = "low"
            raise RuntimeError("procedure bug")
    assert not world.supply.outputs_on
    assert world.smu.output_on() is False and world.smu.value("source_voltage") == 0.0
    assert not world.generator.output_on(1)
    assert world.thermo.range[1] == 0
    assert not world.chip.powered


def test_virtual_waits_take_no_real_time() -> None:
    import time
    with default_bench(4) as bench:
        start, t0 = bench.clock.now(), time.perf_counter()
        bench.wait(100 * 3600.0)                                   # a 100-hour bake
        assert bench.clock.now() - start == pytest.approx(100 * 3600.0)
        assert time.perf_counter() - t0 < 5.0
        assert bench.virtual


def test_unpowered_chip_reports_through_the_interface() -> None:
    with default_bench(4) as bench:
        with pytest.raises(CommandError, match="VDD = 0 V") as info:
            bench.chip.power_on()                                   # the supply is still off
        assert info.value.code == -241


@pytest.mark.parametrize("text, message", [
    ("[chip]\nresource = 'sim'\n[wiring]\nvdd = 1\nvddio = 1\nvwrite = 3\n", "[wiring] vdd, vddio and vwrite need supply channels 1, 2 and 3, one each"),
    ("[chip]\nresource = 'sim'\n[limits]\nvwrite_maximum = 1.0\n",
     "[limits] unknown key 'vwrite_maximum' (did you mean 'vwrite_max'?)"),
    ("[chip]\nresource = 'sim'\n[limits]\nvwrite_max = 'high'\n", "[limits] vwrite_max = 'high' is not a number (V)"),
    ("[chip]\nresource = 'sim'\n[limits]\nvwrite_max = 5.0\n",
     "[limits] vwrite_max = 5 V exceeds the chip's absolute maximum rating 1.8 V"),
    ("[chip]\nresource = 'sim'\n[limits]\ntemperature_max = true\n", "temperature_max = True is not a number (K)"),
    ("[chip]\nresource = 'sim'\n[rails]\nvwrite = 1.7\n", "[rails] vwrite = 1.7 V is outside 0 .. 1.6 V"),
    ("[chip]\nresource = 'sim'\n[wiring]\nsmu = 'test_mjt'\n", "(did you mean 'test_mtj'?)"),
    ("[chip]\nresource = 'sim'\n[wires]\nsmu = 'test_mtj'\n", "unknown section [wires] (did you mean 'wiring'?)"),
    ("[chip]\nresource = 'sim'\n[instruments.smu]\ndriver = 'keithley2450'\nresource = 'x'\n",
     "(did you mean 'keithley_2450'?)"),
    ("[wiring]\nsmu = 'test_pad'\n", "[chip] resource is missing"),
    ("[chip]\nresource = 'sim'\n[clock]\nkind = 'sundial'\n", "kind must be 'wall' or 'virtual'"),
    ("[chip\nresource = 'sim'\n", "not valid TOML"),
    ("[chip]\nresource = 'sim'\n[instruments.smu]\ndriver = 'keithley_2450'\n", "[instruments.smu] resource is missing"),
])
def test_bad_bench_files_name_the_key(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bench.toml"
    path.write_text(text)
    with pytest.raises(BenchConfigError) as info:
        load_bench(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_a_binary_bench_file_is_named_and_how_to_get_one_said(tmp_path) -> None:
    path = tmp_path / "bench.toml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(BenchConfigError, match="not a text file") as info:
        load_bench(path)
    assert str(path) in str(info.value) and "labctl sim serve --write-bench FILE" in str(info.value)


def test_a_written_bench_file_loads(tmp_path) -> None:
    path = tmp_path / "bench.toml"
    write_bench_file(path, chip="sim:5", instruments={}, clock=None, note="chip only")
    with load_bench(path) as bench:
        assert bench.instruments == {} and not bench.virtual
        assert bench.chip.identify().die_id.startswith("MX64-")
        with pytest.raises(BenchConfigError, match="has no supply"):
            bench.supply

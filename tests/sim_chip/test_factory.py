"""The factory calibration of the power-up windows: measured through the readout, never read from the die."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from labctl.inprocess import simulated_chip
from sim_chip import MX64, ChipParameters
from sim_chip.factory import calibrate

FACTORY = Path(__file__).resolve().parents[2] / "sim_chip" / "factory.py"


class Port:
    """Only the readout's interface of a chip (the board's driver here): what the calibration may use."""

    def __init__(self, chip) -> None:
        self._chip = chip
        self.calls: list[str] = []

    def write_array(self, weights: np.ndarray) -> None:
        self.calls.append("write_array")
        self._chip.write_array(weights)

    def set_tdc_window(self, start: float, lsb: float, column: int | None = None) -> None:
        self.calls.append("set_tdc_window")
        self._chip.set_tdc_window(start, lsb, column)

    def mac_batch(self, x: np.ndarray) -> np.ndarray:
        self.calls.append("mac_batch")
        return self._chip.mac_batch(x)


def test_a_host_measurement_through_the_chip_interface_gives_the_factory_windows() -> None:
    """The calibration run by a host through the board's command protocol (the die's own noise) places every
    column's window where the factory did (the tester's noise): the estimates differ by the noise of a mean of
    512 reads of ~0.45 ns (~0.03 ns) and the start DAC's 1/64 ns, not bit for bit."""
    board = simulated_chip(5)
    board.power_on()
    fused = np.array(board.tdc_start)
    port = Port(board)
    measured = calibrate(port, 0.0, 0.4e-9)
    assert set(port.calls) == {"write_array", "set_tdc_window", "mac_batch"}
    differ = np.abs(measured - fused)
    assert np.median(differ) < 0.05e-9 and differ.max() < 0.16e-9 and not np.array_equal(measured, fused)
    assert np.allclose(fused, MX64(5).tdc_start, rtol=0, atol=0)              # the fuse table is the die's


def test_the_calibration_code_never_touches_the_die() -> None:
    """sim_chip/factory.py names nothing of the die's truth (its resistances, offsets, capacitances, states) and
    imports neither the die nor the chip: it gets a port with three readout methods, nothing else."""
    tree = ast.parse(FACTORY.read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
        {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    truth = {"die", "r_p", "r_ap", "r_fet", "comparator_offset", "column_capacitance", "reference_mismatch",
             "offset_drift", "_ap", "_broken", "fabricate", "delta", "ic0_p_to_ap"}
    assert not names & truth
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not imported & {"macro", "die", "readout", "kernel"}
    calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and isinstance(n.func.value, ast.Name) and n.func.value.id == "port"}
    assert calls == {"write_array", "set_tdc_window", "mac_batch"}


def test_the_factory_windows_follow_the_die_as_measured() -> None:
    """Two dies of one seed, one built with its comparator offsets moved by +3 mV (a map): the factory places the
    second one's windows later, by the offset over each node's slope at MAC = 0 (~2.8 ns), as measured."""
    from datasheet import circuit_constants, slope
    from sim_chip.die import DieMaps
    plain = MX64(6)
    shifted = MX64(6, maps=DieMaps(comparator_offset=plain.die.comparator_offset + 3e-3))
    p = ChipParameters()
    d = p.device
    _, v_th, i_ref = circuit_constants(p)
    s = slope(64 * (d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean)), p)
    moved = shifted.tdc_start - plain.tdc_start
    assert np.median(moved) == np.clip(np.median(moved), 0.8 * 3e-3 / s, 1.2 * 3e-3 / s)
    assert np.all(moved > 1e-9)

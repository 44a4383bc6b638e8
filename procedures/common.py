"""Helpers every procedure shares: power, the write rail, plotting."""

from __future__ import annotations

from typing import Any

import matplotlib

from labctl.procedure import ParameterError

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CLOCK_HZ = 11.1e6   # nominal chip clock, for duration estimates


def ensure_powered(bench: Any) -> None:
    """Power the chip up: through the bench supply if there is one, else the board's regulators."""
    if bench.chip.is_powered():
        return
    if "supply" in bench.instruments:
        bench.power_up()
    else:
        bench.chip.power_on()


def write_voltage(bench: Any) -> float:
    """The write rail's programmed voltage, V."""
    if "supply" in bench.instruments:
        return bench.supply.ch[bench.wiring.vwrite].voltage
    return bench.chip.write_voltage()


def set_write_voltage(bench: Any, volts: float) -> None:
    """Set the write rail (the supply's V_WRITE channel, or the board's regulator), V."""
    if "supply" in bench.instruments:
        bench.supply.ch[bench.wiring.vwrite].voltage = volts
    else:
        bench.chip.set_write_voltage(volts)


def float_list(params: dict, name: str) -> list[float]:
    """A comma-separated text parameter as numbers; ParameterError naming it otherwise."""
    try:
        values = [float(v) for v in str(params[name]).split(",") if v.strip()]
    except ValueError:
        raise ParameterError(f"parameter {name}: {params[name]!r} is not a comma-separated list of numbers") \
            from None
    if not values:
        raise ParameterError(f"parameter {name}: empty list")
    return values


def figure(rows: int = 1, cols: int = 1, width: float = 6.0, height: float = 4.0):
    """A matplotlib figure and axes for a run plot (laid out so labels do not overlap)."""
    return plt.subplots(rows, cols, figsize=(width, height), layout="constrained")

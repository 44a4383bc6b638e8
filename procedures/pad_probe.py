"""The analog test pad: the SMU reading a column that the test multiplexer routes out."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np


class ColumnReader:
    """Resistances of a routed column (ohm) for held row inputs, at a fixed SMU bias."""

    def __init__(self, bench: Any, bias: float) -> None:
        self.chip, self.smu, self.bias = bench.chip, bench.smu, bias

    def route(self, column: int) -> None:
        self.chip.select_test_mux(column)

    def ohm(self, x: np.ndarray, readings: int = 1) -> float:
        """Hold inputs ``x`` and average ``readings`` SMU readings, ohm (multiplexer included)."""
        self.chip.hold_input(x)
        return float(np.mean([self.bias / self.smu.read() for _ in range(readings)]))


@contextmanager
def column_probe(bench: Any, bias: float, nplc: float, ramp: bool = False) -> Iterator[ColumnReader]:
    """SMU sourcing ``bias`` (V) into the pad and reading current; off and pad disconnected on leaving."""
    smu = bench.smu
    smu.source_voltage_measure_current(current_limit=1e-3, nplc=nplc)
    if ramp:
        smu.ramp_voltage(bias)
    else:
        smu.source_voltage = bias
    smu.output = True
    try:
        yield ColumnReader(bench, bias)
    finally:
        smu.shutdown()
        bench.chip.select_test_mux(None)

"""The stand-alone test MTJ: one MTJ brought out to two pads.

Passive (it needs no chip power).  An SMU biases it and measures its
resistance; a waveform generator's pulses switch it.  Positive voltage
drives P->AP, negative AP->P.

Its thermally activated switching, biased or not, is the same uniformised
two-state Poisson process as the array's retention (:mod:`sim_chip.flips`):
rates a (P->AP) and b (AP->P) at the applied bias, events on its own
intensity axis, so idle time and long biases give the same state however
they are split.  Precessional switching (above Vc0) and read noise draw
uniforms keyed on the absolute model time and the order of operations at
that instant, never on a count of all operations.
"""

from __future__ import annotations

from statistics import NormalDist
from collections.abc import Callable

import numpy as np

from . import physics, switching
from .events import EventGrid
from .parameters import ChipParameters
from .rng import hash_uniform

_CELL = np.zeros(1, np.int64)


class TestMTJ:
    """State and physics of the test structure."""

    __test__ = False  # not a pytest class

    def __init__(self, keys: dict[str, int], values: dict[str, float], params: ChipParameters,
                 clock: Callable[[], float]) -> None:
        """``keys`` holds the die's stream keys "test-mtj", "test-mtj-events" and "test-mtj-bd"."""
        self._p = params
        self._v = values
        self._clock = clock
        self._key = keys["test-mtj"]
        self._grid = EventGrid(keys["test-mtj-events"])
        self._lam = 0.0
        self._next = float(self._grid.next_after(_CELL, np.zeros(1))[0][0])
        self._instant = (-1.0, 0)   # (model time, operations at that time)
        self.is_ap = False
        self.broken = False
        self._stress = 0.0  # cumulative breakdown hazard
        self._bd_threshold = (float(-np.log(hash_uniform(keys["test-mtj-bd"], 0)))
                              if params.stochastic else 1.0)

    def _uniform(self, lane: int) -> float:
        """A uniform keyed on (model time, operation number at that time, lane)."""
        now = float(self._clock())
        count = self._instant[1] + 1 if self._instant[0] == now else 0
        self._instant = (now, count)
        return float(hash_uniform(self._key, np.float64(now).view(np.uint64), count, lane))

    def _mtj_resistance(self, v_mtj: float, temperature: float) -> float:
        if self.broken:
            return self._p.device.r_short
        return float(physics.mtj_resistance(self._v["r_p"], self._v["r_ap"], self.is_ap, v_mtj,
                                            temperature, self._p.device))

    def _voltage_across(self, v_pads: float, temperature: float) -> float:
        if self.broken:
            return v_pads * self._p.device.r_short / (self._p.device.r_short + self._p.readout.test_pad_resistance)
        return float(physics.mtj_voltage_in_series(
            v_pads, np.float64(self._p.readout.test_pad_resistance), np.float64(self._v["r_p"]),
            np.float64(self._v["r_ap"]), self.is_ap, temperature, self._p.device))

    def _overdrive(self, v: float, temperature: float) -> tuple[float, float]:
        """(I/Ic0 P->AP of the MTJ in P, I/Ic0 AP->P of the MTJ in AP) at MTJ bias v (positive drives P->AP)."""
        d = self._p.device
        ic_pa = physics.critical_current(self._v["ic0_p_to_ap"], temperature, d)
        ic_ap = physics.critical_current(self._v["ic0_ap_to_p"], temperature, d)
        i_p = v / float(physics.mtj_resistance(self._v["r_p"], self._v["r_ap"], False, v, temperature, d))
        i_ap = v / float(physics.mtj_resistance(self._v["r_p"], self._v["r_ap"], True, v, temperature, d))
        return i_p / ic_pa, -i_ap / ic_ap

    def _thermal(self, v: float, temperature: float) -> tuple[float, float, float, float, float]:
        """(a, b, Delta_sw, barrier out of P, barrier out of AP) at MTJ bias v (positive drives P->AP)."""
        d = self._p.device
        delta_sw = float(physics.thermal_stability(self._v["delta"], temperature, d))
        out_p, out_ap = physics.state_barriers(physics.thermal_stability(self._v["delta_retention"],
                                                                          temperature, d), d)
        x_pa, x_ap = self._overdrive(v, temperature)
        a = float(switching.thermal_rate(x_pa, delta_sw, out_p, d))
        b = float(switching.thermal_rate(x_ap, delta_sw, out_ap, d))
        return a, b, delta_sw, float(out_p), float(out_ap)

    def _evolve(self, a: float, b: float, seconds: float) -> None:
        """Run the thermal two-state process for ``seconds`` at rates a (P->AP) and b (AP->P)."""
        end = self._lam + (a + b) * seconds
        if self._next <= end:
            found, _, interval, index = self._grid.last_in(_CELL, np.array([self._lam]), np.array([end]))
            if found[0]:
                self.is_ap = bool(self._grid.mark(_CELL, interval, index)[0] < a / (a + b))
            self._next = float(self._grid.next_after(_CELL, np.array([end]))[0][0])
        self._lam = end

    def measure(self, v_pads: float, temperature: float) -> float:
        """Resistance in ohm seen at the pads under ``v_pads`` volt (with read noise)."""
        v = self._voltage_across(v_pads, temperature)
        r = self._mtj_resistance(v, temperature) + self._p.readout.test_pad_resistance
        if self._p.stochastic:
            r *= 1.0 + self._p.readout.read_noise_rel * NormalDist().inv_cdf(self._uniform(1))
        return r

    def apply(self, v_pads: float, duration: float, temperature: float, pulses: int = 1) -> bool:
        """Hold ``v_pads`` for ``duration`` s in total, as ``pulses`` equal pulses; True if the MTJ switched."""
        d = self._p.device
        v = self._voltage_across(v_pads, temperature)
        before = self.is_ap
        if not self.broken:
            self._stress += float(physics.breakdown_rate(v, d)) * duration
            if self._stress >= self._bd_threshold:
                self.broken = True
        if self.broken or v == 0:
            return False
        a, b, delta_sw, out_p, out_ap = self._thermal(v, temperature)
        to_ap = v > 0
        x = abs(self._overdrive(v, temperature)[0 if to_ap else 1])
        if not self._p.stochastic:
            survive = float(switching.survival(x, duration / pulses, delta_sw, out_p if to_ap else out_ap,
                                               d)) ** pulses
            if self.is_ap != to_ap and survive < 0.5:
                self.is_ap = to_ap
            return self.is_ap != before
        self._evolve(a, b, duration)
        if self.is_ap != to_ap:       # still in the state the pulse pushes out of: precession
            prec = float(switching.precessional_survival(x, duration / pulses, out_p if to_ap else out_ap,
                                                         d)) ** pulses
            if self._uniform(0) >= prec:
                self.is_ap = to_ap
        return self.is_ap != before

    def idle(self, seconds: float, temperature: float) -> None:
        """Unbiased time: the thermal process at zero bias."""
        if self.broken or not self._p.stochastic or seconds <= 0:
            return
        a, b, *_ = self._thermal(0.0, temperature)
        self._evolve(a, b, seconds)

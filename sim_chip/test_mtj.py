"""The stand-alone test MTJ: one MTJ brought out to two pads.

Passive (it needs no chip power).  An SMU biases it and measures its
resistance; a waveform generator's pulses switch it.  Positive voltage
drives P->AP, negative AP->P.  Its randomness is keyed on the die and a
counter of operations on it.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from . import physics
from .parameters import ChipParameters
from .rng import derive_key, hash_uniform


class TestMTJ:
    """State and physics of the test structure."""

    __test__ = False  # not a pytest class

    def __init__(self, seed: int, values: dict[str, float], params: ChipParameters) -> None:
        self._p = params
        self._v = values
        self._key = derive_key(seed, "test-mtj")
        self.is_ap = False
        self.broken = False
        self.operations = 0
        self._stress = 0.0  # cumulative breakdown hazard
        self._bd_threshold = (float(-np.log(hash_uniform(derive_key(seed, "test-mtj-bd"), 0)))
                              if params.stochastic else 1.0)

    def _uniform(self, lane: int) -> float:
        return float(hash_uniform(self._key, self.operations, lane))

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

    def measure(self, v_pads: float, temperature: float) -> float:
        """Resistance in ohm seen at the pads under ``v_pads`` volt (with read noise)."""
        v = self._voltage_across(v_pads, temperature)
        r = self._mtj_resistance(v, temperature) + self._p.readout.test_pad_resistance
        if self._p.stochastic:
            r *= 1.0 + self._p.readout.read_noise_rel * NormalDist().inv_cdf(self._uniform(1))
        self.operations += 1
        return r

    def apply(self, v_pads: float, duration: float, temperature: float) -> bool:
        """Hold ``v_pads`` for ``duration`` s; return True if the MTJ switched."""
        d = self._p.device
        v = self._voltage_across(v_pads, temperature)
        switched = False
        if not self.broken:
            self._stress += float(physics.breakdown_rate(v, d)) * duration
            if self._stress >= self._bd_threshold:
                self.broken = True
        if not self.broken and v != 0 and (v > 0) != self.is_ap:
            vc0_ref = self._v["vc0_p_to_ap"] if v > 0 else self._v["vc0_ap_to_p"]
            vc0 = physics.critical_voltage(vc0_ref, temperature, d)
            delta = physics.thermal_stability(self._v["delta"], temperature, d)
            p_sw = float(physics.switching_probability(abs(v), duration, vc0, delta, d))
            switched = (self._uniform(0) < p_sw) if self._p.stochastic else p_sw > 0.5
            if switched:
                self.is_ap = not self.is_ap
        self.operations += 1
        return switched

    def idle(self, seconds: float, temperature: float) -> None:
        """Unbiased time: the state toggles with probability (1 - exp(-2 r t))/2."""
        if self.broken or not self._p.stochastic or seconds <= 0:
            return
        delta = physics.thermal_stability(self._v["delta"], temperature, self._p.device)
        rate = float(physics.thermal_flip_rate(delta, self._p.device))
        if self._uniform(2) < -0.5 * np.expm1(-2.0 * rate * seconds):
            self.is_ap = not self.is_ap
        self.operations += 1

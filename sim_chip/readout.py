"""The column readout as one stated circuit: its delay, its per-column constants and its noise budget.

Circuit (datasheet 3; topology assumed).  Before a MAC each column's sense
node is held at a pedestal V_B (~0.3 V) and its comparator's reference at
V_B + V_th.  At the start of a MAC the row-driver end of the column steps
to V_B + V_r.  The column's series chain (resistance R, the sum of its
selected branches) charges the sense node, whose capacitance
C = 64 c_line + c_cmp holds the column line (the paper's 2.1 fF per cell)
and the comparator input.  The reference sink, a cascoded NMOS current
mirror whose output sits at the pedestal (V_DS ~0.3 V, saturated: a sink
working at 0-23 mV from ground could not be), draws a constant I_ref from
the node; the comparator fires when the node has risen by V_th.  The
node (above the pedestal) charges towards V_inf = V_r - I_ref R with time
constant R C, so the column's delay is

    t(R) = t_cmp + R C ln( V_inf / (V_inf - V_th) ),

positive for every R and infinite (no trip) once V_inf <= V_th.  The
reference current makes t grow faster than R: the paper's 13 ns (MAC = +64)
and 29 ns (MAC = -64) span a ratio 2.23 for a resistance ratio of 2, which
no delay t0 + k R with t0 >= 0 can do.  V_th and I_ref are the two
constants that put those two delays on the nominal resistances
(:func:`readout_circuit`); C, t_cmp and V_r are inputs.  The same C, V_th
and I_ref give the read energy (:mod:`sim_chip.energy`).

Topology.  ``lumped`` (default): the line capacitance sits on the sense
node (a column line running back along the chain to the comparator), so
the delay depends on the sum R alone and a column computes sum x w exactly
as the paper's MAC does.  ``ladder``: each cell's 2.1 fF sits on the chain
node below it; to first order (Elmore) the charging time constant becomes
sum_i r_i C_below(i), so row i's resistance is weighted by
w_i = C_below(i) / C, from 1 next to the driver (row 0) to
(c_line + c_cmp)/C at the far end; the DC level V_inf still uses R.  Both
topologies are calibrated on the paper's two delays (a column of equal rows
has R_eff = w_mean R), so both read 13 and 29 ns at the nominal resistances.

Per column (:func:`column_constants`).  The comparator's input-referred
offset v_os (mV, Pelgrom) and its drift move the trip level to
V_th + v_os + drift (T - T_ref); the sink's mirror mismatch and tempco
scale I_ref.  Both enter the delay law exactly: an offset is a threshold.

Noise (:func:`noise_budget`).  Every source is a voltage at the comparator
input, or a charge on C, so it shifts the trip level; a shift dv moves the
delay by dv / S, S = (V_inf - V_th)/(R_eff C) the node's slope at the trip
point, which falls ~2.3x from MAC = +64 to MAC = -64: timing noise and
offsets depend on the MAC.  Per column and read: the sense node's kT/C,
the comparator's thermal noise 2 x 4kT gamma/gm over its noise bandwidth
1/(4 t_cmp), and the reference current's shot noise integrated on C over
the MAC = 0 delay.  Common to all columns of a read: the threshold
reference's kT/C and the read bias's supply noise (which moves V_inf, worth
V_th/V_inf of a threshold shift).  In time, common: the clock's jitter.
Slow (:mod:`sim_chip.slow_noise`): the comparator's 1/f and telegraph
noise, and the column's MTJs' 1/f and telegraph noise referred to the
threshold by dt/dR over dt/dV_th at MAC = 0.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from benchspec.mx64 import ROWS

from .parameters import ChipParameters

BOLTZMANN = 1.380649e-23   #: J/K
ELECTRON = 1.602176634e-19  #: C


@dataclass(frozen=True)
class ReadoutCircuit:
    """Constants of the readout circuit (module docstring), at T_ref."""

    capacitance: float        #: F, nominal sense-node capacitance C
    threshold: float          #: V, comparator threshold V_th (above the pedestal)
    reference_current: float  #: A, reference sink I_ref
    mean_weight: float        #: R_eff / R of a column of equal rows (1 for ``lumped``)


def row_weights(params: ChipParameters) -> np.ndarray:
    """Weight of each row's resistance in the charging time constant (64,): 1 for ``lumped``."""
    r = params.readout
    if r.topology == "lumped":
        return np.ones(ROWS)
    if r.topology != "ladder":
        raise ValueError(f"readout topology must be 'lumped' or 'ladder', got {r.topology!r}")
    below = r.line_capacitance_per_cell * (ROWS - np.arange(ROWS)) + r.comparator_capacitance
    return below / (ROWS * r.line_capacitance_per_cell + r.comparator_capacitance)


@functools.lru_cache(maxsize=64)
def readout_circuit(params: ChipParameters) -> ReadoutCircuit:
    """V_th and I_ref that give the paper's two delays at nominal resistances, V_r and 25 degC.

    With A = 1 - exp(-(t1 - t_cmp)/(w R1 C)), B likewise at R2 = rho R1 and
    x = I_ref R1 / V_r: the trip conditions V_th = (1 - x) V_r A =
    (1 - rho x) V_r B give x = (B - A)/(rho B - A).  w is the topology's
    mean row weight.
    """
    d, r, v_r = params.device, params.readout, params.defaults.v_read
    c = ROWS * r.line_capacitance_per_cell + r.comparator_capacitance
    w = float(row_weights(params).mean())
    r1 = ROWS * (d.r_fet_mean + d.r_p_mean)
    r2 = ROWS * (d.r_fet_mean + d.r_ap_mean)
    a = -np.expm1(-(r.delay_at_mac_max - r.comparator_delay) / (w * r1 * c))
    b = -np.expm1(-(r.delay_at_mac_min - r.comparator_delay) / (w * r2 * c))
    x = (b - a) / (r2 / r1 * b - a)
    return ReadoutCircuit(c, float((1.0 - x) * a * v_r), float(x * v_r / r1), w)


def comparator_delay(temperature: float, params: ChipParameters) -> float:
    """Comparator decision and TDC stop latency t_cmp at a temperature, s."""
    r = params.readout
    return r.comparator_delay * (1.0 + r.comparator_delay_tempco * (temperature - params.device.t_ref))


def column_delay(r_col: np.ndarray, r_eff: np.ndarray, capacitance: np.ndarray, v_read: float,
                 temperature: float, params: ChipParameters, threshold: np.ndarray | float | None = None,
                 reference_current: np.ndarray | float | None = None) -> np.ndarray:
    """Delay in s of columns of resistance ``r_col`` (ohm; ``r_eff`` the weighted one), float64.

    ``capacitance`` is each column's sense capacitance, F; ``threshold`` (V)
    and ``reference_current`` (A) default to the nominal circuit's.
    Infinite when the comparator never trips.
    """
    circuit = readout_circuit(params)
    v_th = circuit.threshold if threshold is None else threshold
    i_ref = circuit.reference_current if reference_current is None else reference_current
    v_inf = v_read - i_ref * np.asarray(r_col, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(v_inf > v_th, v_th / v_inf, 1.0)
        return comparator_delay(temperature, params) + r_eff * capacitance * -np.log1p(-ratio)


def trip_slope(r_col: np.ndarray | float, r_eff: np.ndarray | float, capacitance: np.ndarray | float,
               v_read: float, threshold: np.ndarray | float, reference_current: np.ndarray | float) -> np.ndarray:
    """The sense node's slope at the trip point, (V_inf - V_th)/(R_eff C), V/s."""
    v_inf = v_read - np.asarray(reference_current) * np.asarray(r_col, dtype=float)
    return (v_inf - threshold) / (np.asarray(r_eff) * capacitance)


def nominal_column(params: ChipParameters, mac: float) -> float:
    """Resistance of a nominal column at a MAC value (every cell at its mean; no bias dependence), ohm."""
    d = params.device
    mismatched = (ROWS - mac) / 2.0
    return ROWS * d.r_fet_mean + (ROWS - mismatched) * d.r_p_mean + mismatched * d.r_ap_mean


@dataclass(frozen=True)
class ColumnConstants:
    """The 64 columns' readout constants at one temperature."""

    threshold: np.ndarray          #: (64,) V, trip level V_th + offset + drift (T - T_ref)
    reference_current: np.ndarray  #: (64,) A, I_ref with the mirror's mismatch and tempco


def column_constants(offset: np.ndarray, drift: np.ndarray, mismatch: np.ndarray, temperature: float,
                     params: ChipParameters) -> ColumnConstants:
    """Trip levels and sink currents of columns with comparator ``offset`` (V), offset ``drift`` (V/K) and
    relative sink ``mismatch``, at ``temperature`` (K)."""
    circuit, r = readout_circuit(params), params.readout
    dt = temperature - params.device.t_ref
    return ColumnConstants(circuit.threshold + offset + drift * dt,
                           circuit.reference_current * (1.0 + mismatch) * (1.0 + r.reference_current_tempco * dt))


@dataclass(frozen=True)
class NoiseBudget:
    """The readout's noise sources referred to the comparator's input at one setting (module docstring).

    Voltages are rms in V; ``flicker`` is the K of S = K/f in V^2.
    """

    ktc: float                  #: sense node's kT/C, per column
    comparator: float           #: comparator thermal noise over its band, per column
    reference: float            #: reference-current shot noise on C over the MAC = 0 delay, per column
    threshold_reference: float  #: kT/C of the shared threshold reference, common
    supply: float               #: read-bias noise as a threshold shift (x V_th/V_inf at MAC = 0), common
    jitter: float               #: s, clock jitter, common
    comparator_flicker: float   #: V^2, comparator input pair's 1/f
    mtj_flicker: float          #: V^2, the column's MTJs' 1/f referred to the threshold at MAC = 0
    volts_per_relative_r: float  #: V, threshold shift per unit relative change of the column resistance

    @property
    def column(self) -> float:
        """Per-column white noise, the three per-column sources in quadrature, V."""
        return math.sqrt(self.ktc**2 + self.comparator**2 + self.reference**2)

    @property
    def common(self) -> float:
        """Common white noise, V."""
        return math.hypot(self.threshold_reference, self.supply)

    @property
    def flicker(self) -> float:
        """K of the column's total 1/f noise, V^2."""
        return self.comparator_flicker + self.mtj_flicker


def noise_budget(params: ChipParameters, temperature: float, v_read: float) -> NoiseBudget:
    """The noise sources at ``temperature`` (K) and read bias ``v_read`` (V), on a nominal column."""
    circuit, r, d = readout_circuit(params), params.readout, params.device
    kt = BOLTZMANN * temperature
    c = circuit.capacitance
    i_ref = circuit.reference_current * (1.0 + r.reference_current_tempco * (temperature - d.t_ref))
    r_mid = nominal_column(params, 0.0)
    v_inf = v_read - i_ref * r_mid
    v_th = circuit.threshold
    bandwidth = 1.0 / (4.0 * comparator_delay(temperature, params))
    charging = float(column_delay(r_mid, circuit.mean_weight * r_mid, c, v_read, temperature, params)) \
        - comparator_delay(temperature, params)
    if not np.isfinite(charging):
        charging = 1.0 / params.defaults.clock_hz
    shot = r.reference_noise_factor * 2.0 * ELECTRON * i_ref                      # A^2/Hz
    # dt/dR over dt/dV_th of the delay law: the threshold shift worth a relative change of R
    log_term = math.log(v_inf / (v_inf - v_th)) if v_inf > v_th else 0.0
    per_relative = (v_inf - v_th) * log_term + i_ref * r_mid * v_th / v_inf
    r_mtj = np.array([d.r_p_mean, d.r_ap_mean])
    area = d.resistance_area / d.r_p_mean                                            # m^2
    mtj_relative_psd = ROWS / 2 * float(np.sum(r_mtj**2)) / r_mid**2 * d.mtj_hooge / area
    return NoiseBudget(
        ktc=math.sqrt(kt / c),
        comparator=math.sqrt(2.0 * 4.0 * kt * r.comparator_noise_gamma / r.comparator_gm * bandwidth),
        reference=math.sqrt(shot * charging / 2.0) / c,
        threshold_reference=math.sqrt(kt / r.threshold_reference_capacitance),
        supply=r.supply_noise * v_th / v_inf,
        jitter=r.clock_jitter,
        comparator_flicker=r.comparator_flicker,
        mtj_flicker=per_relative**2 * mtj_relative_psd,
        volts_per_relative_r=per_relative)


def mtj_trap_step(params: ChipParameters) -> float:
    """Mean relative step of a column's resistance from one MTJ's telegraph trap (one MTJ of a MAC = 0 column)."""
    d = params.device
    return d.mtj_rtn_amplitude * 0.5 * (d.r_p_mean + d.r_ap_mean) / nominal_column(params, 0.0)


def comparator_bias_current(params: ChipParameters) -> float:
    """Tail current of a comparator's input pair, 2 gm / (gm/I_D), A."""
    r = params.readout
    return 2.0 * r.comparator_gm / r.comparator_gm_over_id


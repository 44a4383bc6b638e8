"""Calibration inputs of the MX64 model.

Every number the model uses lives here, with its unit and its source:
*paper* (Jung et al., Nature 601, 211-216, 2022, as quoted in the MX64
datasheet), *datasheet* (our MX64.md), or *assumed* (chosen from the MRAM
literature, with the reason given).  Nothing in the physics is hard-coded.

Override any setting with :meth:`ChipParameters.with_overrides`, e.g.
``ChipParameters().with_overrides({"device.delta_mean": 55.0})``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping

from benchspec.mx64 import DELAY_AT_MAC_RANGE, TDC_BITS

from .errors import InvalidArgument


def _p(default: float, unit: str, source: str) -> Any:
    return field(default=default, metadata={"unit": unit, "source": source})


@dataclass(frozen=True)
class DeviceParameters:
    """MTJ and access-FET device parameters, at the reference temperature."""

    r_fet_mean: float = _p(3.0e3, "ohm", "datasheet 1: FET on-resistance ~3 kOhm (assumed split)")
    r_fet_cv: float = _p(0.05, "1", "datasheet 1: sigma ~5 % (assumed)")
    r_p_mean: float = _p(10.0e3, "ohm", "datasheet 1: MTJ R_P ~10 kOhm (assumed split)")
    r_p_sigma: float = _p(1.593e3, "ohm", "paper: R_low sigma 1.6 kOhm minus FET share, in quadrature")
    r_ap_mean: float = _p(23.0e3, "ohm", "datasheet 1: MTJ R_AP ~23 kOhm at read bias")
    r_ap_sigma: float = _p(1.994e3, "ohm", "paper: R_high sigma 2.0 kOhm minus FET share, in quadrature")
    r_pa_correlation: float = _p(0.95, "1", "datasheet 1: R_P and R_AP of one MTJ correlated 0.9-0.95 "
                                 "(same junction area and barrier)")
    r_short: float = _p(150.0, "ohm", "assumed: residual resistance of a broken or shorted MgO barrier")
    v_half_tmr: float = _p(0.5, "V", "datasheet 1: TMR(V) = TMR0/(1+V^2/Vh^2), Vh ~0.5 V (assumed)")
    t_ref: float = _p(298.15, "K", "datasheet: values hold at 25 degC")
    r_p_tempco: float = _p(-1.0e-4, "1/K", "assumed: R_P nearly flat in T for MgO MTJs")
    tmr_tempco: float = _p(-1.5e-3, "1/K", "assumed: TMR falls ~0.15 %/K near room temperature")
    r_fet_tempco: float = _p(2.5e-3, "1/K", "assumed: FET on-resistance rises with T (mobility)")
    fet_isat_p_to_ap: float = _p(78e-6, "A", "assumed: access-FET saturation current in the P->AP write "
                                 "polarity (source grounded); sets a nominal write error rate of order "
                                 "1e-4 with the variation tails (datasheet 4)")
    fet_isat_ap_to_p: float = _p(60e-6, "A", "assumed: saturation current in the AP->P polarity, lower "
                                 "by source degeneration (the FET's source rises with the MTJ)")
    fet_output_conductance: float = _p(0.4, "1/V", "assumed: channel-length modulation of a short-channel "
                                       "28 nm FET, I ~ (1 + lambda V_DS)")
    write_line_resistance: float = _p(0.25, "ohm", "assumed: resistance per cell pitch of each of a row's "
                                      "two write lines (strapped intermediate Cu metal, ~0.1 ohm/sq, "
                                      "2-3 squares per pitch)")
    delta_mean: float = _p(60.0, "1", "datasheet 4: Delta ~60 at 25 degC in the thermal switching law "
                           "tau0 exp(Delta (1 - V/Vc0))")
    delta_retention_mean: float = _p(90.0, "1", "calibrated: zero-bias thermal stability that meets the "
                                     "retention spec, no flip in 10 years at 85 degC (datasheet 4); "
                                     "switching-derived Delta underestimates it (Thomas et al., IEDM 2015)")
    delta_cv: float = _p(0.05, "1", "assumed: 5 % device-to-device spread of thermal stability")
    stray_field_ratio: float = _p(0.03, "1", "assumed: reference-layer stray field / anisotropy field; "
                                  "favours P: Delta_P = Delta (1+h)^2, Delta_AP = Delta (1-h)^2")
    curie_temperature: float = _p(800.0, "K", "assumed: effective Tc of the thin CoFeB free layer (Bloch law)")
    tau0: float = _p(1.0e-9, "s", "datasheet 4: attempt time ~1 ns")
    neel_brown_min_barrier: float = _p(5.0, "1", "assumed: the Neel-Brown law holds while its barrier is "
                                       "at least ~5 kT (Brown, Phys. Rev. 130, 1677, 1963); above that "
                                       "bias the thermal rate stays at its value there")
    tau_precession: float = _p(1.0e-9, "s", "assumed: macrospin time scale (1+a^2)/(a gamma mu0 Hk) with "
                               "damping a ~0.01 and mu0 Hk ~0.6 T (Sun, PRB 62, 570, 2000)")
    vc0_p_to_ap: float = _p(0.45, "V", "datasheet 4: Vc0 0.3-0.5 V; P->AP needs the larger one (assumed)")
    vc0_ap_to_p: float = _p(0.35, "V", "datasheet 4: Vc0 0.3-0.5 V (assumed)")
    vc0_cv: float = _p(0.06, "1", "datasheet 4: CV ~6 %")
    weak_bit_fraction: float = _p(1.5e-3, "1", "assumed: fraction of MTJs with a weak spin-torque "
                                  "efficiency (edge damage), the write-error tail (datasheet 4)")
    weak_bit_vc0_factor: float = _p(1.75, "1", "assumed: mean factor on Vc0 of a weak bit")
    weak_bit_vc0_factor_sigma: float = _p(0.08, "1", "assumed: spread of that factor")
    v_breakdown: float = _p(1.5, "V", "datasheet 4: barrier breaks down above ~1.5 V at the MTJ")
    tau_breakdown_at_vbd: float = _p(5.0e-3, "s", "calibrated: mean stress time to breakdown at V_breakdown; "
                                     "with the slope, ~1e10 nominal write cycles before a few "
                                     "percent of the MTJs fail")
    v_breakdown_slope: float = _p(0.03, "V", "assumed: TDDB time falls e-fold per 30 mV (E-model)")


@dataclass(frozen=True)
class DefectParameters:
    """Fraction of MTJs that come out of fabrication defective (sum ~0.05 %)."""

    stuck_p: float = _p(2.0e-4, "1", "datasheet 1: ~0.05 % defective in total (assumed split)")
    stuck_ap: float = _p(2.0e-4, "1", "datasheet 1 (assumed split)")
    shorted: float = _p(1.0e-4, "1", "datasheet 1 (assumed split)")


@dataclass(frozen=True)
class ReadoutParameters:
    """The column readout circuit (datasheet 3), the TDC and the sense amplifiers."""

    delay_at_mac_max: float = _p(DELAY_AT_MAC_RANGE[0], "s", "paper: column delay ~13 ns at MAC=+64")
    delay_at_mac_min: float = _p(DELAY_AT_MAC_RANGE[1], "s", "paper: column delay ~29 ns at MAC=-64")
    line_capacitance_per_cell: float = _p(2.1e-15, "F", "paper: ~2.1 fF per cell")
    comparator_capacitance: float = _p(5.0e-15, "F", "assumed: comparator input and TDC stop gate")
    comparator_delay: float = _p(0.5e-9, "s", "assumed: comparator decision and TDC stop latency")
    comparator_delay_tempco: float = _p(2.0e-3, "1/K", "assumed: comparator slows ~0.2 %/K (mobility)")
    tdc_lsb_tempco: float = _p(1.0e-3, "1/K", "assumed: TDC delay-line unit delay rises ~0.1 %/K")
    topology: str = field(
        default="lumped",
        metadata={"unit": "", "source": "assumed: 'lumped' (line capacitance on the sense node, delay set "
                                        "by the column's total resistance) or 'ladder' (capacitance at "
                                        "every cell node, Elmore-weighted; rows near the driver count more)"})
    column_capacitance_cv: float = _p(0.01, "1", "assumed: 1 % spread of a column's sense capacitance")
    column_offset_sigma: float = _p(0.3e-9, "s", "assumed: per-column comparator delay mismatch, "
                                    "needs calibration")
    noise_sigma_common: float = _p(0.1e-9, "s", "datasheet 3: clock jitter and supply noise, common to all "
                                   "columns of one read (assumed half of the ~0.2 ns)")
    noise_sigma_column: float = _p(0.17e-9, "s", "datasheet 3: comparator noise per column; with the "
                                   "common part ~0.2 ns in total")
    read_noise_rel: float = _p(1.0e-3, "1", "assumed: relative read noise of a resistance at the analog pads")
    tdc_bits: int = _p(TDC_BITS, "bit", "paper: 4-bit TDC")
    sense_offset_sigma: float = _p(500.0, "ohm", "assumed: verify sense-amplifier offset per column")
    sense_noise_sigma: float = _p(800.0, "ohm", "assumed: verify sense noise per read")
    test_mux_resistance: float = _p(500.0, "ohm", "assumed: on-resistance of the analog test multiplexer")
    test_pad_resistance: float = _p(50.0, "ohm", "assumed: pads and probes in series with the test MTJ")
    read_disturb_direction: str = field(
        default="P->AP",
        metadata={"unit": "", "source": "assumed: read current flows in the P->AP write direction"})


@dataclass(frozen=True)
class OperatingDefaults:
    """Register values after power-up or *RST."""

    clock_hz: float = _p(11.1e6, "Hz", "paper: 11.1 MHz in silicon")
    clock_max_hz: float = _p(17.2e6, "Hz", "paper: 17.2 MHz analog limit")
    v_write: float = _p(1.5, "V", "paper: 1.5 V across the branch")
    write_width_clocks: int = _p(1, "clock", "datasheet 4: one clock per half-row write")
    v_read: float = _p(0.25, "V", "assumed: MAC read bias across a column (~4 mV per cell)")
    v_verify: float = _p(0.1, "V", "assumed: differential verify bias across a branch")
    tdc_centre_mac: float = _p(0.0, "1", "datasheet 3: power-up window centred on each column's MAC = 0 "
                               "(per-column starts from the factory calibration)")
    tdc_lsb: float = _p(0.4e-9, "s", "datasheet 3: power-up LSB near 0.4 ns (2-3 MAC units per code)")
    vdd: float = _p(0.9, "V", "assumed: 28 nm core supply")
    vddio: float = _p(1.8, "V", "assumed: I/O supply")
    supply_tolerance: float = _p(0.1, "1", "assumed: chip works within +-10 % of nominal rails")
    temperature: float = _p(298.15, "K", "datasheet: 25 degC")


@dataclass(frozen=True)
class EnergyParameters:
    """Energy of the periphery; array energies follow from the physics and the readout circuit."""

    tdc_energy_per_lsb: float = _p(25e-15, "J", "assumed: one counted LSB (delay-line stage and counter "
                                   "toggle); with the conversion energy the random-input MAC efficiency "
                                   "lands near the paper's ~400 TOPS/W")
    tdc_energy_per_conversion: float = _p(40e-15, "J", "assumed: start, stop and read-out of one TDC")
    comparator_energy: float = _p(20e-15, "J", "assumed: one comparator decision")
    row_driver_capacitance: float = _p(64e-15, "F", "assumed: one gate line of a row (64 access-FET gates "
                                       "and wire); an input toggle charges one of the row's two lines")
    control_energy_per_clock: float = _p(2e-12, "J", "assumed: clocking, decoders and control per clock")
    sense_energy_per_column: float = _p(50e-15, "J", "assumed: one verify sense amplifier decision")
    static_current_vdd: float = _p(50e-6, "A", "assumed: core leakage at 25 degC")
    static_current_vddio: float = _p(20e-6, "A", "assumed: I/O bias current")


@dataclass(frozen=True)
class ChipParameters:
    """All calibration inputs of one MX64 model, grouped by subsystem."""

    device: DeviceParameters = field(default_factory=DeviceParameters)
    defects: DefectParameters = field(default_factory=DefectParameters)
    readout: ReadoutParameters = field(default_factory=ReadoutParameters)
    defaults: OperatingDefaults = field(default_factory=OperatingDefaults)
    energy: EnergyParameters = field(default_factory=EnergyParameters)
    #: When False: no device variation, no defects, no noise, deterministic writes.
    stochastic: bool = True

    def with_overrides(self, overrides: Mapping[str, Any]) -> ChipParameters:
        """Return a copy with ``{"group.name": value}`` settings replaced."""
        groups: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
        for key, value in overrides.items():
            group, _, name = key.partition(".")
            if not name:
                if group != "stochastic":
                    raise InvalidArgument("override", key, "'stochastic' or 'group.name'")
                top[group] = value
                continue
            if group not in _GROUPS:
                raise InvalidArgument("override", key, f"group one of {sorted(_GROUPS)}")
            names = {f.name for f in dataclasses.fields(_GROUPS[group])}
            if name not in names:
                raise InvalidArgument("override", key, f"{group}.* one of {sorted(names)}")
            groups.setdefault(group, {})[name] = value
        replaced = {g: dataclasses.replace(getattr(self, g), **kw) for g, kw in groups.items()}
        return dataclasses.replace(self, **replaced, **top)

    @classmethod
    def ideal(cls) -> ChipParameters:
        """Variation, defects, noise and write errors off: the golden reference."""
        return cls(stochastic=False)

    def describe(self) -> list[tuple[str, object, str, str]]:
        """Every setting as (name, value, unit, source) rows, for documentation."""
        rows = []
        for group in _GROUPS:
            obj = getattr(self, group)
            for f in dataclasses.fields(obj):
                rows.append((f"{group}.{f.name}", getattr(obj, f.name), f.metadata["unit"],
                             f.metadata["source"]))
        return rows


_GROUPS = {
    "device": DeviceParameters,
    "defects": DefectParameters,
    "readout": ReadoutParameters,
    "defaults": OperatingDefaults,
    "energy": EnergyParameters,
}

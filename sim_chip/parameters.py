"""Calibration inputs of the MX64 model.

Every number the model uses lives here, with its unit, its source and a
plausible physical range (low, high): *paper* (Jung et al., Nature 601,
211-216, 2022, as quoted in the MX64 datasheet), *datasheet* (our MX64.md),
or *assumed* (chosen from the device and circuit literature, with the
reason given).  Where the datasheet gives a range, that is the range.
Nothing in the physics is hard-coded; quantities the model derives from
these inputs (timing noise, offsets, energies, critical currents) are
tabulated in docs/chip_model.md.

Override any setting with :meth:`ChipParameters.with_overrides`, e.g.
``ChipParameters().with_overrides({"device.delta_mean": 55.0})``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping

from benchspec.mx64 import (CLOCK_RANGE, DELAY_AT_MAC_RANGE, READ_BIAS_RANGE, TDC_BITS, TDC_LSB_RANGE,
                            VERIFY_BIAS_RANGE, VWRITE_RANGE, WRITE_WIDTH_RANGE)

from .errors import InvalidArgument


def _p(default: float, unit: str, source: str, low: float, high: float) -> Any:
    """A parameter: default, unit, source and its plausible physical range [low, high]."""
    return field(default=default, metadata={"unit": unit, "source": source, "low": low, "high": high})


def _choice(default: str, source: str) -> Any:
    return field(default=default, metadata={"unit": "", "source": source})


@dataclass(frozen=True)
class DeviceParameters:
    """MTJ and access-FET device parameters, at the reference temperature."""

    r_fet_mean: float = _p(3.0e3, "ohm", "datasheet 1: FET on-resistance ~3 kOhm (assumed split)", 1e3, 10e3)
    r_fet_cv: float = _p(0.05, "1", "datasheet 1: sigma ~5 % (assumed)", 0.0, 0.2)
    r_p_mean: float = _p(10.0e3, "ohm", "datasheet 1: MTJ R_P ~10 kOhm (assumed split)", 2e3, 50e3)
    r_p_sigma: float = _p(1.593e3, "ohm", "paper: R_low sigma 1.6 kOhm minus FET share, in quadrature", 0.0, 5e3)
    r_ap_mean: float = _p(23.0e3, "ohm", "datasheet 1: MTJ R_AP ~23 kOhm at read bias", 4e3, 120e3)
    r_ap_sigma: float = _p(1.994e3, "ohm", "paper: R_high sigma 2.0 kOhm minus FET share, in quadrature",
                           0.0, 10e3)
    r_pa_correlation: float = _p(0.95, "1", "datasheet 1: R_P and R_AP of one MTJ correlated 0.9-0.95 "
                                 "(same junction area and barrier)", 0.9, 0.95)
    resistance_area: float = _p(10e-12, "ohm m^2", "assumed: RA product 10 ohm um^2 of a 28 nm embedded "
                                "MgO MTJ (5-15 ohm um^2); with R_P it gives the junction area, 1e-3 um^2 "
                                "(36 nm diameter)", 2e-12, 30e-12)
    resistance_area_cv: float = _p(0.05, "1", "assumed: RA spread from the MgO barrier thickness; with the "
                                   "paper's R_P spread it leaves the junction-area spread (R_P = RA/A), "
                                   "and with datasheet 4's Vc0 CV the spin-torque efficiency spread "
                                   "(Vc0 = Jc0 RA)", 0.0, 0.1)
    r_short: float = _p(150.0, "ohm", "assumed: residual resistance of a broken or shorted MgO barrier",
                        10.0, 2e3)
    v_half_tmr: float = _p(0.5, "V", "datasheet 1: TMR(V) = TMR0/(1+V^2/Vh^2), Vh ~0.5 V (assumed)", 0.2, 1.0)
    t_ref: float = _p(298.15, "K", "datasheet: values hold at 25 degC", 273.15, 323.15)
    r_p_tempco: float = _p(-1.0e-4, "1/K", "assumed: R_P nearly flat in T for MgO MTJs", -1e-3, 1e-3)
    tmr_tempco: float = _p(-1.5e-3, "1/K", "assumed: TMR falls ~0.15 %/K near room temperature", -5e-3, 0.0)
    r_fet_tempco: float = _p(2.5e-3, "1/K", "assumed: FET on-resistance rises with T (mobility)", 0.0, 5e-3)
    fet_isat_p_to_ap: float = _p(78e-6, "A", "assumed: access-FET saturation current, source grounded (P->AP "
                                 "polarity): square law V_ov/(2 R_on) with V_ov ~0.47 V over the 3 kOhm "
                                 "on-resistance", 20e-6, 300e-6)
    fet_isat_ap_to_p: float = _p(60e-6, "A", "assumed: saturation current in the AP->P polarity, lower by "
                                 "source degeneration (the FET's source rises with the MTJ)", 20e-6, 300e-6)
    fet_output_conductance: float = _p(0.4, "1/V", "assumed: channel-length modulation of a short-channel "
                                       "28 nm FET, I ~ (1 + lambda V_DS)", 0.0, 2.0)
    write_line_resistance: float = _p(1.0, "ohm", "assumed: resistance per row pitch of each of a column's two "
                                      "write lines (bit line and source line, minimum-width lower Cu metal, "
                                      "~0.2 ohm/sq, ~5 squares per pitch)", 0.0, 10.0)
    write_bus_resistance: float = _p(0.1, "ohm", "assumed: resistance per column pitch of each of the V_WRITE "
                                     "and ground buses that feed the 64 column write drivers (wide upper "
                                     "metal along the array edge)", 0.0, 2.0)
    delta_mean: float = _p(60.0, "1", "datasheet 4: Delta ~60 at 25 degC in the thermal switching law "
                           "tau0 exp(Delta (1 - I/Ic0)), as switching experiments fit it", 30.0, 120.0)
    delta_retention_mean: float = _p(103.0, "1", "calibrated: zero-bias thermal stability that meets the "
                                     "retention spec, no flip in 10 years at 85 degC (datasheet 4: under 0.01 "
                                     "expected per die with the area-correlated spread); a "
                                     "switching-law fit underestimates it (Taniguchi & Imamura, arXiv:1010.5845: "
                                     "exponent 2, not 1; Munira & Visscher, arXiv:1410.7361: barrier lowering "
                                     "by incoherent reversal)", 40.0, 200.0)
    delta_cv: float = _p(0.03, "1", "assumed: spread of thermal stability at a given junction area "
                         "(anisotropy, free-layer thickness)", 0.0, 0.2)
    delta_area_exponent: float = _p(0.5, "1", "assumed: Delta ~ A^k; k = 1/2 (Delta ~ diameter) for reversal by "
                                    "nucleation above ~30 nm (e.g. Sato et al., APL 105, 062403, 2014); "
                                    "k = 1 is the macrospin", 0.0, 1.0)
    stray_field_ratio: float = _p(0.03, "1", "assumed: reference-layer stray field / anisotropy field; "
                                  "favours P: Delta_P = Delta (1+h)^2, Delta_AP = Delta (1-h)^2", -0.2, 0.2)
    curie_temperature: float = _p(800.0, "K", "assumed: effective Tc of the thin CoFeB free layer (Bloch law)",
                                  500.0, 1400.0)
    tau0: float = _p(1.0e-9, "s", "datasheet 4: attempt time ~1 ns", 1e-11, 1e-8)
    tau_precession: float = _p(1.0e-9, "s", "assumed: macrospin time scale (1+a^2)/(a gamma mu0 Hk) with "
                               "damping a ~0.01 and mu0 Hk ~0.6 T (Sun, PRB 62, 570, 2000)", 1e-10, 2e-8)
    vc0_p_to_ap: float = _p(0.45, "V", "datasheet 4: Vc0 0.3-0.5 V at the MTJ; P->AP needs the larger one "
                            "(assumed); Ic0 = Vc0 / R_P", 0.3, 0.5)
    vc0_ap_to_p: float = _p(0.35, "V", "datasheet 4: Vc0 0.3-0.5 V at the MTJ (assumed); Ic0 = Vc0 / R_AP(Vc0)",
                            0.3, 0.5)
    vc0_cv: float = _p(0.06, "1", "datasheet 4: CV ~6 % (of Vc0 = Jc0 RA)", 0.02, 0.15)
    weak_bit_fraction: float = _p(0.0, "1", "no sized weak-bit population has a source: the write-error tail "
                                  "comes from the junction-parameter spreads (Imamura, Arai & Matsumoto, "
                                  "arXiv:2209.13828, 2022); a twin may set a measured one", 0.0, 0.01)
    weak_bit_ic0_factor: float = _p(1.75, "1", "assumed: mean factor on Ic0 of a weak bit (when the fraction "
                                    "is set)", 1.0, 3.0)
    weak_bit_ic0_factor_sigma: float = _p(0.08, "1", "assumed: spread of that factor", 0.0, 0.5)
    v_breakdown: float = _p(1.5, "V", "datasheet 4: barrier breaks down above ~1.5 V at the MTJ", 1.0, 2.5)
    tau_breakdown_at_vbd: float = _p(5.0e-3, "s", "calibrated: mean stress time to breakdown at V_breakdown; "
                                     "with the slope, ~1e10 nominal write cycles before a few "
                                     "percent of the MTJs fail", 1e-6, 1e2)
    v_breakdown_slope: float = _p(0.03, "V", "assumed: TDDB time falls e-fold per 30 mV (E-model)", 0.005, 0.2)
    mtj_hooge: float = _p(1e-21, "m^2", "assumed: area-normalised 1/f resistance noise S_R/R^2 = a/(A f) of "
                          "MgO MTJs, a ~1e-9 um^2 (1e-10-1e-8 reported, e.g. Scola et al., APL 90, 252501, "
                          "2007)", 0.0, 1e-19)
    mtj_rtn_fraction: float = _p(0.02, "1", "assumed: fraction of MTJs with a visible random-telegraph trap in "
                                 "the barrier", 0.0, 0.2)
    mtj_rtn_amplitude: float = _p(3e-3, "1", "assumed: relative resistance step dR/R of such a trap "
                                  "(0.1-1 % reported for sub-50 nm MgO MTJs)", 0.0, 0.02)


@dataclass(frozen=True)
class DefectParameters:
    """Fraction of MTJs that come out of fabrication defective (sum ~0.05 %)."""

    stuck_p: float = _p(2.0e-4, "1", "datasheet 1: ~0.05 % defective in total (assumed split)", 0.0, 0.01)
    stuck_ap: float = _p(2.0e-4, "1", "datasheet 1 (assumed split)", 0.0, 0.01)
    shorted: float = _p(1.0e-4, "1", "datasheet 1 (assumed split)", 0.0, 0.01)


@dataclass(frozen=True)
class ReadoutParameters:
    """The column readout circuit (datasheet 3), the TDC and the sense amplifiers."""

    delay_at_mac_max: float = _p(DELAY_AT_MAC_RANGE[0], "s", "paper: column delay ~13 ns at MAC=+64",
                                 8e-9, 20e-9)
    delay_at_mac_min: float = _p(DELAY_AT_MAC_RANGE[1], "s", "paper: column delay ~29 ns at MAC=-64",
                                 20e-9, 45e-9)
    line_capacitance_per_cell: float = _p(2.1e-15, "F", "paper: ~2.1 fF per cell", 1e-15, 5e-15)
    comparator_capacitance: float = _p(5.0e-15, "F", "assumed: comparator input and TDC stop gate", 1e-15, 20e-15)
    comparator_delay: float = _p(0.5e-9, "s", "assumed: comparator decision and TDC stop latency; its inverse "
                                 "sets the comparator's noise bandwidth 1/(4 t_cmp)", 0.1e-9, 2e-9)
    comparator_delay_tempco: float = _p(2.0e-3, "1/K", "assumed: comparator slows ~0.2 %/K (mobility)", 0.0, 5e-3)
    tdc_lsb_tempco: float = _p(1.0e-3, "1/K", "assumed: TDC delay-line unit delay rises ~0.1 %/K", 0.0, 3e-3)
    topology: str = _choice("lumped", "assumed: 'lumped' (line capacitance on the sense node, delay set by the "
                                      "column's total resistance) or 'ladder' (capacitance at every cell node, "
                                      "Elmore-weighted; rows near the driver count more)")
    column_capacitance_cv: float = _p(0.01, "1", "assumed: 1 % spread of a column's sense capacitance", 0.0, 0.05)
    comparator_offset_sigma: float = _p(3.3e-3, "V", "assumed: input-referred offset of an uncalibrated "
                                        "comparator, Pelgrom A_VT/sqrt(WL) with A_VT ~1.8 mV um (28 nm "
                                        "high-k metal gate, 1-2.5 mV um reported) and a 0.3 um^2 input pair "
                                        "(Pelgrom et al., IEEE JSSC 24, 1433, 1989)", 0.0, 10e-3)
    comparator_offset_drift: float = _p(5e-6, "V/K", "assumed: per-column spread of the offset's temperature "
                                        "drift (1-10 uV/K for CMOS input pairs)", 0.0, 30e-6)
    comparator_gm: float = _p(100e-6, "S", "assumed: transconductance of each comparator input device (weak "
                              "inversion, a few uA); thermal noise 2 x 4kT gamma/gm over the comparator's "
                              "noise bandwidth", 20e-6, 1e-3)
    comparator_gm_over_id: float = _p(25.0, "1/V", "assumed: gm/I_D of the input pair in weak inversion "
                                      "(1/(n kT/q) ~ 25-30 /V); sets the comparator's bias current and energy",
                                      5.0, 30.0)
    comparator_noise_gamma: float = _p(1.0, "1", "assumed: channel thermal-noise factor of a short-channel "
                                       "device (2/3 long-channel, ~1 at 28 nm)", 0.5, 2.0)
    comparator_flicker: float = _p(2.6e-11, "V^2", "assumed: input-referred 1/f noise S_v = K/f of the input "
                                   "pair, 2 K_F/(C_ox W L) with K_F ~1e-25 V^2 F, C_ox ~26 fF/um^2, WL 0.3 um^2",
                                   0.0, 1e-9)
    comparator_rtn_traps: float = _p(2.0, "1", "assumed: mean number of random-telegraph traps in a "
                                     "comparator's input pair with time constants between 1 ms and 1e5 s "
                                     "(Poisson per column)", 0.0, 10.0)
    comparator_rtn_amplitude: float = _p(20e-6, "V", "assumed: mean threshold step of one trap, "
                                         "q/(C_ox W L) for a 0.3 um^2 device (exponentially distributed)",
                                         0.0, 1e-3)
    reference_current_mismatch: float = _p(0.01, "1", "assumed: per-column spread of the reference sink, a "
                                           "cascoded NMOS mirror in strong inversion, 2 A_VT/(V_ov sqrt(WL)) "
                                           "with V_ov 0.2 V and WL ~3 um^2", 0.0, 0.05)
    reference_current_tempco: float = _p(1.0e-3, "1/K", "assumed: the mirrors copy a bandgap voltage over a "
                                         "high-resistivity poly resistor (TCR ~ -0.1 %/K)", -3e-3, 3e-3)
    reference_noise_factor: float = _p(2.0, "1", "assumed: reference-current noise S_i = factor x 2qI (the "
                                       "output device's shot noise and the mirrored noise of its diode)",
                                       1.0, 4.0)
    threshold_reference_capacitance: float = _p(10e-12, "F", "assumed: decoupling of the threshold reference "
                                                "shared by the 64 comparators; its kT/C is common to all "
                                                "columns of a read", 1e-13, 1e-10)
    supply_noise: float = _p(0.5e-3, "V", "assumed: noise of the regulated read bias over the comparator's "
                             "band, common to all columns", 0.0, 5e-3)
    clock_jitter: float = _p(5e-12, "s", "assumed: jitter between the MAC start edge and the TDC start, "
                             "common to all columns (28 nm clock tree, a few ps)", 0.0, 100e-12)
    read_noise_rel: float = _p(1.0e-3, "1", "assumed: relative read noise of a resistance at the analog pads",
                               0.0, 0.01)
    tdc_bits: int = _p(TDC_BITS, "bit", "paper: 4-bit TDC", TDC_BITS, TDC_BITS)
    sense_offset_sigma: float = _p(500.0, "ohm", "assumed: verify sense-amplifier offset per column", 0.0, 5e3)
    sense_noise_sigma: float = _p(800.0, "ohm", "assumed: verify sense noise per read", 0.0, 5e3)
    test_mux_resistance: float = _p(500.0, "ohm", "assumed: on-resistance of the analog test multiplexer",
                                    0.0, 5e3)
    test_pad_resistance: float = _p(50.0, "ohm", "assumed: pads and probes in series with the test MTJ", 0.0, 500.0)
    read_disturb_direction: str = _choice("P->AP", "assumed: read current flows in the P->AP write direction")


@dataclass(frozen=True)
class OperatingDefaults:
    """Register values after power-up or *RST."""

    clock_hz: float = _p(11.1e6, "Hz", "paper: 11.1 MHz in silicon", *CLOCK_RANGE)
    clock_max_hz: float = _p(17.2e6, "Hz", "paper: 17.2 MHz analog limit", CLOCK_RANGE[1], CLOCK_RANGE[1])
    v_write: float = _p(1.5, "V", "paper: 1.5 V across the branch", *VWRITE_RANGE)
    write_width_clocks: int = _p(1, "clock", "datasheet 4: one clock per half-row write", *WRITE_WIDTH_RANGE)
    v_read: float = _p(0.25, "V", "assumed: MAC read bias across a column (~4 mV per cell)", *READ_BIAS_RANGE)
    v_verify: float = _p(0.1, "V", "assumed: differential verify bias across a branch", *VERIFY_BIAS_RANGE)
    tdc_centre_mac: float = _p(0.0, "1", "datasheet 3: power-up window centred on each column's MAC = 0 "
                               "(per-column starts from the factory calibration)", -48.0, 48.0)
    tdc_lsb: float = _p(0.4e-9, "s", "datasheet 3: power-up LSB near 0.4 ns (2-3 MAC units per code)",
                        *TDC_LSB_RANGE)
    vdd: float = _p(0.9, "V", "assumed: 28 nm core supply", 0.8, 1.0)
    vddio: float = _p(1.8, "V", "assumed: I/O supply", 1.6, 2.0)
    supply_tolerance: float = _p(0.1, "1", "assumed: chip works within +-10 % of nominal rails", 0.01, 0.2)
    temperature: float = _p(298.15, "K", "datasheet: 25 degC", 4.0, 500.0)


@dataclass(frozen=True)
class EnergyParameters:
    """The periphery's circuit inputs; array, readout and TDC energies follow from these and the physics."""

    tdc_stage_capacitance: float = _p(1.5e-15, "F", "assumed: switched capacitance of one delay stage of a "
                                      "28 nm TDC (gate, drain and wire, ~0.5 fF each)", 0.3e-15, 5e-15)
    tdc_ring_stages: int = _p(8, "1", "assumed: stages of each column's gated ring oscillator, whose period is "
                              "the LSB (current-starved, ~25 ps a stage at 0.4 ns); every stage rises once a "
                              "period", 3, 31)
    tdc_flipflop_capacitance: float = _p(3.0e-15, "F", "assumed: switched capacitance of one toggle of a "
                                         "counter or register flip-flop", 0.5e-15, 10e-15)
    row_driver_capacitance: float = _p(64e-15, "F", "assumed: one gate line of a row (64 access-FET gates "
                                       "and wire); an input toggle charges one of the row's two lines",
                                       10e-15, 500e-15)
    control_energy_per_clock: float = _p(2e-12, "J", "assumed: clocking, decoders and control per clock",
                                         0.0, 20e-12)
    sense_energy_per_column: float = _p(50e-15, "J", "assumed: one verify sense amplifier decision", 0.0, 500e-15)
    static_current_vdd: float = _p(50e-6, "A", "assumed: core leakage at 25 degC", 0.0, 1e-3)
    static_current_vddio: float = _p(20e-6, "A", "assumed: I/O bias current", 0.0, 1e-3)


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
        return [(name, value, unit, source) for name, value, unit, source, _ in self.described()]

    def described(self) -> list[tuple[str, object, str, str, tuple[float, float] | None]]:
        """Every setting as (name, value, unit, source, (low, high) or None for a choice)."""
        rows = []
        for group in _GROUPS:
            obj = getattr(self, group)
            for f in dataclasses.fields(obj):
                meta = f.metadata
                span = (meta["low"], meta["high"]) if "low" in meta else None
                rows.append((f"{group}.{f.name}", getattr(obj, f.name), meta["unit"], meta["source"], span))
        return rows


_GROUPS = {
    "device": DeviceParameters,
    "defects": DefectParameters,
    "readout": ReadoutParameters,
    "defaults": OperatingDefaults,
    "energy": EnergyParameters,
}

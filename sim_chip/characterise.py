"""The model's headline figures, measured on simulated dies (the numbers in docs/chip_model.md).

    python -m sim_chip.characterise [--dies 8]

Prints one JSON object: the derived readout quantities (circuit, noise
sources, slopes, timing noise and offsets at MAC +64, 0 and -64, energies),
the timing noise measured at MAC +64 and -64 through the board's command
layer (die 11), switching times against overdrive, the write error rate
(analytic per die, Monte Carlo at a lowered V_WRITE on die 5), the TMR
spread, the power-up TDC window against the full-range one on die 5,
retention at 85 degC over 10 years, and MAC energy by block with TOPS/W.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from benchspec.mx64 import TDC_CODES

from . import switching
from .board import Board
from .die import COLUMNS, HEALTHY, ROWS, Spreads, nominal_ic0
from .energy import COUNTER_TOGGLES_PER_COUNT, efficiency, mac_energy_breakdown
from .macro import MX64
from .parameters import ChipParameters
from .readout import (comparator_bias_current, column_delay, nominal_column, noise_budget, readout_circuit,
                      trip_slope)

TEN_YEARS = 10 * 365.25 * 86400


def powered(seed: int = 1, params: ChipParameters | None = None) -> MX64:
    """A chip on nominal rails (as the board's regulators would set them)."""
    chip = MX64(seed, params)
    d = chip.params.defaults
    chip.set_rails(vdd=d.vdd, vddio=d.vddio, vwrite=d.v_write)
    return chip


def random_signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random +1/-1 (int8) of ``shape``."""
    return rng.choice(np.array([-1, 1], np.int8), size=shape)


def derived(params: ChipParameters) -> dict:
    """Every quantity the model derives from its inputs, at 25 degC and the nominal read bias."""
    p, d, r = params, params.device, params.readout
    v_r, t = p.defaults.v_read, d.t_ref
    circuit, budget = readout_circuit(p), noise_budget(p, t, v_r)
    out: dict = {"capacitance_fF": circuit.capacitance * 1e15, "threshold_mV": circuit.threshold * 1e3,
                 "reference_current_nA": circuit.reference_current * 1e9,
                 "noise_uV": {"ktc": budget.ktc * 1e6, "comparator": budget.comparator * 1e6,
                              "reference": budget.reference * 1e6, "per_column": budget.column * 1e6,
                              "threshold_reference": budget.threshold_reference * 1e6,
                              "supply": budget.supply * 1e6, "common": budget.common * 1e6},
                 "jitter_ps": budget.jitter * 1e12,
                 "flicker_V2": {"comparator": budget.comparator_flicker, "mtj": budget.mtj_flicker},
                 "flicker_per_octave_uV": math.sqrt(budget.flicker * math.log(2)) * 1e6,
                 "threshold_per_relative_r_mV": budget.volts_per_relative_r * 1e3}
    by_mac = {}
    for mac in (64, 0, -64):
        r_col = nominal_column(p, mac)
        r_eff = circuit.mean_weight * r_col
        slope = float(trip_slope(r_col, r_eff, circuit.capacitance, v_r, circuit.threshold, circuit.reference_current))
        v_inf = v_r - circuit.reference_current * r_col
        by_mac[str(mac)] = {
            "delay_ns": float(column_delay(r_col, r_eff, circuit.capacitance, v_r, t, p)) * 1e9,
            "slope_mV_per_ns": slope * 1e-6,
            "timing_noise_ns": math.hypot(math.hypot(budget.column, budget.common) / slope, budget.jitter) * 1e9,
            "offset_sigma_ns": r.comparator_offset_sigma / slope * 1e9,
            "sink_mismatch_ns": r.reference_current_mismatch * circuit.reference_current * r_col
            * circuit.threshold / v_inf / slope * 1e9}
    out["by_mac"] = by_mac
    out["noise_ratio_minus64_over_plus64"] = by_mac["-64"]["timing_noise_ns"] / by_mac["64"]["timing_noise_ns"]
    e, v2 = p.energy, p.defaults.vdd**2
    out["energy"] = {"comparator_bias_uA": comparator_bias_current(p) * 1e6,
                     "tdc_per_lsb_fJ": (e.tdc_ring_stages * e.tdc_stage_capacitance
                                        + COUNTER_TOGGLES_PER_COUNT * e.tdc_flipflop_capacitance) * v2 * 1e15,
                     "tdc_conversion_fJ": 2 * 4 * e.tdc_flipflop_capacitance * v2 * 1e15,
                     "tdc_start_stage_fJ": e.tdc_stage_capacitance * v2 * 1e15}
    s = Spreads.of(d)
    ic_pa, ic_ap = nominal_ic0(d)
    out["device"] = {"area_cv": math.sqrt(math.expm1(s.area**2)), "jc0_cv": math.sqrt(math.expm1(s.jc0**2)),
                     "delta_cv": math.hypot(d.delta_area_exponent * s.area, d.delta_cv),
                     "ic0_p_to_ap_uA": ic_pa * 1e6, "ic0_ap_to_p_uA": ic_ap * 1e6,
                     "junction_area_um2": d.resistance_area / d.r_p_mean * 1e12,
                     "critical_passage_ns": float(switching.passage_time(1.0, d.delta_retention_mean
                                                                         * (1 + d.stray_field_ratio) ** 2, d)) * 1e9}
    return out


def board_timing_noise(seed: int = 11, reads: int = 20_000) -> dict:
    """Timing noise at MAC +64 and -64 measured through the board's command layer (windows placed per column
    from the codes, as a host does), s, and their ratio."""
    board = Board(MX64(seed))
    board.power_on()
    board.write_array(np.ones((ROWS, COLUMNS), np.int8))
    out = {}
    for mac, lsb in ((64, 0.15e-9), (-64, 0.3e-9)):
        x = np.full((400, ROWS), 1 if mac > 0 else -1, np.int8)
        board.set_register("tdc_lsb", 4e-9)
        board.set_register("tdc_start", 0.0)
        centre = (board.mac_batch(x).mean(axis=0) + 0.5) * 4e-9
        for width in (1e-9, lsb, lsb):
            board.set_register("tdc_lsb", width)
            for j in range(COLUMNS):
                board.set_register("tdc_start", float(max(centre[j] - 8 * width, 0.0)), j)
            starts, lsbs = board.get_register("tdc_start"), board.get_register("tdc_lsb")
            centre = starts + (board.mac_batch(x).mean(axis=0) + 0.5) * lsbs
        codes = board.mac_batch(np.repeat(x[:1], reads, axis=0)).astype(float)
        lsbs = board.get_register("tdc_lsb")
        out[str(mac)] = float(np.sqrt(codes.var(axis=0, ddof=1) * lsbs**2 - lsbs**2 / 12).mean())
    out["ratio"] = out["-64"] / out["64"]
    return out


def median_switching_time(overdrive: float, params: ChipParameters) -> float:
    """Pulse width (s) that switches half the time at ``overdrive`` x Ic0, nominal MTJ (P -> AP)."""
    d = params.device
    out_of_p = d.delta_retention_mean * (1 + d.stray_field_ratio) ** 2
    lo, hi = 1e-12, 1.0
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        s = float(switching.survival(overdrive, mid, d.delta_mean, out_of_p, d))
        lo, hi = (mid, hi) if s > 0.5 else (lo, mid)
    return hi


def write_errors(dies: int, monte_carlo_vwrite: float = 0.85) -> dict:
    analytic, lowered = [], []
    for seed in range(dies):
        for v_write, found in ((None, analytic), (monte_carlo_vwrite, lowered)):
            chip = powered(seed)
            if v_write is not None:
                chip.set_rails(vwrite=v_write)
            chip.write_array(random_signs(np.random.default_rng(seed), (ROWS, COLUMNS)))
            found.append(chip.write_error_rates())
    chip = powered(5)
    chip.set_rails(vwrite=monte_carlo_vwrite)
    w = random_signs(np.random.default_rng(5), (ROWS, COLUMNS))
    chip.write_array(w)
    errors = switches = 0
    healthy = chip.die.defect == HEALTHY
    for k in range(100):                            # every healthy MTJ switches at every write
        target = -w if k % 2 == 0 else w
        want = np.stack([target == -1, target == 1], axis=-1)
        must = (chip._ap != want) & healthy
        chip.write_array(target)
        switches += int(must.sum())
        errors += int(((chip._ap != want) & must).sum())
    return {"analytic_mean_over_dies": float(np.mean(analytic)),
            "analytic_per_die": [float(a.mean()) for a in analytic],
            f"analytic_mean_over_dies_at_{monte_carlo_vwrite}V": float(np.mean(lowered)),
            f"analytic_die5_at_{monte_carlo_vwrite}V": float(lowered[5 % dies].mean()),
            f"monte_carlo_die5_at_{monte_carlo_vwrite}V": errors / switches, "monte_carlo_switches_die5": switches}


def tmr_spread(dies: int) -> dict:
    cvs = []
    for seed in range(dies):
        d = MX64(seed).die
        ok = d.defect == HEALTHY
        tmr = d.r_ap[ok] / d.r_p[ok] - 1
        cvs.append(float(tmr.std() / tmr.mean()))
    return {"tmr_cv_per_die": cvs}


def window_figures() -> dict:
    chip = powered(5)
    rng = np.random.default_rng(1)
    chip.write_array(random_signs(rng, (ROWS, COLUMNS)))
    w = chip.stored_weights()
    x = random_signs(rng, (200_000, ROWS))
    mac = x.astype(int) @ w.astype(int)

    def stats(codes: np.ndarray) -> tuple[float, float]:
        bits, sq = [], []
        for j in range(COLUMNS):
            count = np.bincount(codes[:, j], minlength=TDC_CODES)
            p = count[count > 0] / count.sum()
            bits.append(-(p * np.log2(p)).sum())
            mean = np.bincount(codes[:, j], weights=mac[:, j], minlength=TDC_CODES) / np.maximum(count, 1)
            sq.append(np.mean((mean[codes[:, j]] - mac[:, j]) ** 2))
        return float(np.mean(bits)), float(np.sqrt(np.mean(sq)))

    default = stats(chip.mac_batch(x))
    starts = chip.tdc_start.copy()
    chip.set_tdc_window(13e-9, 1e-9)
    full = stats(chip.mac_batch(x))
    return {"mac_sigma": float(mac.std()), "power_up_start_ns": [round(float(s) * 1e9, 4) for s in starts],
            "power_up_lsb_ns": float(chip.params.defaults.tdc_lsb * 1e9),
            "power_up_bits_used": default[0], "power_up_rms_mac_error": default[1],
            "full_range_bits_used": full[0], "full_range_rms_mac_error": full[1]}


def retention(dies: int) -> dict:
    flips = 0
    for seed in range(dies):
        chip = powered(seed)
        chip.write_array(random_signs(np.random.default_rng(seed), (ROWS, COLUMNS)))
        before = chip._ap.copy()
        chip.set_temperature(358.15)
        chip.advance_idle(TEN_YEARS)
        flips += int((chip._ap != before).sum())
    return {"flips_10y_85C_over_dies": flips, "dies": dies}


def energy() -> dict:
    chip = powered(5)
    chip.write_array(random_signs(np.random.default_rng(0), (ROWS, COLUMNS)))
    n = 100_000
    x = random_signs(np.random.default_rng(2), (n, ROWS))
    out: dict = {}
    for name, batch in (("random", x), ("repeated", np.tile(x[:1], (n, 1)))):
        before = dict(chip.energy.blocks)
        chip.mac_batch(batch)
        blocks = {k: (chip.energy.blocks[k] - before[k]) / n for k in before if k != "static"}
        per_vector = sum(blocks.values())
        out[name] = {"per_vector_J": per_vector, "blocks_J": {k: v for k, v in blocks.items() if v},
                     **efficiency(per_vector)}
    nominal = mac_energy_breakdown(chip.params.defaults.v_read, chip.params.defaults.vdd, chip.params)
    out["nominal_die_random_inputs"] = {"per_vector_J": sum(nominal.values()), "blocks_J": nominal,
                                        **efficiency(sum(nominal.values()))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dies", type=int, default=8)
    args = parser.parse_args()
    params = ChipParameters()
    report = {"derived": derived(params), "timing_noise_through_the_board_die11_s": board_timing_noise(),
              "median_switching_time_ns": {str(x): median_switching_time(x, params) * 1e9
                                           for x in (0.8, 0.9, 0.95, 1.0, 1.05, 1.2, 1.5, 2.0, 3.0, 4.0)},
              "write_error_rate": write_errors(args.dies), "tmr": tmr_spread(args.dies),
              "tdc_window_die5": window_figures(), "retention": retention(args.dies), "mac_energy": energy()}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

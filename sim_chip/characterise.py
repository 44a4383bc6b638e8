"""The model's headline figures, measured on simulated dies (the numbers in docs/chip_model.md).

    python -m sim_chip.characterise [--dies 8]

Prints one JSON object: switching times against overdrive, the nominal
write error rate (analytic and Monte Carlo, per column on die 5), the TMR
spread, the power-up TDC window against the full-range one on die 5,
retention at 85 degC over 10 years, and MAC energy by block with TOPS/W.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from benchspec.mx64 import TDC_CODES

from . import switching
from .die import COLUMNS, HEALTHY, ROWS
from .energy import efficiency
from .macro import MX64
from .parameters import ChipParameters

TEN_YEARS = 10 * 365.25 * 86400


def powered(seed: int) -> MX64:
    chip = MX64(seed)
    d = chip.params.defaults
    chip.set_rails(vdd=d.vdd, vddio=d.vddio, vwrite=d.v_write)
    return chip


def random_signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice(np.array([-1, 1], np.int8), size=shape)


def median_switching_time(overdrive: float, params: ChipParameters) -> float:
    """Pulse width (s) that switches half the time at ``overdrive`` x Vc0, nominal MTJ (P -> AP)."""
    d = params.device
    out_of_p = d.delta_retention_mean * (1 + d.stray_field_ratio) ** 2
    lo, hi = 1e-12, 1.0
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        s = float(switching.survival(overdrive * d.vc0_p_to_ap, mid, d.vc0_p_to_ap, d.delta_mean, out_of_p, d))
        lo, hi = (mid, hi) if s > 0.5 else (lo, mid)
    return hi


def write_errors(dies: int) -> dict:
    analytic = []
    for seed in range(dies):
        chip = powered(seed)
        chip.write_array(random_signs(np.random.default_rng(seed), (ROWS, COLUMNS)))
        analytic.append(chip.write_error_rates())
    chip = powered(5)
    w = random_signs(np.random.default_rng(5), (ROWS, COLUMNS))
    chip.write_array(w)
    errors = switches = 0
    healthy = chip.die.defect == HEALTHY
    for k in range(400):                            # every healthy MTJ switches at every write
        target = -w if k % 2 == 0 else w
        want = np.stack([target == -1, target == 1], axis=-1)
        must = (chip._ap != want) & healthy
        chip.write_array(target)
        switches += int(must.sum())
        errors += int(((chip._ap != want) & must).sum())
    return {"analytic_mean_over_dies": float(np.mean(analytic)),
            "analytic_per_die": [float(a.mean()) for a in analytic],
            "analytic_per_column_die5": [float(v) for v in analytic[5 % dies]],
            "monte_carlo_die5": errors / switches, "monte_carlo_switches_die5": switches}


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
    out = {}
    for name, batch in (("random", x), ("repeated", np.tile(x[:1], (n, 1)))):
        before = dict(chip.energy.blocks)
        chip.mac_batch(batch)
        blocks = {k: (chip.energy.blocks[k] - before[k]) / n for k in before if k != "static"}
        per_vector = sum(blocks.values())
        out[name] = {"per_vector_J": per_vector, "blocks_J": {k: v for k, v in blocks.items() if v},
                     **efficiency(per_vector)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dies", type=int, default=8)
    args = parser.parse_args()
    params = ChipParameters()
    report = {"median_switching_time_ns": {str(x): median_switching_time(x, params) * 1e9
                                           for x in (0.8, 0.9, 1.2, 1.5, 2.0, 3.0, 4.0)},
              "write_error_rate": write_errors(args.dies), "tmr": tmr_spread(args.dies),
              "tdc_window_die5": window_figures(), "retention": retention(args.dies), "mac_energy": energy()}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

"""The chip model beside its peers on the same job: 64 x 64 of +-1 weights, batches of +-1 inputs, in one run.

* IBM aihwkit-lightning (the ``peers`` extra): ``AnalogLinear(64, 64)`` with
  per-read output noise of the chip's size and 4-bit output quantisation
  over the full MAC range.  Lightning adds output noise only in training
  mode, so the layer runs in training mode (under ``no_grad``); its output
  bound is relative to the input range times max |w|, both 1 here, so the
  bound is 64 and the noise is given in MAC units.  The input range is
  fixed at 1 (not learned, not initialised from data).  The run checks that
  two reads of the same inputs differ and that the outputs take at most 16
  levels.
* CrossSim (Sandia) is not on the package registry (pip finds neither
  ``crosssim`` nor ``cross-sim``), so it is not measured here.

The chip's noise in MAC units is its read noise (common and per column, s)
over the nominal column's delay per MAC unit at MAC = 0.  Batches of
100,000 vectors, model and lightning interleaved, best of several rounds.

    python benchmarks/peers.py [--batch N] [--rounds R] [--short]

``--short`` is the gate's version: one thread each (4,032 vectors, which the
model reads on the calling thread; torch on one thread).

The last line is JSON: model_vectors_per_s, lightning_vectors_per_s,
over_lightning (goal >= 3), noise_mac_units, lightning_reads_differ,
lightning_levels, crosssim (null: not installable).
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
from timing import best, side_by_side, sized_arguments, write_results

from sim_chip import MX64
from sim_chip.readout import column_delay, noise_budget, readout_circuit, trip_slope


def chip_noise_in_mac_units(chip: MX64) -> float:
    """The read noise's sigma (its voltage noise over the node's slope at the trip point, with the jitter) over
    the nominal column's delay step per MAC unit, both at MAC = 0."""
    p = chip.params
    d, r, dflt = p.device, p.readout, p.defaults
    r_low, r_high = d.r_fet_mean + d.r_p_mean, d.r_fet_mean + d.r_ap_mean
    c = 64 * r.line_capacitance_per_cell + r.comparator_capacitance

    def delay(mac: int) -> float:
        matched = (64 + mac) / 2                          # cells whose input selects their low branch
        column = matched * r_low + (64 - matched) * r_high
        return float(column_delay(column, column, c, dflt.v_read, d.t_ref, p))

    per_unit = abs(delay(1) - delay(-1)) / 2
    budget, circuit = noise_budget(p, d.t_ref, dflt.v_read), readout_circuit(p)
    r_mid = 32 * (r_low + r_high)
    slope = float(trip_slope(r_mid, r_mid, c, dflt.v_read, circuit.threshold, circuit.reference_current))
    return math.hypot(math.hypot(budget.column, budget.common) / slope, budget.jitter) / per_unit


def lightning_layer(weights: np.ndarray, noise: float):
    """aihwkit-lightning's AnalogLinear(64, 64) holding ``weights``, noisy per read, 4-bit output."""
    import torch
    with contextlib.redirect_stdout(io.StringIO()):          # it reports that triton is missing
        from aihwkit_lightning.nn import AnalogLinear
        from aihwkit_lightning.simulator.configs import TorchInferenceRPUConfig
    config = TorchInferenceRPUConfig()
    ir = config.pre_post.input_range
    ir.enable, ir.learn_input_range, ir.init_from_data, ir.init_value = True, False, 0, 1.0
    config.forward.out_noise = noise                          # x max|w| x input range = MAC units
    config.forward.out_bound = 64.0                           # the full MAC range, x max|w| x input range
    config.forward.out_res = 2**4 - 2                         # 4 bits (lightning counts 2^n - 2 steps)
    layer = AnalogLinear(64, 64, bias=False, rpu_config=config)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weights.astype(np.float32)))
    layer.train()                                             # output noise only in training mode
    return layer


def main() -> None:
    args = sized_arguments(__doc__, ("--batch", 100_000, 4032), (5, 15), "one thread each, 4,032 vectors, 15 rounds")
    import torch
    if args.short:                                          # one chunk, on the calling thread; torch on one thread
        torch.set_num_threads(1)

    rng = np.random.default_rng(0)
    weights = rng.choice(np.array([-1, 1], np.int8), (64, 64))
    x = rng.choice(np.array([-1, 1], np.int8), (args.batch, 64))
    chip = MX64(seed=1)
    d = chip.params.defaults
    chip.set_rails(vdd=d.vdd, vddio=d.vddio, vwrite=d.v_write)
    chip.write_array(weights)
    noise = chip_noise_in_mac_units(chip)
    layer = lightning_layer(weights.T, noise)                 # lightning computes x @ W^T
    xt = torch.from_numpy(x.astype(np.float32))

    def lightning() -> np.ndarray:
        with torch.no_grad():
            return layer(xt).numpy()

    first, second = lightning(), lightning()
    differ = bool((first != second).any())
    levels = int(np.unique(first).size)
    chip.mac_batch(x[:1000])
    times = side_by_side({"model": lambda: chip.mac_batch(x), "lightning": lightning}, args.rounds)
    model_vps, light_vps = (args.batch / best(times[k]) for k in ("model", "lightning"))
    print(f"model              {model_vps / 1e6:6.2f} M vectors/s")
    print(f"aihwkit-lightning  {light_vps / 1e6:6.2f} M vectors/s (noise {noise:.2f} MAC units per read, "
          f"{levels} output levels, repeated reads differ: {differ}); torch {torch.__version__}")
    print("CrossSim           not installable from the package registry")
    write_results("peers", {"batch": args.batch, "model_vectors_per_s": round(model_vps),
                            "lightning_vectors_per_s": round(light_vps),
                            "over_lightning": round(model_vps / light_vps, 3), "noise_mac_units": round(noise, 3),
                            "lightning_reads_differ": differ, "lightning_levels": levels, "crosssim": None},
                  short=args.short)


if __name__ == "__main__":
    main()

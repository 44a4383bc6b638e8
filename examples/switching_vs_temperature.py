"""Switching probability of the test MTJ against pulse width, at three chuck temperatures.

    python examples/switching_vs_temperature.py [--bench bench.toml] [--temperatures 300,330,360]

The SMU must be wired to the test MTJ (the built-in bench here is opened
that way; a bench file says so in ``[wiring] smu = "test_mtj"``).  For each
temperature the script brings the chuck there with the temperature
controller's driver, waits until it settles, and runs
``switching-probability``, which fits the critical voltage Vc0 and the
thermal stability Delta.  Both fall as the die warms; the script prints
them and plots them against temperature.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.figure import Figure

import labctl
from labctl.bench import default_bench, load_bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", help="bench file (default: the built-in simulated bench, SMU on the test MTJ)")
    parser.add_argument("--temperatures", default="300,330,360", help="chuck temperatures, K")
    parser.add_argument("--store", help="run store (default: $LABCTL_STORE or ~/.local/share/labctl)")
    parser.add_argument("--output", default="switching_vs_temperature.png", help="where the plot goes")
    parser.add_argument("--quick", action="store_true", help="fewer pulses and amplitudes (CI)")
    args = parser.parse_args()
    temperatures = [float(t) for t in args.temperatures.split(",")]
    sweep = {"widths": "1e-6,1e-5,1e-4", "points": 7, "trials": 20, "span": 0.03} if args.quick else {}

    fits = []
    bench = load_bench(args.bench) if args.bench else default_bench(smu="test_mtj")
    with bench:                                       # leaving the block turns the heater and outputs off
        heater = bench.thermo.ch[1]
        for kelvin in temperatures:
            # the controller's driver refuses a setpoint above the bench's temperature limit
            heater.heater_range = "medium"
            heater.setpoint = kelvin
            bench.thermo.wait_for_temperature(kelvin, tolerance=0.5)   # virtual time on a simulated bench
            result = labctl.run_procedure("switching-probability", bench, store=args.store, seed=1, **sweep)
            s = result.summary
            print(f"{kelvin:6.1f} K (run {result.run_id}): Vc0 = {s['vc0_V']:.4f} +/- {s['vc0_se_V']:.4f} V, "
                  f"Delta = {s['delta']:.1f} +/- {s['delta_se']:.1f}")
            fits.append((kelvin, s))
        heater.heater_range = "off"

    figure = Figure(figsize=(8, 3.2), layout="constrained")      # no display needed
    left, right = figure.subplots(1, 2)
    t = [k for k, _ in fits]
    left.errorbar(t, [s["vc0_V"] for _, s in fits], [s["vc0_se_V"] for _, s in fits], marker="o", capsize=3)
    left.set(xlabel="chuck temperature (K)", ylabel="Vc0 (V)", title="critical voltage")
    right.errorbar(t, [s["delta"] for _, s in fits], [s["delta_se"] for _, s in fits], marker="o", capsize=3)
    right.set(xlabel="chuck temperature (K)", ylabel="Delta", title="thermal stability")
    figure.savefig(args.output, dpi=120)
    print(f"plot: {Path(args.output).resolve()}")


if __name__ == "__main__":
    main()

"""write-verify: program a 64 x 64 +/-1 matrix, verify, rewrite what failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from labctl.procedure import Parameter, ParameterError, Plan, Procedure, RunContext

from .common import CLOCK_HZ, ensure_powered, figure, set_write_voltage, write_voltage


def load_weights(params: dict) -> np.ndarray:
    """The matrix to program: from ``weights_file`` (.npy of +/-1, 64 x 64) or drawn from ``matrix_seed``."""
    path = params["weights_file"]
    if not path:
        return np.random.default_rng(params["matrix_seed"]).choice(np.array([-1, 1], np.int8), (64, 64))
    try:
        w = np.load(Path(path), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ParameterError(f"parameter weights_file: cannot read {path}: {exc}") from None
    if w.shape != (64, 64) or not np.isin(w, (-1, 1)).all():
        raise ParameterError(f"parameter weights_file: {path} must hold a 64 x 64 array of -1/+1, "
                             f"got shape {w.shape}")
    return w.astype(np.int8)


class WriteVerify(Procedure):
    name = "write-verify"
    summary = "program a +/-1 matrix row by row, verify, rewrite failing rows with bounded retries"
    parameters = (
        Parameter("matrix_seed", int, 0, "seed of the random matrix (when no weights_file)"),
        Parameter("weights_file", str, "", "a .npy file with a 64 x 64 matrix of -1/+1"),
        Parameter("max_retries", int, 5, "rewrite passes after the first", low=0, high=20),
        Parameter("voltage_step", float, 0.0, "V_WRITE increase per retry", "V", low=0.0, high=0.1),
        Parameter("width_step", int, 1, "write-pulse increase per retry", "clock", low=0, high=8),
    )

    def plan(self, params: dict, bench: Any) -> Plan:
        load_weights(params)             # an unreadable file fails here, before any instrument is touched
        plan = Plan(steps=["write the matrix (128 pulses)", "verify all rows",
                           f"up to {params['max_retries']} passes rewriting failing rows"])
        top = bench.rails.vwrite + params["max_retries"] * params["voltage_step"]
        plan.send("vwrite", bench.rails.vwrite, top)
        clocks = 192 + params["max_retries"] * 3 * 64 * (1 + params["max_retries"] * params["width_step"])
        plan.duration_s = clocks / CLOCK_HZ
        return plan

    def run(self, ctx: RunContext, params: dict) -> dict:
        bench, chip = ctx.bench, ctx.chip
        weights = load_weights(params)
        ensure_powered(bench)
        v0, width0 = write_voltage(bench), chip.write_width()
        supply = bench.instruments.get("supply")
        if supply:
            supply.ch[bench.wiring.vwrite].measure_current()     # opens the averaging window
        t0 = bench.clock.now()
        chip.reset_counter()
        chip.write_array(weights)
        read = chip.verify_array()
        errors = read != weights
        passes, pulses, rewritten = [int(errors.sum())], 128, []
        try:
            for k in range(1, params["max_retries"] + 1):
                if not errors.any():
                    break
                set_write_voltage(bench, v0 + k * params["voltage_step"])
                chip.set_write_width(width0 + k * params["width_step"])
                rows = np.flatnonzero(errors.any(axis=1))
                for r in rows:
                    chip.write_row(int(r), weights[r])
                    read[r] = chip.verify_row(int(r))
                pulses += 2 * len(rows)
                rewritten.append(len(rows))
                errors = read != weights
                passes.append(int(errors.sum()))
                ctx.progress("write-verify", k, params["max_retries"])
        finally:
            set_write_voltage(bench, v0)
            chip.set_write_width(width0)
        seconds = bench.clock.now() - t0
        clocks = chip.cycle_counter()
        energy = None
        if supply:
            amps = supply.ch[bench.wiring.vwrite].measure_current()
            energy = amps * v0 * seconds
        ctx.record("weights", weights)
        ctx.record("read", read)
        ctx.record("errors_per_pass", passes)
        ctx.record("rows_rewritten_per_pass", rewritten)
        self._plots(ctx, passes, errors)
        return {"bit_errors": passes[-1], "first_pass_errors": passes[0], "passes": len(passes),
                "pulses": pulses, "clocks": clocks, "seconds": seconds, "write_energy_J": energy}

    @staticmethod
    def _plots(ctx: RunContext, passes: list[int], errors: np.ndarray) -> None:
        fig, (a, b) = figure(1, 2, 10, 4)
        a.bar(range(len(passes)), passes, color="tab:blue")
        a.set_xlabel("pass")
        a.set_ylabel("bit errors")
        a.set_title("errors after each pass")
        b.imshow(errors, cmap="Reds", interpolation="nearest")
        b.set_title(f"residual errors ({int(errors.sum())})")
        b.set_xlabel("column")
        b.set_ylabel("row")
        ctx.plot("write_verify", fig)

"""energy: continuous MAC while the supply reads the rail currents; energy per MAC and TOPS/W."""

from __future__ import annotations

from typing import Any

import numpy as np

from labctl.procedure import Parameter, Plan, Procedure, RunContext

from .common import CLOCK_HZ, ensure_powered, figure

OPS_PER_VECTOR = 2 * 64 * 64   # a multiply and an add per binary MAC


class Energy(Procedure):
    name = "energy"
    summary = "continuous MAC with supply current readings: energy per MAC vector, TOPS/W"
    needs = ("supply",)
    parameters = (
        Parameter("vectors", int, 1_000_000, "MAC vectors in the busy window", low=1000, high=100_000_000),
        Parameter("batch", int, 50_000, "vectors per MAC command", low=100, high=65536),
    )

    def plan(self, params: dict, bench: Any) -> Plan:
        plan = Plan(steps=["idle window: rail currents", f"{params['vectors']} MAC vectors: rail currents"])
        plan.send("vwrite", bench.rails.vwrite)
        plan.duration_s = 2 * params["vectors"] / CLOCK_HZ
        return plan

    def run(self, ctx: RunContext, params: dict) -> dict:
        bench, chip = ctx.bench, ctx.chip
        ensure_powered(bench)
        supply, wiring = bench.supply, bench.wiring
        channels = {rail: supply.ch[wiring.channel(rail)] for rail in ("vdd", "vddio", "vwrite")}
        volts = {rail: ch.measure_voltage() for rail, ch in channels.items()}
        busy_s = params["vectors"] / chip.clock()

        def window(work) -> tuple[dict[str, float], float]:
            for ch in channels.values():
                ch.measure_current()               # opens the averaging window
            t0 = bench.clock.now()
            work()
            amps = {rail: ch.measure_current() for rail, ch in channels.items()}
            return amps, bench.clock.now() - t0

        idle_amps, idle_s = window(lambda: bench.wait(busy_s))
        x = ctx.rng.choice(np.array([-1, 1], np.int8), (params["batch"], 64))

        def mac_loop() -> None:
            done = 0
            while done < params["vectors"]:
                n = min(params["batch"], params["vectors"] - done)
                chip.mac_batch(x[:n])
                done += n
                ctx.progress("energy", done, params["vectors"])

        busy_amps, busy_window_s = window(mac_loop)
        power_busy = sum(volts[r] * busy_amps[r] for r in volts)
        power_idle = sum(volts[r] * idle_amps[r] for r in volts)
        total_j = power_busy * busy_window_s
        dynamic_j = total_j - power_idle * busy_window_s
        per_vector = dynamic_j / params["vectors"]
        ctx.record("rail_volts", volts)
        ctx.record("idle_amps", idle_amps)
        ctx.record("busy_amps", busy_amps)
        self._plot(ctx, idle_amps, busy_amps)
        return {"energy_per_vector_J": per_vector, "energy_per_mac_J": per_vector / 4096,
                "tops_per_watt": OPS_PER_VECTOR / per_vector / 1e12 if per_vector > 0 else float("nan"),
                "busy_power_W": power_busy, "idle_power_W": power_idle, "busy_seconds": busy_window_s}

    @staticmethod
    def _plot(ctx: RunContext, idle: dict, busy: dict) -> None:
        fig, ax = figure(1, 1, 6, 4)
        rails = list(idle)
        pos = np.arange(len(rails))
        ax.bar(pos - 0.2, [idle[r] * 1e6 for r in rails], 0.4, label="idle")
        ax.bar(pos + 0.2, [busy[r] * 1e6 for r in rails], 0.4, label="continuous MAC")
        ax.set_xticks(pos, rails)
        ax.set_ylabel("average current, uA")
        ax.set_title("rail currents")
        ax.legend()
        ctx.plot("energy", fig)

"""demo: the main job, as one parent run with a child run per step; an interrupted demo resumes with the
step it had not finished."""

from __future__ import annotations

from typing import Annotated

from labctl.plan import Call, Checkpoint, Context, Plan, SubRun
from labctl.procedure import Param, procedure, seed_param
from labctl.stubs import ensure_powered

STEPS = ("write-verify", "mac-transfer", "array-map", "energy")


def report(summary: dict) -> list[str]:
    """The demo's summary as four lines."""
    wv, mt, am, en = (summary[name] for name in STEPS)
    return [
        f"write   {wv['bit_errors']} residual bit errors ({wv['first_pass_errors']} after the first pass, "
        f"{wv['passes']} passes, {wv['pulses']} pulses, {wv['clocks']} clocks)",
        f"mac     error decoded-ideal: mean {mt['mac_error_mean']:+.2f}, std {mt['mac_error_std']:.2f} "
        f"MAC units; {100 * mt['exact_fraction']:.0f} % exact over {mt['vector_reads']} vector reads",
        f"array   R_low {am['r_low_mean_ohm'] / 1e3:.2f} kOhm (sigma {am['r_low_sigma_ohm'] / 1e3:.2f}), "
        f"R_high {am['r_high_mean_ohm'] / 1e3:.2f} kOhm (sigma {am['r_high_sigma_ohm'] / 1e3:.2f})",
        f"energy  {en['energy_per_vector_J'] * 1e12:.1f} pJ per 64x64 MAC vector "
        f"({en['energy_per_mac_J'] * 1e15:.2f} fJ per MAC, {en['tops_per_watt']:.0f} TOPS/W)",
        "runs    " + ", ".join(f"{name} {summary[name]['run_id']}" for name in STEPS),
    ]


@procedure(needs={"supply": None, "smu": "test_pad"}, report=report, resumes="after each child run")
def demo(
    seed: Annotated[int, seed_param("seed of the matrices programmed")] = 0,
    repeats: Annotated[int, Param("reads of every level in mac-transfer", low=1, high=1000)] = 3,
    columns: Annotated[int, Param("columns array-map maps (16: branch spreads to about 13 %)", low=1, high=64)] = 16,
    vectors: Annotated[int, Param("MAC vectors energy averages over", low=1000, high=100_000_000)] = 200_000,
) -> Plan:
    """the main job: write-verify, mac-transfer, array-map and energy, each a child run"""
    yield from ensure_powered()
    parameters = {"write-verify": {"matrix_seed": seed}, "mac-transfer": {"matrix_seed": seed + 1, "repeats": repeats},
                  "array-map": {"columns": columns}, "energy": {"vectors": vectors}}
    summary = (yield Context()).resume or {}
    for name in STEPS:
        if name not in summary:                  # not done before an interruption
            summary[name] = yield SubRun(name, parameters.get(name, {}), key=name)
            yield Checkpoint(summary)
    yield Call("bench.power_down")
    return summary

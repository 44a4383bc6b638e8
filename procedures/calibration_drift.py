"""calibration-drift: how long a tile calibration holds, as the MNIST perceptron's chip accuracy against time since
the tiles were calibrated, at the calibration's temperature and a step either side.

The chuck is held at ``base_temperature`` (10 K above the lab's ambient by
default, since its heater cannot cool), every tile of the network is
calibrated (the optimised pipeline, procedures/networks/chip/) and the test
digits are classified.  Then the bench's time passes (virtual on the
simulated bench).  At each hold time since the calibration, and at every
temperature step from the base, the same digits are classified twice:
**stale**, decoded with the tables of time zero, and **recalibrated**, with
tables measured afresh at that moment.  The accuracy the stale tables lose
is the paired difference, recalibrated minus stale, on the same digits: it
is what a recalibration there would win back, whatever the per-read noise
of either pass.

What moves between calibration and use is whatever moves on the bench: on
the simulated die the comparators' 1/f and telegraph noise, offset drift
with temperature, the reference sink's temperature coefficient and the MTJs'
resistance and TMR against temperature.  The network's tiles are programmed
again for every pass (the array holds one tile at a time), so retention
flips and read disturb of a stored tile do not reach this network; they
matter to a network that keeps one tile programmed (docs/networks.md).

The analysis gives, for each temperature step, the mean loss over the hold
times and the **recalibration interval**: the longest hold time up to which
no point loses more than ``loss_limit`` with 95 % confidence (a loss closer
to the limit than its interval is not resolved: more digits resolve it).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np

from benchspec.tdc import TdcSetting
from labctl.plan import Checkpoint, Context, Plan, Progress, Read, Record, Set, Wait
from labctl.plotting import figure
from labctl.procedure import Param, ParameterError, procedure
from labctl.rundata import RunData
from labctl.stubs import AMBIENT_K, hold_chuck_at
from procedures.networks.chip.network import chip_forward, seeded_subset
from procedures.networks.chip.pipeline import PIPELINES
from procedures.networks.chip.session import Session, chip_session
from procedures.networks.chip.stored import calibrations_from_run, record_network
from procedures.networks.host.accuracy import accuracy, mean_interval, paired_gap
from procedures.networks.host.idx import load_mnist
from procedures.networks.host.npz import SHIPPED_PERCEPTRON, load_network

CALIBRATED = "calibrated"            # the pass decoded with the tables of time zero
RECALIBRATED = "recalibrated"        # the pass decoded with tables measured at the point


def _validate(params: dict, store: Any) -> None:
    lowest = params["base_temperature"] + min(params["temperature_steps"])
    if lowest < AMBIENT_K:
        raise ParameterError(f"parameters base_temperature and temperature_steps: {lowest:g} K is below the lab's "
                             f"ambient ({AMBIENT_K:g} K), which the chuck's heater cannot reach; raise "
                             "base_temperature")
    if sorted(params["hold_times"]) != list(params["hold_times"]):
        raise ParameterError("parameter hold_times: give them in increasing order")


def _points(data: RunData) -> list[dict[str, Any]]:
    """Every measured point with its two passes' correctness masks, from the run's records."""
    labels = np.asarray(data.array("labels"), np.int64)
    return [{**info, "stale": np.asarray(stale) == labels, "fresh": np.asarray(fresh) == labels}
            for info, stale, fresh in zip(data.all("drift_point"), data.all("stale_predictions"),
                                          data.all("fresh_predictions"))]


def analyse(data: RunData) -> dict[str, Any]:
    """Per point: both accuracies with intervals and the paired loss; per temperature step: the recalibration
    interval (the longest hold up to which every point's loss is within the limit)."""
    limit = data.parameters["loss_limit"]
    points = []
    for p in _points(data):
        loss, loss_ci = paired_gap(p["fresh"], p["stale"])
        points.append({key: p[key] for key in ("hold_s", "since_calibration_s", "temperature_K", "step_K")}
                      | accuracy("stale", p["stale"]) | accuracy("recalibrated", p["fresh"])
                      | {"loss_points": loss, "loss_points_ci95": loss_ci})
    steps = {f"{step:+g} K": [p for p in points if p["step_K"] == step and p["hold_s"] > 0]
             for step in data.parameters["temperature_steps"]}
    intervals = {name: recalibration_interval(mine, limit) for name, mine in steps.items()}
    mean_loss = {name: mean_interval([p["loss_points"] for p in mine]) for name, mine in steps.items()}
    return {"points": points, "recalibration_interval_s": intervals, "mean_loss_points": mean_loss,
            "calibration_accuracy": points[0]["stale_accuracy"] if points else None}


def recalibration_interval(points: list[dict[str, Any]], limit: float) -> float | None:
    """The longest hold time (s) up to which no point's loss is beyond ``limit`` (a fraction) with 95 %
    confidence (``loss_points`` minus its half-width ``loss_points_ci95`` above the limit), or None when the
    first point already is.  A loss within the limit's reach of its interval is not resolved: the interval
    says how finely the digits can tell."""
    held = None
    for p in sorted(points, key=lambda p: p["hold_s"]):
        if p["loss_points"] - p["loss_points_ci95"] > 100 * limit:
            break
        held = p["hold_s"]
    return held


def report(summary: dict) -> list[str]:
    lines = [f"  {'hold':>10s} {'since cal.':>11s} {'T (K)':>7s} {'stale':>8s} {'recal.':>8s}  loss (points)"]
    for p in summary["points"]:
        lines.append(f"  {_duration(p['hold_s']):>10s} {_duration(p['since_calibration_s']):>11s} "
                     f"{p['temperature_K']:7.2f} {100 * p['stale_accuracy']:7.2f}% "
                     f"{100 * p['recalibrated_accuracy']:7.2f}%  {p['loss_points']:+.2f} ± {p['loss_points_ci95']:.2f}")
    for step, held in summary["recalibration_interval_s"].items():
        text = "not even at the first hold" if held is None else f"holds up to {_duration(held)}"
        mean, ci = summary["mean_loss_points"][step]
        loss = f"mean loss over the holds {mean:+.2f} ± {ci:.2f} points" if math.isfinite(ci) else "one hold"
        lines.append(f"  step {step}: {loss}; the calibration {text} (no loss beyond "
                     f"{100 * summary['loss_limit']:g} points with 95 % confidence)")
    return lines


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def plot_drift(data: RunData) -> Any:
    """Above: both accuracies against time since calibration, a line per temperature step; below: the paired loss
    with its 95 % interval and the limit."""
    fig, (top, bottom) = figure(2, 1, 6.5, 6.4)
    summary = analyse(data)
    limit = 100 * data.parameters["loss_limit"]
    for step in data.parameters["temperature_steps"]:
        mine = sorted((p for p in summary["points"] if p["step_K"] == step), key=lambda p: p["since_calibration_s"])
        if not mine:
            continue
        t = [max(p["since_calibration_s"], 1.0) for p in mine]
        line, = top.plot(t, [100 * p["stale_accuracy"] for p in mine], "o-", label=f"{step:+g} K, stale tables")
        top.plot(t, [100 * p["recalibrated_accuracy"] for p in mine], "s--", color=line.get_color(), mfc="none",
                 label=f"{step:+g} K, recalibrated")
        bottom.errorbar(t, [p["loss_points"] for p in mine], [p["loss_points_ci95"] for p in mine], fmt="o-",
                        color=line.get_color(), capsize=3, label=f"{step:+g} K")
    bottom.axhline(limit, color="0.5", ls=":", label=f"limit, {limit:g} points")
    bottom.axhline(0.0, color="0.8", lw=0.8)
    for ax in (top, bottom):
        ax.set_xscale("log")
        ax.legend(fontsize=7)
    top.set_ylabel("chip accuracy on the test digits, %")
    bottom.set_ylabel("loss of the stale tables, points")
    bottom.set_xlabel("time since calibration, s")
    return fig


@procedure(needs={"thermo": None}, plots=(plot_drift,), validate=_validate, report=report, analysis=analyse,
           rehearsal="nominal", resumes="after each hold time (the calibration is reloaded from the run)")
def calibration_drift(
    images: Annotated[int, Param("test digits classified at every point (the first ones)", low=1,
                                 high=1_000_000)] = 1000,
    calibration_images: Annotated[int, Param("training digits that calibrate every tile", low=16,
                                             high=1_000_000)] = 1000,
    hold_times: Annotated[list[float], Param("times since the calibration at which the digits are classified",
                                             "s", 0.0, 1e9)] = (1.0, 60.0, 3600.0, 86400.0, 604800.0, 2.6e6),
    base_temperature: Annotated[float, Param("chuck temperature of the calibration", "K", 250.0, 400.0)] = 308.15,
    temperature_steps: Annotated[list[float], Param("chuck temperature steps from the base at every hold", "K",
                                                    -50.0, 50.0)] = (0.0, 10.0, -10.0),
    tolerance: Annotated[float, Param("temperature reached when within this", "K", 0.01, 10)] = 0.5,
    lsb: Annotated[float, Param("TDC LSB of the windows", "s", 0.0625e-9, 4e-9)] = 0.4e-9,
    windows: Annotated[int, Param("TDC windows each vector is read under", low=1, high=9)] = 1,
    pipeline: Annotated[str, Param("how the chip's layers are read (docs/networks.md)",
                                   choices=tuple(PIPELINES))] = "optimised",
    loss_limit: Annotated[float, Param("accuracy a stale calibration may lose", "", 0.0, 1.0)] = 0.005,
    network_file: Annotated[Path | None, Param("classify with this network .npz (default: the shipped "
                                               "perceptron)")] = None,
) -> Plan:
    """how long a tile calibration holds: MNIST chip accuracy against time since calibration and temperature"""
    context = yield Context()
    digits = load_mnist(None)
    network = load_network(network_file or SHIPPED_PERCEPTRON)
    test = digits.test_images[:images]
    calibration = seeded_subset(context.rng, digits.train_images, calibration_images)
    settings = [TdcSetting(lsb, windows)]
    state = context.resume or {"done": []}
    if context.kept is None:
        yield from record_network(network)
        yield Record("labels", digits.test_labels[:images].astype(np.int8), "class", "the test digits' classes",
                     ("digit",))

    def classify(session: Session, name: str) -> Plan:
        chip = yield from chip_forward(session, network, test, calibration, settings, name,
                                       keep_preactivations=False)
        return chip.forwards[0].predictions.astype(np.int8)

    def point(hold: float, step: float, stale: np.ndarray, fresh: np.ndarray) -> Plan:
        since = float((yield Read("bench.now"))) - state["calibrated_at"]
        kelvin = float((yield Read("thermo.temperature")))
        yield Record("drift_point", {"hold_s": hold, "since_calibration_s": since, "temperature_K": kelvin,
                                     "step_K": step})
        yield Record("stale_predictions", stale, "class", "decoded with the tables of time zero", ("digit",))
        yield Record("fresh_predictions", fresh, "class", "decoded with tables measured at this point", ("digit",))

    def on_chip(session: Session) -> Plan:
        try:
            yield from drift(session)
        finally:
            yield Set("thermo.ch1.heater_range", "off")

    def drift(session: Session) -> Plan:
        yield from hold_chuck_at(base_temperature, tolerance)
        if "calibrated_at" in state:                   # resumed: the tables of time zero, as recorded
            session.reuse.update({k: c for k, c in calibrations_from_run(context.kept).items() if k[0] == CALIBRATED})
        else:
            first = yield from classify(session, CALIBRATED)
            state["calibrated_at"] = float((yield Read("bench.now")))
            yield Record("calibration_costs", {"calibration_reads": session.costs.calibration_reads,
                                               "calibration_clocks": session.costs.calibration_clocks})
            yield from point(0.0, 0.0, first, first)
            yield Checkpoint(state)
        for i, hold in enumerate(hold_times):
            if hold in state["done"]:
                continue
            yield Wait(max(0.0, state["calibrated_at"] + hold - float((yield Read("bench.now")))))
            for step in temperature_steps:
                yield from hold_chuck_at(base_temperature + step, tolerance)
                stale = yield from classify(session, CALIBRATED)
                for key in [k for k in session.reuse if k[0] == RECALIBRATED]:
                    del session.reuse[key]
                fresh = yield from classify(session, RECALIBRATED)
                yield from point(hold, step, stale, fresh)
            yield from hold_chuck_at(base_temperature, tolerance)
            state["done"].append(hold)
            yield Checkpoint(state)
            yield Progress("hold times", i + 1, len(hold_times))

    conditions, _ = yield from chip_session(on_chip, {"network_source": str(network_file or "shipped perceptron.npz"),
                                                      "pipeline": pipeline}, PIPELINES[pipeline])
    return {"images": images, "die": conditions["die"], "loss_limit": loss_limit,
            "base_temperature_K": base_temperature}

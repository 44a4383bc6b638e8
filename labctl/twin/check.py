"""``labctl twin check``: held-out procedures on the bench and on the twin, each compared within a stated band.

Held out (the fit used none of them): ``mac-errors``, ``write-verify`` at
three write voltages, ``mnist-perceptron`` on 2,000 digits and
``switching-probability`` at a second temperature (45 degC).  The same
procedures, parameters and seeds run on the bench and on the built-in bench
built from the twin file (its die seed the twin's own: what the maps do not
fix is drawn afresh, as the twin predicts a die of its population).

Bands (docs/twin.md):

* MAC error histogram: total-variation distance 1/2 sum |p_k - q_k| over
  unit bins of decoded - ideal MAC, at most 0.05, against the twin's
  histogram pooled over :data:`TWIN_DIES` twin dies (one die's histogram
  differs from another's by 0.01-0.05 with identical parameters: pooling
  takes the twin's share of that out of the distance);
* MAC error spread: the rms of decoded - ideal on the bench against the
  mean over the twin dies, within t(0.975, m - 1) s sqrt(1 + 1/m), s the
  twin dies' standard deviation of their rms (m dies): the interval of a
  new die's rms, the bench's sampling and die-to-die spread included.  The
  rms is what the read noise and the read margin move; the histogram's
  distance is dominated by its sampling and die-to-die noise;
* write error rate at each voltage (the array first written with the
  complement of the matrix, so that every MTJ has to switch): the twin's first-pass rate (the mean
  over :data:`TWIN_DIES` twin dies) within the bench's 99 % Wilson interval
  for its count, widened by the twin's binomial error and the spread of
  its dies (what the fit leaves to the die: the cells not mapped and the
  parameters not identified);
* MNIST chip accuracy: within 0.5 points, or two standard errors of the
  difference of two accuracies on n digits if that is wider;
* switching midpoint (the MTJ voltage of P = 1/2 at 10 us): within two
  standard errors of the difference, the population's Vc0 spread and the
  fitted Vc0's relative standard error included (the twin's test MTJ is
  another draw of a population whose Vc0 the fit knows from one MTJ).

The twin dies beyond the first (the twin's own die seed and fitted values)
are posterior-predictive: each draws the fitted parameters from their
standard errors (:func:`drawn_twin`), so the twin dies' spread, which sets
the write error rate's and the MAC error spread's bands, holds what the
fit leaves uncertain (e.g. the population's Vc0 from one test MTJ) as well
as what it leaves to the die.

A failed band names the fitted parameters that move that comparison most.
"""

from __future__ import annotations

import dataclasses
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np
from scipy.stats import t as student_t

from ..bench import BenchConfig, builtin_config
from ..engine import execute, run_direct
from ..plan import Call, Set
from ..registry import get
from ..rundata import read_run
from ..store import Store
from ..stubs import ensure_powered, random_signs
from .file import TWIN_SEED
from .runs import store_check

VOLTAGES = (0.55, 0.6, 0.65)
SECOND_TEMPERATURE = 318.15
MIDPOINT_WIDTH = 1e-5
TV_BAND = 0.05
#: twin dies write-verify and mac-errors run on: their spread is what the twin leaves to the die
TWIN_DIES = 4
ACCURACY_BAND_POINTS = 0.5
#: what each comparison is most sensitive to, in order
LIKELY = {
    "mac_errors": "readout.comparator_noise_gamma, device.r_ap_mean - device.r_p_mean (the read margin), "
                  "readout.comparator_offset_sigma",
    "mac_error_rms": "readout.comparator_noise_gamma (the read noise), device.r_ap_mean - device.r_p_mean "
                     "(the read margin)",
    "write_error_rate": "device.vc0_p_to_ap, device.vc0_ap_to_p (not fitted), device.fet_isat_* (not fitted)",
    "mnist_accuracy": "the read margin (device.r_ap_mean - device.r_p_mean) and readout.comparator_noise_gamma",
    "switching_midpoint": "device.delta_mean, device.vc0_p_to_ap, device.curie_temperature (not fitted)",
}


@dataclass
class Comparison:
    """One held-out comparison: measured, predicted, the band and whether it held."""

    name: str
    measured: Any
    predicted: Any
    distance: float
    band: float
    unit: str
    runs: tuple[int, int]

    @property
    def passed(self) -> bool:
        return bool(self.distance <= self.band)         # NaN (not measured) fails

    @property
    def likely_cause(self) -> str:
        return LIKELY[self.name.split("@")[0]]

    def row(self) -> dict:
        return {"measured": self.measured, "predicted": self.predicted, "distance": self.distance,
                "band": self.band, "unit": self.unit, "passed": self.passed, "bench_run": self.runs[0],
                "twin_run": self.runs[1]}

    def line(self) -> str:
        verdict = "pass" if self.passed else "FAIL"
        return (f"{self.name:26s} measured {_show(self.measured):>10s}  twin {_show(self.predicted):>10s}  "
                f"distance {self.distance:.4g} {self.unit} (band {self.band:.4g})  {verdict}  "
                f"runs {self.runs[0]}/{self.runs[1]}")


def _show(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else "histogram" if isinstance(value, list) else str(value)


#: the comparisons, by the name a caller may select them with
COMPARISONS = ("mac_errors", "write_error_rate", "mnist_accuracy", "switching_midpoint")


def _plan(config: BenchConfig, quick: bool) -> list[tuple[str, str, dict]]:
    """(comparison, procedure, parameters) of every held-out run on this bench."""
    plan: list[tuple[str, str, dict[str, Any]]] = [
        ("mac_errors", "mac-errors", {"matrices": 2 if quick else 4, "vectors": 4000})]
    plan += [(f"write_error_rate@{v:g}V", "write-verify", {"v_write": v, "max_retries": 0, "matrix_seed": 7})
             for v in VOLTAGES]
    plan += [("mnist_accuracy", "mnist-perceptron", {"images": 2000})]
    if config.wiring.smu == "test_mtj" and {"thermo", "generator"} <= set(config.roles):
        plan += [("switching_midpoint", "switching-probability",
                  {"v_min": 0.15, "v_max": 0.6, "span": 0.06, "points": 9, "trials": 50 if quick else 100,
                   "widths": [MIDPOINT_WIDTH]})]
    return plan


def _heat(kelvin: float) -> Any:
    yield Set("thermo.ch1.heater_range", "low")
    yield Set("thermo.ch1.setpoint", kelvin)
    yield Call("thermo.wait_for_temperature", kelvin, tolerance=0.2, poll=10.0)


def _complement(matrix_seed: int) -> Any:
    """The array written with the complement of write-verify's matrix (at the bench's nominal V_WRITE)."""
    yield from ensure_powered()
    yield Call("chip.write_array", -random_signs(matrix_seed))


def _run_all(config: BenchConfig, store: Store, seed: int, quick: bool, say: Callable,
             chosen: tuple[str, ...]) -> dict[str, int]:
    runs: dict[str, int] = {}
    with config.open() as bench:
        say(f"held-out runs on {bench.source}, die seed {config.die_seed}" if config.builtin else
            f"held-out runs on {bench.source}")
        for name, procedure, params in _plan(config, quick):
            if name.split("@")[0] not in chosen:
                continue
            if procedure == "switching-probability":
                run_direct(_heat(SECOND_TEMPERATURE), bench)
            if procedure == "write-verify":                 # every MTJ has to switch: a defined start
                run_direct(_complement(params["matrix_seed"]), bench)
            result = execute(get(procedure), params, bench, store, seed=seed, rehearse_first=not config.builtin,
                             draw_figures=False)
            if result.run_id is None:
                raise RuntimeError(f"{procedure} on {bench.source} started no run ({result.status})")
            runs[name] = result.run_id
    return runs


def _mac_errors(store: Store, run_id: int) -> np.ndarray:
    data = read_run(store, run_id)
    ideal = np.concatenate([np.asarray(i, float) for i in data.all("ideal")])
    decoded = np.concatenate([np.asarray(d, float) for d in data.all("decoded")])
    error = np.clip(np.rint(decoded - ideal), -24, 24)
    counts = np.bincount((error + 24).astype(int).ravel(), minlength=49).astype(float)
    return counts / counts.sum()


def _rms(histogram: np.ndarray) -> float:
    """Root mean square of decoded - ideal MAC of a histogram over -24 .. 24, codes."""
    return float(np.sqrt((np.arange(-24, 25) ** 2 * histogram).sum()))


def _midpoint(store: Store, run_id: int) -> tuple[float, float]:
    """The MTJ voltage where the measured P crosses 1/2 (linear between the bracketing points) and its
    standard error, sqrt(1/(4 trials)) over the local slope."""
    data = read_run(store, run_id)
    v, p = np.ravel(data.array("mtj_voltages")), np.ravel(data.array("probability"))
    above = np.flatnonzero(p >= 0.5)
    if not len(above) or above[0] == 0:
        return float("nan"), float("nan")
    k = above[0]
    slope = (p[k] - p[k - 1]) / (v[k] - v[k - 1])
    return float(v[k - 1] + (0.5 - p[k - 1]) / slope), float(np.sqrt(0.25 / data.parameters["trials"]) / slope)


def compare(store: Store, bench_runs: dict[str, int], twin_runs: dict[str, list[int]],
            twin_params: Any, vc0_relative_se: float = 0.0) -> list[Comparison]:
    """Every comparison of the held-out runs (module docstring); ``twin_runs`` holds a list of runs per
    comparison, one per twin die (the first is the twin's own die)."""
    out = []
    for name, b_id in bench_runs.items():
        t_id = twin_runs[name][0]
        b, t = read_run(store, b_id).summary, read_run(store, t_id).summary
        if name == "mac_errors":
            p = _mac_errors(store, b_id)
            histograms = np.array([_mac_errors(store, i) for i in twin_runs[name]])
            q = histograms.mean(axis=0)
            out.append(Comparison(name, p.tolist(), q.tolist(), 0.5 * float(np.abs(p - q).sum()), TV_BAND,
                                  "TV", (b_id, t_id)))
            rms_b, rms_t = _rms(p), np.array([_rms(h) for h in histograms])
            m = len(rms_t)
            band = (float(student_t.ppf(0.975, m - 1) * rms_t.std(ddof=1) * math.sqrt(1 + 1 / m)) if m > 1
                    else float("nan"))
            out.append(Comparison("mac_error_rms", rms_b, float(rms_t.mean()), abs(rms_b - float(rms_t.mean())),
                                  band, "codes", (b_id, t_id)))
        elif name.startswith("write_error_rate"):
            n = 4096
            pb = b["first_pass_errors"] / n
            rates = np.array([read_run(store, i).summary["first_pass_errors"] / n for i in twin_runs[name]])
            pt, m, z = float(rates.mean()), len(rates), 2.576
            centre = (pb + z * z / (2 * n)) / (1 + z * z / n)
            half = z * math.sqrt(pb * (1 - pb) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            dies = float(rates.std(ddof=1)) if m > 1 else 0.0          # what the twin leaves to the die
            band = float(np.sqrt(half**2 + z**2 * max(pt * (1 - pt), 1.0 / n) / (n * m) + (z * dies) ** 2))
            out.append(Comparison(name, pb, pt, abs(pt - centre), band, "per bit", (b_id, t_id)))
        elif name == "mnist_accuracy":
            n = 2000
            ab, at = b["chip_accuracy"], t["chip_accuracy"]
            se = math.sqrt(ab * (1 - ab) / n + at * (1 - at) / n)
            out.append(Comparison(name, 100 * ab, 100 * at, 100 * abs(ab - at),
                                  max(ACCURACY_BAND_POINTS, 200 * se), "points", (b_id, t_id)))
        elif name == "switching_midpoint":
            (vb, sb), (vt, st) = _midpoint(store, b_id), _midpoint(store, t_id)
            population = math.hypot(twin_params.device.vc0_cv, vc0_relative_se) * vt
            out.append(Comparison(name, vb, vt, abs(vb - vt), 2 * math.sqrt(sb**2 + st**2 + population**2), "V",
                                  (b_id, t_id)))
    return out


def figures(results: list[Comparison]) -> dict[str, bytes]:
    """One PNG per comparison: the two histograms, or the two values with the band."""
    from ..plotting import figure

    pngs = {}
    for r in results:
        fig, ax = figure(1, 1, 5.5, 3.5)
        if isinstance(r.measured, list):
            edges = np.arange(-24.5, 25.5)
            ax.stairs(r.measured, edges, label="bench")
            ax.stairs(r.predicted, edges, label="twin")
            ax.set_yscale("log")
            ax.set_xlabel("decoded - ideal MAC")
            ax.set_ylabel("fraction of column reads")
        else:
            ax.errorbar([0], [r.measured], yerr=[r.band], fmt="o", capsize=6, label="bench (band)")
            ax.plot([1], [r.predicted], "s", label="twin")
            ax.set_xticks([0, 1], ["bench", "twin"])
            ax.set_ylabel(r.unit)
        ax.set_title(f"{r.name}: {'pass' if r.passed else 'FAIL'} (distance {r.distance:.3g}, band {r.band:.3g})",
                     fontsize=9)
        ax.legend(fontsize=7)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90)
        pngs[f"{r.name}.png"] = buffer.getvalue()
    return pngs


def _buildable(p: Any) -> bool:
    """Whether the chip model can build a die of these parameters (its readout calibrates and has a noise budget)."""
    from sim_chip.die import Spreads
    from sim_chip.readout import noise_budget, readout_circuit

    try:
        with np.errstate(all="raise"):
            Spreads.of(p.device)
            circuit = readout_circuit(p)
            noise_budget(p, p.device.t_ref, p.defaults.v_read)
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return False
    return bool(circuit.reference_current > 0 and circuit.threshold > 0)


def drawn_twin(twin_file: Path, draw: int) -> Path:
    """The twin file with every parameter that has a standard error drawn from N(value, stderr^2) (seeded by
    ``draw``, clipped to its stated range, redrawn until the model can build it; the fitted values if no draw
    in 100 can), maps and provenance kept: one plausible die of what the fit knows.  Written beside the twin
    file as ``<name>.draw<k>.toml``; its path."""
    from sim_chip import ChipParameters

    from ..params_file import read_params_file

    given = read_params_file(twin_file)
    rng = np.random.default_rng(draw)
    ranges = {name: span for name, _, _, _, span in ChipParameters().described() if span}
    for _ in range(100):                       # a draw the model cannot build (e.g. no trip point) is redrawn
        values = {name: float(np.clip(value + given.stderr[name] * rng.standard_normal(), *ranges[name]))
                  for name, value in sorted(given.overrides.items()) if name in given.stderr}
        if _buildable(given.parameters().with_overrides(values)):
            break
    else:
        values = {}
    group, lines = "", []
    for line in twin_file.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            group = stripped.strip("[] ")
        key = stripped.partition("=")[0].strip()
        lines.append(f"{key} = {values[f'{group}.{key}']!r}" if f"{group}.{key}" in values else line)
    path = twin_file.with_name(f"{twin_file.stem}.draw{draw}.toml")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_check(config: BenchConfig, twin_file: str | Path, store: Store, seed: int = 0, quick: bool = False,
              say: Callable[[str], Any] = lambda text: None,
              comparisons: tuple[str, ...] = COMPARISONS) -> tuple[list[Comparison], int]:
    """Held-out runs on ``config`` and on the twin's built-in bench, compared and stored; (results, run id).
    ``comparisons``: a subset of :data:`COMPARISONS`."""
    unknown = set(comparisons) - set(COMPARISONS)
    if unknown:
        raise ValueError(f"unknown comparison {', '.join(sorted(unknown))}; known: {', '.join(COMPARISONS)}")
    from ..params_file import read_params_file

    twin_file = Path(twin_file).resolve()
    twin_config = builtin_config(int(read_params_file(twin_file).twin.get("seed", TWIN_SEED)), "test_mtj",
                                 params=twin_file)
    bench_runs = _run_all(config, store, seed, quick, say, comparisons)
    twin_runs = {name: [run] for name, run in _run_all(twin_config, store, seed, quick, say, comparisons).items()}
    pooled = tuple(name for name in ("write_error_rate", "mac_errors") if name in comparisons)
    for extra in range(1, TWIN_DIES if pooled else 1):
        other = dataclasses.replace(twin_config, die_seed=twin_config.die_seed + extra,
                                    params=drawn_twin(twin_file, extra))
        for name, run in _run_all(other, store, seed, quick, say, pooled).items():
            twin_runs[name].append(run)
    twin = read_params_file(twin_file)
    vc0 = "device.vc0_p_to_ap"
    results = compare(store, bench_runs, twin_runs, twin.parameters(),
                      twin.stderr.get(vc0, 0.0) / twin.overrides[vc0] if vc0 in twin.overrides else 0.0)
    run_id = store_check(store, results, [*bench_runs.values(), *(i for ids in twin_runs.values() for i in ids)],
                         str(twin_file),
                         figures(results))
    return results, run_id

"""write-verify: program a 64 x 64 +/-1 matrix, verify, rewrite what failed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np

from labctl.plan import Call, Context, Plan, Progress, Read, Record, Set
from labctl.plotting import figure
from labctl.procedure import Param, ParameterError, procedure, seed_param
from labctl.rundata import RunData
from labctl.stubs import ensure_powered, random_signs


def load_weights(weights_file: Path | None, matrix_seed: int) -> np.ndarray:
    """The matrix to program: from ``weights_file`` (.npy of +/-1, 64 x 64) or drawn from ``matrix_seed``."""
    if weights_file is None:
        return random_signs(matrix_seed)
    try:
        w = np.load(weights_file, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        raise ParameterError(f"parameter weights_file: {weights_file} is not a NumPy .npy file; save the matrix "
                             "with numpy.save(path, matrix)") from None
    if not isinstance(w, np.ndarray) or w.shape != (64, 64):
        raise ParameterError(f"parameter weights_file: {weights_file} holds an array of shape "
                             f"{getattr(w, 'shape', '?')}; the array is 64 x 64")
    wrong = w[~np.isin(w, (-1, 1))]
    if wrong.size:
        raise ParameterError(f"parameter weights_file: {weights_file} holds {wrong.size} values other than -1 "
                             f"and +1 (such as {wrong.flat[0].item()!r}); a weight is -1 or +1")
    return w.astype(np.int8)


def _validate(params: dict, store: Any) -> None:
    load_weights(params["weights_file"], params["matrix_seed"])


def plot_write_verify(data: RunData) -> Any:
    passes = data.all("errors_after_pass")
    fig, (a, b) = figure(1, 2, 10, 4)
    a.bar(range(len(passes)), passes, color="tab:blue")
    a.set_xlabel("pass")
    a.set_ylabel("bit errors")
    a.set_title("errors after each pass")
    errors = data.last("read") != data.last("weights")
    b.imshow(errors, cmap="Reds", interpolation="nearest")
    b.set_title(f"residual errors ({int(errors.sum())})")
    b.set_xlabel("column")
    b.set_ylabel("row")
    return fig


@procedure(plots=(plot_write_verify,), validate=_validate, campaign=("errors_after_pass", "column_errors"))
def write_verify(
    matrix_seed: Annotated[int, seed_param("seed of the random matrix (when no weights file is given)")] = 0,
    weights_file: Annotated[Path | None, Param("a .npy file with a 64 x 64 matrix of -1/+1")] = None,
    max_retries: Annotated[int, Param("rewrite passes after the first", low=0, high=20)] = 5,
    voltage_step: Annotated[float, Param("V_WRITE increase per retry", "V", 0.0, 0.1)] = 0.0,
    width_step: Annotated[int, Param("write-pulse increase per retry", "clock", 0, 8)] = 1,
    v_write: Annotated[float | None, Param("V_WRITE for this run (default: the bench's nominal rail)", "V",
                                           0.5, 1.8)] = None,
) -> Plan:
    """program a +/-1 matrix row by row, verify, rewrite failing rows with bounded retries"""
    weights = load_weights(weights_file, matrix_seed)
    yield Record("weights", weights, description="the matrix programmed", axes=("row", "column"))
    yield from ensure_powered()
    context = yield Context()
    nominal = yield Read("rail.vwrite")
    v0 = nominal if v_write is None else v_write
    width0 = yield Read("chip.write_width")
    current = f"supply.ch{context.wiring.vwrite}.measure_current" if "supply" in context.roles else None
    if current:
        yield Read(current)                                   # opens the averaging window
    t0 = yield Read("bench.now")
    yield Call("chip.reset_counter")
    if v0 != nominal:
        yield Set("rail.vwrite", v0)
    yield Call("chip.write_array", weights)
    read = yield Call("chip.verify_array")
    errors = read != weights
    passes, pulses, first = 1, 128, int(errors.sum())
    yield Record("errors_after_pass", first, "bits")
    try:
        for k in range(1, max_retries + 1):
            if not errors.any():
                break
            yield Set("rail.vwrite", v0 + k * voltage_step)
            yield Set("chip.write_width", width0 + k * width_step)
            rows = np.flatnonzero(errors.any(axis=1))
            for r in rows:
                yield Call("chip.write_row", int(r), weights[r])
                read[r] = yield Call("chip.verify_row", int(r))
            pulses += 2 * len(rows)
            passes += 1
            errors = read != weights
            yield Record("rows_rewritten_in_pass", len(rows), "rows")
            yield Record("errors_after_pass", int(errors.sum()), "bits")
            yield Progress("write-verify", k, max_retries)
    finally:
        yield Set("rail.vwrite", nominal)
        yield Set("chip.write_width", width0)
    clocks = yield Read("chip.cycle_counter")
    amps = (yield Read(current)) if current else None         # the average since the first reading ...
    seconds = (yield Read("bench.now")) - t0                 # ... which ends when this reading has
    energy = amps * v0 * seconds if current else None
    yield Record("read", read, description="the matrix read back after the last pass", axes=("row", "column"))
    yield Record("column_errors", errors.sum(axis=0), "bits", "residual bit errors of every column", ("column",))
    return {"bit_errors": int(errors.sum()), "first_pass_errors": first, "passes": passes, "pulses": pulses,
            "clocks": clocks, "seconds": seconds, "write_energy_J": energy}

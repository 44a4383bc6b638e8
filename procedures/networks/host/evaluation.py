"""What the network procedures measure: per-layer pre-activation errors, confusion matrices, agreement tests.

All numpy, no chip: the procedures pass in what the chip (or the
emulation) computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import LayerProduct, plain_product

ERROR_LIMIT = 60
ERROR_EDGES = np.arange(-ERROR_LIMIT - 0.5, ERROR_LIMIT + 1.5)    # MAC units: one bin per integer error


def histogram(errors: np.ndarray) -> np.ndarray:
    """Counts of errors (rounded to integers) in the bins of ERROR_EDGES; errors beyond +/-ERROR_LIMIT count in
    the edge bins."""
    rounded = np.rint(np.asarray(errors, np.float64).ravel()).astype(np.int64)
    return np.bincount(np.clip(rounded, -ERROR_LIMIT, ERROR_LIMIT) + ERROR_LIMIT,
                       minlength=2 * ERROR_LIMIT + 1)


class ErrorRecorder:
    """A LayerProduct that answers with ``product`` and histograms, per layer, its answer minus the exact x @ W
    (``histogram``).

    For the first layer the histogram is of every bit-plane's product (the
    errors the array makes), before the host weights the planes.  The errors
    of the layers in ``keep`` are also kept whole (the last call's), in ``kept``.
    """

    def __init__(self, product: LayerProduct, layers: int, keep: frozenset[int] = frozenset()) -> None:
        self.product = product
        self.keep = keep
        self.kept: dict[int, np.ndarray] = {}
        self.histograms = np.zeros((layers, len(ERROR_EDGES) - 1), np.int64)
        self.sums = np.zeros((layers, 2))          # sum and sum of squares of the errors, MAC units
        self.counts = np.zeros(layers, np.int64)

    def __call__(self, layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        answer = self.product(layer, x, weights)
        error = answer.astype(np.int64) - plain_product(layer, x, weights)
        if layer in self.keep:
            self.kept[layer] = error
        error = error.ravel()
        self.histograms[layer] += histogram(error)
        self.sums[layer] += (error.sum(), float((error.astype(np.float64) ** 2).sum()))
        self.counts[layer] += error.size
        return answer

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation (MAC units) of every layer's errors."""
        n = np.maximum(self.counts, 1)
        mean = self.sums[:, 0] / n
        return mean, np.sqrt(np.maximum(self.sums[:, 1] / n - mean ** 2, 0.0))


def confusion(labels: np.ndarray, predictions: np.ndarray, classes: int) -> np.ndarray:
    """Counts (classes, classes): row = true class, column = predicted class."""
    return np.bincount(labels.astype(np.int64) * classes + predictions, minlength=classes * classes).reshape(
        classes, classes)


@dataclass(frozen=True)
class Agreement:
    """Two error samples compared through per-unit statistics (units: the independent parts, rows).

    ``mean_z`` and ``rms_z``: Welch z of the difference of the units' mean
    error and of their root-mean-square error; agreement within statistical
    error is |z| <= the limit.
    """

    mean_a: float
    mean_b: float
    rms_a: float
    rms_b: float
    mean_z: float
    rms_z: float

    def agrees(self, limit: float = 3.0) -> bool:
        return abs(self.mean_z) <= limit and abs(self.rms_z) <= limit


def _welch(a: np.ndarray, b: np.ndarray) -> float:
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return float((a.mean() - b.mean()) / se) if se > 0 else (0.0 if a.mean() == b.mean() else float("inf"))


def unit_statistics(errors: np.ndarray) -> np.ndarray:
    """Per unit (row) of errors (units, values per unit): its mean and root-mean-square error, (2, units)."""
    errors = np.asarray(errors, np.float64)
    return np.stack([errors.mean(axis=1), np.sqrt((errors ** 2).mean(axis=1))])


def agreement_of(stats_a: np.ndarray, stats_b: np.ndarray) -> Agreement:
    """Compare two error samples through their units' statistics (``unit_statistics``)."""
    (mean_a, rms_a), (mean_b, rms_b) = stats_a, stats_b
    return Agreement(float(mean_a.mean()), float(mean_b.mean()), float(rms_a.mean()), float(rms_b.mean()),
                     _welch(mean_a, mean_b), _welch(rms_a, rms_b))


def agreement(errors_a: np.ndarray, errors_b: np.ndarray) -> Agreement:
    """Compare errors (units, values per unit) of two ways of computing the same pre-activations.

    A layer's output neurons are the units: part of the array's error is
    static per tile column (which cells a matrix selects), so the values of
    one neuron share it, while different neurons' are independent.
    """
    return agreement_of(unit_statistics(errors_a), unit_statistics(errors_b))

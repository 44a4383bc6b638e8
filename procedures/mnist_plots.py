"""Figures of a mnist-perceptron run, drawn from its stored records only (``labctl runs plot ID``).

Records used: ``result`` and ``confusion`` (one row per network and TDC
setting, in the same order), ``layer_error`` (per network, setting and
layer), ``misclassified_images`` and ``misclassified_labels``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labctl.plotting import figure
from labctl.rundata import RunData

PAPER_CHIP, PAPER_SOFTWARE = 0.9323, 0.9524     # the seed paper's MNIST accuracies on chip and in software


def _first_per_network(data: RunData, name: str) -> list[tuple[dict, Any]]:
    """(result, the ``name`` record recorded with it) for the first TDC setting of every network."""
    seen, out = set(), []
    for result, value in zip(data.all("result"), data.all(name)):
        if result["network"] not in seen:
            seen.add(result["network"])
            out.append((result, value))
    return out


def plot_confusion(data: RunData) -> Any:
    panels = _first_per_network(data, "confusion")
    fig, axes = figure(1, len(panels), 5.5 * len(panels), 4.8)
    for ax, (result, confusion) in zip(np.atleast_1d(axes), panels):
        confusion = np.asarray(confusion)
        image = ax.imshow(np.log10(confusion + 1), cmap="Blues")
        for (t, p), n in np.ndenumerate(confusion):
            if n:
                ax.text(p, t, str(n), ha="center", va="center", fontsize=6,
                        color="white" if n > confusion.max() / 3 else "black")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.set_xlabel("class on the chip")
        ax.set_ylabel("true class")
        ax.set_title(f"{result['network']} network: chip {result['chip_accuracy']:.2%} "
                     f"(software {result['software_accuracy']:.2%})", fontsize=9)
        fig.colorbar(image, ax=ax, label="log10(digits + 1)", shrink=0.8)
    return fig


def plot_preactivation_errors(data: RunData) -> Any:
    keep, seen = [], set()
    for e in data.all("layer_error"):                  # the first setting of each network, every layer
        key = (e["network"], e["layer"])
        if key not in seen:
            seen.add(key)
            keep.append(e)
    fig, ax = figure(1, 1, 7, 4.2)
    for e in keep:
        counts = np.asarray(e["counts"], float)
        ax.stairs(counts / max(counts.sum(), 1), e["edges"],
                  label=f"{e['network']}, layer {e['layer']}: mean {e['mean']:+.2f}, std {e['std']:.2f} "
                        f"(exact std {e['exact_std']:.0f})")
    ax.set_yscale("log")
    ax.set_xlabel("chip - exact pre-activation, MAC units (exact: the same inputs, computed exactly)")
    ax.set_ylabel("fraction of pre-activations")
    ax.legend(fontsize=7)
    return fig


def plot_misclassified(data: RunData) -> Any:
    images = np.asarray(data.all("misclassified_images")[0])
    labels = np.asarray(data.all("misclassified_labels")[0])
    cols = 8
    rows = max(1, -(-len(images) // cols))
    fig, axes = figure(rows, cols, 1.3 * cols, 1.45 * rows)
    for k, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if k < len(images):
            ax.imshow(images[k], cmap="gray_r")
            ax.set_title(f"{labels[k, 0]} as {labels[k, 1]} ({labels[k, 2]})", fontsize=8,
                         color="tab:red" if labels[k, 2] == labels[k, 0] else "0.3")
    fig.suptitle("test digits the chip misclassified: true class as the chip's (software's); red: software right",
                 fontsize=9)
    return fig


def plot_accuracy_sweep(data: RunData) -> Any:
    results = [r for r in data.all("result") if r["network"] == "default"]
    fig, ax = figure(1, 1, 6.5, 4.2)
    for count in sorted({r["windows"] for r in results}):
        points = sorted((r["lsb"] * 1e9, r["chip_accuracy"]) for r in results if r["windows"] == count)
        ax.plot(*zip(*points), "o-", label=f"chip, {count} window{'s' if count > 1 else ''}")
    ax.axhline(results[0]["software_accuracy"], color="tab:green", label="software (the same network)")
    ax.axhline(PAPER_SOFTWARE, color="0.5", ls="--", label="paper, software 95.24 %")
    ax.axhline(PAPER_CHIP, color="0.5", ls=":", label="paper, chip 93.23 %")
    for r in data.all("result"):
        if r["network"] == "hardware-aware":
            ax.plot([r["lsb"] * 1e9], [r["chip_accuracy"]], "*", ms=12, color="tab:red",
                    label="chip, hardware-aware network")
    ax.set_xlabel("TDC LSB, ns")
    ax.set_ylabel("accuracy on the test digits")
    ax.legend(fontsize=7)
    return fig

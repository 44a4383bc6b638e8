"""Interactive figures (Plotly) of a run, drawn from its stored records.

Every numeric record becomes one figure: a series of scalars or a 1-D array
a line (against the record its axis names, when it has one of the same
length), a 2-D array a heat map.  Large records are reduced for display:
a long line to the minimum and maximum of each of ``MAX_POINTS / 2`` bins
(peaks survive), a large map to the mean of blocks.  A campaign's figures
are the distributions of its tasks' summary figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..rundata import RunData

MAX_POINTS = 4000        #: points of a line after reduction
MAX_SIDE = 200           #: pixels per side of a heat map after reduction


def envelope(y: np.ndarray, x: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) reduced to the minimum and the maximum of each bin, in order: at most MAX_POINTS points."""
    x = np.arange(len(y)) if x is None else x
    if len(y) <= MAX_POINTS:
        return x, y
    bins = MAX_POINTS // 2
    edges = np.linspace(0, len(y), bins + 1).astype(int)
    xs, ys = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        part = y[lo:hi]
        i, j = lo + int(np.argmin(part)), lo + int(np.argmax(part))
        for k in sorted({i, j}):
            xs.append(x[k])
            ys.append(y[k])
    return np.array(xs), np.array(ys)


def blocks(image: np.ndarray) -> np.ndarray:
    """A 2-D array reduced by block means to at most MAX_SIDE per side."""
    f0, f1 = max(1, -(-image.shape[0] // MAX_SIDE)), max(1, -(-image.shape[1] // MAX_SIDE))
    if f0 == f1 == 1:
        return image
    h, w = image.shape[0] // f0 * f0, image.shape[1] // f1 * f1
    return image[:h, :w].reshape(h // f0, f0, w // f1, f1).mean(axis=(1, 3))


def _title(data: RunData, name: str) -> str:
    unit = data.unit(name)
    return f"{name} ({unit})" if unit else name


def record_figure(data: RunData, name: str) -> dict | None:
    """The Plotly figure (as a JSON-able dict) of one record, or None for a record that is not numeric."""
    try:
        value = np.asarray(data.array(name))
    except (ValueError, TypeError):
        return None
    if value.dtype.kind not in "biuf" or value.size == 0:
        return None
    value = value.astype(float)
    axes = data.meta.get(name, {}).get("axes", [])
    fig = go.Figure()
    if value.ndim <= 1:
        y = np.atleast_1d(value)
        axis = axes[0] if axes else ""
        x = None
        if axis in data.records:
            candidate = np.asarray(data.array(axis), float)
            if candidate.ndim == 1 and len(candidate) in (len(y), len(y) + 1):
                x = candidate[:len(y)] if len(candidate) == len(y) else 0.5 * (candidate[1:] + candidate[:-1])
        x, y = envelope(y, x)
        fig.add_trace(go.Scattergl(x=x, y=y, mode="lines+markers" if len(y) < 200 else "lines", name=name))
        fig.update_xaxes(title=axis or "index")
    else:
        image = value.reshape(value.shape[0], -1) if value.ndim > 2 else value
        fig.add_trace(go.Heatmap(z=blocks(image), colorscale="Viridis", colorbar={"title": data.unit(name)}))
        fig.update_yaxes(autorange="reversed", title=axes[0] if axes else "")
        fig.update_xaxes(title=axes[1] if len(axes) > 1 else "")
    fig.update_layout(title=_title(data, name), height=320, margin={"l": 50, "r": 20, "t": 40, "b": 40})
    return fig.to_plotly_json()


def run_figures(data: RunData) -> list[dict]:
    """A figure per numeric record, in the order recorded."""
    found = []
    for name in data.records:
        if name == "summary":
            continue
        figure = record_figure(data, name)
        if figure is not None:
            found.append({"name": name, "figure": figure})
    return found


def campaign_figures(campaign: Any) -> list[dict]:
    """Histograms across the completed tasks of every summary figure of a campaign."""
    done = [t for t in campaign.tasks if t.status == "completed"]
    found = []
    for name in campaign.figures()[:8]:
        fig = go.Figure()
        points: dict[str, list[float]] = {}
        for t in done:
            label = ", ".join(f"{k} = {v}" for k, v in t.point.items()) or "all dies"
            points.setdefault(label, []).append(t.summary[name])
        for label, values in points.items():
            fig.add_trace(go.Histogram(x=values, name=label, opacity=0.7))
        fig.update_layout(title=f"{name} across {len(done)} tasks", barmode="overlay", height=300,
                          margin={"l": 50, "r": 20, "t": 40, "b": 40})
        found.append({"name": name, "figure": fig.to_plotly_json()})
    return found

"""Figures drawn from stored data.

A procedure's figures are functions of its stored run (:class:`~labctl.rundata.RunData`),
so any run's figures can be drawn again from the store alone
(``labctl runs plot ID``), improved after the fact, or drawn live while
records arrive.  Every figure carries a footer: run id, procedure, die and
date.  Figures are kept in the store and written as PNG files beside it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from .rundata import RunData, read_run
from .store import Store


def figure(rows: int = 1, cols: int = 1, width: float = 6.0, height: float = 4.0) -> tuple[Any, Any]:
    """A matplotlib figure and axes for a run plot (laid out so labels do not overlap).

    A bare :class:`~matplotlib.figure.Figure`, outside pyplot: drawing run
    figures needs no display and leaves the caller's backend (a notebook's
    inline plots, an interactive window) alone.
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(rows, cols)


def footer(data: RunData) -> str:
    chip = data.info.provenance.get("identities", {}).get("chip", "")
    die = re.search(r"die (\S+)", chip)
    when = dt.datetime.fromtimestamp(data.info.started).strftime("%Y-%m-%d %H:%M")
    return f"run {data.id} · {data.info.procedure} · die {die.group(1) if die else '?'} · {when}"


FOOTER_POINTS = 7.0           #: the footer's font size, pt
DPI = 110


def with_footer(fig: Any, footer_text: str) -> Any:
    """The figure with its footer in a strip of its own below the plots (the layout keeps clear of it)."""
    strip = 1.8 * FOOTER_POINTS / 72 / fig.get_figheight()           # of the figure's height
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set"):
        engine.set(rect=(0, strip, 1, 1 - strip))
    else:
        fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, strip + 0.08))
    fig.text(0.995, 0.15 * strip, footer_text, ha="right", va="bottom", fontsize=FOOTER_POINTS, color="0.4",
             gid="footer")
    return fig


def png(fig: Any, footer_text: str) -> bytes:
    """PNG bytes of a figure with its footer."""
    buf = io.BytesIO()
    with_footer(fig, footer_text).savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def keep(store: Store, run_id: int, name: str, image: bytes, output: Path | None = None) -> str | None:
    """Keep a figure in the store and as a file beside it (or only as a file in ``output``); a warning text if
    the file cannot be written."""
    if not store.read_only and output is None:
        store.attach(run_id, f"{name}.png", image)
    folder = output or store.plot_dir(run_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.png").write_bytes(image)
    except OSError as exc:
        return f"figure {name} of run {run_id} is in the store but not written to {folder}: {exc.strerror}"
    return None


def render(procedure: Any, data: RunData, name: str) -> bytes | str:
    """PNG bytes of figure ``name`` of a run's data, or a warning text if it cannot be drawn (a figure must
    never lose a run).  Touches no store: it may run beside the run that goes on."""
    plot = procedure.plots.get(name)
    if plot is None:
        return f"procedure {procedure.name} has no figure {name!r}"
    try:
        return png(plot(data), footer(data))
    except Exception as exc:
        return f"figure {name} of run {data.id} could not be drawn: {type(exc).__name__}: {exc}"


def draw(store: Store, procedure: Any, run_id: int, name: str, output: Path | None = None) -> str | None:
    """Draw figure ``name`` of a run, keep it in the store and beside it (or in ``output`` only); a warning
    text, or None.

    A figure that cannot be drawn, or a folder that cannot be written, is a
    warning: the run and its data stay as they are.
    """
    image = render(procedure, read_run(store, run_id), name)
    return image if isinstance(image, str) else keep(store, run_id, name, image, output)

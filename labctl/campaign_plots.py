"""A campaign's results from the store, and its figures: distributions, a wafer map, yield.

Wafer map: die seeds are laid on a documented grid, a 300 mm wafer of
10 mm x 10 mm dies with a 3 mm edge exclusion: the 648 grid cells whose die
lies wholly inside the usable disc, numbered row by row from the top left.
Die seed i is cell i mod 648 of wafer i // 648.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.patches import Circle
from matplotlib.ticker import MaxNLocator

from .plotting import figure, keep, png
from .procedure import ParameterError
from .store import Store

WAFER_MM = 300.0
DIE_MM = 10.0
EDGE_MM = 3.0
_OPERATORS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq}


def wafer_cells() -> list[tuple[int, int]]:
    """(row, column) of every die site of one wafer, row by row from the top left."""
    radius = WAFER_MM / 2 - EDGE_MM
    n = int(WAFER_MM // DIE_MM)
    cells = []
    for row in range(n):
        for col in range(n):
            x0, y0 = col * DIE_MM - WAFER_MM / 2, WAFER_MM / 2 - row * DIE_MM
            corners = [(x0 + dx, y0 - dy) for dx in (0, DIE_MM) for dy in (0, DIE_MM)]
            if all(math.hypot(x, y) <= radius for x, y in corners):
                cells.append((row, col))
    return cells


CELLS = wafer_cells()


def wafer_position(die: int) -> tuple[int, int, int]:
    """(wafer, row, column) of die seed ``die`` (module docstring)."""
    row, col = CELLS[die % len(CELLS)]
    return die // len(CELLS), row, col


@dataclass(frozen=True)
class Condition:
    """``name <op> value`` on a task's summary, e.g. ``bit_errors<=0``."""

    name: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Condition:
        match = re.fullmatch(r"\s*(\w+)\s*(<=|>=|==|<|>)\s*([-+0-9.eE]+)\s*", text)
        if not match:
            raise ParameterError(f"--yield-if {text!r}: write it as <summary figure><op><number>, op one of "
                                 "<=, <, >=, >, == (e.g. bit_errors<=0)")
        return cls(match.group(1), match.group(2), float(match.group(3)))

    def holds(self, summary: dict) -> bool:
        value = summary.get(self.name)
        return isinstance(value, (int, float)) and _OPERATORS[self.op](value, self.value)

    def __str__(self) -> str:
        return f"{self.name} {self.op} {self.value:g}"


@dataclass
class TaskResult:
    die: int
    point: dict
    status: str
    summary: dict
    run_id: int


@dataclass
class CampaignData:
    run_id: int
    parameters: dict
    tasks: list[TaskResult]

    def figures(self) -> list[str]:
        """Summary figures that are numbers in every completed task."""
        done = [t.summary for t in self.tasks if t.status == "completed"]
        if not done:
            return []
        return [k for k, v in done[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)
                and k != "wall_time_s" and all(isinstance(s.get(k), (int, float)) for s in done)]


def load_campaign(store: Store, run_id: int) -> CampaignData:
    """A campaign run's tasks, with those of the earlier runs it resumes (the latest result of each task)."""
    info = store.run(run_id)
    chain = [run_id]
    while (previous := store.run(chain[-1]).resumed_from) is not None:
        chain.append(previous)
    tasks: dict[str, TaskResult] = {}
    for campaign_run in reversed(chain):
        for child in store.run_ids(parent=campaign_run):
            child_info = store.run(child)
            task = child_info.provenance["task"]
            summary: dict = next((v for n, v in store.records(child) if n == "summary"), {})
            key = repr((task["die"], sorted(task["point"].items())))
            tasks[key] = TaskResult(task["die"], task["point"], child_info.status, summary, child)
    return CampaignData(run_id, info.parameters, list(tasks.values()))


def plot_distributions(data: CampaignData) -> Any:
    """Histogram and CDF across dies of every summary figure, one colour per sweep point."""
    names = data.figures()[:6] or ["(none)"]
    fig, axes = figure(2, len(names), 3.6 * len(names), 6.0)
    axes = np.asarray(axes).reshape(2, len(names))
    done = [t for t in data.tasks if t.status == "completed"]
    points: dict[str, list[TaskResult]] = {}
    for t in done:
        points.setdefault(", ".join(f"{k} = {v}" for k, v in t.point.items()) or "all dies", []).append(t)
    for k, name in enumerate(names):
        for label, tasks in points.items():
            values = np.array([t.summary.get(name, np.nan) for t in tasks], float)
            values = values[np.isfinite(values)]
            if values.size:
                axes[0, k].hist(values, bins=min(30, max(5, values.size // 3)), alpha=0.6, label=label)
                axes[1, k].step(np.sort(values), np.arange(1, values.size + 1) / values.size, where="post",
                                label=label)
        for ax in axes[:, k]:                 # a few short tick labels: figures spread over decades or barely
            ax.xaxis.set_major_locator(MaxNLocator(nbins=3))
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4), useOffset=False)
        axes[0, k].set_title(name, fontsize=9)
        axes[0, k].set_ylabel("dies")
        axes[1, k].set_xlabel(name)
        axes[1, k].set_ylabel("fraction of dies")
    if len(points) > 1:
        axes[1, 0].legend(fontsize=7)
    fig.suptitle(f"campaign {data.run_id}: {data.parameters.get('procedure')} over {len(done)} completed tasks")
    return fig


def plot_wafer_map(data: CampaignData, name: str | None = None) -> Any:
    """The first wafer, each die coloured by a summary figure (at the first sweep point)."""
    figures = data.figures()
    name = name or (figures[0] if figures else None)
    n = int(WAFER_MM // DIE_MM)
    grid = np.full((n, n), np.nan)
    first_point = data.tasks[0].point if data.tasks else {}
    for t in data.tasks:
        wafer, row, col = wafer_position(t.die)
        if wafer == 0 and t.point == first_point and t.status == "completed" and name in t.summary:
            grid[row, col] = t.summary[name]
    fig, ax = figure(1, 1, 6.0, 5.4)
    ax.add_patch(Circle((n / 2 - 0.5, n / 2 - 0.5), WAFER_MM / 2 / DIE_MM, fill=False, color="0.5"))
    image = ax.imshow(grid, cmap="viridis", interpolation="nearest")
    fig.colorbar(image, ax=ax, label=str(name))
    ax.set_xlim(-1, n)
    ax.set_ylim(n, -1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    point = ", ".join(f"{k} = {v}" for k, v in first_point.items())
    ax.set_title(f"wafer 0: {name}" + (f" ({point})" if point else ""))
    return fig


def yield_by_point(data: CampaignData, condition: Condition) -> list[tuple[dict, float, int]]:
    """(sweep point, fraction of its dies meeting the condition, dies) for every sweep point."""
    points: dict[str, list[TaskResult]] = {}
    for t in data.tasks:
        points.setdefault(repr(sorted(t.point.items())), []).append(t)
    found = []
    for tasks in points.values():
        good = sum(t.status == "completed" and condition.holds(t.summary) for t in tasks)
        found.append((tasks[0].point, good / len(tasks), len(tasks)))
    return found


def plot_yield(data: CampaignData, condition: Condition) -> Any:
    """Yield (dies meeting the condition) against the swept parameter."""
    rows = yield_by_point(data, condition)
    fig, ax = figure(1, 1, 6.0, 4.0)
    swept = list(rows[0][0]) if rows and rows[0][0] else []
    if swept:
        x = [r[0][swept[0]] for r in rows]
        order = np.argsort(x)
        ax.plot(np.array(x)[order], 100 * np.array([r[1] for r in rows])[order], "o-")
        ax.set_xlabel(swept[0])
    else:
        ax.bar([0], [100 * rows[0][1]] if rows else [0])
        ax.set_xticks([])
    ax.set_ylim(0, 105)
    ax.set_ylabel(f"yield, % of dies with {condition}")
    ax.set_title(f"campaign {data.run_id}: yield")
    return fig


def draw_campaign(store: Store, run_id: int, output: Path | None = None) -> list[str]:
    """Draw a campaign's figures from the store (distributions, wafer map, yield), into the store and beside
    it or into ``output`` only; warnings, if any."""
    import datetime as dt

    data = load_campaign(store, run_id)
    when = dt.datetime.fromtimestamp(store.run(run_id).started).strftime("%Y-%m-%d %H:%M")
    footer = f"campaign run {run_id} · {data.parameters.get('procedure')} · {len(data.tasks)} tasks · {when}"
    figures = {"distributions": lambda: plot_distributions(data),
               "wafer_map": lambda: plot_wafer_map(data, data.parameters.get("wafer_figure"))}
    if data.parameters.get("yield_if"):
        condition = Condition.parse(data.parameters["yield_if"])
        figures["yield"] = lambda: plot_yield(data, condition)
    warnings = []
    for name, draw in figures.items():
        try:
            warning = keep(store, run_id, name, png(draw(), footer), output)
        except Exception as exc:       # a figure must never lose a campaign
            warning = f"figure {name} of campaign {run_id} could not be drawn: {type(exc).__name__}: {exc}"
        if warning:
            warnings.append(warning)
    return warnings

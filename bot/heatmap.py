"""The who-referred-whom chart: a heatmap of givers (rows) by receivers (columns).

Drawn with matplotlib's Agg backend (no display, no pyplot), when the message that carries
it is delivered: `draw` runs in a drawing process (`bot.charts`, `bot.drawing`).
`figure` builds the figure alone, so that a test can read the names on its axes before it
is rendered. Sized for a phone: at most `MOST` members a side, short names, one count in each cell.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

MOST = 25  # members a side: the most active ones (a phone shows no more)
NAME = 14  # characters of a name on an axis


@dataclass(frozen=True)
class Grid:
    """The counts to draw: `counts[i][j]` referrals from `givers[i]` to `receivers[j]`."""

    title: str
    givers: tuple[str, ...]
    receivers: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]


def grid(title: str, pairs: Sequence[tuple[str, str, int]]) -> Grid:
    """The grid of (giver, receiver, count) pairs: the `MOST` busiest givers and receivers,
    busiest first."""
    given: dict[str, int] = {}
    received: dict[str, int] = {}
    for giver, receiver, count in pairs:
        given[giver] = given.get(giver, 0) + count
        received[receiver] = received.get(receiver, 0) + count
    givers = tuple(sorted(given, key=lambda n: (-given[n], n))[:MOST])
    receivers = tuple(sorted(received, key=lambda n: (-received[n], n))[:MOST])
    cells = {(g, r): n for g, r, n in pairs}
    counts = tuple(tuple(cells.get((g, r), 0) for r in receivers) for g in givers)
    return Grid(title, givers, receivers, counts)


def _short(name: str) -> str:
    return name if len(name) <= NAME else name[: NAME - 1] + "…"


# Margins in inches, from the longest name on each axis (laying the figure out with
# `tight_layout` drew it twice, most of its time): a character of an axis name is about
# 0.092 in wide at LABEL points, the receivers' names are turned 60 degrees.
TOP, RIGHT, CHAR = 0.5, 1.0, 0.092
LABEL = 11  # points, names on the axes
# Glyphs unhinted at the pixel grid: as legible at these sizes, drawn in less time.
_FAST_TEXT: Any = {"text.hinting": "none"}


def figure(data: Grid) -> Figure:
    """The heatmap as a matplotlib figure (not drawn yet)."""
    side = max(len(data.givers), len(data.receivers), 1)
    cells = min(max(side * 0.42, 3.0), 10.5)  # inches for the grid: about 0.42 a member
    longest = {axis: max((len(_short(n)) for n in names), default=1)
               for axis, names in (("y", data.givers), ("x", data.receivers))}  # fmt: skip
    left, bottom = 0.65 + CHAR * longest["y"], 0.7 + CHAR * 0.87 * longest["x"]
    width, height = left + cells + RIGHT, bottom + cells + TOP
    fig = Figure(figsize=(width, height), dpi=110)
    ax = fig.add_axes((left / width, bottom / height, cells / width, cells / height))
    matrix = [list(row) for row in data.counts] or [[0]]
    image = ax.imshow(matrix, cmap="Greens", aspect="auto", vmin=0)
    ax.set_xticks(range(len(data.receivers)), [_short(n) for n in data.receivers],
                  rotation=60, ha="right", rotation_mode="anchor", fontsize=LABEL)  # fmt: skip
    ax.set_yticks(range(len(data.givers)), [_short(n) for n in data.givers], fontsize=LABEL)
    ax.set_xlabel("received by", fontsize=LABEL)
    ax.set_ylabel("given by", fontsize=LABEL)
    fig.suptitle(data.title, fontsize=13, y=1 - 0.12 / height, va="top")
    top = max((max(row) for row in data.counts if row), default=0)
    if side <= 15:  # the numbers stay legible up to here
        for i, row in enumerate(data.counts):
            for j, count in enumerate(row):
                if count:
                    colour = "white" if count > top / 2 else "black"
                    ax.text(j, i, str(count), ha="center", va="center", fontsize=LABEL,
                            color=colour)  # fmt: skip
    bar = fig.add_axes(((left + cells + 0.25) / width, bottom / height, 0.22 / width,
                        cells / height))  # fmt: skip
    fig.colorbar(image, cax=bar, ticks=MaxNLocator(integer=True))  # counts: whole numbers
    return fig


def draw(data: Grid) -> bytes:
    """The heatmap as PNG bytes (Agg: no display, no global pyplot state)."""
    figure_ = figure(data)
    canvas = FigureCanvasAgg(figure_)
    with matplotlib.rc_context(_FAST_TEXT):
        canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()

"""The who-referred-whom chart: a heatmap of givers (rows) by receivers (columns).

Drawn with matplotlib's Agg backend (no display, safe in a worker thread): `draw` runs
in a worker thread as the action's outside work, between its two units (`bot.outside`).
`figure` builds the figure alone, so that a test can read the names on its axes before it
is rendered. Sized for a phone: at most `MOST` members a side, short names, one count in each cell.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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


def figure(data: Grid) -> Figure:
    """The heatmap as a matplotlib figure (not drawn yet)."""
    side = max(len(data.givers), len(data.receivers), 1)
    inches = min(4.0 + side * 0.32, 12.0)
    fig = Figure(figsize=(inches, inches), dpi=110)
    ax = fig.add_subplot()
    matrix = [list(row) for row in data.counts] or [[0]]
    image = ax.imshow(matrix, cmap="Greens", aspect="auto", vmin=0)
    ax.set_xticks(range(len(data.receivers)), [_short(n) for n in data.receivers],
                  rotation=60, ha="right", fontsize=8)  # fmt: skip
    ax.set_yticks(range(len(data.givers)), [_short(n) for n in data.givers], fontsize=8)
    ax.set_xlabel("received by")
    ax.set_ylabel("given by")
    ax.set_title(data.title, fontsize=10)
    top = max((max(row) for row in data.counts if row), default=0)
    if side <= 15:  # the numbers stay legible up to here
        for i, row in enumerate(data.counts):
            for j, count in enumerate(row):
                if count:
                    colour = "white" if count > top / 2 else "black"
                    ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color=colour)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def draw(data: Grid) -> bytes:
    """The heatmap as PNG bytes (Agg: no display, no global pyplot state)."""
    out = io.BytesIO()
    FigureCanvasAgg(figure(data)).print_png(out)
    return out.getvalue()

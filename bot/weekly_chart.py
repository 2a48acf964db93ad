"""The weekly leaderboard's chart: referrals given per member, this week and this quarter.

A PNG drawn with matplotlib's Agg backend (no display), sized to read on a phone: one
row per member (the most active first), large type, the two bars side by side. Drawing
takes tens of milliseconds, so the caller runs it off the event loop (`asyncio.to_thread`).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # (after the backend is chosen)
from matplotlib.ticker import MaxNLocator

MAX_ROWS = 15
_LOCK = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe


def draw(title: str, names: Sequence[str], week: Sequence[int], quarter: Sequence[int]) -> bytes:
    """The chart as PNG bytes; `names`, `week` and `quarter` are parallel, best first."""
    rows = list(zip(names, week, quarter, strict=True))[:MAX_ROWS]
    height = 1.6 + 0.45 * max(1, len(rows))
    figure = Figure(figsize=(6.4, height), dpi=120)
    axes = figure.add_subplot()
    positions = range(len(rows))
    bar = 0.4
    axes.barh([p - bar / 2 for p in positions], [r[1] for r in rows], bar,
              label="this week", color="#1f77b4")  # fmt: skip
    axes.barh([p + bar / 2 for p in positions], [r[2] for r in rows], bar,
              label="this quarter", color="#aec7e8")  # fmt: skip
    axes.set_yticks(list(positions), [r[0] for r in rows], fontsize=12)
    axes.invert_yaxis()
    axes.set_xlabel("referrals given", fontsize=12)
    axes.set_title(title, fontsize=13)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(fontsize=11, loc="lower right")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.subplots_adjust(left=0.24, right=0.97, top=1 - 0.55 / height, bottom=0.7 / height)
    out = io.BytesIO()
    # the figures as text too (PNG tEXt), for whoever cannot see the bars
    described = "; ".join(f"{name}: {w} this week, {q} this quarter" for name, w, q in rows)
    with _LOCK:
        figure.savefig(
            out,
            format="png",
            metadata={"Title": title, "Description": described},
            pil_kwargs={"compress_level": 1},
        )  # (zlib's default costs 3x the time)
    return out.getvalue()

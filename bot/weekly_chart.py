"""The weekly leaderboard's chart: referrals given per member, this week and this quarter.

A PNG sized to read on a phone (768 px wide): one row per member (the most active first),
the name on the left in large type, this week's bar above this quarter's, an integer scale
below, a legend under the title. The figures are in the PNG's text too (`Description`), for
whoever cannot see the bars.

Drawn with matplotlib's Agg backend, on a `Figure` of its own (no pyplot, no global state),
in a worker process (`bot.drawing`): a weekly post goes to every group at about the same
time (10,000 charts in a burst) and drawing is CPU work that would hold the event loop's
interpreter lock. The layout is fixed in pixels (the figure's dpi is 72, so a point is a
pixel), and the picture is made of few artists (one collection for the bars, one for the
grid, a text per label) rather than an `Axes` with its tick machinery, and saved as RGB at
zlib's fastest level: 15 rows then cost about 64 ms instead of 150 (bench/bench_schedule.py).
Names are fitted with the font's own metrics (DejaVu Sans, which matplotlib ships) so that
none runs past the left edge.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.transforms import IdentityTransform
from PIL import Image, ImageFont, PngImagePlugin

MAX_ROWS = 15
WIDTH = 768
ROW = 54  # pixels per member: two bars of 20 and a gap
BAR = 20
TOP = 110  # title and legend
BOTTOM = 70  # scale and its label
RIGHT = 24
NAME_SIZE = 22
SMALL_SIZE = 18
TITLE_SIZE = 24
MAX_NAME_SHARE = 0.4  # of the width; longer names are cut with an ellipsis
WEEK_COLOUR = (31, 119, 180)
QUARTER_COLOUR = (174, 199, 232)
INK = (34, 34, 34)
GRID = (225, 225, 225)
DPI = 72  # a point is a pixel: font sizes are the pixel sizes the names are fitted with
_FONT_FILE = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
_fonts = threading.local()
# Glyphs laid out at the pixel grid, unhinted: at these sizes they read as well as hinted
# ones, and the text (about 30 strings a chart) is drawn in three quarters of the time.
_FAST_TEXT: Any = {"text.hinting": "none"}


def _font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at `size` pixels, to measure names with (one per thread)."""
    cache: dict[int, ImageFont.FreeTypeFont] = _fonts.__dict__.setdefault("by_size", {})
    if size not in cache:
        cache[size] = ImageFont.truetype(str(_FONT_FILE), size)
    return cache[size]


def _fitted(name: str, font: ImageFont.FreeTypeFont, room: float) -> str:
    """`name`, cut with an ellipsis if it is wider than `room` pixels."""
    if font.getlength(name) <= room:
        return name
    while name and font.getlength(name + "…") > room:
        name = name[:-1]
    return name + "…"


def _step(largest: int) -> int:
    """An integer tick step giving at most about 8 ticks up to `largest`: 1, 2, 5, 10, 20..."""
    rough = max(1.0, largest / 8)
    power = 10 ** math.floor(math.log10(rough))
    for multiple in (1, 2, 5, 10):
        if multiple * power >= rough:
            return int(multiple * power)
    return int(10 * power)  # pragma: no cover (the loop always returns)


def _rgb(colour: tuple[int, int, int]) -> tuple[float, float, float]:
    return (colour[0] / 255, colour[1] / 255, colour[2] / 255)


def draw(title: str, names: Sequence[str], week: Sequence[int], quarter: Sequence[int]) -> bytes:
    """The chart as PNG bytes; `names`, `week` and `quarter` are parallel, best first."""
    rows = list(zip(names, week, quarter, strict=True))[:MAX_ROWS]
    height = TOP + ROW * max(1, len(rows)) + BOTTOM
    name_font, small = _font(NAME_SIZE), _font(SMALL_SIZE)
    room = WIDTH * MAX_NAME_SHARE
    shown = [_fitted(name, name_font, room) for name, _, _ in rows]
    left = int(max((name_font.getlength(n) for n in shown), default=0) + 24)
    span = WIDTH - RIGHT - left
    largest = max((max(w, q) for _, w, q in rows), default=0)
    step = _step(largest)
    scale_end = max(step, math.ceil(largest / step) * step)
    per_unit = span / scale_end
    bottom = TOP + ROW * max(1, len(rows))

    figure = Figure(figsize=(WIDTH / DPI, height / DPI), dpi=DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    pixels = IdentityTransform()  # x right, y up from the bottom edge, in pixels

    def y(down: float) -> float:  # a position measured down from the top, as matplotlib's y
        return height - down

    def text(x: float, down: float, words: str, size: int, ha: str, va: str) -> None:
        figure.text(x, y(down), words, fontsize=size, color=_rgb(INK), transform=pixels,
                    family="DejaVu Sans", ha=ha, va=va)  # fmt: skip

    def box(x0: float, top: float, x1: float, bottom_edge: float) -> list[tuple[float, float]]:
        return [(x0, y(top)), (x1, y(top)), (x1, y(bottom_edge)), (x0, y(bottom_edge))]

    boxes, colours = [], []
    legend_x = float(left)
    for label, colour in (("this week", WEEK_COLOUR), ("this quarter", QUARTER_COLOUR)):
        boxes.append(box(legend_x, 66, legend_x + 28, 85))
        colours.append(_rgb(colour))
        text(legend_x + 36, 75, label, SMALL_SIZE, "left", "center")
        legend_x += 36 + int(small.getlength(label)) + 30
    grid = []
    for tick in range(0, scale_end + 1, step):
        x = left + tick * per_unit
        grid.append([(x, y(TOP - 6)), (x, y(bottom))])
        text(x, bottom + 8, str(tick), SMALL_SIZE, "center", "top")
    for index, (name, (_, w, q)) in enumerate(zip(shown, rows, strict=True)):
        middle = TOP + ROW * index + ROW // 2
        text(left - 12, middle, name, NAME_SIZE, "right", "center")
        if w:
            boxes.append(box(left, middle - BAR, left + w * per_unit, middle))
            colours.append(_rgb(WEEK_COLOUR))
        if q:
            boxes.append(box(left, middle, left + q * per_unit, middle + BAR))
            colours.append(_rgb(QUARTER_COLOUR))
    figure.add_artist(LineCollection(grid, colors=[_rgb(GRID)], linewidths=1, transform=pixels))
    figure.add_artist(PolyCollection(boxes, facecolors=colours, edgecolors="none",
                                     antialiaseds=False, transform=pixels))  # fmt: skip
    axes = [[(left, y(TOP - 6)), (left, y(bottom))],
            [(left, y(bottom)), (WIDTH - RIGHT, y(bottom))]]  # fmt: skip
    figure.add_artist(LineCollection(axes, colors=[_rgb(INK)], linewidths=2, transform=pixels))
    shown_title = _fitted(title, _font(TITLE_SIZE), WIDTH - 20)
    text(WIDTH / 2, 18, shown_title, TITLE_SIZE, "center", "top")
    text(left + span / 2, bottom + 36, "referrals given", NAME_SIZE, "center", "top")

    description = "; ".join(f"{n}: {w} this week, {q} this quarter" for n, w, q in rows)
    with matplotlib.rc_context(_FAST_TEXT):
        canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", title)
    info.add_text("Description", description)
    out = io.BytesIO()  # RGB at zlib level 1: a quarter of the bytes to encode, a third the time
    image.convert("RGB").save(out, format="PNG", pnginfo=info, compress_level=1)
    return out.getvalue()

"""The weekly leaderboard's chart: referrals given per member, this week and this quarter.

A PNG sized to read on a phone (768 px wide): one row per member (the most active first),
the name on the left in large type, this week's bar above this quarter's, an integer scale
below, a legend under the title. The figures are in the PNG's text too (`Description`), for
whoever cannot see the bars.

Drawn with Pillow directly rather than matplotlib: a weekly post goes to every group at
about the same time (10,000 charts in a burst), and matplotlib's artist and text layout
machinery cost 85-340 ms a chart; rectangles and a few strings in Pillow cost a few
milliseconds for the same picture (bench/bench_schedule.py measures it). The font is the
DejaVu Sans that matplotlib ships (already a dependency), loaded once per thread: the caller
draws in worker threads (`asyncio.to_thread`) and a FreeType face is not shared between them.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence
from pathlib import Path

import matplotlib
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

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
_FONT_FILE = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
_fonts = threading.local()


def _font(size: int) -> ImageFont.FreeTypeFont:
    """This thread's DejaVu Sans at `size` pixels."""
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


def draw(title: str, names: Sequence[str], week: Sequence[int], quarter: Sequence[int]) -> bytes:
    """The chart as PNG bytes; `names`, `week` and `quarter` are parallel, best first."""
    rows = list(zip(names, week, quarter, strict=True))[:MAX_ROWS]
    height = TOP + ROW * max(1, len(rows)) + BOTTOM
    image = Image.new("RGB", (WIDTH, height), "white")
    pen = ImageDraw.Draw(image)
    name_font, small, big = _font(NAME_SIZE), _font(SMALL_SIZE), _font(TITLE_SIZE)
    room = WIDTH * MAX_NAME_SHARE
    shown = [_fitted(name, name_font, room) for name, _, _ in rows]
    left = int(max((name_font.getlength(n) for n in shown), default=0) + 24)
    span = WIDTH - RIGHT - left
    largest = max((max(w, q) for _, w, q in rows), default=0)
    step = _step(largest)
    scale_end = max(step, math.ceil(largest / step) * step)
    per_unit = span / scale_end
    bottom = TOP + ROW * max(1, len(rows))

    pen.text((WIDTH / 2, 18), _fitted(title, big, WIDTH - 20), font=big, fill=INK, anchor="mt")
    legend_x = left
    for label, colour in (("this week", WEEK_COLOUR), ("this quarter", QUARTER_COLOUR)):
        pen.rectangle((legend_x, 66, legend_x + 28, 84), fill=colour)
        pen.text((legend_x + 36, 75), label, font=small, fill=INK, anchor="lm")
        legend_x += 36 + int(small.getlength(label)) + 30
    for tick in range(0, scale_end + 1, step):
        x = left + tick * per_unit
        pen.line((x, TOP - 6, x, bottom), fill=GRID, width=1)
        pen.text((x, bottom + 8), str(tick), font=small, fill=INK, anchor="mt")
    for index, (name, (_, w, q)) in enumerate(zip(shown, rows, strict=True)):
        middle = TOP + ROW * index + ROW // 2
        pen.text((left - 12, middle), name, font=name_font, fill=INK, anchor="rm")
        if w:
            pen.rectangle((left, middle - BAR, left + w * per_unit, middle - 1), fill=WEEK_COLOUR)
        if q:
            pen.rectangle(
                (left, middle, left + q * per_unit, middle + BAR - 1), fill=QUARTER_COLOUR
            )
    pen.line((left, TOP - 6, left, bottom), fill=INK, width=2)
    pen.line((left, bottom, WIDTH - RIGHT, bottom), fill=INK, width=2)
    pen.text(
        (left + span / 2, bottom + 36), "referrals given", font=name_font, fill=INK, anchor="mt"
    )

    info = PngImagePlugin.PngInfo()
    info.add_text("Title", title)
    info.add_text(
        "Description", "; ".join(f"{n}: {w} this week, {q} this quarter" for n, w, q in rows)
    )
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, compress_level=1)  # (zlib's default: 3x the time)
    return out.getvalue()

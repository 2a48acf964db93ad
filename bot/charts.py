"""Charts drawn when their message is delivered: a `bot.messages.Chart` names its kind and
carries what it shows as plain data; `picture(chart)` draws it in a drawing process
(`bot.drawing`). The outbox keeps the chart's data with the message (a few kilobytes, not
the picture), so the command that asked for it answers at once and the picture follows:
`/partners group` tells the leader that the chart is on its way, and it is drawn by
whichever instance delivers the row (again, the same, if a first attempt was cut short).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import drawing, heatmap
from bot.messages import Chart

HEATMAP = "heatmap"
# Each kind's drawing function: module-level, given the chart's data, returning PNG bytes.
DRAWERS: dict[str, Callable[[dict[str, Any]], bytes]] = {HEATMAP: heatmap.draw_data}


def heatmap_chart(grid: heatmap.Grid) -> Chart:
    """The who-referred-whom heatmap of `grid`, to draw on delivery."""
    return Chart(HEATMAP, heatmap.as_data(grid))


async def picture(chart: Chart) -> bytes:
    """The chart drawn, as PNG bytes (KeyError for a kind no drawer knows)."""
    return await drawing.drawn(DRAWERS[chart.kind], chart.data)

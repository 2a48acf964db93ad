"""Charts drawn when their message is delivered: a `bot.messages.Chart` names its kind and
what it shows, as plain data; `picture(chart, db)` reads what it needs and draws it in a
drawing process (`bot.drawing`). The outbox keeps the chart's few fields with the message,
not the picture, so the command that asked for it answers at once and the picture follows,
drawn by whichever instance delivers the row (the same again, if a first attempt was cut
short).

`/partners group`'s heatmap (`partners_chart`) names its group and its window, which ends
at the command's own time: it shows the referrals the text counted (a referral given while
it waits for delivery is not in it; one voided meanwhile is no longer in it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot import drawing, heatmap
from bot.messages import Chart
from storage import partners
from storage.database import Database

PARTNERS = "partners"


def partners_chart(group_id: int, start: datetime | None, end: datetime, title: str) -> Chart:
    """The group's who-referred-whom heatmap over [start, end), to draw on delivery."""
    return Chart(PARTNERS, {"group_id": group_id, "title": title, "end": end.isoformat(),
                            "start": None if start is None else start.isoformat()})  # fmt: skip


async def partners_grid(db: Database, data: dict[str, Any]) -> heatmap.Grid:
    """What a partners chart shows: its window's pairs, read now."""
    start = None if data["start"] is None else datetime.fromisoformat(data["start"])
    end, group_id = datetime.fromisoformat(data["end"]), int(data["group_id"])
    pairs, names = await db.run(
        lambda unit: partners.group_pairs(unit, group_id, start, end), write=False
    )
    return heatmap.grid(str(data["title"]), [(names[g], names[r], n) for g, r, n in pairs])


async def _partners(db: Database, data: dict[str, Any]) -> bytes:
    return await drawing.drawn(heatmap.draw, await partners_grid(db, data))


# Each kind's way to its picture: read what it shows, draw it (PNG bytes).
PICTURES: dict[str, Callable[[Database, dict[str, Any]], Awaitable[bytes]]] = {
    PARTNERS: _partners,
}


async def picture(chart: Chart, db: Database) -> bytes:
    """The chart drawn, as PNG bytes (KeyError for a kind this version cannot draw)."""
    return await PICTURES[chart.kind](db, chart.data)

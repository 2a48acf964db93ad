"""The weekly chart: a PNG of the phone's width whose text carries every figure drawn, the
names fitted (a long one cut with an ellipsis, never past the left edge), at most 15 rows."""

from __future__ import annotations

import io

from PIL import Image

from bot import weekly_chart


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_the_chart_is_a_png_carrying_its_figures() -> None:
    png = weekly_chart.draw("Chapter: referrals given", ["Alice", "Zoë"], [3, 0], [7, 2])
    image = _open(png)
    assert image.format == "PNG" and image.width == weekly_chart.WIDTH
    assert image.text["Title"] == "Chapter: referrals given"  # type: ignore[attr-defined]
    assert image.text["Description"] == (  # type: ignore[attr-defined]
        "Alice: 3 this week, 7 this quarter; Zoë: 0 this week, 2 this quarter"
    )


def test_the_bars_are_drawn_in_proportion() -> None:
    image = _open(weekly_chart.draw("t", ["A", "B"], [4, 0], [8, 2])).convert("RGB")
    middle = weekly_chart.TOP + weekly_chart.ROW // 2  # the first row
    week = sum(
        1 for x in range(image.width) if image.getpixel((x, middle - 5)) == weekly_chart.WEEK_COLOUR
    )
    quarter = sum(
        1
        for x in range(image.width)
        if image.getpixel((x, middle + 5)) == weekly_chart.QUARTER_COLOUR
    )
    assert week > 0 and abs(quarter - 2 * week) <= 2


def test_at_most_fifteen_rows_and_long_names_are_cut() -> None:
    names = [f"Member {i}" for i in range(20)]
    names[0] = "Bartholomew Featherstonehaugh-Cholmondeley of the Very Long Name"
    image = _open(weekly_chart.draw("t", names, [1] * 20, [2] * 20))
    assert image.height == weekly_chart.TOP + 15 * weekly_chart.ROW + weekly_chart.BOTTOM
    assert image.text["Description"].count("this week") == 15  # type: ignore[attr-defined]
    font = weekly_chart._font(weekly_chart.NAME_SIZE)
    cut = weekly_chart._fitted(names[0], font, weekly_chart.WIDTH * weekly_chart.MAX_NAME_SHARE)
    assert cut.endswith("…") and names[0].startswith(cut[:-1])
    assert font.getlength(cut) <= weekly_chart.WIDTH * weekly_chart.MAX_NAME_SHARE


def test_the_scale_steps_are_round_integers() -> None:
    assert [weekly_chart._step(n) for n in (0, 5, 8, 9, 16, 40, 75, 400)] == [
        1,
        1,
        1,
        2,
        2,
        5,
        10,
        50,
    ]

"""The `/admin stats` chart: a PNG of sensible size, French day labels, the empty period."""

from __future__ import annotations

import struct
from datetime import date, timedelta

from bot.chat.charts import day_label, stats_chart
from bot.storage import DayFigures

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIRST = date(2026, 8, 1)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always comes first."""
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def test_day_label_is_french_without_the_year() -> None:
    assert day_label(date(2026, 8, 5)) == "5 août"
    assert day_label(date(2026, 12, 31)) == "31 décembre"


def test_a_month_draws_a_png_of_sensible_size() -> None:
    days = [DayFigures(FIRST + timedelta(days=i), 10 + i, 5 + i % 5, i % 3, i % 2) for i in range(0, 30, 2)]
    png = stats_chart(days, FIRST, FIRST + timedelta(days=29), "les 30 derniers jours")
    assert png.startswith(PNG_SIGNATURE)
    width, height = png_size(png)
    assert 600 <= width <= 1600 and 300 <= height <= 1000
    assert width > height  # a wide card, as Discord shows embed images


def test_the_empty_period_draws_a_notice_unlike_a_period_with_questions() -> None:
    empty = stats_chart([], FIRST, FIRST + timedelta(days=6), "les 7 derniers jours")
    assert empty.startswith(PNG_SIGNATURE)
    assert png_size(empty) == png_size(stats_chart([DayFigures(FIRST, 3, 2, 1, 0)], FIRST, FIRST, "x"))
    # Only text on a plain card: it compresses far better than bars, axes and labels.
    busy = stats_chart([DayFigures(FIRST, 3, 2, 1, 0)], FIRST, FIRST + timedelta(days=6), "les 7 derniers jours")
    assert len(empty) < len(busy) / 2

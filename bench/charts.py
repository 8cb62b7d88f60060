"""Time to draw the `/admin stats` chart (PNG) for periods of 1, 7, 30 and 365 days, and the PNG's size.

python bench/charts.py
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bot.chat.charts import stats_chart  # noqa: E402
from bot.storage import DayFigures  # noqa: E402
from bot.storage.stats import percentile_nearest_rank  # noqa: E402

LAST = date(2026, 8, 30)
RUNS = 10


def main() -> None:
    rng = random.Random(7)
    stats_chart([], LAST, LAST, "x")  # warm-up: fonts and matplotlib's first draw
    print(f"{'days':>5} {'p50 ms':>8} {'max ms':>8} {'PNG KiB':>8}")
    for span in (1, 7, 30, 365):
        first = LAST - timedelta(days=span - 1)
        days = []
        for i in range(span):
            questions = rng.randint(0, 60)
            if questions:
                answered = rng.randint(0, questions)
                days.append(
                    DayFigures(first + timedelta(days=i), questions, answered, rng.randint(0, 5), rng.randint(0, 3))
                )
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            png = stats_chart(days, first, LAST, "la période")
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        print(f"{span:>5} {percentile_nearest_rank(times, 50):>8.0f} {times[-1]:>8.0f} {len(png) / 1024:>8.0f}")


if __name__ == "__main__":
    main()

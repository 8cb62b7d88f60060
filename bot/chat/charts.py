"""The chart `/admin stats` attaches: questions per day as bars, the share answered as a line, as PNG bytes.

Drawn with matplotlib's Agg canvas (no display, no pyplot global state, so it can run in a worker thread). Dark
text on a white card, so the image reads the same on Discord's dark and light themes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.chat import messages
from bot.storage import DayFigures
from bot.text.dates import french_date

SIZE_INCHES = (8.0, 4.5)
DPI = 100  # 800 × 450 pixels: Discord shows it full width in an embed
BACKGROUND = "#ffffff"
TEXT = "#23272a"
GRID = "#d0d3d8"
BARS = "#5865f2"  # Discord's blurple
LINE = "#e67e22"
MAX_DATE_LABELS = 6  # "1er septembre" is long: more would overlap at 800 pixels
MARKED_DAYS = 62  # beyond, a point per day would only blur the line


def day_label(day: date) -> str:
    """ "5 août": the day and month, the year left to the title's period."""
    text = french_date(day.isoformat()) or day.isoformat()
    return text.rsplit(" ", 1)[0]


def stats_chart(days: Sequence[DayFigures], first: date, last: date, scope: str) -> bytes:
    """PNG of the period `first`..`last` (UTC days, both included); days missing from `days` had no questions.

    `scope` names the period in the title ("les 7 derniers jours"). A period without questions draws only a notice.
    """
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    if not any(d.questions for d in days):
        figure.text(0.5, 0.5, messages.CHART_EMPTY, ha="center", va="center", fontsize=18, color=TEXT)
    else:
        _draw(figure, days, first, last, scope)
    out = io.BytesIO()
    figure.savefig(out, format="png", facecolor=BACKGROUND)
    return out.getvalue()


def _draw(figure: Figure, days: Sequence[DayFigures], first: date, last: date, scope: str) -> None:
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    by_day = {d.day: d for d in days}
    questions = [by_day[d].questions if d in by_day else 0 for d in span]
    # No line point on a day without questions: its share is not 0 %, it does not exist.
    shares = [100 * by_day[d].answered / by_day[d].questions if d in by_day else float("nan") for d in span]
    x = list(range(len(span)))

    axes = figure.add_subplot(facecolor=BACKGROUND)
    bars = axes.bar(x, questions, color=BARS, width=0.8, zorder=2)
    axes.set_ylabel(messages.CHART_QUESTIONS, color=TEXT)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", color=GRID, zorder=0)
    share_axes = axes.twinx()
    (line,) = share_axes.plot(x, shares, color=LINE, marker="o" if len(span) <= MARKED_DAYS else None, linewidth=2)
    share_axes.set_ylim(0, 105)
    share_axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}\u00a0%"))
    share_axes.set_ylabel(messages.CHART_ANSWERED, color=TEXT)

    step = max(1, -(-len(span) // MAX_DATE_LABELS))
    axes.set_xticks(x[::step], [day_label(d) for d in span[::step]])
    axes.set_xlim(-0.6, len(span) - 0.4)
    for ax in (axes, share_axes):
        ax.tick_params(colors=TEXT)
        for spine in ax.spines.values():
            spine.set_color(GRID)

    votes = messages.CHART_VOTES.format(up=sum(d.upvotes for d in days), down=sum(d.downvotes for d in days))
    axes.set_title(f"{messages.CHART_TITLE.format(scope=scope)}\n{votes}", color=TEXT, fontsize=12)
    # Under the axes, so it never hides a bar or a point.
    figure.legend(
        [bars, line],
        [messages.CHART_QUESTIONS, messages.CHART_ANSWERED],
        loc="lower center",
        ncol=2,
        frameon=False,
        labelcolor=TEXT,
        fontsize=10,
    )
    # Fixed margins rather than tight_layout, which draws the whole figure once more to measure it.
    figure.subplots_adjust(left=0.08, right=0.9, top=0.86, bottom=0.18)

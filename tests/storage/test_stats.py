"""Usage figures computed from plain rows, without a database."""

from __future__ import annotations

from bot.storage import GuildStats
from bot.storage.stats import PeriodTally, StatsRow, normalize_question, percentile_nearest_rank


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile_nearest_rank(values, 50) == 10.0
    assert percentile_nearest_rank(values, 95) == 19.0
    assert percentile_nearest_rank(values, 100) == 20.0
    assert percentile_nearest_rank([7.0], 95) == 7.0
    assert percentile_nearest_rank([], 50) == 0.0
    assert percentile_nearest_rank([1.0, 2.0, 3.0, 4.0], 50) == 2.0


def test_normalize_question() -> None:
    assert normalize_question("  Qui a  GAGNÉ ?") == normalize_question("qui a gagné?")
    assert normalize_question("Qui a gagné ?!") == "qui a gagné"
    assert normalize_question("E\u0301te\u0301") == normalize_question("Été")


def row(
    question: str = "Qui a gagné ?",
    *,
    found: bool = True,
    failed: bool = False,
    latency_ms: float = 10.0,
    first_doc: str | None = "doc-a",
) -> StatsRow:
    return StatsRow(question, found, failed, latency_ms, first_doc)


def tally_of(rows: list[StatsRow]) -> PeriodTally:
    tally = PeriodTally()
    tally.add(rows[:2])  # in two batches, as the database hands them over
    tally.add(rows[2:])
    return tally


def figures(rows: list[StatsRow], **counts: int) -> GuildStats:
    counts = {"today": 0, "last_7_days": 0, "upvotes": 0, "downvotes": 0, **counts}
    return tally_of(rows).stats(**counts)


def test_each_question_is_found_not_found_or_failed() -> None:
    stats = figures(
        [
            row(),
            row("Quand ouvre la piscine ?", found=False, first_doc=None),
            row("panne", found=False, failed=True, first_doc=None),
            row("panne après réponse", found=True, failed=True),  # the reply failed after the engine found it
        ]
    )
    assert (stats.total, stats.found, stats.not_found, stats.errors) == (4, 1, 1, 2)
    assert stats.top_documents == [("doc-a", 1)]  # a failed answer does not count for its document
    assert stats.unanswered == [("quand ouvre la piscine", 1)]  # nor as unanswered
    assert ("panne", 1) in stats.top_questions  # but it was asked


def test_latency_percentiles_ignore_failed_questions_and_input_order() -> None:
    latencies = [7.0, 3.0, 9.0, 1.0, 5.0, 2.0, 10.0, 4.0, 8.0, 6.0]
    rows = [row(latency_ms=ms) for ms in latencies] + [row(failed=True, latency_ms=99_999.0)]
    stats = figures(rows)
    assert stats.latency_p50_ms == 5.0  # rank ceil(0.5 * 10) = 5 of 1..10
    assert stats.latency_p95_ms == 10.0  # rank ceil(0.95 * 10) = 10


def test_top_lists_group_spellings_break_ties_alphabetically_and_stop_at_the_limit() -> None:
    rows = [row("Qui a GAGNÉ ?"), row("qui a  gagné"), row("Zèbre ?"), row("Abeille ?"), row("?", first_doc="doc-b")]
    stats = tally_of(rows).stats(today=0, last_7_days=0, upvotes=0, downvotes=0, limit=2)
    assert stats.top_questions == [("qui a gagné", 2), ("abeille", 1)]  # "?" alone has no key: not listed
    assert stats.total == 5
    assert stats.top_documents == [("doc-a", 4), ("doc-b", 1)]


def test_counts_read_outside_the_period_pass_through() -> None:
    rows = [row(), row()]
    stats = figures(rows, today=1, last_7_days=2, upvotes=3, downvotes=4)
    assert (stats.today, stats.last_7_days, stats.upvotes, stats.downvotes) == (1, 2, 3, 4)
    assert stats.all_time == 2  # no period: all time is the period
    assert tally_of(rows).stats(today=0, last_7_days=0, upvotes=0, downvotes=0, all_time=50).all_time == 50


def test_no_questions_gives_zeros() -> None:
    stats = figures([])
    assert (stats.total, stats.found, stats.not_found, stats.errors, stats.all_time) == (0, 0, 0, 0, 0)
    assert (stats.latency_p50_ms, stats.latency_p95_ms) == (0.0, 0.0)
    assert stats.top_questions == stats.top_documents == stats.unanswered == []


def test_small_talk_is_neither_found_nor_unanswered() -> None:
    tally = PeriodTally()
    tally.add(
        [
            ("bonjour", False, False, 1.0, None, "smalltalk"),
            ("Qui dirige Alibaba ?", False, False, 2.0, None, "question"),
            ("Qui est Chen Qiu ?", True, False, 3.0, "001", "question"),
        ]
    )
    stats = tally.stats(today=3, last_7_days=3, upvotes=0, downvotes=0)
    assert (stats.total, stats.found, stats.not_found, stats.smalltalk) == (3, 1, 1, 1)
    assert stats.unanswered == [("qui dirige alibaba", 1)]

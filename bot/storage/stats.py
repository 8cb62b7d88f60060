"""A server's usage figures from its logged questions: counts, most asked, latency percentiles.

Pure computation over rows the query log reads; no database here, so the figures are tested on plain values.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from bot.storage.records import GuildStats

_SPACES = re.compile(r"\s+")


def normalize_question(question: str) -> str:
    """Grouping key for "most asked" lists: NFC, case-folded, spaces collapsed, no final ?!."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", question)).strip().casefold()
    return text.rstrip(" ?!.…¿¡").strip()


def percentile_nearest_rank(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the value at rank ceil(pct/100 * n) (1-based); 0.0 if empty.

    The project's one percentile: the query log, the evaluation and the benchmarks all report with it.
    """
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


class StatsRow(NamedTuple):
    """What the figures need of one logged question."""

    question: str
    found: bool
    failed: bool  # answering raised an error (the row's `error` is set)
    latency_ms: float
    first_doc: str | None  # document of the best source, None without sources
    intent: str = "question"  # "smalltalk" messages are neither found nor unanswered


class PeriodTally:
    """Counts, top lists and latencies of a period's questions, fed in batches of rows.

    Rows arrive in chunks from the database, so a server's whole log never has to sit in memory at once.
    """

    def __init__(self) -> None:
        self.total = self.found = self.not_found = self.errors = self.smalltalk = 0
        self.latencies: list[float] = []  # of the questions that did not fail
        self.asked: Counter[str] = Counter()
        self.unanswered: Counter[str] = Counter()  # not found; failures are not "unanswered"
        self.documents: Counter[str] = Counter()  # first source of found answers

    def add(self, rows: Iterable[StatsRow]) -> None:
        """Count a batch of questions (database rows in `StatsRow` order are accepted as they are)."""
        for question, found, failed, latency_ms, first_doc, *intent in rows:
            self.total += 1
            key = normalize_question(question)
            if key:
                self.asked[key] += 1
            if failed:
                self.errors += 1
                continue
            self.latencies.append(float(latency_ms))
            if intent and intent[0] == "smalltalk":
                self.smalltalk += 1
                continue
            if found:
                self.found += 1
                if first_doc is not None:
                    self.documents[str(first_doc)] += 1
            else:
                self.not_found += 1
                if key:
                    self.unanswered[key] += 1

    def stats(
        self,
        *,
        today: int,
        last_7_days: int,
        upvotes: int,
        downvotes: int,
        all_time: int | None = None,
        limit: int = 10,
    ) -> GuildStats:
        """The figures, with the counts read outside the period; `all_time` None means the period is all time.

        `limit` caps each top list; ties are ordered alphabetically so the lists are stable.
        """
        latencies = sorted(self.latencies)

        def top(counter: Counter[str]) -> list[tuple[str, int]]:
            return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

        return GuildStats(
            total=self.total,
            today=today,
            last_7_days=last_7_days,
            found=self.found,
            not_found=self.not_found,
            smalltalk=self.smalltalk,
            upvotes=upvotes,
            downvotes=downvotes,
            latency_p50_ms=percentile_nearest_rank(latencies, 50),
            latency_p95_ms=percentile_nearest_rank(latencies, 95),
            top_questions=top(self.asked),
            top_documents=top(self.documents),
            unanswered=top(self.unanswered),
            errors=self.errors,
            all_time=self.total if all_time is None else all_time,
        )

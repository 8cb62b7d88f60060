"""French presentation of sources and answers, shared by the command line and Discord."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

from bot.search.answer import Source

_MONTHS = """
    janvier février mars avril mai juin juillet août septembre octobre novembre décembre
""".split()


def french_date(value: str | None) -> str | None:
    """ "2020-08-05" -> "5 août 2020"; "2020-08" -> "août 2020"; anything else unchanged."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
        if match and 1 <= int(match.group(2)) <= 12:
            return f"{_MONTHS[int(match.group(2)) - 1]} {match.group(1)}"
        return value
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {_MONTHS[day.month - 1]} {day.year}"


def source_line(source: Source) -> str:
    """« Title », publisher, date — the French citation of a source (without its URL)."""
    parts = [f"« {source.title} »" if source.title else (source.file or source.doc_id)]
    if source.publisher:
        parts.append(source.publisher)
    date = french_date(source.published)
    if date:
        parts.append(date)
    return ", ".join(parts)


def _fragment_part(text: str) -> str:
    # Text fragments reserve "-", "," and "&": percent-encode them along with everything unsafe.
    return quote(text, safe="").replace("-", "%2D")


def text_fragment_link(url: str | None, quoted: str, edge_words: int = 5) -> str | None:
    """The URL with a `#:~:text=start,end` fragment so a browser scrolls to the quoted text."""
    if not url or not url.startswith(("http://", "https://")):
        return url
    words = quoted.split()
    if not words:
        return url
    base = url.split("#", 1)[0]
    if len(words) <= 2 * edge_words:
        fragment = _fragment_part(" ".join(words))
    else:
        start = " ".join(words[:edge_words])
        end = " ".join(words[-edge_words:])
        fragment = f"{_fragment_part(start)},{_fragment_part(end)}"
    return f"{base}#:~:text={fragment}"

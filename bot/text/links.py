"""Links to documents: only well-formed http(s) addresses, with a text fragment that scrolls to the quote.

What a web address is has one rule, `bot.search.urls` (the corpus checks its links with it, and the engine's layer
cannot import this one); it is offered here as `is_web_url` for the presentation layers.
"""

from __future__ import annotations

from urllib.parse import quote

from bot.search.urls import is_web_url

__all__ = ["is_web_url", "safe_url", "text_fragment_link"]

_UNSAFE = frozenset(" \t\r\n<>()[]{}\"'`\\|^")  # would end or break a Markdown link or an HTML attribute


def safe_url(url: str | None) -> str | None:
    """The address when it is a web address (`is_web_url`) with nothing that could break a link; else None."""
    if not url or any(ch in _UNSAFE or not ch.isprintable() for ch in url):
        return None
    return url if is_web_url(url) else None


def _fragment_part(text: str) -> str:
    # Text fragments reserve "-", "," and "&": percent-encode them along with everything unsafe.
    return quote(text, safe="").replace("-", "%2D")


def text_fragment_link(url: str | None, quoted: str, edge_words: int = 5) -> str | None:
    """The URL with a `#:~:text=start,end` fragment so a browser scrolls to the quoted text (None without a
    valid http(s) URL)."""
    base = safe_url(url)
    if base is None:
        return None
    words = quoted.split()
    if not words:
        return base
    base = base.split("#", 1)[0]
    if len(words) <= 2 * edge_words:
        fragment = _fragment_part(" ".join(words))
    else:
        start = " ".join(words[:edge_words])
        end = " ".join(words[-edge_words:])
        fragment = f"{_fragment_part(start)},{_fragment_part(end)}"
    return f"{base}#:~:text={fragment}"

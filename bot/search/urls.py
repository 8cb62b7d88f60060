"""The one rule for a document's web address: a well-formed http(s) URL with a host, nothing else.

The corpus keeps a link only when it passes (`checked_url`, with a French warning otherwise), and every later
user of an address (links in answers, Discord embeds, ingested documents) asks the same `is_web_url`, so a
javascript:, data: or file: link can never reach a reader.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

URL_SCHEMES = ("http", "https")
# Characters no well-formed link holds as written: white space, controls, brackets, quotes.
_URL_FORBIDDEN = re.compile(r'[\s\x00-\x1f\x7f-\x9f<>\[\]{}|\\^`"]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SHOWN_CHARS = 100


def url_problem(url: str) -> str:
    """Why `url` is not a web address a document may link to, in French ("" when it is one)."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # .port raises ValueError for a port that is not a number
    except ValueError:
        return "adresse mal formée"
    if parts.scheme.lower() not in URL_SCHEMES:
        return "seuls les liens http:// et https:// sont gardés"
    if _URL_FORBIDDEN.search(url):
        return "espace, crochet, guillemet ou caractère de contrôle dans l'adresse"
    if not host:
        return "adresse sans nom de site"
    return ""


def is_web_url(url: str) -> bool:
    """Whether `url` is a well-formed http(s) address with a host (what may ever become a link)."""
    return not url_problem(url)


def checked_url(url: str | None, document: str, warnings: list[str]) -> str | None:
    """`url` (stripped) when it is a web address, else None and a French warning naming `document`."""
    if url is None:
        return None
    url = url.strip()
    reason = url_problem(url)
    if not reason:
        return url
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", url)
    shown = shown if len(shown) <= _SHOWN_CHARS else shown[: _SHOWN_CHARS - 1] + "…"
    warnings.append(f"{document} : lien « {shown} » ignoré ({reason}).")
    return None

"""The one rule for a document's web address: a well-formed http(s) URL with a host, nothing else.

Every user of an address (the corpus, links in answers, Discord embeds, ingested documents) asks `is_web_url`,
so a javascript:, data: or file: link can never reach a reader. The corpus also refuses an address it would have
to rewrite (`url_problem`, `checked_url` with a French warning); the others escape or refuse what would break a
link where they write it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

URL_SCHEMES = ("http", "https")
# Characters no well-formed link holds as written: white space, controls, brackets, quotes.
_URL_FORBIDDEN = re.compile(r'[\s\x00-\x1f\x7f-\x9f<>\[\]{}|\\^`"]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SHOWN_CHARS = 100


def is_web_url(url: str) -> bool:
    """Whether `url` is an http(s) address with a host (and a port, if any, that is a number): what may ever
    become a link. Characters that would break a link where it is written are each medium's concern."""
    return not _structure_problem(url)


def url_problem(url: str) -> str:
    """Why `url` is not kept as a document's link, in French ("" when it is kept): it must be a web address
    written as is, without white space, brackets, quotes or control characters."""
    reason = _structure_problem(url)
    if not reason and _URL_FORBIDDEN.search(url):
        reason = "espace, crochet, guillemet ou caractère de contrôle dans l'adresse"
    return reason


def _structure_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # .port raises ValueError for a port that is not a number
    except ValueError:
        return "adresse mal formée"
    if parts.scheme.lower() not in URL_SCHEMES:
        return "seuls les liens http:// et https:// sont gardés"
    if not host:
        return "adresse sans nom de site"
    return ""


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

"""Removal of web-page debris from article text: breadcrumbs, datelines, credits, comment sections.

Scraped articles carry navigation, bylines and reader comments that must never be quoted as
the article. Cleaning works on paragraphs and keeps the article's own words untouched.
"""

from __future__ import annotations

import re

# A whole line that is navigation or page furniture.
_DEBRIS_LINE = re.compile(
    r"""^(?:
        .{0,80}>>.{0,80}                                   # breadcrumbs: Page d'accueil>>Économie
      | \(\s*web\s+editor\s*:.*\)                          # (Web editor: …)
      | derni[eè]re\s+mise\s+[àa]\s+jour\b.*               # Dernière mise à jour à 15h58 le 05/08
      | mis\s+[àa]\s+jour\s+le\b.{0,40}
      | publi[ée]\s+le\s+\d.{0,40}
      | \((?:cr[ée]dits?|source|photo)\b[^)]*\)            # (Crédits : Jason Lee) (source ARTE)
      | .{0,60}\b\d{1,2}\.\d{1,2}\.\d{4}\s+\d{1,2}h\d{2}  # le Quotidien du Peuple en ligne 01.07.2025 15h39
      | signaler | r[ée]pondre | partager | imprimer | [-–—•·|]+
      | votre\s+e-?mail\s+ne\s+sera\s+pas\s+affich[ée].*
      | tous\s+les\s+champs\s+sont\s+obligatoires.*
      | merci\s+pour\s+votre\s+commentaire.*
      | (?:[àa]|a)\s+[ée]crit\s+le\s+\d.*                   # à écrit le 02/01/2019 à 11:54
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

# The start of a reader-comments section: everything after it is not the article.
_COMMENTS_START = re.compile(
    r"^(?:commentaires?|r[ée]actions?)(?:\s*[:(]?\s*\d+\)?)?$|^\d+\s+(?:commentaires?|r[ée]actions?)$"
    r"|^(?:laisser|[ée]crire|ajouter)\s+un\s+commentaire\b|^r[ée]agir\b.{0,30}$",
    re.IGNORECASE,
)

# Leading metadata glued to the first paragraph of press releases.
_LEADING_META = re.compile(r"^\s*date\s+\d{4}(?:-\d{2}){0,2}\s+", re.IGNORECASE)
_DATELINE = re.compile(r"^[A-ZÀ-Ý][A-ZÀ-Ý' .-]+,[^/\n]{0,80}/[A-Za-z][\w .-]{1,40}/\s*[-–—]+\s*")


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of a text: blank-line separated blocks, or single lines when the text has no blank lines.

    Inside a block, a line stays its own paragraph (headings, captions, one paragraph a line) unless it
    was hard-wrapped: cut mid-sentence, long, and followed by a line that carries on in lower case.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n\s*\n", text) if re.search(r"\n\s*\n", text) else [text]
    paragraphs: list[str] = []
    for block in blocks:
        lines: list[str] = []
        for raw in block.split("\n"):
            line = " ".join(raw.split())
            if not line:
                continue
            if lines and _wraps_into(lines[-1], line):
                lines[-1] += " " + line
            else:
                lines.append(line)
        paragraphs.extend(lines)
    return paragraphs


_WRAP_MIN_CHARS = 50  # shorter lines are headings or captions, not wrapped text


def _wraps_into(previous: str, line: str) -> bool:
    """Whether `line` continues `previous`, a paragraph hard-wrapped by a text editor."""
    if len(previous) < _WRAP_MIN_CHARS or re.search(r"[.!?»)\]:…]$", previous):
        return False
    return line[0].islower() or line[0] in ",;)»-–" or previous[-1] in ",;-–(«"


def clean_paragraphs(paragraphs: list[str], title: str | None = None) -> list[str]:
    """Drop debris lines, cut reader comments, strip datelines, and keep each paragraph once."""
    kept: list[str] = []
    seen: set[str] = set()
    title_key = _key(title) if title else None
    for index, para in enumerate(paragraphs):
        if _COMMENTS_START.match(para):
            break
        if _DEBRIS_LINE.match(para):
            continue
        if index < 3:
            para = _LEADING_META.sub("", para)
            para = _DATELINE.sub("", para)
        key = _key(para)
        if not key or key in seen or key == title_key:
            continue
        seen.add(key)
        kept.append(para)
    return kept


_NON_WORD = re.compile(r"\W+")
_KEY_MAX_CHARS = 400  # longer paragraphs are compared as written, but for case


def _key(text: str) -> str:
    """Comparison key for duplicate detection: case, punctuation and spacing ignored.

    Repeats worth catching are captions, headings, a title above its article: short. A long paragraph
    only counts as a repeat when it is written the same, which spares scanning every character of a
    large corpus with a Unicode regex. Accents are kept for the same reason.
    """
    text = text.lower()
    return text if len(text) > _KEY_MAX_CHARS else _NON_WORD.sub(" ", text).strip()


def guess_title(paragraphs: list[str]) -> str | None:
    """A leading short line without final punctuation reads as a headline."""
    if paragraphs:
        first = paragraphs[0]
        if len(first) <= 160 and not re.search(r"[.!?…»]$", first) and len(first.split()) >= 3:
            return first
    return None

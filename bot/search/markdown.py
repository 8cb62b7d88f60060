"""Light Markdown clean-up for corpus files and uploaded documents: the text a reader sees, without the markup."""

from __future__ import annotations

import re

# A link's target: "(…)" on one line, with at most one level of parentheses inside (Wikipedia's "Paris_(ville)").
# Neither it nor a link's text may run over another bracket of its kind, so each character is scanned from a
# bounded number of starts and a file of "[[[[" costs linear time, not quadratic.
_MD_TARGET = r"\((?:[^()\n]|\([^()\n]*\))*\)"
_MD_IMAGE = re.compile(r"!\[[^\[\]]*\]" + _MD_TARGET)
_MD_LINK = re.compile(r"\[([^\[\]]+)\]" + _MD_TARGET)


def strip_markdown(text: str) -> tuple[str, str | None]:
    """Headings lose their #, links keep their text, images go; the first H1 is the title."""
    title = None
    match = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    if match:
        title = match.group(1).strip()
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE)
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = re.sub(r"(\*\*|__|`)", "", text)
    return text, title

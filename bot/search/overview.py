"""What a corpus holds, in a few words, for the bot to introduce itself: its size, some titles, some names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.search.corpus import Document

# Two or more capitalised words past a sentence's start: a person's or an organisation's name.
_MULTI_NAME = re.compile(r"(?<=[a-zà-ÿ,] )[A-ZÀ-Ý][a-zà-ÿ]+(?: [A-ZÀ-Ý][a-zà-ÿ]+)+")


@dataclass(frozen=True, slots=True)
class Overview:
    """What a corpus holds, in a few words: its size, some titles, some names it talks about."""

    documents: int
    titles: list[str]
    names: list[str]


def overview(documents: list[Document], count: int = 3) -> Overview:
    """Document count, a few titles, a few names.

    The names are people or organisations (capitalised words past a sentence's start) from the opening
    paragraphs of different documents, so example questions about them find an answer.
    """
    titles = [" ".join(d.title.split()) for d in documents if d.title][:count]
    names: list[str] = []
    for document in documents:
        opening = " ".join(document.paragraphs[:2])
        found = [m.group(0) for m in _MULTI_NAME.finditer(opening) if m.group(0) not in names]
        if found:
            names.append(found[0])
        if len(names) >= count:
            break
    return Overview(len(documents), titles, names)

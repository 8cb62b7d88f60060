"""Discord markup in what members type: mentions, custom emoji and timestamps are not words of a question."""

from __future__ import annotations

import re

MARKUP = re.compile(
    r"<@[!&]?\d+>"  # user and role mentions
    r"|<#\d+>"  # channel mentions
    r"|</[^<>:]+:\d+>"  # slash command mentions
    r"|<a?:\w+:\d+>"  # custom emoji, still or animated
    r"|<t:-?\d+(?::[tTdDfFR])?>"  # timestamps
    r"|@(?:everyone|here)\b"
)


def plain_text(text: str) -> str:
    """`text` without Discord markup, whitespace collapsed: what the engine should read of a question."""
    return " ".join(MARKUP.sub(" ", text).split())

"""Rendering for Discord: answer embeds and moderator embeds (the wording lives in `bot.chat.messages`).

The only module that turns an `Answer` (or a log row) into Discord objects; it enforces
Discord's size limits and escapes what users wrote so it never pings or breaks the layout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote as percent_encode

import discord

from bot.chat import messages
from bot.chat.messages import plural
from bot.ingest.limits import french_size
from bot.search.answer import Answer, Source
from bot.storage import DocumentCount, GuildStats, QueryRow, StoredDocument
from bot.text.answers import (
    NOT_FOUND,
    UNDERSTOOD,
    confidence_label,
    date_note,
    percent,
    quote_link,
    source_details,
    source_label,
)
from bot.text.links import is_web_url

# Discord's limits (characters) that the embeds built here could reach
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_VALUE_LIMIT = 1024
EMBED_TOTAL_LIMIT = 6000

FOUND_COLOUR = discord.Colour.blurple()
NOT_FOUND_COLOUR = discord.Colour.light_grey()
ADMIN_COLOUR = discord.Colour.dark_teal()


# Markdown that Discord reads anywhere in a line (emphasis, code, spoilers, masked links, mentions, quotes) or at
# its start only (headings, lists): what `shown` escapes and `unshown` reads back.
_ANYWHERE_CHARACTERS = r"\\*_~|`\[\]<>"
_LINE_START_CHARACTERS = "#-"
_MARKUP_ANYWHERE = re.compile(f"[{_ANYWHERE_CHARACTERS}]")
_MARKUP_LINE_START = re.compile(f"^([ \t]*)([{_LINE_START_CHARACTERS}])", re.MULTILINE)
_ESCAPED = re.compile(f"\\\\([{_ANYWHERE_CHARACTERS}{_LINE_START_CHARACTERS}])")


def shown(text: str) -> str:
    """User or corpus text made inert for display, escaped once here and nowhere else: each Markdown character
    behind a backslash (so `[x](https://…)` shows as written, never as a link), mentions (@everyone, roles,
    users) defused."""
    text = _MARKUP_ANYWHERE.sub(lambda match: "\\" + match.group(), text)
    return discord.utils.escape_mentions(_MARKUP_LINE_START.sub(r"\1\\\2", text))


def unshown(text: str) -> str:
    """The text `shown` made inert, as it was written: what a question reads back from an answer's title."""
    return _ESCAPED.sub(r"\1", text).replace("@\u200b", "@")


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, ending with "…" when cut (never on a lone backslash)."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    # Do not leave a dangling escape that would swallow the ellipsis.
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + "…"


# Characters that could end a markdown link target early or open another link: percent-encoded.
LINK_BREAKERS = re.compile(r"[()\[\]<>\s\"'`\\]")


def link_target(url: str) -> str | None:
    """`url` made safe as a markdown link target, or None when it is not an http(s) URL with a host.

    A document's URL comes from the corpus: percent-encoding what could close the target keeps a URL
    like `https://a.example/) [Cliquez ici](https://b.example` from adding a second, masked link.
    """
    url = url.strip()
    if not is_web_url(url):
        return None
    return LINK_BREAKERS.sub(lambda match: percent_encode(match.group(), safe=""), url)


def source_markdown(source: Source, limit: int = FIELD_VALUE_LIMIT, link: str | None = None) -> str:
    """The source as a French citation with a link: [« Title »](link), publisher, date."""
    label = truncate(source_label(source), 200)
    tail = "".join(f", {shown(part)}" for part in source_details(source))
    for url in (link, source.url):
        target = link_target(url) if url else None
        if target:
            text = f"[{shown(label)}]({target}){tail}"
            if len(text) <= limit:
                return text
    return truncate(shown(label) + tail, limit)


def _quoted(sentences: list[str], highlight: str | None = None) -> str:
    """Quoted pieces as Discord block quotes, Markdown escaped; the highlight (in the first piece) in bold."""
    lines = []
    for number, sentence in enumerate(s.strip() for s in sentences):
        if not sentence:
            continue
        if number == 0 and highlight and highlight in sentence:
            start = sentence.index(highlight)
            end = start + len(highlight)
            text = f"{shown(sentence[:start])}**{shown(highlight)}**{shown(sentence[end:])}"
        else:
            text = shown(sentence)
        lines.append(f"> {text}")
    return "\n".join(lines)


def answer_embed(answer: Answer) -> discord.Embed:
    """The reply to a question: the answering quote first with the answer in bold, the source as a link, the
    confidence in words in the footer. Quotes from a second document follow in their own field, with that
    document as their source. Small talk gets the bot's introduction, which the answerer wrote in the answer.
    A follow-up says how it was understood, in italics above the quote."""
    title = truncate(f"❓ {shown(answer.question)}", TITLE_LIMIT)
    if answer.intent == "smalltalk":
        introduction = "\n".join(answer.sentences) or NOT_FOUND
        text = truncate(shown(introduction), DESCRIPTION_LIMIT)
        return fit(discord.Embed(title=title, colour=FOUND_COLOUR, description=text))
    if answer.found and answer.quotes:
        first, *others = answer.quotes
        embed = discord.Embed(
            title=title,
            colour=FOUND_COLOUR,
            description=truncate(_understood(answer) + _quoted(first.sentences, answer.highlight), DESCRIPTION_LIMIT),
        )
        source = source_markdown(first.source, link=quote_link(first))
        note = date_note(answer)
        embed.add_field(name=messages.SOURCE, value=source + (f"\n{note}" if note else ""), inline=False)
        for quote in others:
            source = source_markdown(quote.source, FIELD_VALUE_LIMIT // 2, link=quote_link(quote))
            quoted = truncate(_quoted(quote.sentences), FIELD_VALUE_LIMIT - len(source) - 1)
            embed.add_field(name=messages.OTHER_SOURCE, value=f"{quoted}\n{source}", inline=False)
    else:
        embed = discord.Embed(title=title, colour=NOT_FOUND_COLOUR, description=_understood(answer) + NOT_FOUND)
        if answer.lead is not None:
            embed.add_field(name=messages.CLOSEST_DOCUMENT, value=source_markdown(answer.lead), inline=False)
    embed.set_footer(
        text=messages.CONFIDENCE.format(label=confidence_label(answer.confidence), percent=percent(answer.confidence))
    )
    return fit(embed)


def _understood(answer: Answer) -> str:
    """The line above the quote of a follow-up: « Compris comme : … » in italics (empty for other questions)."""
    if not answer.understood_as:
        return ""
    return f"*{truncate(shown(UNDERSTOOD.format(question=answer.understood_as)), 500)}*\n"


def fit(embed: discord.Embed) -> discord.Embed:
    """Shorten the description until the whole embed fits Discord's 6,000-character total."""
    excess = len(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and embed.description:
        embed.description = truncate(embed.description, max(len(embed.description) - excess, 1))
    return embed


def _ranked(items: Sequence[tuple[str, int]], limit: int = 5, width: int = 120) -> str:
    lines = [f"{i}. {truncate(shown(text), width)} ({n})" for i, (text, n) in enumerate(items[:limit], 1)]
    return truncate("\n".join(lines), FIELD_VALUE_LIMIT) if lines else "—"


def stats_embed(
    stats: GuildStats, period: str | None, spooled: int = 0, vectors: tuple[int, int] | None = None
) -> discord.Embed:
    """`/admin stats`: volumes, share answered, votes, latency, top questions and documents; how many of the
    server's questions wait to be stored (`spooled`) when some do; how far the corpus's sentence `vectors` are
    built (rows built, rows in all) when the sentence model serves."""
    scope = messages.PERIODS.get(period or "", messages.ALL_TIME)
    description = messages.STATS_PERIOD.format(scope=scope)
    if spooled:
        description += "\n⏳ " + messages.spooled(spooled)
    if vectors is not None and vectors[1]:
        description += "\n🧠 " + messages.sentence_vectors(*vectors)
    embed = discord.Embed(title=messages.STATS_TITLE, description=description, colour=ADMIN_COLOUR)
    volumes = messages.STATS_VOLUMES.format(today=stats.today, week=stats.last_7_days, total=stats.total)
    if period in messages.PERIODS:
        volumes += "\n" + messages.STATS_ALL_TIME.format(count=stats.all_time)
    embed.add_field(name=messages.STATS_QUESTIONS, value=volumes)
    answered = (stats.found / stats.total) if stats.total else 0.0
    lines = [
        messages.STATS_FOUND.format(count=stats.found, percent=percent(answered)),
        messages.STATS_NOT_FOUND.format(count=stats.not_found),
    ]
    if stats.smalltalk:
        lines.append(messages.STATS_SMALLTALK.format(count=stats.smalltalk))
    if stats.errors:
        lines.append(messages.STATS_ERRORS.format(count=stats.errors))
    embed.add_field(name=messages.STATS_ANSWERS, value="\n".join(lines))
    embed.add_field(name=messages.STATS_VOTES, value=f"👍 {stats.upvotes}\n👎 {stats.downvotes}")
    embed.add_field(
        name=messages.STATS_LATENCY,
        value=messages.STATS_LATENCY_VALUE.format(p50=stats.latency_p50_ms, p95=stats.latency_p95_ms),
    )
    embed.add_field(name=messages.STATS_TOP_QUESTIONS, value=_ranked(stats.top_questions), inline=False)
    embed.add_field(name=messages.STATS_TOP_DOCUMENTS, value=_ranked(stats.top_documents), inline=False)
    embed.add_field(name=messages.STATS_UNANSWERED, value=_ranked(stats.unanswered), inline=False)
    return fit(embed)


def history_embed(rows: Sequence[QueryRow], page: int, pages: int, total: int) -> discord.Embed:
    """`/admin historique`: one page of logged questions, newest first."""
    embed = discord.Embed(title=messages.HISTORY_TITLE, colour=ADMIN_COLOUR)
    if not rows:
        embed.description = messages.HISTORY_EMPTY
    lines = []
    for row in rows:
        mark = "⚠️" if row.error else ("✅" if row.found else "❌")
        when = discord.utils.format_dt(row.created_at, "f")
        who = f"<@{row.user_id}>" if row.user_id else "—"
        votes = f" · 👍 {row.upvotes} 👎 {row.downvotes}" if (row.upvotes or row.downvotes) else ""
        lines.append(f"{mark} {when} · {who}{votes}\n{truncate(shown(row.question), 300)}")
    if lines:
        embed.description = truncate("\n\n".join(lines), DESCRIPTION_LIMIT)
    embed.set_footer(
        text=messages.HISTORY_FOOTER.format(page=page + 1, pages=max(pages, 1), count=plural(total, "question"))
    )
    return fit(embed)


def documents_embed(documents: Sequence[StoredDocument], page: int, pages: int, count: DocumentCount) -> discord.Embed:
    """`/admin documents liste`: one page of the server's own documents, newest first."""
    embed = discord.Embed(title=messages.DOCUMENTS_TITLE, colour=ADMIN_COLOUR)
    lines = [
        messages.DOCUMENT_LINE.format(
            id=document.id,
            title=truncate(shown(document.title or document.doc_id), 120),
            source=truncate(shown(document.source), 200),
            when=discord.utils.format_dt(document.added_at, "d"),
            user=document.added_by,
        )
        for document in documents
    ]
    embed.description = truncate("\n\n".join(lines), DESCRIPTION_LIMIT) if lines else messages.DOCUMENTS_EMPTY
    footer = messages.DOCUMENTS_FOOTER.format(
        page=page + 1,
        pages=max(pages, 1),
        count=plural(count.documents, "document"),
        size=french_size(count.text_bytes),
    )
    embed.set_footer(text=footer)
    return fit(embed)

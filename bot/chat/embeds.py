"""Everything the bot shows on Discord: answer embeds, moderator embeds and French messages.

The only module that turns an `Answer` (or a log row) into Discord objects; it enforces
Discord's size limits and escapes what users wrote so it never pings or breaks the layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import discord

from bot.search.answer import Answer, Source
from bot.storage import GuildSettings, GuildStats, QueryRow
from bot.text.answers import NOT_FOUND, confidence_label, date_note, quote_link, source_label
from bot.text.dates import french_date
from bot.text.links import safe_url

# Discord's limits (characters)
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000

FOUND_COLOUR = discord.Colour.blurple()
NOT_FOUND_COLOUR = discord.Colour.light_grey()
ADMIN_COLOUR = discord.Colour.dark_teal()

APOLOGY = "Désolé, une erreur m'a empêché de répondre. Elle a été consignée : réessayez dans un instant."
EMPTY_SLASH_QUESTION = (
    "Votre question est vide : écrivez-la dans l'option « texte », par exemple « Qui dirige Alibaba ? »."
)
EMPTY_MENTION_QUESTION = (
    "Écrivez votre question juste après la mention, par exemple : « @{name} Qui dirige Alibaba ? »."
)
DM_HINT = "Pour me poser une question, utilisez la commande /question."
MISSING_PERMISSION = "Cette commande est réservée aux modérateurs (permission « Gérer le serveur »)."
GUILD_ONLY = "Cette commande ne s'utilise que sur un serveur."
CHECK_FAILED = "Vous ne pouvez pas utiliser cette commande ici."


def shown(text: str) -> str:
    """User text made inert for display: markdown escaped, mentions (@everyone, roles, users) defused."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


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


def plural(n: int, word: str) -> str:
    """French count with a regular plural: "1 question", "3 questions", "0 vote"."""
    return f"{n} {word}" + ("s" if n > 1 else "")


def seconds_text(seconds: float) -> str:
    """French duration rounded up: "1 seconde", "45 secondes", "2 minutes"."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return plural(whole, "seconde")
    return plural(math.ceil(whole / 60), "minute")


def rate_limited(retry_after: float) -> str:
    """Private message for a user who asked too many questions in a short time."""
    wait = seconds_text(retry_after)
    return f"Vous avez posé beaucoup de questions en peu de temps : vous pourrez réessayer dans {wait}."


def percent(value: float) -> str:
    """0.873 -> "87 %" (French spacing)."""
    return f"{round(value * 100)}\u00a0%"


def _link_label(text: str) -> str:
    # Square brackets would end the markdown link label early.
    return shown(text).replace("[", "\\[").replace("]", "\\]")


def source_markdown(source: Source, limit: int = FIELD_VALUE_LIMIT, link: str | None = None) -> str:
    """The source as a French citation with a link: [« Title »](link), publisher, date."""
    label = truncate(source_label(source), 200)
    details = [
        shown(part) for part in (source.publisher if source.title else None, french_date(source.published)) if part
    ]
    tail = "".join(f", {part}" for part in details)
    for target in (link, safe_url(source.url)):
        if target:
            text = f"[{_link_label(label)}]({target}){tail}"
            if len(text) <= limit:
                return text
    return truncate(_link_label(label) + tail, limit)


def _quoted(sentences: list[str], highlight: str | None = None) -> str:
    """Quoted pieces as Discord block quotes, Markdown escaped; the highlight (in the first piece) in bold."""
    lines = []
    for number, sentence in enumerate(s.strip() for s in sentences):
        if not sentence:
            continue
        if number == 0 and highlight and highlight in sentence:
            start = sentence.index(highlight)
            end = start + len(highlight)
            escape = discord.utils.escape_markdown
            text = f"{escape(sentence[:start])}**{escape(highlight)}**{escape(sentence[end:])}"
        else:
            text = discord.utils.escape_markdown(sentence)
        lines.append(f"> {text}")
    return "\n".join(lines)


def answer_embed(answer: Answer, introduction: str | None = None) -> discord.Embed:
    """The reply to a question: the answering quote first with the answer in bold, the source as a link, the
    confidence in words in the footer. Quotes from a second document follow in their own field, with that
    document as their source. Small talk gets the bot's `introduction`."""
    title = truncate(f"❓ {shown(answer.question)}", TITLE_LIMIT)
    if answer.intent == "smalltalk":
        text = truncate(discord.utils.escape_markdown(introduction or NOT_FOUND), DESCRIPTION_LIMIT)
        return fit(discord.Embed(title=title, colour=FOUND_COLOUR, description=text))
    if answer.found and answer.quotes:
        first, *others = answer.quotes
        embed = discord.Embed(
            title=title,
            colour=FOUND_COLOUR,
            description=truncate(_quoted(first.sentences, answer.highlight), DESCRIPTION_LIMIT),
        )
        source = source_markdown(first.source, link=quote_link(first))
        note = date_note(answer)
        embed.add_field(name="Source", value=source + (f"\n{note}" if note else ""), inline=False)
        for quote in others:
            source = source_markdown(quote.source, FIELD_VALUE_LIMIT // 2, link=quote_link(quote))
            quoted = truncate(_quoted(quote.sentences), FIELD_VALUE_LIMIT - len(source) - 1)
            embed.add_field(name="Autre source", value=f"{quoted}\n{source}", inline=False)
    else:
        embed = discord.Embed(title=title, colour=NOT_FOUND_COLOUR, description=NOT_FOUND)
        if answer.lead is not None:
            embed.add_field(name="Document le plus proche", value=source_markdown(answer.lead), inline=False)
    embed.set_footer(text=f"Confiance : {confidence_label(answer.confidence)} ({percent(answer.confidence)})")
    return fit(embed)


def fit(embed: discord.Embed) -> discord.Embed:
    """Shorten the description until the whole embed fits Discord's 6,000-character total."""
    excess = len(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and embed.description:
        embed.description = truncate(embed.description, max(len(embed.description) - excess, 1))
    return embed


def _ranked(items: Sequence[tuple[str, int]], limit: int = 5, width: int = 120) -> str:
    lines = [f"{i}. {truncate(shown(text), width)} ({n})" for i, (text, n) in enumerate(items[:limit], 1)]
    return truncate("\n".join(lines), FIELD_VALUE_LIMIT) if lines else "—"


PERIODS = {"jour": "les dernières 24 heures", "semaine": "les 7 derniers jours", "mois": "les 30 derniers jours"}


def stats_embed(stats: GuildStats, period: str | None) -> discord.Embed:
    """`/admin stats`: volumes, share answered, votes, latency, top questions and documents."""
    scope = PERIODS.get(period or "", "depuis le début")
    embed = discord.Embed(title="Statistiques des questions", description=f"Période : {scope}.", colour=ADMIN_COLOUR)
    volumes = f"Aujourd'hui : {stats.today}\n7 derniers jours : {stats.last_7_days}\nSur la période : {stats.total}"
    if period in PERIODS:
        volumes += f"\nDepuis le début : {stats.all_time}"
    embed.add_field(name="Questions", value=volumes)
    answered = (stats.found / stats.total) if stats.total else 0.0
    lines = [f"Trouvées : {stats.found} ({percent(answered)})", f"Non trouvées : {stats.not_found}"]
    if stats.errors:
        lines.append(f"Erreurs : {stats.errors}")
    embed.add_field(name="Réponses", value="\n".join(lines))
    embed.add_field(name="Avis", value=f"👍 {stats.upvotes}\n👎 {stats.downvotes}")
    embed.add_field(
        name="Temps de réponse",
        value=f"Médiane : {stats.latency_p50_ms:.0f} ms\n95e centile : {stats.latency_p95_ms:.0f} ms",
    )
    embed.add_field(name="Questions les plus posées", value=_ranked(stats.top_questions), inline=False)
    embed.add_field(name="Documents les plus cités", value=_ranked(stats.top_documents), inline=False)
    embed.add_field(name="Sans réponse (à ajouter au corpus ?)", value=_ranked(stats.unanswered), inline=False)
    return fit(embed)


def history_embed(rows: Sequence[QueryRow], page: int, pages: int, total: int) -> discord.Embed:
    """`/admin historique`: one page of logged questions, newest first."""
    embed = discord.Embed(title="Historique des questions", colour=ADMIN_COLOUR)
    if not rows:
        embed.description = "Aucune question enregistrée."
    lines = []
    for row in rows:
        mark = "⚠️" if row.error else ("✅" if row.found else "❌")
        when = discord.utils.format_dt(row.created_at, "f")
        who = f"<@{row.user_id}>" if row.user_id else "—"
        votes = f" · 👍 {row.upvotes} 👎 {row.downvotes}" if (row.upvotes or row.downvotes) else ""
        lines.append(f"{mark} {when} · {who}{votes}\n{truncate(shown(row.question), 300)}")
    if lines:
        embed.description = truncate("\n\n".join(lines), DESCRIPTION_LIMIT)
    embed.set_footer(text=f"Page {page + 1}/{max(pages, 1)} · {plural(total, 'question')}")
    return fit(embed)


def settings_text(settings: GuildSettings, default_count: int, default_seconds: float, default_days: int) -> str:
    """`/admin reglages`: the server's settings in French, defaults named as such."""
    count = settings.rate_limit_count or default_count
    seconds = settings.rate_limit_seconds or default_seconds
    days = settings.retention_days if settings.retention_days is not None else default_days
    retention = "conservées sans limite" if days == 0 else f"effacées après {plural(days, 'jour')}"
    return "\n".join(
        [
            "Réglages du serveur :",
            "- Réponses à /question : "
            + ("privées (vues par la seule personne qui demande)" if settings.ephemeral else "publiques"),
            f"- Réponses aux mentions : {'dans un fil' if settings.use_threads else 'en réponse au message'}",
            f"- Limite : {plural(count, 'question')} par {seconds_text(seconds)} et par membre",
            f"- Questions enregistrées : {retention}",
        ]
    )

"""Rendering answers and moderator views as Discord embeds: content, links, escaping and size limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord
import pytest

from bot.chat.embeds import (
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    TITLE_LIMIT,
    answer_embed,
    history_embed,
    link_target,
    shown,
    source_markdown,
    stats_embed,
    truncate,
)
from bot.chat.messages import rate_limited, seconds_text, settings_text
from bot.search.answer import Quote
from bot.storage import GuildSettings, GuildStats, QueryRow
from bot.text.answers import NOT_FOUND
from tests.helpers import make_answer, make_source


def within_limits(embed: discord.Embed) -> None:
    assert len(embed) <= EMBED_TOTAL_LIMIT
    assert len(embed.title or "") <= TITLE_LIMIT
    assert len(embed.description or "") <= DESCRIPTION_LIMIT
    for field in embed.fields:
        assert len(field.value or "") <= FIELD_VALUE_LIMIT


def test_found_answer_quotes_sentences_links_source_and_shows_confidence() -> None:
    embed = answer_embed(make_answer())
    assert "> AliExpress a vu son trafic augmenter de 14 % en Italie." in (embed.description or "")
    (field,) = embed.fields
    assert field.name == "Source"
    # The link with the text fragment, the title, the publisher and the French date.
    assert "](http://french.peopledaily.com.cn/Economie/n3/2020/0805/c31355-9718612.html#:~:text=AliExpress%20a" in (
        field.value or ""
    )
    assert "« AliExpress gagne du terrain en Europe »" in (field.value or "")
    assert "Le Quotidien du Peuple en ligne, 5 août 2020" in (field.value or "")
    assert embed.footer.text == "Confiance : réponse sûre (87\u00a0%)"
    within_limits(embed)


def test_source_without_fragment_link_uses_url_and_without_url_is_plain() -> None:
    with_url = source_markdown(make_source())
    assert with_url.startswith("[« AliExpress gagne du terrain en Europe »](http://french.peopledaily.com.cn/")
    plain = source_markdown(make_source(url=None, title=None))
    assert "](" not in plain and plain.startswith("Article du Quotidien du Peuple en ligne")


def test_not_found_names_the_closest_document() -> None:
    lead = make_source(title="La Chine élargit ses efforts", published="2025-07-01")
    embed = answer_embed(make_answer("Quelle est la capitale du Pérou ?", found=False, lead=lead))
    assert embed.description == NOT_FOUND
    (field,) = embed.fields
    assert field.name == "Document le plus proche"
    assert "La Chine élargit ses efforts" in (field.value or "") and "1er juillet 2025" in (field.value or "")


def test_not_found_without_lead_has_no_field() -> None:
    embed = answer_embed(make_answer("Quelle est la capitale du Pérou ?", found=False))
    assert embed.description == NOT_FOUND and not embed.fields


def test_question_markdown_and_mentions_are_made_inert() -> None:
    embed = answer_embed(make_answer("**Gras** @everyone <@&987654321098765432> <@123456789012345678> @here ?"))
    title = embed.title or ""
    assert "\\*\\*Gras\\*\\*" in title
    assert "@everyone" not in title and "@here" not in title
    assert "<@&987654321098765432>" not in title and "<@123456789012345678>" not in title
    assert shown("@everyone") == "@\u200beveryone"


def test_huge_answer_and_question_fit_discord_limits() -> None:
    sentences = ["Une phrase très longue *avec* des _marques_ " * 30] * 20
    source = make_source(title="T" * 400, publisher="P" * 300, url="https://example.org/" + "x" * 2000)
    answer = make_answer("Q" * 3000, sentences=sentences, sources=[source])
    embed = answer_embed(answer)
    within_limits(embed)
    assert (embed.description or "").endswith("…")
    assert (embed.title or "").endswith("…")


def test_truncate_never_leaves_a_dangling_escape() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("ab\\*cd", 4) == "ab…"


def test_rate_limit_text_in_french() -> None:
    assert seconds_text(0.2) == "1 seconde"
    assert seconds_text(44.1) == "45 secondes"
    assert seconds_text(90) == "2 minutes"
    assert rate_limited(12.5).endswith("vous pourrez réessayer dans 13 secondes.")


def test_stats_embed_shows_volumes_votes_latency_and_lists() -> None:
    stats = GuildStats(
        total=10,
        today=2,
        last_7_days=7,
        found=8,
        not_found=2,
        upvotes=3,
        downvotes=1,
        latency_p50_ms=12.4,
        latency_p95_ms=80.2,
        top_questions=[("qui dirige alibaba", 4)],
        top_documents=[("001_aliexpress", 5)],
        unanswered=[("@everyone capitale du pérou", 2)],
        all_time=40,
    )
    embed = stats_embed(stats, "semaine")
    text = "\n".join(f"{f.name}: {f.value}" for f in embed.fields)
    assert "Sur la période : 10" in text and "Depuis le début : 40" in text
    assert "Depuis le début" not in str(stats_embed(stats, None).fields[0].value)  # the period is everything
    assert "Trouvées : 8 (80\u00a0%)" in text and "👍 3" in text and "👎 1" in text
    assert "Médiane : 12 ms" in text and "95e centile : 80 ms" in text
    assert "1. qui dirige alibaba (4)" in text and "001\\_aliexpress (5)" in text
    assert "@everyone" not in text
    assert "7 derniers jours" in (embed.description or "")
    assert "Vecteurs" not in (embed.description or "")  # no sentence model: no line about its vectors
    within_limits(embed)
    building = stats_embed(stats, None, vectors=(12_345, 48_000)).description or ""
    assert "Vecteurs de phrases du corpus : 26\u00a0% (12\u202f345 / 48\u202f000 phrases)" in building
    assert "prêts (48\u202f000 phrases)" in (stats_embed(stats, None, vectors=(48_000, 48_000)).description or "")


def test_history_embed_escapes_questions_and_paginates() -> None:
    row = QueryRow(
        id=1,
        created_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        guild_id=1,
        channel_id=2,
        user_id=3,
        question="@everyone **vite**",
        origin="slash",
        found=False,
        confidence=0.1,
        latency_ms=5.0,
        answer_chars=0,
        sources=[],
        error=None,
        upvotes=1,
    )
    embed = history_embed([row] * 30, page=1, pages=4, total=30)
    assert "@everyone" not in (embed.description or "") and "\\*\\*vite\\*\\*" in (embed.description or "")
    assert "<@3>" in (embed.description or "")  # shown, never pinged: embeds do not ping
    assert embed.footer.text == "Page 2/4 · 30 questions"
    within_limits(embed)
    assert history_embed([], 0, 0, 0).description == "Aucune question enregistrée."


def test_settings_text_names_defaults() -> None:
    text = settings_text(GuildSettings(guild_id=1), 5, 60.0, 0)
    assert "publiques" in text and "en réponse au message" in text
    assert "5 questions par 60 secondes" in text.replace("1 minute", "60 secondes")
    assert "conservées sans limite" in text
    changed = settings_text(GuildSettings(1, ephemeral=True, use_threads=True, retention_days=30), 5, 60.0, 0)
    assert "privées" in changed and "dans un fil" in changed and "effacées après 30 jours" in changed


def test_quotes_from_a_second_document_follow_with_their_own_source() -> None:
    first = make_source()
    second = make_source(doc_id="autre", title="Un autre article", url="https://example.org/autre")
    answer = make_answer(
        sentences=["Phrase du premier article.", "Phrase du *second* article."],
        quotes=[Quote(first, ["Phrase du premier article."]), Quote(second, ["Phrase du *second* article."])],
    )
    embed = answer_embed(answer)
    assert embed.description == "> Phrase du premier article."
    source, other = embed.fields
    assert source.name == "Source" and first.title in (source.value or "")
    assert other.name == "Autre source"
    assert (other.value or "").startswith("> Phrase du \\*second\\* article.\n")
    assert "[« Un autre article »](https://example.org/autre#:~:text=Phrase%20du%20%2Asecond%2A%20article.)" in (
        other.value or ""
    )


def test_a_huge_second_quote_fits_its_field() -> None:
    second = make_source(doc_id="autre", title="T" * 400, url="https://example.org/" + "x" * 2000)
    answer = make_answer(quotes=[Quote(make_source(), ["Court."]), Quote(second, ["Long " * 600])])
    embed = answer_embed(answer)
    within_limits(embed)
    assert (embed.fields[1].value or "").startswith("> Long")


def test_a_document_url_cannot_add_a_second_masked_link() -> None:
    evil = "https://evil.example/) [Cliquez ici](https://phish.example"
    text = source_markdown(make_source(url=evil, publisher=None, published=None))
    assert text.count("](") == 1 and text.count("(") == 1 and text.count(")") == 1
    assert "[Cliquez ici]" not in text and "https://phish.example" in text  # inert, inside the one target
    assert text == (
        "[« AliExpress gagne du terrain en Europe »]"
        "(https://evil.example/%29%20%5BCliquez%20ici%5D%28https://phish.example)"
    )


def test_only_http_and_https_urls_become_links() -> None:
    for url in ("javascript:alert(1)", "ftp://example.org/a.txt", "https://", "http:///chemin", "//example.org/x"):
        assert link_target(url) is None
        text = source_markdown(make_source(url=url, publisher=None, published=None))
        assert text == "« AliExpress gagne du terrain en Europe »"
    assert link_target("HTTPS://example.org/a b<c>") == "HTTPS://example.org/a%20b%3Cc%3E"
    # A text-fragment link keeps working: its own encoding is left alone.
    link = "https://example.org/article#:~:text=Selon%20les%20donn%C3%A9es,-de"
    assert link_target(link) == link


def test_the_answer_is_in_bold_inside_the_first_quote() -> None:
    answer = make_answer(highlight="14 %")
    assert answer_embed(answer).description == "> AliExpress a vu son trafic augmenter de **14 %** en Italie."


def test_small_talk_gets_the_introduction() -> None:
    answer = make_answer("bonjour", found=False, intent="smalltalk", sentences=["Bonjour ! Je connais 5 documents."])
    embed = answer_embed(answer)
    assert embed.description == "Bonjour ! Je connais 5 documents." and not embed.fields


PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
MASKED_LINK = re.compile(r"\[([^\[\]]*)\]\(([^()\s]+)\)")


def as_discord_shows(markdown: str) -> tuple[str, list[tuple[str, str]]]:
    """What Discord displays for `markdown`: the visible text (backslash escapes resolved, zero-width spaces
    dropped) and the masked links it makes live, as (visible label, target)."""
    visible, structure = [], []
    characters = iter(markdown.replace("\u200b", ""))
    for character in characters:
        if character == "\\":
            escaped = next(characters, "")
            if escaped in PUNCTUATION:
                visible.append(escaped)
                structure.append("x")  # an escaped character opens or closes nothing
                continue
            visible.append(character)
            structure.append("x")
            character = escaped
            if not character:
                break
        visible.append(character)
        structure.append(character)
    plain, shape = "".join(visible), "".join(structure)
    links = [(plain[m.start(1) : m.end(1)], plain[m.start(2) : m.end(2)]) for m in MASKED_LINK.finditer(shape)]
    return plain, links


HOSTILE_TITLE = (
    "[Cliquez ici](https://piege.example/) @everyone @here <@123456789012345678> <@&987654321098765432> "
    "**gras** _penché_ `code` ||divulgâcheur|| ~~barré~~ \\ fin"
)


@pytest.mark.parametrize("where", ["source", "other source", "closest document"])
def test_a_hostile_title_is_shown_literally_with_no_live_link_but_the_source_one(where: str) -> None:
    source = make_source(title=HOSTILE_TITLE, url="https://exemple.fr/article")
    other = make_source(doc_id="autre", title="Autre article", url="https://exemple.fr/autre")
    if where == "closest document":
        answer = make_answer("Question ?", found=False, lead=source)
    elif where == "other source":
        answer = make_answer(sources=[other, source], quotes=[Quote(other, ["Une phrase."]), Quote(source, ["Deux."])])
    else:
        answer = make_answer(sources=[source])
    embed = answer_embed(answer)
    (field,) = [f for f in embed.fields if "Autre article" not in (f.value or "")]
    value = field.value or ""
    plain, links = as_discord_shows(value)
    assert f"« {HOSTILE_TITLE} »" in plain, "the title is shown as written, no stray backslash"
    assert [target for _, target in links] and all(t.startswith("https://exemple.fr/article") for _, t in links)
    assert [label for label, _ in links] == [f"« {HOSTILE_TITLE} »"]
    assert "@everyone" not in value and "@here" not in value
    assert not re.search(r"<@[!&]?\d", value.replace("\\<", "")), "no live user or role mention"
    within_limits(embed)


def test_markdown_is_escaped_once() -> None:
    for text in (HOSTILE_TITLE, "a\\b", "# titre\n- liste\n> citation", "x" * 3):
        plain, links = as_discord_shows(shown(text))
        assert plain == text and not links

"""`/admin`: refused to non-moderators in code, scoped to the invoking server, re-indexing, settings."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import discord
import pytest
from discord import app_commands

from bot.chat.charts import stats_chart
from bot.chat.exts.admin import Admin, history_pager, moderator_error
from bot.chat.messages import GUILD_ONLY, MISSING_PERMISSION, NOT_YOUR_PAGER
from bot.config import Settings
from bot.search.corpus import CorpusError
from bot.storage import QueryRecord, Storage
from tests.helpers import (
    FakeEngine,
    assert_pings_nobody,
    deferred_answer,
    eventually,
    make_bot,
    make_interaction,
    make_member,
    sent_kwargs,
)


async def log(storage: Storage, guild_id: int, question: str, *, found: bool = True, **extra) -> int:
    query_id = await storage.log_query(
        QueryRecord(
            question=question,
            origin="slash",
            found=found,
            confidence=0.9 if found else 0.1,
            latency_ms=10.0,
            answer_chars=100 if found else 0,
            sources=[("doc-a", 1.5)] if found else [],
            guild_id=guild_id,
            channel_id=guild_id * 100,
            user_id=extra.pop("user_id", 7),
            **extra,
        )
    )
    assert query_id is not None
    return query_id


def admin_commands(cog: Admin) -> list[app_commands.Command]:
    return [c for c in cog.admin.walk_commands() if isinstance(c, app_commands.Command)]


def moderator(bot, guild_id: int = 1, **kwargs):
    return make_interaction(bot, guild_id=guild_id, manage_guild=True, **kwargs)


# -- permissions --


async def test_every_admin_command_is_refused_in_code_to_non_moderators(storage: Storage) -> None:
    cog = Admin(make_bot(storage))
    commands = admin_commands(cog)
    names = {c.qualified_name for c in commands}
    assert names == {
        "admin stats",
        "admin historique",
        "admin export",
        "admin reindexer",
        "admin reglages",
        "admin purger",
        "admin salons ajouter",
        "admin salons retirer",
        "admin salons liste",
        "admin documents ajouter",
        "admin documents liste",
        "admin documents retirer",
    }
    # discord.py runs the bound cog's interaction_check before each command, subcommands included,
    # whatever the server's default permissions say.
    assert all(command.binding is cog for command in commands)
    with pytest.raises(app_commands.MissingPermissions):
        await cog.interaction_check(make_interaction(cog.bot, manage_guild=False))
    with pytest.raises(app_commands.NoPrivateMessage):
        await cog.interaction_check(make_interaction(cog.bot, guild_id=None, manage_guild=True))
    assert await cog.interaction_check(moderator(cog.bot)) is True


async def test_refusals_are_answered_in_french_privately(storage: Storage) -> None:
    bot = make_bot(storage)
    cog = Admin(bot)
    for interaction, expected in (
        (make_interaction(bot, manage_guild=False), MISSING_PERMISSION),
        (make_interaction(bot, guild_id=None, manage_guild=True), GUILD_ONLY),
    ):
        with pytest.raises(app_commands.CheckFailure) as refused:
            await cog.interaction_check(interaction)
        await bot.tree.on_error(interaction, refused.value)  # what discord.py does with a failed check
        kwargs = sent_kwargs(interaction.response.send_message)
        assert kwargs["content"] == expected and kwargs["ephemeral"] is True
        assert_pings_nobody(kwargs)


async def test_admin_group_is_hidden_by_default_and_server_only(storage: Storage) -> None:
    cog = Admin(make_bot(storage))
    payload = cog.admin.to_dict(cog.bot.tree)
    assert payload["default_member_permissions"] == discord.Permissions(manage_guild=True).value
    assert payload["dm_permission"] is False


# -- one server never sees another's data --


async def test_history_export_and_stats_only_show_the_invoking_server(storage: Storage) -> None:
    await log(storage, 1, "Question du serveur A")
    await log(storage, 1, "Autre question de A", found=False)
    await log(storage, 2, "Secret du serveur B")
    cog = Admin(make_bot(storage))

    history = moderator(cog.bot, 1)
    await cog.historique.callback(cog, history, None, False)
    assert history.response.defer.await_args.kwargs["ephemeral"] is True  # a long log takes a while to read
    embed = sent_kwargs(history.followup.send)["embed"]
    assert "serveur A" in embed.description and "Secret" not in embed.description
    assert embed.footer.text.endswith("2 questions")

    export = moderator(cog.bot, 1)
    await cog.export.callback(cog, export)
    kwargs = sent_kwargs(export.followup.send)
    assert kwargs["ephemeral"] is True
    assert_pings_nobody(kwargs)
    text = kwargs["file"].fp.read().decode("utf-8-sig")
    questions = [row["question"] for row in csv.DictReader(io.StringIO(text))]
    assert sorted(questions) == ["Autre question de A", "Question du serveur A"]

    stats = moderator(cog.bot, 1)
    await cog.stats.callback(cog, stats, None)
    assert stats.response.defer.await_args.kwargs["ephemeral"] is True
    embed = sent_kwargs(stats.followup.send)["embed"]
    fields = {f.name: f.value for f in embed.fields}
    assert "Sur la période : 2" in fields["Questions"]
    assert "Secret" not in str(embed.to_dict())

    other = moderator(cog.bot, 2)
    await cog.historique.callback(cog, other, None, False)
    embed = sent_kwargs(other.followup.send)["embed"]
    assert "Secret du serveur B" in embed.description and "serveur A" not in embed.description


async def test_history_filters_by_member_and_not_found(storage: Storage) -> None:
    await log(storage, 1, "De Camille", user_id=11)
    await log(storage, 1, "Sans réponse de Malo", user_id=12, found=False)
    await log(storage, 1, "Trouvée de Malo", user_id=12)
    cog = Admin(make_bot(storage))
    interaction = moderator(cog.bot)
    await cog.historique.callback(cog, interaction, make_member(12), True)
    description = sent_kwargs(interaction.followup.send)["embed"].description
    assert "Sans réponse de Malo" in description
    assert "Trouvée" not in description and "Camille" not in description


async def test_history_pages_only_for_the_moderator_who_opened_it(storage: Storage) -> None:
    for i in range(20):
        await log(storage, 1, f"Question numéro {i:02d}")
    bot = make_bot(storage)
    pager = history_pager(storage, owner_id=50, guild_id=1, user_id=None, not_found_only=False, total=20)
    assert pager.pages == 3 and pager.previous_page.disabled and not pager.next_page.disabled
    first = (await pager.render()).description
    assert "Question numéro 19" in first  # newest first

    stranger = make_interaction(bot, user=make_member(51), manage_guild=True)
    assert await pager.interaction_check(stranger) is False
    assert sent_kwargs(stranger.response.send_message)["content"] == NOT_YOUR_PAGER

    owner = make_interaction(bot, user=make_member(50), manage_guild=True)
    assert await pager.interaction_check(owner) is True
    await pager.next_page.callback(owner)
    kwargs = sent_kwargs(owner.response.edit_message)
    assert (
        "Question numéro 11" in kwargs["embed"].description and "Question numéro 19" not in kwargs["embed"].description
    )
    assert kwargs["embed"].footer.text.startswith("Page 2/3")
    assert_pings_nobody(kwargs)
    assert not pager.previous_page.disabled


# -- re-indexing --


def beside(tmp_path: Path) -> Settings:
    """Settings whose database folder (where the index build lock goes) is temporary."""
    return Settings(database_path=tmp_path / "bot.sqlite3")


async def test_reindex_swaps_the_engine_on_success(storage: Storage, tmp_path: Path) -> None:
    old, new = FakeEngine(), FakeEngine(documents=7, passages=70)
    bot = make_bot(storage, old, engine_factory=lambda path, options, folder: new, settings=beside(tmp_path))
    cog = Admin(bot)
    interaction = moderator(bot)
    await cog.reindexer.callback(cog, interaction)
    assert bot.engine is new
    assert "7 documents, 70 passages" in sent_kwargs(interaction.followup.send)["content"]


async def test_reindex_failure_keeps_the_old_index_and_tells_the_moderator(storage: Storage, tmp_path: Path) -> None:
    old = FakeEngine()

    def broken(path, options, folder):
        raise CorpusError("seeds/sources.toml, ligne 3 : valeur invalide")

    bot = make_bot(storage, old, engine_factory=broken, settings=beside(tmp_path))
    cog = Admin(bot)
    interaction = moderator(bot)
    await cog.reindexer.callback(cog, interaction)
    assert bot.engine is old
    content = sent_kwargs(interaction.followup.send)["content"]
    assert "l'index précédent reste en service" in content and "sources.toml, ligne 3" in content
    # The old engine still answers.
    assert (await bot.answerer.answer("Qui dirige Alibaba ?")).found


async def test_only_one_reindex_at_a_time(storage: Storage, tmp_path: Path) -> None:
    release = threading.Event()
    new = FakeEngine(documents=9)

    def slow(path, options, folder):
        release.wait(10)
        return new

    bot = make_bot(storage, FakeEngine(), engine_factory=slow, settings=beside(tmp_path))
    cog = Admin(bot)
    first = moderator(bot)
    running = asyncio.create_task(cog.reindexer.callback(cog, first))
    await eventually(lambda: bot.reindexer.running)
    second = moderator(bot)
    await cog.reindexer.callback(cog, second)
    assert "déjà en cours" in sent_kwargs(second.followup.send)["content"]
    release.set()
    await running
    assert bot.engine is new


# -- channels, settings, purge --


async def test_channels_add_remove_list(storage: Storage) -> None:
    cog = Admin(make_bot(storage))

    def app_channel(
        channel_id: int, guild_id: int = 1, kind: discord.ChannelType = discord.ChannelType.text
    ) -> mock.MagicMock:
        channel = mock.MagicMock(spec=app_commands.AppCommandChannel)
        channel.id, channel.guild_id, channel.mention, channel.type = channel_id, guild_id, f"<#{channel_id}>", kind
        return channel

    channel = app_channel(100)
    add = moderator(cog.bot)
    await cog.salons_ajouter.callback(cog, add, channel)
    assert "répondra désormais" in deferred_answer(add)["content"]
    again = moderator(cog.bot)
    await cog.salons_ajouter.callback(cog, again, channel)
    assert "déjà" in deferred_answer(again)["content"]
    foreign = moderator(cog.bot)
    await cog.salons_ajouter.callback(cog, foreign, app_channel(300, guild_id=2))
    assert "n'appartient pas" in sent_kwargs(foreign.response.send_message)["content"]
    voice = moderator(cog.bot)
    await cog.salons_ajouter.callback(cog, voice, app_channel(400, kind=discord.ChannelType.voice))
    assert "n'est pas un salon écrit" in sent_kwargs(voice.response.send_message)["content"]
    assert await storage.list_channels(1) == [100] and await storage.list_channels(2) == []

    listing = moderator(cog.bot)
    await cog.salons_liste.callback(cog, listing)
    assert "<#100>" in deferred_answer(listing)["content"]

    remove = moderator(cog.bot)
    await cog.salons_retirer.callback(cog, remove, channel)
    assert "ne répondra plus" in deferred_answer(remove)["content"]
    assert await storage.list_channels(1) == []


async def test_settings_are_shown_and_changed_for_this_server_only(storage: Storage) -> None:
    bot = make_bot(storage)
    cog = Admin(bot)
    show = moderator(bot)
    await cog.reglages.callback(cog, show, None, None, None, None, None)
    assert "publiques" in deferred_answer(show)["content"]

    change = moderator(bot)
    await cog.reglages.callback(cog, change, True, True, 3, 30, 90)
    content = deferred_answer(change)["content"]
    assert content.startswith("Réglages enregistrés.")
    assert "privées" in content and "dans un fil" in content and "3 questions par 30 secondes" in content
    settings = await storage.read_guild_settings(1)
    assert (settings.ephemeral, settings.use_threads, settings.rate_limit_count) == (True, True, 3)
    assert (settings.rate_limit_seconds, settings.retention_days) == (30.0, 90)
    assert (await storage.read_guild_settings(2)).ephemeral is False
    assert (await bot.server_settings.read(1)).ephemeral is True  # the cache follows
    assert "pas de réponse automatique" in content

    forum = moderator(bot)
    await cog.reglages.callback(cog, forum, None, None, None, None, None, True)
    assert "réponse automatique (sûre ou probable)" in deferred_answer(forum)["content"]
    assert (await storage.read_guild_settings(1)).forum_auto is True


async def test_purge_deletes_only_old_rows_of_this_server(storage: Storage) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    await log(storage, 1, "Ancienne", created_at=old)
    await log(storage, 1, "Récente")
    await log(storage, 2, "Ancienne de B", created_at=old)
    cog = Admin(make_bot(storage))
    interaction = moderator(cog.bot)
    await cog.purger.callback(cog, interaction, 30)
    assert deferred_answer(interaction)["content"] == "1 question de plus de 30 jours effacée."
    assert [r.question for r in await storage.history(1)] == ["Récente"]
    assert await storage.count_history(2) == 1


def test_reindex_errors_show_moderators_no_host_path(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    error = CorpusError(f"{corpus}/2020/article.txt, ligne 3 : le fichier n'est pas encodé en UTF-8.")
    assert moderator_error(error, corpus) == "2020/article.txt, ligne 3 : le fichier n'est pas encodé en UTF-8."
    elsewhere = CorpusError("/etc/bot/secret/sources.toml : lecture impossible (permission refusée).")
    assert moderator_error(elsewhere, corpus) == "sources.toml : lecture impossible (permission refusée)."
    internal = moderator_error(OSError(f"[Errno 28] No space left on device: '{tmp_path}/data/index/x.tmp'"), corpus)
    assert str(tmp_path) not in internal and "journal" in internal


async def test_stats_attaches_the_chart_shown_in_the_embed(storage: Storage) -> None:
    await log(storage, 1, "Question du serveur A")
    cog = Admin(make_bot(storage))
    interaction = moderator(cog.bot, 1)
    choice = app_commands.Choice(name="Semaine", value="semaine")
    with mock.patch("bot.chat.exts.admin.log.stats_chart", wraps=stats_chart) as drawn:
        await cog.stats.callback(cog, interaction, choice)
    kwargs = sent_kwargs(interaction.followup.send)
    assert_pings_nobody(kwargs)
    assert kwargs["file"].filename == "stats.png"
    assert kwargs["file"].fp.read().startswith(b"\x89PNG\r\n\x1a\n")
    assert kwargs["embed"].image.url == "attachment://stats.png"
    days, first, last, scope = drawn.call_args.args
    assert [(d.questions, d.answered) for d in days] == [(1, 1)]  # server A's only question
    assert (last - first).days == 7 and scope == "les 7 derniers jours"


def question(guild_id: int, text: str) -> QueryRecord:
    return QueryRecord(text, "slash", True, 0.9, 10.0, 100, [], guild_id=guild_id)


async def test_stats_say_how_many_of_the_servers_questions_wait_for_the_database(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await Storage.open(path, busy_timeout=0.1) as storage:
        await storage.log_query(question(1, "avant la panne"))
        cog = Admin(make_bot(storage))
        before = moderator(cog.bot, 1)
        await cog.stats.callback(cog, before, None)
        assert "⏳" not in (sent_kwargs(before.followup.send)["embed"].description or "")
        locker = sqlite3.connect(path, isolation_level=None)  # another process holds the write lock
        locker.execute("BEGIN IMMEDIATE")
        try:
            for guild_id, text in ((1, "une"), (1, "deux"), (2, "ailleurs")):
                assert await storage.log_query(question(guild_id, text)) is None
            assert storage.spooled == 3
            shown = {}
            for guild_id in (1, 2):
                interaction = moderator(cog.bot, guild_id)
                await cog.stats.callback(cog, interaction, None)
                shown[guild_id] = sent_kwargs(interaction.followup.send)["embed"].description or ""
        finally:
            locker.rollback()
            locker.close()
    assert "⏳ 2 questions posées pendant une panne de la base de données attendent d'y être enregistrées" in shown[1]
    assert "⏳ 1 question posée pendant une panne de la base de données attend d'y être enregistrée" in shown[2]


async def test_stats_without_a_chart_still_sends_the_figures(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    await log(storage, 1, "Question du serveur A")
    cog = Admin(make_bot(storage))
    interaction = moderator(cog.bot, 1)
    with mock.patch("bot.chat.exts.admin.log.stats_chart", side_effect=RuntimeError("no font")):
        await cog.stats.callback(cog, interaction, None)
    kwargs = sent_kwargs(interaction.followup.send)
    assert "file" not in kwargs
    assert kwargs["embed"].image.url is None
    assert {f.name: f.value for f in kwargs["embed"].fields}["Questions"].endswith("Sur la période : 1")
    assert "could not draw the stats chart" in caplog.text


async def test_the_admin_areas_keep_the_order_discord_shows_and_the_sync_hashes(storage: Storage) -> None:
    bot = make_bot(storage)
    await bot.add_cog(Admin(bot))
    (group,) = [command.to_dict(bot.tree) for command in bot.tree.get_commands() if command.name == "admin"]
    names = [option["name"] for option in group["options"]]
    assert names == ["salons", "documents", "stats", "historique", "export", "reindexer", "reglages", "purger"]
    subgroups = {option["name"]: [sub["name"] for sub in option["options"]] for option in group["options"][:2]}
    assert subgroups == {"salons": ["ajouter", "retirer", "liste"], "documents": ["ajouter", "liste", "retirer"]}


async def test_a_pager_greys_its_buttons_out_when_it_times_out(storage: Storage) -> None:
    bot = make_bot(storage)
    await storage.log_query(QueryRecord("Q ?", "slash", True, 0.9, 1.0, 1, [], guild_id=1, user_id=7))
    interaction = make_interaction(bot, user=make_member(7))
    pager = history_pager(storage, owner_id=7, guild_id=1, user_id=None, not_found_only=False, total=40)
    await pager.show(interaction)
    assert sent_kwargs(interaction.response.send_message)["view"] is pager and not pager.next_page.disabled
    await pager.on_timeout()
    edited = sent_kwargs(interaction.edit_original_response)
    assert edited["view"] is pager and pager.previous_page.disabled and pager.next_page.disabled
    interaction.edit_original_response.side_effect = discord.HTTPException(mock.MagicMock(status=404), "gone")
    await pager.on_timeout()  # the message was deleted meanwhile: nothing to grey out, no error

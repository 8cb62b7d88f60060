"""The real bot against the stand-in: a moderator attaches a document to their server, which the bot then quotes
there and nowhere else, until it is removed."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from bot.text.answers import NOT_FOUND
from tests.conftest import SEEDS
from tests.e2e.test_bot_scenarios import MISSING_PERMISSION, private_reply
from tests.ingest.bombs import alive, parse_pids, slow_pdf
from tests.stand_in import Upload, World, message_text, start_world, stop_world

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTION = "Combien d'exposants au marché aux plantes de Montbrison ?"
MARKET = Upload(
    "jardins.txt",
    (
        "Marché aux plantes de Montbrison\n\nLa Fédération des jardiniers de Montbrison organise son marché aux "
        "plantes le 14 mai 2026 sur la place Bouvier. Plus de quarante exposants y vendront des semis de tomates "
        "anciennes.\n\nL'entrée est gratuite pour les adhérents.\n"
    ).encode(),
)
QUOTED = "La Fédération des jardiniers de Montbrison organise son marché aux plantes"


async def test_a_document_answers_on_its_server_only_until_removed(world: World) -> None:
    a, b = world.a, world.b
    refused = await world.run(a, a.member("camille"), "admin documents ajouter", fichier=MARKET)
    assert MISSING_PERMISSION in message_text(refused.messages()[0]) and refused.ephemeral
    assert world.rows("SELECT id FROM documents") == []

    added = await world.run(a, a.member("modo-a"), "admin documents ajouter", fichier=MARKET)
    text = private_reply(added)
    assert "1 document ajouté : « Marché aux plantes de Montbrison »" in text and "passages indexés" in text
    (row,) = world.rows("SELECT id, guild_id, source, added_by FROM documents")
    assert (row["guild_id"], row["source"], row["added_by"]) == (a.id, "fichier:jardins.txt", a.member("modo-a").id)

    _, in_a = await world.ask(a, a.member("malo"), QUESTION)
    assert QUOTED in message_text(in_a).replace("**", "")
    _, in_b = await world.ask(b, b.member("ines"), QUESTION)
    assert QUOTED not in message_text(in_b).replace("**", "") and NOT_FOUND in message_text(in_b)

    listed = private_reply(await world.run(a, a.member("modo-a"), "admin documents liste"))
    assert f"n° {row['id']}" in listed and "fichier:jardins.txt" in listed
    assert "Aucun document" in private_reply(await world.run(b, b.member("modo-b"), "admin documents liste"))
    elsewhere = await world.run(b, b.member("modo-b"), "admin documents retirer", document=row["id"])
    assert "n'a pas de document" in private_reply(elsewhere)

    removed = await world.run(a, a.member("modo-a"), "admin documents retirer", document=row["id"])
    assert "retiré" in private_reply(removed)
    _, after = await world.ask(a, a.member("malo"), QUESTION)
    assert QUOTED not in message_text(after).replace("**", "") and NOT_FOUND in message_text(after)


ARTICLE = Path(__file__).resolve().parents[1] / "data" / "ingest" / "article.html"
PAGE_QUESTION = "Combien de personnes ont répondu au questionnaire de la médiathèque de Villeneuve ?"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def page_url() -> AsyncIterator[str]:
    """A French article served by a real web server on 127.0.0.1."""

    async def article(_: web.Request) -> web.Response:
        return web.Response(body=ARTICLE.read_bytes(), content_type="text/html")

    app = web.Application()
    app.router.add_get("/article.html", article)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/article.html"
    finally:
        await runner.cleanup()


async def test_an_address_on_the_host_is_refused_without_the_test_setting(world: World, page_url: str) -> None:
    a = world.a
    refused = await world.run(a, a.member("modo-a"), "admin documents ajouter", adresse=page_url)
    assert "réseau privé ou local" in private_reply(refused)
    assert world.rows("SELECT id FROM documents WHERE source LIKE 'http%'") == []


async def test_a_web_page_added_by_address_is_quoted_with_its_link(
    tmp_path_factory: pytest.TempPathFactory, page_url: str
) -> None:
    database = tmp_path_factory.mktemp("e2e-page") / "questions.sqlite3"
    world = await start_world(database, env={"BOT_DOCUMENTS_ALLOW_PRIVATE_ADDRESSES": "true"})
    try:
        a, b = world.a, world.b
        added = await world.run(a, a.member("modo-a"), "admin documents ajouter", adresse=page_url)
        assert "1 document ajouté" in private_reply(added)
        _, in_a = await world.ask(a, a.member("malo"), PAGE_QUESTION)
        text = message_text(in_a)
        assert "1 200 personnes" in text and page_url in text
        _, in_b = await world.ask(b, b.member("ines"), PAGE_QUESTION)
        assert "1 200 personnes" not in message_text(in_b)
    finally:
        await stop_world(world)


async def test_sigterm_while_a_file_is_parsed_stops_the_bot_and_the_parse(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The bot's shutdown kills the process still parsing a moderator's file and exits well within its 10 s."""
    database = tmp_path_factory.mktemp("e2e-sigterm") / "questions.sqlite3"
    shutil.copytree(SEEDS, database.parent / "corpus")
    world = await start_world(
        database, env={"BOT_CORPUS": str(database.parent / "corpus"), "BOT_DOCUMENTS_PARSE_SECONDS": "600"}
    )
    try:
        a = world.a
        bomb = Upload("lent.pdf", slow_pdf(1000))  # fifteen minutes of parsing
        await world.fake.slash(a, a.channel("général"), a.member("modo-a"), "admin documents ajouter", fichier=bomb)
        await world.fake.wait_until(lambda: parse_pids(world.bot.pid), timeout=30, what="the parse to start")
        (parse,) = parse_pids(world.bot.pid)
        started = time.monotonic()
        status = await world.bot.stop(timeout=10, grace=2)
        assert status == 0, world.bot.log
        assert time.monotonic() - started < 10
        assert not alive(parse)
    finally:
        await stop_world(world)

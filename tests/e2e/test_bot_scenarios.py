"""The real bot process (`python -m bot run`) against the stand-in: what members and moderators meet.

One bot serves the whole module (starting one costs a few seconds); each test uses its own
members or markers so the tests do not depend on each other's data, only on their order where
a test says so.
"""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import pytest

from bot.text.answers import NOT_FOUND
from tests.stand_in import (
    CALLBACK_DEFERRED_MESSAGE,
    CALLBACK_MESSAGE,
    CALLBACK_UPDATE_MESSAGE,
    EPHEMERAL_FLAG,
    MANAGE_GUILD,
    FakeInteraction,
    World,
    message_text,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

FOUND_QUESTION = "Qui est Su Junping ?"
SOURCE_URL = "https://www.latribune.fr/economie/international/e-commerce-bienvenue-dans-les-villages-2-0-chinois"
NOT_FOUND_QUESTION = "Quelle est la recette de la tarte Tatin ?"
MISSING_PERMISSION = "réservée aux modérateurs"
APOLOGY_START = "Désolé, une erreur"


def custom_ids(message: dict[str, Any]) -> list[str]:
    """custom_id of every button of a message."""
    return [c["custom_id"] for row in message.get("components") or [] for c in row.get("components", [])]


def private_reply(inter: FakeInteraction) -> str:
    """Text of a private (ephemeral) first message, sent at once or after a deferral; fails if it was public."""
    assert inter.ephemeral, "the response should be visible only to the member"
    if inter.ack_type == CALLBACK_MESSAGE:
        return message_text(inter.ack_body["data"])  # type: ignore[index]
    return message_text(inter.messages()[0])


# ----------------------------------------------------------------------------- asking


async def test_question_deferred_answered_with_source_and_logged(world: World) -> None:
    a = world.a
    camille = a.member("camille")
    inter, answer = await world.ask(a, camille, FOUND_QUESTION)

    # Acknowledged with a "thinking" defer inside Discord's 3-second window (the stand-in refuses later ones).
    assert inter.acked and inter.ack_type == CALLBACK_DEFERRED_MESSAGE and not inter.late_callbacks
    assert not inter.ephemeral, "answers are public by default"
    text = message_text(answer)
    assert "Su Junping, un jeune entrepreneur, a fait fortune" in text
    assert f"]({SOURCE_URL}" in text, "the source is a markdown link to the article"
    assert "La Tribune" in text and "Confiance" in text
    followup = next(r for r in world.fake.requests_to("webhook_followup") if inter.token in r.path)
    assert followup.body["allowed_mentions"] == {"parse": []}

    rows = world.rows("SELECT * FROM queries WHERE user_id = ?", camille.id)
    assert len(rows) == 1
    row = rows[0]
    assert (row["question"], row["origin"], row["found"]) == (FOUND_QUESTION, "slash", 1)
    assert (row["guild_id"], row["channel_id"]) == (a.id, a.channel("questions").id)
    assert row["error"] is None and row["answer_chars"] > 0 and "003_" in row["sources"]
    assert sorted(custom_ids(answer)) == sorted([f"fb:{row['id']}:up", f"fb:{row['id']}:down"])


async def test_question_without_answer_says_so(world: World) -> None:
    noe = world.a.member("noe")
    _, answer = await world.ask(world.a, noe, NOT_FOUND_QUESTION)
    assert NOT_FOUND in message_text(answer)
    rows = world.rows("SELECT found, question FROM queries WHERE user_id = ?", noe.id)
    assert [(r["found"], r["question"]) for r in rows] == [(0, NOT_FOUND_QUESTION)]


async def test_direct_message_points_to_slash_command(world: World) -> None:
    ines = world.b.member("ines")
    dm = world.fake.dm_channel(ines.user)
    await world.fake.post_message(None, dm, ines.user, "Bonjour, qui est Su Junping ?")
    await world.fake.wait_until(lambda: world.fake.channel_messages(dm.id), what="DM hint")
    assert "/question" in world.fake.channel_messages(dm.id)[0]["content"]


async def test_mentions_answered_only_in_allowed_channels(world: World) -> None:
    a, fake = world.a, world.fake
    questions, elsewhere = a.channel("questions"), a.channel("hors-sujet")
    modo = a.member("modo-a")
    added = await world.run(a, modo, "admin salons ajouter", salon=questions)
    assert questions.mention in private_reply(added)

    malo = a.member("malo")
    bot_mention = f"<@{fake.bot_user.id}>"
    await fake.post_message(
        a, elsewhere, malo, f"{bot_mention} Qui est Su Junping ? (hors-sujet)", mentions=[fake.bot_user]
    )
    await fake.post_message(a, questions, malo, "Qui est Su Junping ? (sans mention)")
    asked = await fake.post_message(a, questions, malo, f"{bot_mention} {FOUND_QUESTION}", mentions=[fake.bot_user])

    await fake.wait_until(lambda: fake.channel_messages(questions.id), what="reply to the mention")
    reply = fake.channel_messages(questions.id)[0]
    assert reply["message_reference"]["message_id"] == asked["id"]
    assert "Su Junping, un jeune entrepreneur" in message_text(reply)
    # The aiosqlite connection serialises the channel checks, so both earlier messages were handled by now.
    assert fake.channel_messages(elsewhere.id) == []
    assert len(fake.channel_messages(questions.id)) == 1
    # The reply goes out before the question is logged.
    rows = await world.fake.wait_until(
        lambda: world.rows("SELECT origin, question FROM queries WHERE user_id = ?", malo.id), what="the log row"
    )
    assert [(r["origin"], r["question"]) for r in rows] == [("mention", FOUND_QUESTION)]

    listed = await world.run(a, modo, "admin salons liste")
    assert questions.mention in private_reply(listed) and elsewhere.mention not in private_reply(listed)


async def test_everyone_and_role_mentions_ping_nobody(world: World) -> None:
    a, fake = world.a, world.fake
    role = fake.add_role(a, "Cyclistes")
    camille = a.member("camille")
    question = f"@everyone {role.mention} {camille.mention} Qui est Su Junping ?"

    inter, answer = await world.ask(a, a.member("malo"), question)
    followup = next(r for r in fake.requests_to("webhook_followup") if inter.token in r.path)
    assert followup.body["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in message_text(answer), "the echoed question is defused"

    questions = a.channel("questions")
    before = len(fake.channel_messages(questions.id))
    await fake.post_message(
        a,
        questions,
        a.member("noe"),
        f"<@{fake.bot_user.id}> {question}",
        mentions=[fake.bot_user, camille],
        mention_roles=[role],
        mention_everyone=True,
    )
    await fake.wait_until(lambda: len(fake.channel_messages(questions.id)) > before, what="reply to the mention")
    sent = [r for r in fake.requests_to("channel_message") if r.path == f"/channels/{questions.id}/messages"][-1]
    mentions = sent.body["allowed_mentions"]
    assert mentions["parse"] == [] and not mentions.get("users") and not mentions.get("roles")
    assert mentions.get("replied_user") is not True


# ----------------------------------------------------------------------------- votes and forgetting


async def test_vote_button_is_recorded_and_changeable(world: World) -> None:
    a = world.a
    camille = a.member("camille")
    _, answer = await world.ask(a, camille, "Combien d'euros ont été dépensés sur internet en Chine en 2017 ?")
    up = next(cid for cid in custom_ids(answer) if cid.endswith(":up"))
    down = next(cid for cid in custom_ids(answer) if cid.endswith(":down"))
    query_id = int(up.split(":")[1])
    voter = a.member("noe")

    click = await world.fake.click(a, voter, answer, up)
    await world.fake.wait_answer(click)
    assert "Merci" in private_reply(click)
    assert [(r["vote"]) for r in world.rows("SELECT vote FROM votes WHERE query_id = ?", query_id)] == [1]

    click = await world.fake.click(a, voter, answer, down)
    await world.fake.wait_answer(click)
    votes = world.rows("SELECT user_id, vote FROM votes WHERE query_id = ?", query_id)
    assert [(r["user_id"], r["vote"]) for r in votes] == [(voter.id, -1)], "one vote per member, replaced"


async def test_oubli_erases_the_members_questions_and_votes(world: World) -> None:
    a, fake = world.a, world.fake
    lea = a.member("lea")
    _, first = await world.ask(a, lea, FOUND_QUESTION)
    await world.ask(a, lea, NOT_FOUND_QUESTION)
    vote = await fake.click(a, lea, first, custom_ids(first)[0])
    await fake.wait_answer(vote)
    assert len(world.rows("SELECT id FROM queries WHERE user_id = ?", lea.id)) == 2
    assert len(world.rows("SELECT * FROM votes WHERE user_id = ?", lea.id)) == 1
    others = len(world.rows("SELECT id FROM queries WHERE user_id != ?", lea.id))

    ask = await world.run(a, lea, "oubli")
    assert "Confirmez-vous" in private_reply(ask)
    confirm_button = next(
        c
        for row in ask.ack_body["data"]["components"]  # type: ignore[index]
        for c in row["components"]
        if c.get("label") == "Tout effacer"
    )
    confirm = await fake.click(a, lea, ask.original, confirm_button["custom_id"])  # type: ignore[arg-type]
    await fake.wait_acked(confirm)
    assert confirm.ack_type == CALLBACK_UPDATE_MESSAGE
    assert confirm.ack_body["data"]["content"] == "C'est fait : 2 questions et 1 vote effacés."  # type: ignore[index]
    assert world.rows("SELECT id FROM queries WHERE user_id = ?", lea.id) == []
    assert world.rows("SELECT * FROM votes WHERE user_id = ?", lea.id) == []
    assert len(world.rows("SELECT id FROM queries WHERE user_id != ?", lea.id)) == others


# ----------------------------------------------------------------------------- moderators


async def test_admin_commands_refused_without_manage_server(world: World) -> None:
    admin = next(c for c in world.fake.global_commands if c["name"] == "admin")
    assert admin["default_member_permissions"] == str(MANAGE_GUILD)
    a = world.a
    for command, options in (
        ("admin stats", {}),
        ("admin historique", {}),
        ("admin export", {}),
        ("admin purger", {"jours": 1}),
        ("admin salons ajouter", {"salon": a.channel("hors-sujet")}),
    ):
        inter = await world.run(a, a.member("camille"), command, **options)
        assert MISSING_PERMISSION in message_text(inter.messages()[0]), command
        assert inter.ephemeral, command
    assert a.channel("hors-sujet").id not in [
        r["channel_id"] for r in world.rows("SELECT channel_id FROM channels WHERE guild_id = ?", a.id)
    ]


async def test_moderators_only_see_their_own_server(world: World) -> None:
    a, b = world.a, world.b
    marker = "vélocipède"
    ines = b.member("ines")
    await world.ask(b, ines, f"Qui est Su Junping, le {marker} ?")  # the newest question of all servers
    a_count = len(world.rows("SELECT id FROM queries WHERE guild_id = ?", a.id))
    assert a_count >= 3

    history = await world.run(a, a.member("modo-a"), "admin historique")
    text = private_reply(history)
    assert marker not in text and "Su Junping" in text
    assert f"{a_count} question" in text
    by_b_member = await world.run(a, a.member("modo-a"), "admin historique", utilisateur=ines)
    assert "Aucune question enregistrée" in private_reply(by_b_member)
    assert marker in private_reply(await world.run(b, b.member("modo-b"), "admin historique"))

    stats = await world.run(a, a.member("modo-a"), "admin stats")
    stats_text = private_reply(stats)
    assert f"Sur la période : {a_count}" in stats_text and marker not in stats_text

    export = await world.fake.slash(a, a.channel("général"), a.member("modo-a"), "admin export")
    await world.fake.wait_answer(export)
    assert export.ephemeral
    upload = next(r for r in world.fake.requests_to("webhook_followup") if export.token in r.path)
    assert upload.files and upload.files[0]["filename"].endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(upload.files[0]["content"].decode("utf-8-sig"))))
    assert len(rows) == a_count
    assert all(marker not in r["question"] for r in rows)


async def test_reindex_while_questions_are_answered(world: World) -> None:
    a, fake = world.a, world.fake
    # A new article, so the index is really rebuilt (in a child process) while the questions are answered.
    (world.database.parent / "corpus" / "005_lotus.txt").write_text(
        "Les noix de lotus de Xiangtan en ligne\n\n"
        "La coopérative de Xiangtan vend ses noix de lotus séchées sur internet depuis 2019. "
        "Ses ventes en ligne ont triplé en deux ans.\n",
        encoding="utf-8",
    )
    members = [fake.add_member(a, f"lecteur-{i}") for i in range(8)]
    # The members joined after GUILD_CREATE; the interaction payloads carry them, as on Discord.
    asks = [fake.slash(a, a.channel("questions"), m, "question", texte=FOUND_QUESTION) for m in members[:4]]
    reindex = fake.slash(a, a.channel("général"), a.member("modo-a"), "admin reindexer")
    asks += [fake.slash(a, a.channel("questions"), m, "question", texte=FOUND_QUESTION) for m in members[4:]]
    inters = await asyncio.gather(*asks[:4], reindex, *asks[4:])
    reindex_inter = inters[4]
    questions = [i for i in inters if i is not reindex_inter]

    for inter in questions:
        answer = await fake.wait_answer(inter)
        assert inter.acked and "Su Junping, un jeune entrepreneur" in message_text(answer)
    await fake.wait_until(
        lambda: any("Corpus rechargé" in message_text(m) for m in reindex_inter.messages()), what="re-index reply"
    )
    assert "6 documents" in message_text(reindex_inter.messages()[-1])
    ids = [m.id for m in members]
    sql = f"SELECT error, found FROM queries WHERE user_id IN ({','.join('?' * len(ids))})"
    rows = await fake.wait_until(lambda: len(r := world.rows(sql, *ids)) == len(members) and r, what="the log rows")
    assert len(rows) == len(members) and all(r["error"] is None and r["found"] == 1 for r in rows)
    _, answer = await world.ask(a, members[0], "Que vend la coopérative de Xiangtan sur internet ?")
    assert "noix de lotus séchées" in message_text(answer)


# ----------------------------------------------------------------------------- server settings (guild C)


async def test_private_answers_setting(world: World) -> None:
    c = world.c
    changed = await world.run(c, c.member("modo-c"), "admin reglages", reponses_privees=True)
    assert "privées" in private_reply(changed)
    inter, answer = await world.ask(c, c.member("zoe"), FOUND_QUESTION)
    assert inter.ephemeral and int(answer["flags"]) & EPHEMERAL_FLAG
    # Another server keeps public answers.
    other, _ = await world.ask(world.b, world.b.member("ines"), FOUND_QUESTION)
    assert not other.ephemeral


async def test_mentions_answered_in_a_thread_when_set(world: World) -> None:
    c, fake = world.c, world.fake
    modo = c.member("modo-c")
    await world.run(c, modo, "admin reglages", fils=True)
    await world.run(c, modo, "admin salons ajouter", salon=c.channel("questions"))
    asked = await fake.post_message(
        c, c.channel("questions"), c.member("zoe"), f"<@{fake.bot_user.id}> {FOUND_QUESTION}", mentions=[fake.bot_user]
    )
    created = await fake.wait_until(lambda: fake.requests_to("thread_from_message"), what="thread creation")
    assert created[0].path == f"/channels/{c.channel('questions').id}/messages/{asked['id']}/threads"
    thread_id = int(asked["id"])  # a thread started from a message takes the message's id
    await fake.wait_until(lambda: fake.channel_messages(thread_id), what="answer in the thread")
    assert "Su Junping, un jeune entrepreneur" in message_text(fake.channel_messages(thread_id)[0])


async def test_per_server_rate_limit(world: World) -> None:
    c = world.c
    await world.run(c, c.member("modo-c"), "admin reglages", limite=1, fenetre=600)
    yan = c.member("yan")
    await world.ask(c, yan, FOUND_QUESTION)
    second = await world.fake.slash(c, c.channel("questions"), yan, "question", texte=NOT_FOUND_QUESTION)
    await world.fake.wait_answer(second)
    assert "réessayer dans 10 minutes" in private_reply(second)
    assert [r["question"] for r in world.rows("SELECT question FROM queries WHERE user_id = ?", yan.id)] == [
        FOUND_QUESTION
    ]


# ----------------------------------------------------------------------------- invariants over everything sent


async def test_every_message_sent_pings_nobody_and_no_route_is_unknown(world: World) -> None:
    b, fake = world.b, world.fake
    # Traffic of its own, so the check covers an answer, a private reply and a channel reply even when run alone.
    witness = fake.add_member(b, "temoin")
    inter, _ = await world.ask(b, witness, FOUND_QUESTION)
    questions = b.channel("questions")
    added = await world.run(b, b.member("modo-b"), "admin salons ajouter", salon=questions)
    before = len(fake.channel_messages(questions.id))
    await fake.post_message(b, questions, witness, f"<@{fake.bot_user.id}> {FOUND_QUESTION}", mentions=[fake.bot_user])
    await fake.wait_until(lambda: len(fake.channel_messages(questions.id)) > before, what="reply to the mention")

    sending = [
        r
        for r in fake.requests
        if r.route in ("webhook_followup", "webhook_edit", "channel_message")
        or (r.route == "interaction_callback" and (r.body or {}).get("type") in (CALLBACK_MESSAGE, 7))
    ]
    assert any(inter.token in r.path for r in sending), "the answer is among the messages checked"
    assert any(added.token in r.path for r in sending), "the private reply is among the messages checked"
    assert any(r.path == f"/channels/{questions.id}/messages" for r in sending), "so is the reply to the mention"
    for request in sending:
        body = request.body or {}
        mentions = (body.get("data") if request.route == "interaction_callback" else body).get("allowed_mentions")
        assert mentions is not None and mentions["parse"] == [], (request.route, body)
        assert not mentions.get("users") and not mentions.get("roles") and mentions.get("replied_user") is not True
    assert [r.path for r in fake.requests if r.route == "unknown"] == []
    assert all(not i.late_callbacks for i in fake.state.interactions.values()), "an interaction missed the 3 s window"


async def test_token_never_reaches_the_log(world: World) -> None:
    assert world.bot.log_lines, "the bot logs to stderr"
    assert world.fake.token not in world.bot.log
    # Touch the token's most distinctive part too, in case it were logged cut.
    assert world.fake.token.split(".")[-1] not in world.bot.log

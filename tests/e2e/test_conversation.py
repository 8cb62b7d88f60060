"""The real bot process against the stand-in: follow-ups in replies and threads, and « Demander au bot »."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stand_in import World, message_text

pytestmark = pytest.mark.asyncio(loop_scope="module")

ITALY = "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"
SPAIN = "De combien le trafic d'AliExpress a-t-il augmenté en Espagne ?"


def replies_to(world: World, channel_id: int, message: dict[str, Any]) -> list[dict[str, Any]]:
    """The bot's messages in a channel that reply to `message`."""
    return [
        m
        for m in world.fake.channel_messages(channel_id)
        if (m.get("message_reference") or {}).get("message_id") == message["id"]
    ]


async def test_a_reply_to_the_bots_answer_is_a_follow_up(world: World) -> None:
    a, fake = world.a, world.fake
    camille, questions = a.member("camille"), a.channel("questions")
    _, answer = await world.ask(a, camille, ITALY)
    follow = await fake.post_message(a, questions, camille, "Et en Espagne ?", reply_to=answer)  # no ping

    (reply,) = await fake.wait_until(lambda: replies_to(world, questions.id, follow), what="the follow-up's answer")
    text = message_text(reply)
    assert f"Compris comme : {SPAIN}" in text and "20%" in text
    assert reply["allowed_mentions"]["parse"] == []
    rows = await fake.wait_until(
        lambda: (r := world.rows("SELECT * FROM queries WHERE user_id = ? ORDER BY id", camille.id))[1:] and r,
        what="the follow-up's log row",
    )
    first, second = rows
    assert (first["question"], first["follows"]) == (ITALY, None)
    assert (second["question"], second["follows"], second["origin"]) == ("Et en Espagne ?", first["id"], "mention")


async def test_a_mention_in_the_bots_thread_is_a_follow_up(world: World) -> None:
    c, fake = world.c, world.fake
    modo, zoe, questions = c.member("modo-c"), c.member("zoe"), c.channel("questions")
    await world.run(c, modo, "admin reglages", fils=True)
    await world.run(c, modo, "admin salons ajouter", salon=questions)
    mention = f"<@{fake.bot_user.id}>"
    asked = await fake.post_message(c, questions, zoe, f"{mention} {ITALY}", mentions=[fake.bot_user])
    thread_id = int(asked["id"])  # a thread started from a message takes the message's id
    await fake.wait_until(lambda: fake.channel_messages(thread_id), what="the answer in the thread")
    thread = fake.state.find_channel(thread_id)
    assert thread is not None
    await fake.post_message(c, thread, zoe, f"{mention} Et en Espagne ?", mentions=[fake.bot_user])
    answers = await fake.wait_until(
        lambda: fake.channel_messages(thread_id)[1:] and fake.channel_messages(thread_id), what="the follow-up"
    )
    assert f"Compris comme : {SPAIN}" in message_text(answers[1])


async def test_ask_the_bot_about_a_members_message(world: World) -> None:
    a, fake = world.a, world.fake
    registered = [c for c in fake.global_commands if c["name"] == "Demander au bot"]
    assert [c["type"] for c in registered] == [3], "a message command"
    malo, modo, elsewhere = a.member("malo"), a.member("modo-a"), a.channel("hors-sujet")
    asked = await fake.post_message(a, elsewhere, malo, "Qui est Su Junping ?")
    inter = await fake.message_command(a, modo, "Demander au bot", asked)
    answer = await fake.wait_answer(inter)

    assert not inter.ephemeral
    assert answer["content"] == f"Question de <@{malo.id}>"
    assert answer["allowed_mentions"]["parse"] == []
    assert "Su Junping, un jeune entrepreneur" in message_text(answer)
    rows = await fake.wait_until(
        lambda: world.rows("SELECT origin, user_id, question FROM queries WHERE origin = 'menu'"), what="the log row"
    )
    assert [(r["user_id"], r["question"]) for r in rows] == [(modo.id, "Qui est Su Junping ?")]


async def test_new_forum_posts_answered_in_their_thread_when_the_setting_is_on(world: World) -> None:
    b, fake = world.b, world.fake
    modo, ines = b.member("modo-b"), b.member("ines")
    forum = await fake.add_forum(b, "entraide")
    await world.run(b, modo, "admin salons ajouter", salon=forum)
    before, _ = await fake.post_forum(b, forum, ines, "Trafic d'AliExpress", "De combien a-t-il augmenté en Italie ?")

    await world.run(b, modo, "admin reglages", forum_auto=True)
    sure, _ = await fake.post_forum(b, forum, ines, "Trafic d'AliExpress", "De combien a-t-il augmenté en Italie ?")
    (answer,) = await fake.wait_until(lambda: fake.channel_messages(sure.id), what="the answer in the post's thread")
    assert "14%" in message_text(answer) and answer["allowed_mentions"]["parse"] == []
    unsure, _ = await fake.post_forum(b, forum, ines, "Météo", "Quel temps fera-t-il demain à Paris ?")
    rows = await fake.wait_until(
        lambda: (
            world.rows("SELECT channel_id, found FROM queries WHERE origin = 'forum' ORDER BY id")[1:]
            and world.rows("SELECT channel_id, found FROM queries WHERE origin = 'forum' ORDER BY id")
        ),
        what="both posts logged",
    )
    assert [(r["channel_id"], r["found"]) for r in rows] == [(sure.id, 1), (unsure.id, 0)]
    assert fake.channel_messages(unsure.id) == [] and fake.channel_messages(before.id) == []

"""The real bot process when Discord misbehaves: dropped gateway, reconnect requests, 429, 5xx, slow replies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.stand_in import OP_HEARTBEAT, World, message_text, start_world, stop_world

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTION = "Qui est Su Junping ?"
ANSWER_PART = "Su Junping, un jeune entrepreneur"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """The bot with a fresh database; the stand-in asks for a heartbeat every second."""
    w = await start_world(tmp_path_factory.mktemp("e2e-faults") / "questions.sqlite3", heartbeat_interval=1.0)
    try:
        yield w
    finally:
        await stop_world(w)


async def resumed_count(world: World) -> int:
    """RESUMED events sent so far."""
    return sum(1 for f in world.fake.frames if f.direction == "send" and f.event == "RESUMED")


async def test_heartbeats_are_sent_and_acknowledged(world: World) -> None:
    fake = world.fake
    await fake.wait_until(
        lambda: sum(f.direction == "recv" and f.op == OP_HEARTBEAT for f in fake.frames) >= 3, what="three heartbeats"
    )
    _, answer = await world.ask(world.a, world.a.member("camille"), QUESTION)
    assert ANSWER_PART in message_text(answer)


async def test_dropped_gateway_is_resumed_and_next_question_answered(world: World) -> None:
    fake = world.fake
    before = await resumed_count(world)
    await fake.drop_gateway(code=4000)
    await fake.wait_until(lambda: sum(f.event == "RESUMED" for f in fake.frames) > before, what="RESUMED")
    _, answer = await world.ask(world.a, world.a.member("malo"), QUESTION)
    assert ANSWER_PART in message_text(answer)
    assert len(fake.recorder.identify_payloads) == 1, "the session was resumed, not re-identified"
    assert fake.recorder.resumes[-1]["session_id"] == fake.gateway.session.id  # type: ignore[union-attr]
    assert fake.gateway.connections[-1].path == "/gateway-resume", "resumed on READY's resume_gateway_url"


async def test_question_sent_during_the_outage_is_replayed_and_answered(world: World) -> None:
    fake = world.fake
    await fake.drop_gateway(code=1001)
    # Dispatched while the bot is away: Discord keeps it in the session and replays it on RESUME.
    inter = await fake.slash(world.a, world.a.channel("questions"), world.a.member("lea"), "question", texte=QUESTION)
    answer = await fake.wait_answer(inter, timeout=30)
    assert inter.acked and ANSWER_PART in message_text(answer)
    assert len(fake.recorder.identify_payloads) == 1


async def test_reconnect_request_is_honoured(world: World) -> None:
    before = await resumed_count(world)
    await world.fake.gateway.request_reconnect()
    await world.fake.wait_until(lambda: sum(f.event == "RESUMED" for f in world.fake.frames) > before, what="RESUMED")
    _, answer = await world.ask(world.a, world.a.member("noe"), QUESTION)
    assert ANSWER_PART in message_text(answer)


async def test_rate_limited_followup_arrives_after_the_wait(world: World) -> None:
    fake = world.fake
    fault = fake.inject(r"^/webhooks/\d+/[^/]+$", method="POST", status=429, retry_after=1.5)
    inter, answer = await world.ask(world.b, world.b.member("ines"), QUESTION)
    assert ANSWER_PART in message_text(answer) and fault.hits == 1
    attempts = [r for r in fake.requests_to("webhook_followup") if inter.token in r.path]
    assert [r.status for r in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.5, "discord.py waited for Retry-After before trying again"
    rows = world.rows("SELECT COUNT(*) AS n FROM queries WHERE user_id = ?", world.b.member("ines").id)
    assert rows[0]["n"] == 1, "the retried answer is logged once"


async def test_server_error_on_the_acknowledgement_is_retried(world: World) -> None:
    fake = world.fake
    fake.inject(r"^/interactions/\d+/[^/]+/callback$", method="POST", status=500)
    inter, answer = await world.ask(world.b, world.b.member("modo-b"), QUESTION)
    attempts = [r.status for r in fake.requests_to("interaction_callback") if inter.token in r.path]
    assert attempts[0] == 500 and attempts[-1] == 200
    assert inter.acked and ANSWER_PART in message_text(answer)


async def test_failing_reply_is_logged_and_the_bot_keeps_serving(world: World) -> None:
    fake, c = world.fake, world.c
    questions = c.channel("questions")
    await world.run(c, c.member("modo-c"), "admin salons ajouter", salon=questions)
    # 503 is not retried by discord.py: the reply and the apology both fail.
    fault = fake.inject(rf"^/channels/{questions.id}/messages$", method="POST", status=503, times=2)
    zoe = c.member("zoe")
    await fake.post_message(c, questions, zoe, f"<@{fake.bot_user.id}> {QUESTION}", mentions=[fake.bot_user])
    await fake.wait_until(lambda: fault.hits == 2, what="reply and apology attempts")
    await fake.wait_until(
        lambda: any("failed" in line and "mention" in line for line in world.bot.log_lines), what="error in the log"
    )
    assert "503" in world.bot.log
    # The question was answered by the engine and logged, as not delivered, even though Discord refused the reply.
    rows = await fake.wait_until(
        lambda: world.rows("SELECT origin, error FROM queries WHERE user_id = ?", zoe.id), what="the log row"
    )
    assert [r["origin"] for r in rows] == ["mention"] and "non délivrée" in rows[0]["error"]

    _, answer = await world.ask(c, c.member("yan"), QUESTION)
    assert ANSWER_PART in message_text(answer)
    await fake.post_message(c, questions, zoe, f"<@{fake.bot_user.id}> {QUESTION}", mentions=[fake.bot_user])
    await fake.wait_until(lambda: fake.channel_messages(questions.id), what="reply once Discord recovered")


@pytest.mark.slow
async def test_server_error_that_persists_is_logged_and_the_member_gets_an_apology(world: World) -> None:
    fake, c = world.fake, world.c
    questions = c.channel("questions")
    await world.run(c, c.member("modo-c"), "admin salons ajouter", salon=questions)
    # discord.py tries a 500 five times (about 16 s of back-off) before giving up; the apology then gets through.
    fault = fake.inject(rf"^/channels/{questions.id}/messages$", method="POST", status=500, times=5)
    before = len(fake.channel_messages(questions.id))
    zoe = c.member("zoe")
    await fake.post_message(c, questions, zoe, f"<@{fake.bot_user.id}> {QUESTION}", mentions=[fake.bot_user])
    sent = await fake.wait_until(
        lambda: fake.channel_messages(questions.id)[before:], timeout=40, what="apology after the 500s"
    )
    assert fault.hits == 5
    assert sent[0]["content"].startswith("Désolé, une erreur")
    assert any("failed" in line and "mention" in line for line in world.bot.log_lines) and "500" in world.bot.log

    _, answer = await world.ask(c, c.member("yan"), QUESTION)
    assert ANSWER_PART in message_text(answer)


async def test_slow_discord_reply_does_not_hold_other_questions(world: World) -> None:
    fake, a = world.fake, world.a
    slow_user, quick_user = fake.add_member(a, "patiente"), fake.add_member(a, "pressee")
    fault = fake.inject(r"^/webhooks/\d+/[^/]+$", method="POST", delay=2.5)
    slow = await fake.slash(a, a.channel("questions"), slow_user, "question", texte=QUESTION)
    await fake.wait_until(lambda: fault.hits == 1, what="the delayed follow-up to be in flight")
    _, quick_answer = await world.ask(a, quick_user, QUESTION)
    assert not slow.messages(), "the quick answer went out while the slow one was held"
    slow_answer = await fake.wait_answer(slow)
    assert ANSWER_PART in message_text(quick_answer) and ANSWER_PART in message_text(slow_answer)


async def test_sigterm_closes_the_database_cleanly(world: World) -> None:
    status = await world.bot.stop()
    assert status == 0, world.bot.log[-2000:]
    assert "bot stopped" in world.bot.log
    assert not world.database.with_name(world.database.name + "-wal").exists(), "WAL checkpointed on close"
    await asyncio.sleep(0)

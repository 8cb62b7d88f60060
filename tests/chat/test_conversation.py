"""Where follow-ups find their context: answers by message, thread and member, bounded and aged."""

from __future__ import annotations

from unittest import mock

import discord

from bot.chat import conversation
from bot.chat.conversation import MAX_AGE_SECONDS, RECENT_SECONDS, Conversations, Turn
from bot.chat.embeds import answer_embed, shown, unshown
from bot.search.followup import MAX_PREVIOUS
from tests.helpers import make_answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_found_by_its_message_its_thread_and_its_member() -> None:
    clock = Clock()
    talks = Conversations(clock)
    turn = talks.start("Qui est Chen Qiu ?", 7, None, follows=False)
    talks.remember(turn, channel_id=100, user_id=5, message_id=900, thread_id=901)
    assert talks.after_answer(900) == talks.in_thread(901) == talks.recent(100, 5) == turn
    assert talks.context(turn) == ["Qui est Chen Qiu ?"] and turn.query_id == 7
    assert talks.recent(100, 6) is None and talks.recent(101, 5) is None and talks.after_answer(901) is None


def test_a_recent_question_lasts_five_minutes_and_an_answer_thirty() -> None:
    clock = Clock()
    talks = Conversations(clock)
    talks.remember(talks.start("Qui ?", 1, None, follows=False), channel_id=100, user_id=5, message_id=900)
    clock.now += RECENT_SECONDS + 1
    assert talks.recent(100, 5) is None and talks.after_answer(900) is not None
    clock.now += MAX_AGE_SECONDS
    assert talks.after_answer(900) is None and talks.is_answer(900)


def test_a_follow_up_continues_the_conversation_up_to_the_last_questions() -> None:
    clock = Clock()
    talks = Conversations(clock)
    turn = talks.start("De combien le trafic d'AliExpress a-t-il augmenté en Italie ?", 1, None, follows=False)
    for number, question in enumerate(["Et en Espagne ?", "Et en Lettonie ?", "Et en Lituanie ?"], 2):
        clock.now += 60
        turn = talks.start(question, number, turn, follows=True)
    assert talks.context(turn) == ["Et en Espagne ?", "Et en Lettonie ?", "Et en Lituanie ?"][-MAX_PREVIOUS:]
    assert turn.query_id == 4
    fresh = talks.start("Qui est Chen Qiu ?", 5, turn, follows=False)
    assert talks.context(fresh) == ["Qui est Chen Qiu ?"]
    clock.now += MAX_AGE_SECONDS - 100  # the first follow-up ages out before the last one
    assert talks.context(turn) == ["Et en Lettonie ?", "Et en Lituanie ?"]


def test_the_memory_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(conversation, "MAX_KEPT", 3)
    talks = Conversations(Clock())
    for message_id in range(5):
        talks.remember(Turn((("q", 0.0),), None), channel_id=None, user_id=1, message_id=message_id)
    assert [talks.is_answer(m) for m in range(5)] == [False, False, True, True, True]


def test_a_question_reads_back_from_its_answer_title_with_every_escaped_character() -> None:
    question = "Qui a dit <3 > 2 ? *a* _b_ ~c~ |d| `e` [f](g) \\ h @everyone\n# titre\n- liste"
    answer = mock.MagicMock(spec=discord.Message)
    answer.embeds = [answer_embed(make_answer(question))]
    answer.created_at = discord.utils.utcnow()
    answer.components = []
    turn, is_answer = conversation.answer_turn(answer, 100.0)
    assert is_answer and turn is not None
    assert turn.questions[0][0] == question
    assert unshown(shown(question)) == question

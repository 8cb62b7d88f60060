"""Where a follow-up's context comes from: the questions the bot answered lately, by answer, thread and member.

A member who replies to one of the bot's answers, writes in the thread the bot opened for an answer, or asks
again with `/question` in the same channel a moment later may be asking a follow-up (« Et en Espagne ? »). The
`Conversations` keep, in memory and bounded, each recent answer's conversation: the questions asked in it, when,
and the log row of the last one, so the answerer can read the new question with them and the log can say which
row it follows. Nothing older than `MAX_AGE_SECONDS` is context. A reply to an answer this process does not
remember (sent before a restart) is read from the answer itself (`answer_turn`).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import discord

from bot.chat.embeds import unshown
from bot.search.followup import MAX_PREVIOUS

MAX_AGE_SECONDS = 30 * 60.0  # an answer older than this is no context
RECENT_SECONDS = 5 * 60.0  # /question again from the same member in the same channel within this may follow up
MAX_KEPT = 2000  # answers remembered per kind of key, the oldest forgotten first


@dataclass(frozen=True, slots=True)
class Turn:
    """One answered question and the conversation it ends: the questions as typed, oldest first, with when each
    was answered (monotonic seconds), and the log row of the last one (None when it was not logged)."""

    questions: tuple[tuple[str, float], ...]
    query_id: int | None

    @property
    def at(self) -> float:
        return self.questions[-1][1]

    def context(self, now: float) -> list[str]:
        """The questions still young enough to be context, oldest first."""
        return [question for question, at in self.questions if now - at <= MAX_AGE_SECONDS]

    def then(self, question: str, at: float, query_id: int | None, *, follows: bool) -> Turn:
        """The turn of `question` answered after this one: the same conversation when it was read as a follow-up,
        else a new one."""
        earlier = self.questions[-(MAX_PREVIOUS - 1) :] if follows else ()
        return Turn((*earlier, (question, at)), query_id)


class _Bounded(OrderedDict[Hashable, Turn]):
    """A map that forgets its oldest entries beyond `MAX_KEPT`."""

    def put(self, key: Hashable, turn: Turn) -> None:
        self[key] = turn
        self.move_to_end(key)
        while len(self) > MAX_KEPT:
            self.popitem(last=False)


class Conversations:
    """The recent answers of one bot process: by the answer's message, by the thread opened for it, and by
    (channel, member) for `/question` asked again."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._answers = _Bounded()
        self._threads = _Bounded()
        self._members = _Bounded()

    def remember(
        self,
        turn: Turn,
        *,
        channel_id: int | None,
        user_id: int,
        message_id: int | None = None,
        thread_id: int | None = None,
    ) -> None:
        """Keep `turn`, the conversation an answer ended, under every key a follow-up may come by."""
        if message_id is not None:
            self._answers.put(message_id, turn)
        if thread_id is not None:
            self._threads.put(thread_id, turn)
        if channel_id is not None:
            self._members.put((channel_id, user_id), turn)

    def start(self, question: str, query_id: int | None, previous: Turn | None, *, follows: bool) -> Turn:
        """The turn of a question just answered: after `previous` when it followed it, else on its own."""
        now = self.clock()
        if previous is None:
            return Turn(((question, now),), query_id)
        return previous.then(question, now, query_id, follows=follows)

    def _young(self, turn: Turn | None, within: float = MAX_AGE_SECONDS) -> Turn | None:
        return turn if turn is not None and self.clock() - turn.at <= within else None

    def after_answer(self, message_id: int) -> Turn | None:
        """The conversation of the answer `message_id` replies to, unless it is too old."""
        return self._young(self._answers.get(message_id))

    def in_thread(self, thread_id: int) -> Turn | None:
        """The conversation of the latest answer in a thread the bot answered in, unless it is too old."""
        return self._young(self._threads.get(thread_id))

    def recent(self, channel_id: int, user_id: int) -> Turn | None:
        """That member's latest answered question in that channel, when it is under `RECENT_SECONDS` old."""
        return self._young(self._members.get((channel_id, user_id)), RECENT_SECONDS)

    def context(self, turn: Turn | None) -> list[str]:
        """The questions of `turn` that are still context now."""
        return turn.context(self.clock()) if turn is not None else []

    def is_answer(self, message_id: int) -> bool:
        """Whether `message_id` is one of the answers remembered (of any age)."""
        return message_id in self._answers


_FEEDBACK_ID = re.compile(r"^fb:(\d+):")  # a vote button's custom_id carries the log row's id


def answer_turn(message: discord.Message, now: float) -> tuple[Turn | None, bool]:
    """The conversation a message of the bot ends, read from the message itself: the question in its answer
    embed's title, the log row in its vote buttons, its age from its date. (None, False) when the message is
    no answer; (None, True) for an answer too old to be context."""
    title = message.embeds[0].title if message.embeds else None
    if not title or not title.startswith("❓ "):
        return None, False
    age = (discord.utils.utcnow() - message.created_at).total_seconds()
    if age > MAX_AGE_SECONDS:
        return None, True
    question = unshown(title.removeprefix("❓ "))
    ids = [
        _FEEDBACK_ID.match(getattr(item, "custom_id", None) or "")
        for row in message.components
        for item in getattr(row, "children", ())
    ]
    query_id = next((int(found.group(1)) for found in ids if found), None)
    return Turn(((question, now - age),), query_id), True


async def replied_answer(
    message: discord.Message, me: discord.ClientUser | None, conversations: Conversations
) -> tuple[Turn | None, bool]:
    """The conversation of the bot's answer `message` replies to (None when too old), and whether it replies to
    one of the bot's answers at all: looked up among the answers remembered, else read from the message
    Discord sent along, or fetched. A forward of an answer is no reply to it."""
    reference = message.reference
    if reference is None or reference.message_id is None or me is None:
        return None, False
    if reference.type is not discord.MessageReferenceType.reply:
        return None, False
    if conversations.is_answer(reference.message_id):
        return conversations.after_answer(reference.message_id), True
    answered = reference.resolved if isinstance(reference.resolved, discord.Message) else None
    if answered is None and reference.channel_id == message.channel.id:
        try:
            answered = await message.channel.fetch_message(reference.message_id)
        except discord.HTTPException:
            return None, False
    if answered is None or answered.author.id != me.id:
        return None, False
    return answer_turn(answered, conversations.clock())

"""Where a follow-up's context comes from: the questions the bot answered lately, by answer, thread and member.

A member who replies to one of the bot's answers, writes in the thread the bot opened for an answer, or asks
again with `/question` in the same channel a moment later may be asking a follow-up (« Et en Espagne ? »). The
`Conversations` keep, in memory and bounded, each recent answer's conversation: the questions asked in it, when,
and the log row of the last one, so the answerer can read the new question with them and the log can say which
row it follows. Nothing older than `MAX_AGE_SECONDS` is context.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

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

"""What the sharded end-to-end tests share: a guild per shard, and asking in them as a member or a moderator."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.stand_in import BotProcess, FakeDiscord, FakeGuild, FakeInteraction, message_text, snowflake_on_shard

SHARD_COUNT = 4
FIRST, SECOND = (0, 1), (2, 3)  # the shards of each process
QUESTION = "Qui est Su Junping ?"
ANSWER_PART = "Su Junping, un jeune entrepreneur"
LOTUS_QUESTION = "Que vend la coopérative de Xiangtan sur internet ?"
LOTUS_ANSWER = "noix de lotus séchées"


def guild_per_shard(fake: FakeDiscord) -> list[FakeGuild]:
    """One guild on each shard (guilds[n] on shard n), with two members and a moderator."""
    people = {"members": ["camille", "malo"], "moderators": ["modo"]}
    ids = [snowflake_on_shard(n, SHARD_COUNT) for n in range(SHARD_COUNT)]
    return [fake.add_guild(f"Serveur {n}", **people, guild_id=guild_id) for n, guild_id in enumerate(ids)]


async def start_both(processes: list[BotProcess]) -> None:
    """Start the two processes together (one builds the index while the other waits), until their shards are up."""
    await asyncio.gather(*(process.start() for process in processes))
    await asyncio.gather(processes[0].wait_ready(shards=FIRST), processes[1].wait_ready(shards=SECOND))


def query_id(answer: dict[str, Any]) -> int:
    """The log row id carried by an answer's vote buttons."""
    return int(answer["components"][0]["components"][0]["custom_id"].split(":")[1])


class InGuilds:
    """Asking in the stand-in's guilds, as a member or as a moderator."""

    fake: FakeDiscord

    async def ask(self, guild: FakeGuild, member: str, text: str) -> tuple[FakeInteraction, dict[str, Any]]:
        """`/question` in a guild; waits for the answer and its vote buttons (added once the row is logged)."""
        inter = await self.fake.slash(guild, guild.channel("questions"), guild.member(member), "question", texte=text)
        answer = await self.fake.wait_answer(inter, timeout=30)
        await self.fake.wait_until(lambda: answer.get("components"), what="the answer's vote buttons")
        return inter, answer

    async def moderate(self, guild: FakeGuild, command: str, *, timeout: float = 30) -> str:
        """Run a moderator command and return the text of its last message once it has one."""
        inter = await self.fake.slash(guild, guild.channel("général"), guild.member("modo"), command)
        await self.fake.wait_answer(inter, timeout=timeout)
        return message_text(inter.messages()[-1])

"""`/oubli`: a member erases their own questions and votes on one server, after confirming."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.chat.exts.privacy import ForgetConfirmation, Privacy
from bot.chat.messages import ASK_CONFIRMATION, CANCELLED, NOT_YOURS
from bot.storage import QueryRecord, Storage
from tests.helpers import assert_pings_nobody, make_bot, make_interaction, make_member, sent_kwargs

CAMILLE, MALO = 11, 12


async def log(storage: Storage, guild_id: int, user_id: int, question: str) -> int:
    query_id = await storage.log_query(
        QueryRecord(question, "slash", True, 0.9, 2.0, 50, [("doc", 1.0)], guild_id=guild_id, user_id=user_id)
    )
    assert query_id is not None
    return query_id


async def populated(storage: Storage) -> dict[str, int]:
    ids = {
        "camille_a": await log(storage, 1, CAMILLE, "Question de Camille sur A"),
        "camille_b": await log(storage, 2, CAMILLE, "Question de Camille sur B"),
        "malo_a": await log(storage, 1, MALO, "Question de Malo sur A"),
    }
    assert await storage.record_vote(ids["malo_a"], 1, CAMILLE, 1)  # Camille's vote on Malo's question
    assert await storage.record_vote(ids["camille_a"], 1, MALO, -1)  # Malo's vote on Camille's question
    return ids


async def ask_to_forget(bot, user_id: int, guild_id: int = 1) -> ForgetConfirmation:
    cog = Privacy(bot)
    interaction = make_interaction(bot, guild_id=guild_id, user=make_member(user_id))
    await cog.oubli.callback(cog, interaction)
    kwargs = sent_kwargs(interaction.response.send_message)
    assert kwargs["content"] == ASK_CONFIRMATION and kwargs["ephemeral"] is True
    assert_pings_nobody(kwargs)
    return kwargs["view"]


async def test_forget_after_confirmation_erases_questions_and_votes_on_this_server(storage: Storage) -> None:
    ids = await populated(storage)
    bot = make_bot(storage)
    view = await ask_to_forget(bot, CAMILLE)
    assert await storage.count_history(1, user_id=CAMILLE) == 1  # nothing deleted before confirming

    press = make_interaction(bot, guild_id=1, user=make_member(CAMILLE))
    assert await view.interaction_check(press)
    await view.confirm.callback(press)
    kwargs = sent_kwargs(press.response.edit_message)
    assert kwargs["content"] == "C'est fait : 1 question et 1 vote effacés." and kwargs["view"] is None
    assert view.result == (1, 1)

    assert await storage.count_history(1, user_id=CAMILLE) == 0
    assert await storage.count_history(2, user_id=CAMILLE) == 1  # another server is untouched
    malo = await storage.get_query(ids["malo_a"])
    assert malo is not None and (malo.upvotes, malo.downvotes) == (0, 0)  # Camille's vote is gone


async def test_only_the_same_member_can_confirm(storage: Storage) -> None:
    await populated(storage)
    bot = make_bot(storage)
    view = await ask_to_forget(bot, CAMILLE)
    intruder = make_interaction(bot, guild_id=1, user=make_member(MALO))
    assert await view.interaction_check(intruder) is False
    assert sent_kwargs(intruder.response.send_message)["content"] == NOT_YOURS
    assert await storage.count_history(1, user_id=CAMILLE) == 1


async def test_cancel_deletes_nothing(storage: Storage) -> None:
    await populated(storage)
    bot = make_bot(storage)
    view = await ask_to_forget(bot, CAMILLE)
    press = make_interaction(bot, guild_id=1, user=make_member(CAMILLE))
    await view.cancel.callback(press)
    assert sent_kwargs(press.response.edit_message)["content"] == CANCELLED
    assert await storage.count_history(1, user_id=CAMILLE) == 1 and view.is_finished()


async def test_forget_is_server_only(storage: Storage) -> None:
    cog = Privacy(make_bot(storage))
    assert cog.oubli.checks  # checked in code, not only hidden in direct messages
    for check in cog.oubli.checks:
        with pytest.raises(app_commands.NoPrivateMessage):
            check(make_interaction(cog.bot, guild_id=None))
        assert check(make_interaction(cog.bot, guild_id=1)) is True
    assert cog.oubli.to_dict(cog.bot.tree)["dm_permission"] is False


async def test_a_failing_confirmation_gets_an_apology(storage: Storage) -> None:
    bot = make_bot(storage)
    view = await ask_to_forget(bot, CAMILLE)
    press = make_interaction(bot, guild_id=1, user=make_member(CAMILLE))
    await view.on_error(press, RuntimeError("base verrouillée"), view.confirm)
    kwargs = sent_kwargs(press.response.send_message)
    assert kwargs["content"].startswith("Désolé") and kwargs["ephemeral"] is True

"""Discord markup removed from questions before the engine reads them."""

from __future__ import annotations

import pytest

from bot.chat.markup import plain_text


@pytest.mark.parametrize(
    "typed",
    [
        "@everyone <@&123> <@456> Qui dirige Pinduoduo ?",
        "<@!456> @here Qui dirige <#789> Pinduoduo ?",
        "Qui dirige <:panda:123456789012345678> Pinduoduo <a:danse:42> ?",
        "<t:1700000000:R> Qui dirige Pinduoduo ? <t:1700000000>",
        "</question:1234> Qui\n  dirige   Pinduoduo ?",
    ],
)
def test_markup_is_removed_and_the_words_kept(typed: str) -> None:
    assert plain_text(typed) == "Qui dirige Pinduoduo ?"


def test_plain_text_and_look_alikes_are_kept() -> None:
    assert plain_text("Combien coûte <un> produit à 5 € ? écrivez @camille") == (
        "Combien coûte <un> produit à 5 € ? écrivez @camille"
    )
    assert plain_text("@everyone <@&1>") == ""

"""Links: only well-formed http(s) addresses, with a text fragment that scrolls to the quote."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from bot.search.urls import checked_url
from bot.text.links import is_web_url, safe_url, text_fragment_link


def _fragment(link: str) -> str:
    return link.split("#:~:text=", 1)[1]


def test_short_quote_is_one_fragment_with_reserved_characters_encoded() -> None:
    link = text_fragment_link("https://exemple.fr/page", "Le vice-président, Chen & Qiu")
    assert link is not None and link.startswith("https://exemple.fr/page#:~:text=")
    fragment = _fragment(link)
    assert fragment == "Le%20vice%2Dpr%C3%A9sident%2C%20Chen%20%26%20Qiu"
    for raw in (" ", "-", ",", "&"):
        assert raw not in fragment
    assert unquote(fragment) == "Le vice-président, Chen & Qiu"


def test_long_quote_is_start_and_end() -> None:
    quote = "Un deux trois quatre cinq six sept-huit neuf, dix onze douze treize quatorze quinze."
    link = text_fragment_link("http://exemple.fr/a#ancre", quote)
    assert link is not None and link.startswith("http://exemple.fr/a#:~:text=")  # the old anchor is replaced
    start, end = _fragment(link).split(",")
    assert unquote(start) == "Un deux trois quatre cinq"
    assert unquote(end) == "onze douze treize quatorze quinze."
    assert "-" not in start + end and " " not in start + end


def test_no_link_without_a_web_url() -> None:
    assert text_fragment_link(None, "texte") is None
    assert text_fragment_link("fichier.txt", "texte") is None
    assert text_fragment_link("https://exemple.fr/", "   ") == "https://exemple.fr/"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "file:///etc/passwd",
        "https://evil.example/) [Cliquez ici](https://phish.example",
        "https://exemple.fr/a b",
        "https:///sans-hote",
        "https://exemple.fr/\x1b[31m",
    ],
)
def test_only_well_formed_web_addresses_become_links(url: str) -> None:
    assert safe_url(url) is None
    assert text_fragment_link(url, "Un texte cité.") is None


def test_a_web_address_is_kept_as_given() -> None:
    url = "https://www.latribune.fr/economie/e-commerce-802178.html"
    assert safe_url(url) == url


@pytest.mark.parametrize(
    ("url", "web"),
    [
        ("https://exemple.fr/a", True),
        ("HTTP://exemple.fr", True),
        ("https://fr.wikipedia.org/wiki/Paris_(ville)", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("https://", False),
        ("https://exemple.fr:port/", False),
        ("http://[::1", False),
    ],
)
def test_links_and_the_corpus_know_a_web_address_by_the_same_rule(url: str, web: bool) -> None:
    assert is_web_url(url) is web
    assert (checked_url(url, "doc", []) is not None) is web

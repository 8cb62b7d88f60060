"""French dates, source lines and text-fragment links."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from bot.search.answer import Source
from bot.text.sources import french_date, source_line, text_fragment_link


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-08-05", "5 août 2020"),
        ("2025-07-01", "1er juillet 2025"),
        ("2025-12-25", "25 décembre 2025"),
        ("2018-02-28T10:00:00", "28 février 2018"),
        ("2020-08", "août 2020"),
        ("2019", "2019"),
        ("hier", "hier"),
        ("2020-13", "2020-13"),
        ("", None),
        (None, None),
    ],
)
def test_french_date(value: str | None, expected: str | None) -> None:
    assert french_date(value) == expected


def _source(**kw: object) -> Source:
    fields: dict = {
        "doc_id": "001",
        "title": None,
        "publisher": None,
        "published": None,
        "url": None,
        "score": 1.0,
        "passage": "Texte.",
    }
    fields.update(kw)
    return Source(**fields)


def test_source_line_with_everything() -> None:
    source = _source(title="Les théières", publisher="La Tribune", published="2018-12-28", file="003.txt")
    assert source_line(source) == "« Les théières », La Tribune, 28 décembre 2018"


def test_source_line_falls_back_to_file_then_id() -> None:
    assert source_line(
        _source(file="001_24d661fd2205696a.txt", publisher="Le Quotidien du Peuple en ligne", published="2020-08-05")
    ) == ("001_24d661fd2205696a.txt, Le Quotidien du Peuple en ligne, 5 août 2020")
    assert source_line(_source()) == "001"


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
    assert text_fragment_link("fichier.txt", "texte") == "fichier.txt"
    assert text_fragment_link("https://exemple.fr/", "   ") == "https://exemple.fr/"

"""Words and names of a question: its tokens (elisions apart), and the names it holds with their kind.

A follow-up's name replaces the previous question's name of the same kind, so « Et en Espagne ? » after a
question about Italy asks about Spain. The kind is read from the words around a name (general French: « en »,
« au », « province du » before a place; two capitalised words for a person; « Group », « .com » for a company)
and from the countries `bot.search.query.EQUIVALENTS` knows; no gazetteer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.search.analysis import fold
from bot.search.query import EQUIVALENTS

TOKEN = re.compile(r"(?:jusqu|lorsqu|puisqu|qu|[ldjmtnsc])['’](?=\w)|\w+(?:[.-]\w+)*|[?!.,;:]")
_NAME_LINKS = frozenset("de du des la le l' d'".split())  # between the words of one name
PREPOSITIONS = frozenset("à a au aux de d' du des en dans par pour sur sous avec vers chez entre selon depuis".split())
_PLACE_PREPOSITIONS = frozenset({"en", "au", "aux", "à", "dans"})
_PLACE_NOUNS = frozenset(
    "province ville région pays comté village district municipalité commune département continent".split()
)
_PLACES = frozenset(fold(group[0]) for group in EQUIVALENTS if group[0][:1].isupper())
_COMPANY_WORDS = frozenset(fold(w) for w in "group groupe ltd inc holding sa sas co corp company".split())
_DATE = re.compile(r"^(?:1[0-9]|20)\d{2}$")
_MONTHS = frozenset(
    fold(m) for m in "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
)


@dataclass(frozen=True, slots=True)
class Token:
    """One word or punctuation mark of a question, with where it stands in the text."""

    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        """The word in lower case, its apostrophe straight."""
        return self.text.lower().replace("’", "'")


@dataclass(frozen=True, slots=True)
class Name:
    """A name in a question: its span, the preposition just before it (span start), and its kind."""

    start: int
    end: int
    kind: str  # "place", "date", "person" or "company"
    lead: int  # start of the preposition before it, or `start`


def names_in(tokens: list[Token], is_word: Callable[[Token], bool]) -> list[Name]:
    """Names of a question: runs of capitalised words (the first word only when it is no grammar word), known
    places in any case, years and months, each with its kind."""
    names: list[Name] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        low = fold(token.low)
        capital = token.text[:1].isupper() and (i > 0 or (is_word(token) and low not in _PLACE_NOUNS))
        if _DATE.match(token.text) or low in _MONTHS:
            names.append(_named(tokens, i, i, "date"))
        elif capital or low in _PLACES:
            j = i
            while True:
                k = j + 1
                while k < len(tokens) - 1 and tokens[k].low in _NAME_LINKS:
                    k += 1  # « Route de la Soie »
                if k >= len(tokens) or not tokens[k].text[:1].isupper() or "'" in tokens[k].text:
                    break
                j = k
            names.append(_named(tokens, i, j, _kind(tokens, i, j)))
            i = j
        i += 1
    return names


def _named(tokens: list[Token], first: int, last: int, kind: str) -> Name:
    """A name with the preposition before it, its article included: « de la Route de la Soie »."""
    lead = first - 1 if first and tokens[first - 1].low in ("la", "le", "l'", "les") else first
    lead = lead - 1 if lead and tokens[lead - 1].low in PREPOSITIONS else first
    return Name(tokens[first].start, tokens[last].end, kind, tokens[lead].start)


def _kind(tokens: list[Token], first: int, last: int) -> str:
    """Place, person or company, from the words around a name (general French, no gazetteer but countries)."""
    words = [fold(t.low) for t in tokens[first : last + 1]]
    before = [t.low for t in tokens[max(0, first - 3) : first]]
    if " ".join(words) in _PLACES or (before and before[-1] in _PLACE_PREPOSITIONS):
        return "place"
    if (len(before) >= 2 and before[-2] in _PLACE_NOUNS) or (before and before[-1] in _PLACE_NOUNS):
        return "place"
    if any(w in _COMPANY_WORDS for w in words) or any("." in w for w in words):
        return "company"
    if len(words) >= 2 or (before and before[-1] in ("m.", "mme", "monsieur", "madame")):
        return "person"
    return "company"


def tokens_of(text: str) -> list[Token]:
    """The words and punctuation of a text with their places, an elision apart (« l' », « qu' »)."""
    return [Token(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(text)]

"""French text analysis for search: normalisation, elision, stop words, accent folding, stemming.

`stem` is the engine's one Snowball stemmer: the index, the question and the highlight all stem through it.
Both the corpus and the questions go through the same `Analyzer`, so "théières", "theieres"
and "Théière" all meet on one stem. Numbers are kept as single tokens ("1 370" -> "1370",
"10,3 %" -> "10,3") so that figures stay findable.
"""

from __future__ import annotations

import re
import unicodedata

import Stemmer

# Bump when the analysis changes: persisted indexes built with another version are rebuilt.
ANALYZER_VERSION = "fr-3"  # fr-3: sentences glued without a space are split

_APOSTROPHES = re.compile("[’‘ʼ´`′]")
# Zero-width and formatting characters that would split or glue words invisibly.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Runs of white space (\s includes no-break spaces) that are not already one plain space: matching every
# single space too would make a replacement for each word.
_SPACES = re.compile(r"[^\S ]\s*| \s+")

ELISIONS = frozenset(
    """
    l d qu j n s c m t jusqu lorsqu puisqu quoiqu
    """.split()
)

# Snowball's French stop list plus interrogative words (what they ask for is read by `bot.search.kinds`).
STOP_WORDS = frozenset(
    """
    au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me même
    meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi
    ton tu un une vos votre vous c d j l à a m n s t y été ete étée étées étés étant etant étante
    étants étantes suis es est sommes êtes etes sont serai seras sera serons serez seront serais
    serait serions seriez seraient étais était étions étiez étaient fus fut fûmes fûtes furent sois
    soit soyons soyez soient fusse fusses fût fussions fussiez fussent ayant ayante ayantes ayants
    eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez auront aurais aurait aurions
    auriez auraient avais avait avions aviez avaient eut eûmes eûtes eurent aie aies ait ayons ayez
    aient eusse eusses eût eussions eussiez eussent ceci cela celà cet cette ici ils les leurs quel
    quels quelle quelles sans soi combien comment pourquoi quand quoi où ou lequel laquelle lesquels
    lesquelles dont est-ce ça ca y-a-t-il t il elle-même fait faire font fera ferait tout tous toute
    toutes très tres plus moins aussi ainsi alors donc car si
    """.split()
)

# Numbers ("1 370", "65 709 800", "1 200,5", "2019", "10,3", "2.000"), then words with inner apostrophes.
_TOKEN = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:,\d+)?(?!\d)|\d+(?:[.,]\d+)*|[^\W\d_]+(?:'[^\W\d_]+)*")
_CACHE_SIZE = 500_000  # distinct words remembered by an analyzer
# Letters a word keeps in the prefix field: a cruder conflation than stemming that also meets derived words
# Snowball keeps apart ("construction" and "construit", "électricité" and "électrique" share no stem).
PREFIX_CHARS = 6
_THOUSANDS_DOTS = re.compile(r"^\d{1,3}(?:\.\d{3})+$")


def normalize(text: str) -> str:
    """Unicode NFKC, one kind of apostrophe, no invisible or control characters, single spaces."""
    text = _INVISIBLE.sub("", _APOSTROPHES.sub("'", unicodedata.normalize("NFKC", text)))
    if not text.isprintable():  # rare: scan for control characters only when there may be some
        text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return _SPACES.sub(" ", text).strip()


# Accents once decomposed: the combining diacritical mark blocks (Latin, Greek, Cyrillic accents).
# Marks of other scripts (Hebrew points, Indic vowel signs) are part of their words and stay.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def fold(word: str) -> str:
    """Lowercase and strip accents ("Théière" -> "theiere"); œ/æ become oe/ae.

    Not cached: it also folds whole paragraphs (duplicate detection), and `Analyzer` caches per token.
    """
    word = word.lower()
    if word.isascii():
        return word
    word = word.replace("œ", "oe").replace("æ", "ae")
    return _COMBINING.sub("", unicodedata.normalize("NFD", word))


_FOLDED_STOP_WORDS = frozenset(fold(w) for w in STOP_WORDS)


def _number_token(raw: str) -> str:
    raw = re.sub(r"[ \u00a0\u202f]", "", raw)
    if _THOUSANDS_DOTS.match(raw):
        raw = raw.replace(".", "")
    return raw.replace(".", ",")


def words(text: str) -> list[str]:
    """Split normalised text into folded surface words (elided articles removed, numbers kept)."""
    return [_word(token) for token in _TOKEN.findall(text)]


def _word(token: str) -> str:
    """The folded surface word of one token."""
    if token[0].isdigit():
        return _number_token(token)
    word = fold(token)
    if "'" in word:
        head, _, rest = word.partition("'")
        if head in ELISIONS and rest:
            word = rest
        # "aujourd'hui" and other inner apostrophes: keep the word whole, without the mark
        word = word.replace("'", "")
    return word


def prefix(word: str) -> str:
    """The prefix-field term of a folded word: its first letters; a number stays whole."""
    return word if word[0].isdigit() else word[:PREFIX_CHARS]


_STEMMER = Stemmer.Stemmer("french")
_STEMS: dict[str, str] = {}


def stem(word: str) -> str:
    """Snowball French stem of an already folded word; numbers pass through. The one stemmer of the engine:
    the index, the question and the highlight all stem through it."""
    cached = _STEMS.get(word)
    if cached is None:
        cached = word if word[:1].isdigit() else _STEMMER.stemWord(word)
        if len(_STEMS) < _CACHE_SIZE:
            _STEMS[word] = cached
    return cached


class Analyzer:
    """Turns French text into index terms: normalise, tokenise, elide, fold, drop stop words, stem."""

    version = ANALYZER_VERSION

    def __init__(self) -> None:
        # token as written -> (folded word, term), term "" for a stop word: most tokens recur, so each
        # distinct one is folded and stemmed once.
        self._tokens: dict[str, tuple[str, str]] = {}

    def stem(self, word: str) -> str:
        """Snowball French stem of an already folded word; numbers pass through (see `stem`)."""
        return stem(word)

    def tokens(self, text: str) -> list[str]:
        """Raw tokens (words and numbers as written) of already normalised text; `token_entry` analyses one."""
        return _TOKEN.findall(text)

    def token_entry(self, token: str) -> tuple[str, str]:
        """(folded word, term) of one raw token; the term is "" for a stop word."""
        return self._tokens.get(token) or self._token(token)

    def _token(self, token: str) -> tuple[str, str]:
        word = _word(token)
        entry = (word, "" if word in _FOLDED_STOP_WORDS else self.stem(word))
        if len(self._tokens) < _CACHE_SIZE:
            self._tokens[token] = entry
        return entry

    def terms(self, text: str) -> list[str]:
        """Index terms of a text, in order (duplicates kept: BM25 needs term frequencies)."""
        return [term for _, term in self.entries(text)]

    def entries(self, text: str) -> list[tuple[str, str]]:
        """(folded word, term) of each word of a text that is not a stop word, in order."""
        get, make = self._tokens.get, self._token
        entries = [get(token) or make(token) for token in _TOKEN.findall(normalize(text))]
        return [entry for entry in entries if entry[1]]

    def is_stop_word(self, word: str) -> bool:
        return fold(word) in _FOLDED_STOP_WORDS

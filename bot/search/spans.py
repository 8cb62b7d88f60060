"""The candidate phrases of a sentence, and the features the highlight scores them by.

Every run of up to `MAX_TOKENS` words that crosses no sentence punctuation is a candidate. Each gets a few
features (its length, its capitals and figures, how near it sits to the question's own words, whether it
follows a copula or the noun the question asks about, whether it is a date, a number or a name of the kind
asked for…), computed for all spans at once from one pass over the sentence's tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.search.analysis import fold, normalize, stem
from bot.search.kinds import ARTICLES, BY_NAME, MONTHS, NUMBER_WORDS, PREPOSITIONS, SPAN_STOP_WORDS, Asked

MAX_TOKENS = 10  # a longer phrase is not an answer a reader takes in at a glance

# The display tokens of a sentence, marks included (index terms are `bot.search.analysis`'s):
# elided article or pronoun ("l'", "qu'"), number ("12 000", "3,5"), word (hyphens, inner apostrophes), or one mark.
_TOKEN = re.compile(
    r"(?:[lLdDjJnNsScCmMtT]|[Qq]u|[Jj]usqu|[Ll]orsqu|[Pp]uisqu)['’](?=\w)"
    r"|\d{1,3}(?:[  \u202f]\d{3})+(?:,\d+)?(?!\d)|\d+(?:[.,]\d+)*"
    r"|[^\W\d_]+(?:[-'’][^\W\d_]+)*"
    r"|\S"
)
_ARTICLES, _PREPOSITIONS, _STOP = ARTICLES, PREPOSITIONS, SPAN_STOP_WORDS
_RELATIVES = frozenset("qui que qu dont ou lequel laquelle lesquels lesquelles".split())
_COPULAS = frozenset(
    "est sont etait etaient fut furent sera seront devient devenu reste demeure appele appelee nomme nommee".split()
)
_NUMERALS = frozenset(fold(w) for w in NUMBER_WORDS.split("|"))
_MONTH_WORDS = frozenset(fold(w) for w in MONTHS.split("|"))
_UNIT_SIGNS = frozenset("%‰€$£°")  # signs that belong to the number before them, as words do
_COMMA_LIKE = frozenset(",'’-")  # marks a phrase may hold; any other mark ends a candidate


FEATURES = (
    "len1",
    "len2",
    "len3",
    "len4_5",
    "len6_7",
    "len8_10",
    "has_question_word",
    "question_word_share",
    "stop_share",
    "starts_article",
    "starts_preposition",
    "starts_other_stop",
    "ends_stop",
    "capital_share",
    "starts_capital",
    "sentence_start",
    "has_number",
    "has_year",
    "has_month",
    "has_comma",
    "after_question_word",
    "before_question_word",
    "distance_left",
    "distance_right",
    "clause_start",
    "clause_end",
    "after_copula",
    "after_preposition",
    "after_head_noun",
    "holds_head_noun",
    "typed_exact",
    "typed_inside",
    "position",
    "all_lower",
    "cuts_name",
    "ends_number",
    "near_question_words",
    "between_question_words",
    "before_relative",
)


@dataclass(frozen=True, slots=True)
class Candidates:
    """The candidate spans of one sentence (character offsets) and their feature rows, one per span."""

    kind: str
    starts: np.ndarray
    ends: np.ndarray
    features: np.ndarray  # shape (spans, len(FEATURES))


# Bits of a token's flags (`_token`), so that one pass over the tokens yields every per-token array.
(
    _MARK,
    _HARD,
    _COMMA,
    _STOPWORD,
    _ARTICLE,
    _PREPOSITION,
    _COPULA,
    _NUMBER_WORD,
    _YEAR,
    _MONTH,
    _CAPITAL,
    _RELATIVE,
    _LOWER,
    _UNIT,
) = (1 << k for k in range(14))
_SUMMED = (_STOPWORD, _NUMBER_WORD, _YEAR, _MONTH, _COMMA, _CAPITAL, _LOWER, _MARK)  # counted over each span
_token_cache: dict[str, tuple[str, str, int]] = {}
_CACHE_SIZE = 100_000


def _token(text: str) -> tuple[str, str, int]:
    """(folded word, stem, flags) of one token as written; cached, as most tokens recur."""
    cached = _token_cache.get(text)
    if cached is not None:
        return cached
    word = fold(text).replace("’", "'").rstrip("'")
    flags = 0
    if not word[:1].isalnum() and word not in _UNIT_SIGNS:
        flags |= _MARK | (0 if word in _COMMA_LIKE else _HARD) | (_COMMA if word == "," else 0)
    stop = word in _STOP
    if stop:
        flags |= _STOPWORD
    flags |= _ARTICLE if word in _ARTICLES else 0
    flags |= _PREPOSITION if word in _PREPOSITIONS else 0
    flags |= _COPULA if word in _COPULAS else 0
    flags |= _NUMBER_WORD if word[:1].isdigit() or word in _NUMERALS else 0
    flags |= _YEAR if len(word) == 4 and word.isdigit() and 1000 <= int(word) <= 2099 else 0
    flags |= _MONTH if word in _MONTH_WORDS else 0
    flags |= _CAPITAL if text[:1].isupper() and not stop else 0
    flags |= _RELATIVE if word in _RELATIVES else 0
    flags |= _LOWER if text[:1].islower() else 0
    flags |= _UNIT if word in _UNIT_SIGNS else 0
    entry = (word, "" if stop or flags & _MARK else stem(word), flags)
    if len(_token_cache) < _CACHE_SIZE:
        _token_cache[text] = entry
    return entry


@dataclass(frozen=True, slots=True)
class _Tokens:
    """Per-token arrays of one sentence: flags, whether the question holds the word, whether it is the focus."""

    matches: list[re.Match[str]]
    bits: np.ndarray  # int64 flags
    in_question: np.ndarray  # bool
    is_head: np.ndarray  # bool: the noun after "quel"

    def flag(self, bit: int) -> np.ndarray:
        return (self.bits & bit) != 0


def _tokens(sentence: str, question: str, focus: str | None) -> _Tokens:
    """One pass over the sentence's tokens: their flags, and which the question holds (as a stem, or as a word
    of six letters or more sharing its first six)."""
    tokens = list(_TOKEN.finditer(sentence))
    n = len(tokens)
    question_stems, question_prefixes = set(), set()
    for m in _TOKEN.finditer(normalize(question)):
        word, term, _ = _token(m.group(0))
        if term:
            question_stems.add(term)
            if len(word) >= 6:
                question_prefixes.add(word[:6])
    entries = [_token(t.group(0)) for t in tokens]
    bits = np.fromiter((flags for _, _, flags in entries), dtype=np.int64, count=n)
    if n:
        bits[0] &= ~_CAPITAL  # a sentence's first word is capitalised whatever it is
    in_question = np.fromiter(
        (bool(term) and (term in question_stems or word[:6] in question_prefixes) for word, term, _ in entries),
        dtype=bool,
        count=n,
    )
    is_head = np.fromiter((bool(term) and term == focus for _, term, _ in entries), dtype=bool, count=n)
    return _Tokens(tokens, bits, in_question, is_head)


def _spans(t: _Tokens) -> tuple[np.ndarray, np.ndarray]:
    """Spans [i, j) of up to `MAX_TOKENS` tokens: no mark at either end, no sentence mark inside, never a number
    without its sign, never ending on an article or a preposition."""
    n = len(t.bits)
    i = np.repeat(np.arange(n), MAX_TOKENS)
    j = i + np.tile(np.arange(1, MAX_TOKENS + 1), n)
    keep = j <= n
    i, j = i[keep], j[keep]
    mark = t.flag(_MARK)
    hard_before = np.concatenate(([0], np.cumsum(t.flag(_HARD))))
    # A span never parts a number from its sign ("14" without its "%").
    parts_unit = (j < n) & ((t.bits[np.minimum(j, n - 1)] & _UNIT) != 0)
    dangles = t.flag(_ARTICLE)[j - 1] | t.flag(_PREPOSITION)[j - 1]  # "800 milliards d'", "dans les couches de"
    keep = (hard_before[j] == hard_before[i]) & ~mark[i] & ~mark[j - 1] & ~parts_unit & ~dangles
    return i[keep], j[keep]


def _typed_phrases(sentence: str, t: _Tokens, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """For each token, where the phrase of the asked kind (date, number, name) holding it starts and ends (-1)."""
    n = len(t.bits)
    phrase_first = np.full(n, -1)
    phrase_end = np.full(n, -1)
    pattern = BY_NAME[kind].span
    if pattern is not None:
        token_starts = np.fromiter((m.start() for m in t.matches), dtype=np.int64, count=n)
        token_ends = np.fromiter((m.end() for m in t.matches), dtype=np.int64, count=n)
        for match in pattern.finditer(sentence):
            first = int(np.searchsorted(token_starts, match.start()))
            end = int(np.searchsorted(token_ends, match.end(), side="right"))
            phrase_first[first:end], phrase_end[first:end] = first, end
    return phrase_first, phrase_end


def candidates(sentence: str, question: str, asked: Asked) -> Candidates | None:
    """Every candidate span of `sentence` with its features, or None when the sentence has no word."""
    t = _tokens(sentence, question, asked.focus)
    if not len(t.bits):
        return None
    i, j = _spans(t)
    if not len(i):
        return None
    columns = _features(sentence, t, i, j, asked.kind)
    matrix = np.empty((len(i), len(FEATURES)))
    for column, values in enumerate(columns):
        matrix[:, column] = values
    return Candidates(
        asked.kind, np.array([t.matches[k].start() for k in i]), np.array([t.matches[k - 1].end() for k in j]), matrix
    )


def _features(sentence: str, t: _Tokens, i: np.ndarray, j: np.ndarray, kind: str) -> tuple[np.ndarray | bool, ...]:
    """The feature columns of spans [i, j), one per name in `FEATURES`, in its order."""
    n, bits, in_question, is_head = len(t.bits), t.bits, t.in_question, t.is_head
    mark, stop, copula = t.flag(_MARK), t.flag(_STOPWORD), t.flag(_COPULA)
    article, preposition, capital = t.flag(_ARTICLE), t.flag(_PREPOSITION), t.flag(_CAPITAL)
    counted = np.column_stack([(bits & flag) != 0 for flag in _SUMMED] + [in_question])
    before = np.vstack([np.zeros((1, counted.shape[1]), dtype=np.int64), np.cumsum(counted, axis=0)])
    n_stop, n_number, n_year, n_month, n_comma, n_capital, n_lower, n_mark, n_question = (before[j] - before[i]).T

    length = (j - i).astype(float)
    prev_ok, nxt_ok = i > 0, j < n
    prev, nxt = np.maximum(i - 1, 0), np.minimum(j, n - 1)
    # The nearest question word before each span and after it.
    positions = np.arange(n)
    last_question = np.maximum.accumulate(np.where(in_question, positions, -1))
    next_question = np.minimum.accumulate(np.where(in_question, positions, 2 * n)[::-1])[::-1]
    left_q = np.where(prev_ok, last_question[prev], -1)
    right_q = np.where(nxt_ok, next_question[nxt], 2 * n)
    distance_left = np.where(left_q >= 0, i - left_q, 30)
    distance_right = np.where(right_q < n, right_q - j + 1, 30)
    question_before = before[:, -1]
    near = question_before[np.minimum(j + 3, n)] - question_before[j] + question_before[i]
    near -= question_before[np.maximum(i - 3, 0)]
    phrase_first, phrase_end = _typed_phrases(sentence, t, kind)
    typed_inside = (phrase_end[i] >= j) & (phrase_first[i] >= 0)
    head_left = np.zeros(len(i), dtype=bool)
    for back in (1, 2, 3):
        head_left |= (i >= back) & is_head[np.maximum(i - back, 0)]
    return (
        length == 1,
        length == 2,
        length == 3,
        (length >= 4) & (length <= 5),
        (length >= 6) & (length <= 7),
        length >= 8,
        n_question > 0,
        n_question / length,
        n_stop / length,
        article[i],
        preposition[i] & ~article[i],
        stop[i] & ~article[i] & ~preposition[i],
        stop[j - 1],
        n_capital / np.maximum(length - n_stop, 1),
        capital[i],
        i == 0,
        n_number > 0,
        n_year > 0,
        n_month > 0,
        n_comma > 0,
        prev_ok & ((left_q == i - 1) | ((left_q == i - 2) & stop[prev])),
        nxt_ok & ((right_q == j) | ((right_q == j + 1) & stop[nxt])),
        np.log1p(distance_left),
        np.log1p(distance_right),
        ~prev_ok | mark[prev],
        ~nxt_ok | mark[nxt],
        prev_ok & (copula[prev] | (article[prev] & (i >= 2) & copula[np.maximum(i - 2, 0)])),
        prev_ok & preposition[prev],
        head_left,
        is_head[i] | ((length > 1) & is_head[np.minimum(i + 1, n - 1)]),
        typed_inside & (phrase_first[i] == i) & (phrase_end[i] == j),
        typed_inside,
        i / n,
        n_lower == length - n_mark,
        (prev_ok & capital[prev] & capital[i]) | (nxt_ok & capital[nxt] & capital[j - 1]),
        (bits[j - 1] & _NUMBER_WORD) != 0,
        near / max(int(in_question.sum()), 1),
        (distance_left <= 5) & (distance_right <= 5),
        nxt_ok & ((bits[nxt] & _RELATIVE) != 0),
    )

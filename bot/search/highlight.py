"""The phrase that answers, inside the quoted sentence: a number with its unit, a date, a name, a noun phrase.

Every run of up to `MAX_TOKENS` words that crosses no sentence punctuation is a candidate. Each gets a few
features (its length, its capitals and figures, how near it sits to the question's own words, whether it
follows a copula or the noun the question asks about, whether it is a date, a number or a name…), and a
linear score whose weights depend on the kind of answer the question asks for ("quand", "combien", "qui",
"quel X", "que"…). The phrase shown is the candidates' consensus: the one that overlaps most, on average, with
the likeliest candidates (it wins on span F1 over the single best-scored one). It is returned exactly as written
in the sentence, so it can be shown in bold without changing a character. A question asking for a number or a
date gets no phrase when the sentence holds none. The weights were fitted on PIAF (listwise logistic
regression over the candidates of the sentence holding the gold answer): `python bench/fit_highlight.py`
refits them and prints both this table and the two-fold span F1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import Stemmer

from bot.search.analysis import STOP_WORDS, fold, normalize

MAX_TOKENS = 10  # a longer phrase is not an answer a reader takes in at a glance
CONSENSUS_SPANS = 60  # the likeliest spans that vote on the phrase shown
CONSENSUS_TEMPERATURE = 0.75  # softens the scores into chances (PIAF, two folds: 0.75 does best)

_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_NUMBER_WORDS = (
    "deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt|trente|quarante"
    "|cinquante|soixante|cent|cents|mille|dizaine|vingtaine|centaine|millier|milliers|million|millions|milliard"
    "|milliards|moitié|tiers|quart"
)
_DATE = re.compile(
    rf"\b(?:(?:1er|\d{{1,2}})\s+(?:{_MONTHS})(?:\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{4}}"
    r"|(?:1[0-9]|20)\d{2}(?:\s*-\s*(?:1[0-9]|20)\d{2})?"
    r"|(?:[IVXL]+e|\d{1,2}e)\s+siècle|Moyen\s+Âge)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    rf"(?<![\w,.])(?:\d{{1,3}}(?:[  \u202f.]\d{{3}})+(?:,\d+)?|\d+(?:[.,]\d+)?|(?:{_NUMBER_WORDS}))(?!\w)"
    r"(?:\s*(?:%|‰|pour\s+cent|€|\$|euros?|dollars?"
    r"|(?:\s+(?:de\s+|d')?(?:millions?|milliards?|milliers?))?(?:\s+(?:de\s+|d'))?\s+[^\W\d_]{3,}))?",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-ZÀ-ÝŒ][\w'’-]*(?:\s+(?:(?:de|du|des|la|le|von|van|di|da|ben|el|al)\s+)?[A-ZÀ-ÝŒ][\w'’-]*)*")
_CAUSE = re.compile(
    r"\b(?:parce\s+qu(?:e|')|car|afin\s+de|afin\s+qu(?:e|')|en\s+raison\s+d(?:e|u|es|')|grâce\s+(?:à|au|aux)"
    r"|à\s+cause\s+d(?:e|u|es|')|du\s+fait\s+d(?:e|u|es|'))\s*[^,.;:!?]+",
    re.IGNORECASE,
)
# The pattern a span of each kind of question should match exactly (a place is a name too).
_TYPED = {"date": _DATE, "number": _NUMBER, "person": _NAME, "place": _NAME, "name": _NAME, "cause": _CAUSE}

# Elided article or pronoun ("l'", "qu'"), number ("12 000", "3,5"), word (hyphens, inner apostrophes), or one mark.
_TOKEN = re.compile(
    r"(?:[lLdDjJnNsScCmMtT]|[Qq]u|[Jj]usqu|[Ll]orsqu|[Pp]uisqu)['’](?=\w)"
    r"|\d{1,3}(?:[  \u202f]\d{3})+(?:,\d+)?(?!\d)|\d+(?:[.,]\d+)*"
    r"|[^\W\d_]+(?:[-'’][^\W\d_]+)*"
    r"|\S"
)
_ARTICLES = frozenset("le la les l un une des du d".split())
_PREPOSITIONS = frozenset("à a de d du des au aux en dans par pour sur sous avec vers chez entre contre selon".split())
_RELATIVES = frozenset("qui que qu dont ou lequel laquelle lesquels lesquelles".split())
_COPULAS = frozenset(
    "est sont etait etaient fut furent sera seront devient devenu reste demeure appele appelee nomme nommee".split()
)
_STOP = frozenset(fold(w) for w in STOP_WORDS) | _ARTICLES | _PREPOSITIONS | {"qu", "et", "ou", "ni", "mais"}
_NUMERALS = frozenset(fold(w) for w in _NUMBER_WORDS.split("|"))
_MONTH_WORDS = frozenset(fold(w) for w in _MONTHS.split("|"))
_UNIT_SIGNS = frozenset("%‰€$£°")  # signs that belong to the number before them, as words do
_COMMA_LIKE = frozenset(",'’-")  # marks a phrase may hold; any other mark ends a candidate

# Kinds of question, after their cues: what a question that names no kind ("quel", "que", "comment") asks for.
KINDS = ("date", "number", "person", "place", "cause", "name", "which", "what", "how", "other")
_NAME_ASKED = re.compile(r"\bcomment (?:s'appel|se nomm|appel)|\bnom\b|\bsurnom|\bappel(?:le|e)")
_WHICH = re.compile(r"\b(?:quel(?:le)?s?|lequel|laquelle|lesquel(?:le)?s)\b")
_WHAT = re.compile(r"^(?:\W*\w+\W+)?(?:que|qu'|quoi)|\bqu'est|\bquoi\b")
_HEAD = re.compile(
    r"\bquel(?:le)?s?\s+(?:(?:est|sont|etait|etaient|fut|furent)\s+)?(?:(?:le|la|les|l')\s*)?([^\W\d_]+)"
)

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


_stemmer = Stemmer.Stemmer("french")


def _stem(word: str) -> str:
    """Snowball stem of a folded word, so "traité" in a question meets "traités" in the sentence."""
    return word if word[:1].isdigit() else _stemmer.stemWord(word)


def question_kind(question: str, cues: set[str]) -> tuple[str, str | None]:
    """The kind of answer a question asks for (one of KINDS) and, for "quel X", the stem of X."""
    lowered = fold(normalize(question)).replace("’", "'")
    head = _HEAD.search(lowered)
    head_stem = _stem(head.group(1)) if head and head.group(1) not in _STOP else None
    for cue in ("date", "number", "person", "place", "cause"):
        if cue in cues:
            return cue, head_stem
    if _NAME_ASKED.search(lowered):
        return "name", head_stem
    if _WHICH.search(lowered):
        return "which", head_stem
    if _WHAT.search(lowered):
        return "what", head_stem
    if "comment" in lowered:
        return "how", head_stem
    return "other", head_stem


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
    entry = (word, "" if stop or flags & _MARK else _stem(word), flags)
    if len(_token_cache) < _CACHE_SIZE:
        _token_cache[text] = entry
    return entry


def candidates(sentence: str, question: str, cues: set[str]) -> Candidates | None:
    """Every candidate span of `sentence` with its features, or None when the sentence has no word."""
    kind, head = question_kind(question, cues)
    tokens = list(_TOKEN.finditer(sentence))
    n = len(tokens)
    if not n:
        return None
    question_stems, question_prefixes = set(), set()
    for m in _TOKEN.finditer(normalize(question)):
        word, stem, _ = _token(m.group(0))
        if stem:
            question_stems.add(stem)
            if len(word) >= 6:
                question_prefixes.add(word[:6])
    entries = [_token(t.group(0)) for t in tokens]
    bits = np.fromiter((flags for _, _, flags in entries), dtype=np.int64, count=n)
    bits[0] &= ~_CAPITAL  # a sentence's first word is capitalised whatever it is
    in_question = np.fromiter(
        (bool(stem) and (stem in question_stems or word[:6] in question_prefixes) for word, stem, _ in entries),
        dtype=bool,
        count=n,
    )
    is_head = np.fromiter((bool(stem) and stem == head for _, stem, _ in entries), dtype=bool, count=n)
    mark, stop = (bits & _MARK) != 0, (bits & _STOPWORD) != 0
    article, preposition, capital = (bits & _ARTICLE) != 0, (bits & _PREPOSITION) != 0, (bits & _CAPITAL) != 0

    # Spans [i, j): no mark at either end, no sentence mark inside.
    i = np.repeat(np.arange(n), MAX_TOKENS)
    j = i + np.tile(np.arange(1, MAX_TOKENS + 1), n)
    keep = j <= n
    i, j = i[keep], j[keep]
    hard_before = np.concatenate(([0], np.cumsum((bits & _HARD) != 0)))
    # A span never parts a number from its sign ("14" without its "%").
    parts_unit = (j < n) & ((bits[np.minimum(j, n - 1)] & _UNIT) != 0)
    dangles = article[j - 1] | preposition[j - 1]  # "800 milliards d'", "dans les couches de"
    keep = (hard_before[j] == hard_before[i]) & ~mark[i] & ~mark[j - 1] & ~parts_unit & ~dangles
    i, j = i[keep], j[keep]
    if not len(i):
        return None
    counted = np.column_stack([(bits & flag) != 0 for flag in _SUMMED] + [in_question])
    before = np.vstack([np.zeros((1, counted.shape[1]), dtype=np.int64), np.cumsum(counted, axis=0)])
    totals = before[j] - before[i]
    n_stop, n_number, n_year, n_month, n_comma, n_capital, n_lower, n_mark, n_question = totals.T

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
    # Phrases of the asked kind (dates, numbers, names): for each token, where the phrase holding it starts and ends.
    phrase_first = np.full(n, -1)
    phrase_end = np.full(n, -1)
    pattern = _TYPED.get(kind)
    if pattern is not None:
        token_starts = np.fromiter((t.start() for t in tokens), dtype=np.int64, count=n)
        token_ends = np.fromiter((t.end() for t in tokens), dtype=np.int64, count=n)
        for match in pattern.finditer(sentence):
            first = int(np.searchsorted(token_starts, match.start()))
            end = int(np.searchsorted(token_ends, match.end(), side="right"))
            phrase_first[first:end], phrase_end[first:end] = first, end
    typed_inside = (phrase_end[i] >= j) & (phrase_first[i] >= 0)
    head_left = np.zeros(len(i), dtype=bool)
    for back in (1, 2, 3):
        head_left |= (i >= back) & is_head[np.maximum(i - back, 0)]
    copula = (bits & _COPULA) != 0

    columns = (  # one per name in FEATURES, in its order
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
    matrix = np.empty((len(i), len(FEATURES)))
    for column, values in enumerate(columns):
        matrix[:, column] = values
    return Candidates(
        kind, np.array([tokens[k].start() for k in i]), np.array([tokens[k - 1].end() for k in j]), matrix
    )


def highlight(sentence: str, question: str, cues: set[str]) -> str | None:
    """The substring of `sentence` that answers `question`, or None when no phrase of the asked kind stands out."""
    found = candidates(sentence, question, cues)
    if found is None:
        return None
    scores = found.features @ _weights(found.kind)
    required = _REQUIRED.get(found.kind)
    if required is not None:
        holds = found.features[:, [FEATURES.index(name) for name in required]].any(axis=1)
        if not holds.any():
            return None
        scores = np.where(holds, scores, -np.inf)
    respective = _respective(sentence, question, found.kind)
    if respective is not None:
        return respective
    best = consensus(scores, found.starts, found.ends)
    span = sentence[int(found.starts[best]) : int(found.ends[best])]
    return _LEADING_DE.sub("", span, count=1) or span


# "de" opening a phrase is no part of the answer ("de 126%"): SQuAD's normalisation drops it too.
_LEADING_DE = re.compile(r"^(?:de\s+|d['’](?=[a-zà-ÿ]))")  # lower case: "De Gaulle" and "d'Artagnan" stay whole
_ARTICLE_OR_PLACE = r"(?:(?:en|au|aux|à|a|le|la|les|l'|l’)\s*)?"
_MEMBERS = re.compile(
    rf"{_ARTICLE_OR_PLACE}[A-ZÀ-ÝŒ][\w'’-]*(?:\s*,\s*{_ARTICLE_OR_PLACE}[A-ZÀ-ÝŒ][\w'’-]*)*"
    rf"\s+et\s+{_ARTICLE_OR_PLACE}[A-ZÀ-ÝŒ][\w'’-]*"
)
_MEMBER = re.compile(r"[A-ZÀ-ÝŒ][\w'’-]*")
_RESPECTIVELY = re.compile(r"\brespectivement\b", re.IGNORECASE)
_BETWEEN_VALUES = re.compile(r"\s*(?:,|et)\s*")


def _respective(sentence: str, question: str, kind: str) -> str | None:
    """In "en Espagne et en Italie, … respectivement de 20% et 14%", the value that goes with the one member of the
    named list that the question names ("en Italie" -> "14%"), when the two lists are as long as each other."""
    pattern = _TYPED.get(kind)
    cut = _RESPECTIVELY.search(sentence)
    if pattern is None or cut is None:
        return None
    lists = list(_MEMBERS.finditer(sentence, 0, cut.start()))
    values: list[str] = []
    end = -1
    for match in pattern.finditer(sentence, cut.end()):
        if values and not _BETWEEN_VALUES.fullmatch(sentence[end : match.start()]):
            break  # the values listed after "respectivement" end where something else than "," or "et" comes
        values.append(match.group(0))
        end = match.end()
    if not lists or len(values) < 2:
        return None
    members = _MEMBER.findall(lists[-1].group(0))[-len(values) :]
    asked = {_stem(fold(word)) for word in _MEMBER.findall(question)}
    named = [k for k, member in enumerate(members) if _stem(fold(member)) in asked]
    return values[named[0]] if len(members) == len(values) and len(named) == 1 else None


def consensus(scores: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> int:
    """The span with the highest expected overlap (F1 over characters) with the answer, under the scores read as
    a softmax: where the likeliest spans disagree on the edges, the part they share wins over any single guess."""
    top = np.argsort(-scores, kind="stable")[:CONSENSUS_SPANS]
    top = top[np.isfinite(scores[top])]
    chance = np.exp((scores[top] - scores[top[0]]) / CONSENSUS_TEMPERATURE)
    first, last = starts[top].astype(float), ends[top].astype(float)
    shared = np.maximum(0.0, np.minimum(last[:, None], last[None, :]) - np.maximum(first[:, None], first[None, :]))
    lengths = last - first
    overlap = 2 * shared / (lengths[:, None] + lengths[None, :])
    return int(top[int(np.argmax(overlap @ chance))])


# What a span must hold when the question asks for a number, a date or a name: without one, nothing is shown.
_REQUIRED = {"number": ("has_number",), "date": ("has_number", "has_month", "typed_inside")}


def _weights(kind: str) -> np.ndarray:
    return _WEIGHT_TABLE[:, 0] + _WEIGHT_TABLE[:, 1 + KINDS.index(kind)]


# Weights, one row per feature: the shared weight, then the offset for each kind of question (KINDS order).
# fmt: off
_WEIGHT_TABLE = np.array([
    #shared   date number person  place  cause   name  which   what    how  other
    [ -0.19,  1.16,  0.78, -0.25,  0.49, -1.19,  0.74,  0.03, -1.21, -0.27, -0.37],  # len1
    [  0.10,  0.42,  0.73,  0.39,  0.03, -1.35,  0.65,  0.17, -0.56, -0.30, -0.16],  # len2
    [  0.25,  0.17,  0.50,  0.25,  0.05, -0.57,  0.45, -0.09, -0.06, -0.31, -0.32],  # len3
    [  0.13,  0.06,  0.15,  0.17,  0.02, -0.03, -0.17, -0.08,  0.12, -0.12, -0.09],  # len4_5
    [ -0.06, -0.35, -0.41, -0.06, -0.03,  0.74, -0.49, -0.04,  0.37,  0.10,  0.14],  # len6_7
    [ -0.01, -0.86, -1.02, -0.31, -0.36,  1.29, -0.56,  0.03,  0.74,  0.55,  0.48],  # len8_10
    [  0.59,  0.11,  0.50, -0.57,  0.08, -0.42,  0.66, -0.23, -0.12, -0.09,  0.26],  # has_question_word
    [ -3.39,  0.07,  1.64, -0.54, -1.10, -1.88, -0.16, -0.49, -1.09,  0.88,  1.55],  # question_word_share
    [ -1.56,  0.32,  0.20, -1.63,  1.26,  0.90, -1.07, -0.43, -0.75,  0.23,  0.42],  # stop_share
    [  0.30,  0.37,  0.19,  0.28, -0.27, -0.46,  0.42,  0.16,  0.11, -0.26, -0.42],  # starts_article
    [  0.31,  0.78, -0.04,  0.01,  0.52, -0.14, -0.13, -0.31, -0.29, -0.04, -0.26],  # starts_preposition
    [ -0.36,  0.04,  0.12,  0.21, -0.54,  0.34, -0.19, -0.28, -0.11, -0.04,  0.32],  # starts_other_stop
    [ -0.30,  0.11, -0.05, -0.13, -0.27,  0.03,  0.12,  0.00,  0.03,  0.05,  0.01],  # ends_stop
    [  0.65, -1.79, -1.62,  2.12,  1.05, -0.67,  0.79,  0.52, -0.50, -0.59,  0.90],  # capital_share
    [  0.00, -0.07, -0.28, -0.15, -0.18, -0.18,  0.55,  0.03, -0.09,  0.03,  0.35],  # starts_capital
    [  0.38,  0.04, -0.31,  0.33,  0.15,  0.04, -0.48, -0.27,  0.28,  0.04,  0.30],  # sentence_start
    [  0.24,  0.92,  2.33, -0.91, -0.55, -0.13, -0.62,  0.24, -0.18, -0.44, -0.59],  # has_number
    [ -0.61,  1.90, -1.69,  0.36,  0.23, -0.68,  0.01, -0.60, -0.42,  0.75, -0.07],  # has_year
    [ -0.97,  1.92, -1.22, -0.19, -0.03, -1.22,  0.90,  0.06, -0.08, -0.55,  0.08],  # has_month
    [ -0.43,  0.09,  0.17,  0.59,  0.00, -0.40,  0.05,  0.10, -0.56, -0.23,  0.04],  # has_comma
    [  0.12,  0.16, -0.26,  0.12,  0.07, -0.08, -0.20, -0.15, -0.10,  0.07,  0.41],  # after_question_word
    [ -0.03, -0.06,  0.69, -0.08, -0.21, -0.34, -0.32, -0.07, -0.28,  0.50,  0.16],  # before_question_word
    [ -0.44, -0.04,  0.18, -0.05, -0.23,  0.02, -0.15, -0.10, -0.21,  0.02,  0.41],  # distance_left
    [ -0.21,  0.00,  0.06, -0.37, -0.02, -0.02, -0.08, -0.10, -0.28,  0.46,  0.28],  # distance_right
    [  0.38, -0.04, -0.40,  0.20, -0.25, -0.09,  0.62,  0.03, -0.23,  0.05,  0.23],  # clause_start
    [  0.97, -0.12, -0.05, -0.31,  0.11, -0.19,  0.51,  0.16,  0.01,  0.14,  0.11],  # clause_end
    [  0.29, -0.36, -0.76,  0.13, -0.40,  0.18,  0.90,  0.09, -0.34,  0.33,  0.35],  # after_copula
    [  0.11,  0.31, -0.36, -0.01,  0.64,  0.11, -0.46, -0.06,  0.03, -0.09, -0.07],  # after_preposition
    [  0.51, -0.98,  0.67,  0.00,  0.26,  0.38, -0.38,  0.22,  0.00,  0.00,  0.00],  # after_head_noun
    [  1.51,  0.44, -0.63,  0.00, -1.14,  1.03,  0.17,  0.67,  0.00,  0.00,  0.00],  # holds_head_noun
    [  0.42,  0.07, -1.08,  0.63,  0.82,  0.06,  0.12,  0.00,  0.00,  0.00,  0.00],  # typed_exact
    [  0.28,  0.27,  1.37, -0.52, -0.71,  0.88, -0.56,  0.00,  0.00,  0.00,  0.00],  # typed_inside
    [  0.06, -0.19, -0.12, -0.36, -0.09,  0.12, -0.45,  0.09,  0.91,  0.26, -0.14],  # position
    [ -0.08, -1.13, -0.12, -0.08, -0.40,  0.37, -0.30,  0.12,  0.35,  0.61,  0.56],  # all_lower
    [ -0.81,  0.02, -0.04,  0.16, -0.22,  0.30, -0.21, -0.22, -0.02, -0.05,  0.01],  # cuts_name
    [ -0.18,  0.75,  0.04, -0.62, -0.41, -0.33, -0.29,  0.17, -0.02,  0.13,  0.52],  # ends_number
    [  0.33, -0.16,  0.63, -0.13, -0.10, -0.50,  0.31, -0.22, -0.23,  0.25,  0.25],  # near_question_words
    [ -0.53, -0.05,  0.22, -0.26, -0.02, -0.59,  0.12,  0.27, -0.18, -0.04,  0.35],  # between_question_words
    [  0.29,  0.00,  0.22, -0.22,  0.10, -0.03, -0.23,  0.13, -0.01, -0.33,  0.46],  # before_relative
])
# fmt: on

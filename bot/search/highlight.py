"""The phrase that answers, inside the quoted sentence: a number with its unit, a date, a name, a place, a cause.

What the question asks for (its cues: "combien" a number, "quand" a date, "qui" a name…) picks the kind
of phrase; among the phrases of that kind the sentence holds, the one nearest the question's own words
wins, and a phrase the question already contains is never the answer. The phrase is returned exactly as
written in the sentence, so it can be shown in bold without changing a character.
"""

from __future__ import annotations

import re

from bot.search.analysis import fold, normalize, words

_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_NUMBER_WORDS = (
    "deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt|trente|quarante"
    "|cinquante|soixante|cent|cents|mille|une\\s+dizaine|une\\s+vingtaine|une\\s+centaine|un\\s+millier|des\\s+milliers"
)
_UNIT = (
    r"(?:\s*(?:%|‰|pour\s+cent|€|\$|euros?|dollars?|yuans?|francs?)"
    r"|(?:\s+(?:de\s+|d')?(?:millions?|milliards?|milliers?))?(?:\s+(?:de\s+|d'))?"
    r"(?:\s+(?!(?:et|ou|en|à|au|aux|le|la|les|des|du|de|dans|sur|par|pour|qui|que|dont)\b)[^\W\d_][\w'-]*)?)"
)
_NUMBER = re.compile(
    rf"(?<![\w,.])(?:\d{{1,3}}(?:[  \u202f.]\d{{3}})+(?:,\d+)?|\d+(?:[.,]\d+)?|(?:{_NUMBER_WORDS}))(?![\w])"
    rf"(?:\s*(?:à|-)\s*\d+(?:[.,]\d+)?)?{_UNIT}",
    re.IGNORECASE,
)
_DATE = re.compile(
    rf"\b(?:(?:le\s+)?(?:1er|\d{{1,2}})\s+(?:{_MONTHS})(?:\s+\d{{4}})?|(?:en\s+|début\s+|fin\s+|mi-)?(?:{_MONTHS})\s+\d{{4}}"
    rf"|(?:en\s+|depuis\s+|dès\s+|vers\s+)?(?:1[0-9]|20)\d{{2}}(?:\s*-\s*(?:1[0-9]|20)\d{{2}})?"
    r"|(?:au\s+)?(?:[IVXL]+e|\d{1,2}e)\s+siècle|(?:au\s+)?Moyen\s+Âge(?:\s+\w+)?)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-ZÀ-ÝŒ][\w'’-]*(?:\s+(?:(?:de|du|des|la|le|von|van|di|da|ben|el|al)\s+)?[A-ZÀ-ÝŒ][\w'’-]*)*")
_PLACE = re.compile(
    r"\b(?:à|en|au|aux|dans\s+(?:la|le|les|l')|dans|de|du|près\s+de|vers)\s*(?:l')?\s*"
    r"[A-ZÀ-ÝŒ][\w'’-]*(?:\s+(?:de\s+|du\s+|des\s+)?[A-ZÀ-ÝŒ][\w'’-]*)*"
)
_CAUSE = re.compile(
    r"\b(?:parce\s+qu(?:e|')|car|afin\s+de|afin\s+qu(?:e|')|en\s+raison\s+d(?:e|u|es|')|grâce\s+(?:à|au|aux)"
    r"|à\s+cause\s+d(?:e|u|es|')|pour\s+(?=\w+er\b)|du\s+fait\s+d(?:e|u|es|'))\s*[^,.;:!?]+",
    re.IGNORECASE,
)
_PATTERNS = {"number": _NUMBER, "date": _DATE, "person": _NAME, "place": _PLACE, "cause": _CAUSE}
# Capitalised words that open sentences or clauses but name nothing.
_NOT_NAMES = frozenset(
    fold(w)
    for w in """Le La Les L Un Une Des Du De Selon Il Elle Ils Elles Ce Cette Ces Cet Son Sa Ses Leur Leurs Mais
    Et Ou Donc Or Ni Car En Au Aux Dans Pour Par Sur Avec Sans Depuis Lors Après Avant Entre Comme Si Quand
    On Nous Vous Je Tu Ainsi Alors Aussi Cependant Pourtant Toutefois D Qu Que Qui Quoi Dont Où""".split()
)
_LEADING_WORDS = re.compile(r"(?:(?:à|en|au|aux|dans|de|du|des|près|vers|le|la|les|l'|l’|depuis|dès)\s*)+", re.I)
MAX_WORDS = 12  # a longer phrase is not an answer a reader takes in at a glance


def highlight(sentence: str, question: str, cues: set[str]) -> str | None:
    """The substring of `sentence` that answers `question`, or None when no phrase of the asked kind stands out."""
    asked = [cue for cue in ("cause", "date", "number", "place", "person") if cue in cues]
    question_words = set(words(normalize(question)))
    if not asked:
        return _phrase(sentence, question_words)
    anchors = _anchors(sentence, question_words)
    best: tuple[float, int, int] | None = None
    for cue in asked:
        for match in _PATTERNS[cue].finditer(sentence):
            start, end = _trim(sentence, match.start(), match.end(), cue)
            span = sentence[start:end]
            found = words(normalize(span))
            if not found or len(found) > MAX_WORDS or all(w in question_words for w in found):
                continue
            if cue == "person" and all(w in _NOT_NAMES for w in found):
                continue
            distance = min((abs(start - a) if a < start else abs(a - end) for a in anchors), default=0)
            key = (distance, start, -(end - start))
            if best is None or key < (best[0], best[1], -(best[2] - best[1])):
                best = (distance, start, end)
        if best is not None:
            break  # the first kind asked for that the sentence holds
    return None if best is None else sentence[best[1] : best[2]]


def _anchors(sentence: str, question_words: set[str]) -> list[int]:
    """Character positions of the sentence's words that the question also uses."""
    return [
        m.start()
        for m in re.finditer(r"[^\W_]+", sentence)
        if words(m.group(0))[:1] and words(m.group(0))[0] in question_words
    ]


def _trim(sentence: str, start: int, end: int, cue: str) -> tuple[int, int]:
    """Drop leading prepositions and articles from a name or place, and trailing punctuation or spaces."""
    if cue in ("place", "person", "date"):
        lead = re.match(
            r"(?:(?:à|en|au|aux|dans|de|du|des|près|vers|le|la|les|l'|l’|depuis|dès)\s*)+", sentence[start:end], re.I
        )
        if lead and lead.end() < end - start:
            start += lead.end()
    if cue == "cause":
        lead = re.match(r"(?:parce\s+qu(?:e|')|car|du\s+fait\s+d(?:e|u|es|'))\s*", sentence[start:end], re.I)
        if lead and lead.end() < end - start:
            start += lead.end()
    while end > start and sentence[end - 1] in " ,;:.!?»)":
        end -= 1
    while start < end and sentence[start] in " «(":
        start += 1
    return start, end


_CHUNK = re.compile(r"[^,;:()«»\"“”?!]+")
_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*|\d+(?:[.,]\d+)*")
_EDGE_WORDS = frozenset(
    """le la les l un une des du de d au aux à a en et ou est sont été était a ont qui que qu dont où ce cet cette
    ces son sa ses leur leurs par pour sur dans avec sans se s il elle ils elles on ne pas plus très aussi""".split()
)


def _phrase(sentence: str, question_words: set[str]) -> str | None:
    """For a question that names no kind of answer ("Quel traité…", "Que signifie…"): the run of words the
    question does not use that sits nearest its words, in the same clause, trimmed of articles and linking words."""
    best: tuple[float, int, int] | None = None
    anchors = [
        m.start()
        for m in _TOKEN.finditer(sentence)
        if (found := words(m.group(0))) and found[0] in question_words and found[0] not in _EDGE_WORDS
    ]
    if not anchors:
        return None
    for chunk in _CHUNK.finditer(sentence):
        tokens = list(_TOKEN.finditer(chunk.group(0)))
        run: list[re.Match[str]] = []
        for token in [*tokens, None]:
            word = words(token.group(0))[:1] if token is not None else []
            if token is not None and not (word and word[0] in question_words):
                run.append(token)
                continue
            while run and fold(run[0].group(0)) in _EDGE_WORDS:
                run.pop(0)
            while run and fold(run[-1].group(0)) in _EDGE_WORDS:
                run.pop()
            if run and len(run) <= MAX_WORDS:
                start, end = chunk.start() + run[0].start(), chunk.start() + run[-1].end()
                after = [start - a for a in anchors if a < start]
                before = [a - end for a in anchors if a >= end]
                distance = min([d for d in after] + [1.5 * d for d in before], default=1e9)
                key = (distance + 2 * max(len(run) - 6, 0), start, end)
                if best is None or key < best:
                    best = key
            run = []
    return None if best is None else sentence[int(best[1]) : int(best[2])]

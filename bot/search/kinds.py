"""What a question asks for: one table of answer kinds, read by ranking, the summary, the highlight and the confidence.

Each `AnswerKind` says how a question asks for it (question words, phrases over the folded question) and
what a phrase of that kind looks like (`span`): the same pattern tells the summary and the confidence whether
a sentence holds an answer of the kind (`holds`) and the highlight which phrase it may show in bold.
`asked(question)` reads the question once into an `Asked`. The first five kinds are the cues the confidence
and the front doors see; the next four only tell the highlight's weights apart among questions that name none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.search.analysis import STOP_WORDS, fold, normalize, stem, words

MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
NUMBER_WORDS = (
    "deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt|trente|quarante"
    "|cinquante|soixante|cent|cents|mille|dizaine|dizaines|vingtaine|vingtaines|centaine|centaines|millier|milliers"
    "|million|millions|milliard|milliards|moitié|tiers|quart"
)
ARTICLES = frozenset("le la les l un une des du d".split())
PREPOSITIONS = frozenset("à a de d du des au aux en dans par pour sur sous avec vers chez entre contre selon".split())
# Words that carry no answer: stop words, articles, prepositions, conjunctions (folded).
SPAN_STOP_WORDS = frozenset(fold(w) for w in STOP_WORDS) | ARTICLES | PREPOSITIONS | {"qu", "et", "ou", "ni", "mais"}

# -- what a phrase of each kind looks like (the highlight's exact span) ----------------------------------------
_DATE_SPAN = re.compile(
    rf"\b(?:(?:1er|\d{{1,2}})\s+(?:{MONTHS})(?:\s+\d{{4}})?|(?:{MONTHS})\s+\d{{4}}"
    r"|(?:1[0-9]|20)\d{2}(?:\s*-\s*(?:1[0-9]|20)\d{2})?"
    r"|(?:[IVXL]+e|\d{1,2}e)\s+siècle|Moyen\s+Âge)\b",
    re.IGNORECASE,
)
_NUMBER_SPAN = re.compile(
    rf"(?<![\w,.])(?:\d{{1,3}}(?:[  \u202f.]\d{{3}})+(?:,\d+)?|\d+(?:[.,]\d+)?|(?:{NUMBER_WORDS}))(?!\w)"
    r"(?:\s*(?:%|‰|pour\s+cent|€|\$|euros?|dollars?"
    r"|(?:\s+(?:de\s+|d')?(?:millions?|milliards?|milliers?))?(?:\s+(?:de\s+|d'))?\s+[^\W\d_]{3,}))?",
    re.IGNORECASE,
)
_NAME_SPAN = re.compile(
    r"\b[A-ZÀ-ÝŒ][\w'’-]*(?:\s+(?:(?:de|du|des|la|le|von|van|di|da|ben|el|al)\s+)?[A-ZÀ-ÝŒ][\w'’-]*)*"
)
_CAUSE_SPAN = re.compile(
    r"\b(?:parce\s+qu(?:e|')|car|afin\s+de|afin\s+qu(?:e|')|en\s+raison\s+d(?:e|u|es|')|grâce\s+(?:à|au|aux)"
    r"|à\s+cause\s+d(?:e|u|es|')|du\s+fait\s+d(?:e|u|es|'))\s*[^,.;:!?]+",
    re.IGNORECASE,
)

_FIGURES = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class AnswerKind:
    """One kind of answer: how a question asks for it, and what a phrase of that kind looks like."""

    name: str
    words: frozenset[str] = frozenset()  # folded question words asking for it anywhere ("combien")
    opening: frozenset[str] = frozenset()  # folded question words asking for it among the first two ("qui")
    phrases: re.Pattern[str] | None = None  # over the folded question ("quelle annee")
    accented: re.Pattern[str] | None = None  # over the lowercased, unfolded question ("où", not "ou")
    span: re.Pattern[str] | None = None  # a phrase of this kind: what the highlight may show in bold
    bonus: float = 0.0  # what a sentence holding one adds to its summary score

    def asked_by(self, folded: str, tokens: list[str], lowered: str) -> bool:
        """Whether a question (folded text, folded words, lowercased text) asks for this kind."""
        return (
            any(w in self.words for w in tokens)
            or any(w in self.opening for w in tokens[:2])
            or bool(self.phrases and self.phrases.search(folded))
            or bool(self.accented and self.accented.search(lowered))
        )

    def holds(self, sentence: str, question_figures: set[str]) -> bool:
        """Whether a sentence holds a phrase of this kind (what the summary rewards and the confidence reads as
        `typed`): not a name that merely opens the sentence, nor a number the question already gives."""
        for match in self.span.finditer(sentence) if self.span else ():
            if self.name == "number":
                figures = set(_FIGURES.findall(match.group(0)))
                if not figures or figures - question_figures:
                    return True
            elif match.start() > 0 or self.span is not _NAME_SPAN:
                return True
        return False


ANSWER_KINDS: tuple[AnswerKind, ...] = (
    AnswerKind(
        "date",
        words=frozenset({"quand", "annee", "date"}),
        phrases=re.compile(
            r"\b(?:en )?quelle annee\b|\bdepuis quand\b|\b(?:en )?quel(?:le)? (?:siecle|mois|jour|epoque)\b"
            r"|\ba quel moment\b"
        ),
        bonus=0.1,
        span=_DATE_SPAN,
    ),
    AnswerKind(
        "number",
        words=frozenset({"combien", "quantite", "montant", "pourcentage"}),
        phrases=re.compile(
            r"\bquel(?:le)?s? (?:montant|nombre|pourcentage|part|somme|prix|taux)\b"
            r"|\bquel age\b|\bcombien de temps\b|\bquelle (?:taille|duree|distance|hauteur|surface)\b"
        ),
        bonus=0.15,
        span=_NUMBER_SPAN,
    ),
    AnswerKind("person", opening=frozenset({"qui"}), bonus=0.1, span=_NAME_SPAN),
    AnswerKind(
        "place",
        phrases=re.compile(r"\bquel(?:le)? (?:ville|region|province|pays|continent|departement|commune)\b"),
        accented=re.compile(r"(?:^|\W)où\b"),
        bonus=0.1,
        span=_NAME_SPAN,
    ),
    AnswerKind(
        "cause",
        phrases=re.compile(r"\bpourquoi\b|\bpour quelle raison\b|\bquelle (?:est la )?(?:cause|raison)\b"),
        bonus=0.1,
        span=_CAUSE_SPAN,
    ),
    AnswerKind(
        "name",
        phrases=re.compile(r"\bcomment (?:s'appel|se nomm|appel)|\bnom\b|\bsurnom|\bappel(?:le|e)"),
        span=_NAME_SPAN,
    ),
    AnswerKind("which", phrases=re.compile(r"\b(?:quel(?:le)?s?|lequel|laquelle|lesquel(?:le)?s)\b")),
    AnswerKind("what", phrases=re.compile(r"^(?:\W*\w+\W+)?(?:que|qu'|quoi)|\bqu'est|\bquoi\b")),
    AnswerKind("how", phrases=re.compile(r"comment")),
    AnswerKind("other"),
)
BY_NAME = {kind.name: kind for kind in ANSWER_KINDS}
CUES = tuple(kind.name for kind in ANSWER_KINDS[:5])  # the kinds a question's cues name, in order
KINDS = tuple(kind.name for kind in ANSWER_KINDS)  # the highlight's kinds, in its weight table's order

# Nouns after "quel" that name the kind of answer ("dans quelle province"): the answer rarely repeats them.
KIND_NOUNS = frozenset(
    fold(w)
    for w in """ville villes région régions province provinces pays continent département commune quartier lieu endroit
    année années date jour mois siècle époque âge nombre montant pourcentage somme prix taux quantité personne
    entreprise société marque plateforme plateformes""".split()
)
_ASKED_NOUN = re.compile(r"\b(?:quel|quelle|quels|quelles|lequel|laquelle)\s+([^\W\d_]+)", re.IGNORECASE)
_FOCUS = re.compile(
    r"\bquel(?:le)?s?\s+(?:(?:est|sont|etait|etaient|fut|furent)\s+)?(?:(?:le|la|les|l')\s*)?([^\W\d_]+)"
)
_NAME_WORD = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-ZÀ-ÝŒ][\w-]+")


@dataclass(frozen=True, slots=True)
class Asked:
    """What one question asks for: its cues (kinds among `CUES`), the highlight's kind, the stem of the noun
    after "quel" (its focus), the nouns that name the kind of answer ("province"), and the names it is about."""

    cues: frozenset[str]
    kind: str
    focus: str | None
    kind_nouns: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def asks(self) -> str | None:
        """The kind the front doors show: the first of the cues, or None."""
        return next((cue for cue in CUES if cue in self.cues), None)


def asked(question: str) -> Asked:
    """Read what `question` asks for, once, for every later stage."""
    text = normalize(question)
    folded, tokens, lowered = fold(text), words(text), text.lower()
    cues = frozenset(kind.name for kind in ANSWER_KINDS[:5] if kind.asked_by(folded, tokens, lowered))
    kind = next((cue for cue in CUES if cue in cues), None)
    if kind is None:
        kind = next(k.name for k in ANSWER_KINDS[5:] if k.phrases is None or k.phrases.search(folded))
    head = _FOCUS.search(folded)
    focus = stem(head.group(1)) if head and head.group(1) not in SPAN_STOP_WORDS else None
    nouns = tuple(w for w in (fold(m.group(1)) for m in _ASKED_NOUN.finditer(text)) if w in KIND_NOUNS)
    names = tuple(name for name in _NAME_WORD.findall(text) if len(name) > 1)
    return Asked(cues, kind, focus, nouns, names)

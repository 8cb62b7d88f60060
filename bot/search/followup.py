"""Follow-up questions: « Et en Espagne ? » read with the question before it.

`understand(question, previous)` says whether a question only makes sense after the previous ones (it opens
with « Et », « Mais » or « Alors », it lacks a subject besides what it asks, or it points back with a pronoun)
and, if so, writes it out in full: what the follow-up says is kept, the rest comes from the previous question.
A name in the follow-up replaces the previous question's name of the same kind (place, person, company, date),
what it asks replaces what was asked, a noun phrase replaces the previous subject, and a pronoun becomes that
subject. General French word classes only: no word list of any corpus.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.search.analysis import STOP_WORDS, fold, normalize
from bot.search.kinds import KIND_NOUNS
from bot.search.names import PREPOSITIONS, TOKEN, Token, names_in, tokens_of
from bot.search.query import is_smalltalk, strip_courtesy

MAX_PREVIOUS = 3  # questions of a conversation read as context, the latest last

_OPENERS = frozenset({"et", "mais", "alors"})
_DETERMINERS = frozenset("le la les l' un une des du ce cet cette ces son sa ses leur leurs".split())
_AUXILIARIES = frozenset(
    "est sont était étaient fut sera seront a ont avait avaient aura auront été se s' trouve trouvent".split()
)
# Articles that say a noun's gender (True: feminine).
_GENDERED = {"le": False, "un": False, "ce": False, "cet": False, "du": False, "la": True, "une": True, "cette": True}
_CLITICS = frozenset({"l'", "en", "y"})
_VOWELS = "aeiouyéèêàâîôûh"
_BEFORE_VERB = frozenset("se s' y en l' le la les ne n' lui leur".split())  # clitics kept before their verb
# Verbs that take an impersonal « il » (« il faut », « fera-t-il beau ») which points back to nothing.
_IMPERSONAL = frozenset(
    """faut fallait faudra fera pleut pleuvra neige existe existait reste restait suffit semble
    s'agit manque manquait manquera va y""".split()
)
_SUBJECT_PRONOUNS = frozenset({"il", "elle", "ils", "elles"})
_DEMONSTRATIVES = frozenset({"ça", "ca", "cela"})
_CELUI = frozenset({"celui", "celle", "ceux", "celles"})
_INVERTED = re.compile(r"-(?:t-)?(?:il|elle|ils|elles)$", re.IGNORECASE)
_QUESTION_WORDS = frozenset(
    fold(w)
    for w in "qui que qu' quoi quand où comment pourquoi combien quel quelle quels quelles lequel laquelle".split()
)
_INTERROGATIVE = re.compile(
    r"(?:\b(?:de|d'|dans|en|avec|sur|pour|à|par|depuis|chez|vers|pendant)\s*)?"
    r"(?:\bcombien\b(?:\s+(?:de\s+|d')[^\W\d_][\w-]*(?:\s+(?:de\s+|d'|du\s+|des\s+|en\s+)[^\W\d_][\w-]*)*)?"
    r"|\bquel(?:le)?s?\b(?:\s+(?!(?:est|sont|a|ont|était|étaient|fut|sera)\b)[^\W\d_][\w-]*)?"
    r"|\bqu'est-ce\s+qu(?:e\b|i\b|')|\blequel\b|\blaquelle\b|\blesquel(?:le)?s\b"
    r"|\bqui\b|\bquoi\b|\bquand\b|\boù\b|\bcomment\b|\bpourquoi\b|\bque\b|\bqu')",
    re.IGNORECASE,
)


class _Reading:
    """One question cut into what a follow-up reading needs: opener, asked phrase, names, subject, pronouns."""

    def __init__(self, text: str) -> None:
        self.text = text
        tokens = tokens_of(text)
        self.opener = bool(tokens) and tokens[0].low in _OPENERS
        if self.opener:
            tokens = tokens[1:]
            while tokens and tokens[0].text in ",;:":
                tokens = tokens[1:]
        self.tokens = tokens
        self.body_start = tokens[0].start if tokens else len(text)
        match = _INTERROGATIVE.search(text, self.body_start)
        self.asked = (match.start(), match.end()) if match else None
        self.names = names_in(tokens, _is_content)
        self.subject = self._subject()

    def outside_asked(self) -> list[Token]:
        """The words that are not part of what is asked."""
        if self.asked is None:
            return self.tokens
        start, end = self.asked
        return [t for t in self.tokens if t.end <= start or t.start >= end]

    def in_name(self, token: Token) -> bool:
        return any(n.start <= token.start < n.end for n in self.names)

    def content(self) -> list[Token]:
        """Common content words outside the asked phrase: not names, question words, pronouns or grammar."""
        return [t for t in self.outside_asked() if _is_content(t) and not self.in_name(t)]

    def pronouns(self) -> list[Token]:
        """Words that point back to a previous question's subject."""
        found = []
        tokens = self.tokens
        for i, token in enumerate(tokens):
            low, after = token.low, tokens[i + 1].low if i + 1 < len(tokens) else ""
            before = tokens[i - 1].low if i else ""
            if (
                (low in _SUBJECT_PRONOUNS and not (low == "il" and (after in _IMPERSONAL or after.startswith("s'"))))
                or low in _DEMONSTRATIVES
                or (
                    _INVERTED.search(low)
                    and not (low.endswith("-il") and (before == "y" or low.split("-")[0] in _IMPERSONAL))
                )
                or (low in _CLITICS and self._clitic(low, before, after))
            ):
                found.append(token)
        return found

    @staticmethod
    def _clitic(low: str, before: str, after: str) -> bool:
        """Whether « l' », « en » or « y » stands for something before a verb, not « il y a » or « y a-t-il »."""
        if low == "l'":
            return _is_verb(after) or before in ("ne", "n'")
        if low == "y" and (before == "il" or after in ("a-t-il", "avait-il", "aura-t-il")):
            return False
        return _is_verb(after)

    def refers_back(self) -> bool:
        """Whether a pronoun of the question can only mean a previous question's subject: the question names
        no person or company itself, holds no noun phrase of its own and few content words."""
        pronouns = self.pronouns()
        if not pronouns:
            return False
        if any(p.low in _CLITICS for p in pronouns):
            return True
        own_names = [n for n in self.names if n.kind in ("person", "company")]
        if own_names or len(self.content()) >= 3:
            return False
        return not (all(_INVERTED.search(p.low) for p in pronouns) and self.subject is not None)

    def complete(self) -> bool:
        """Whether the question stands on its own: it asks something about a subject it names."""
        if any(t.low in _CELUI for t in self.tokens) or self.refers_back():
            return False
        content = self.content()
        if self.asked is None:  # « Et la valeur totale ? » takes the rest from before; keywords stand alone
            return not self.opener and len(content) + len(self.names) >= 3
        has_verb = any(_is_verb(t.low) or "-" in t.text for t in self.outside_asked())
        # After « Et », one word besides what is asked (« Et combien de parcs industriels ? ») names no subject.
        # « Alors, qui dirige Pinduoduo ? » names its subject.
        return len(content) > self.opener or (bool(self.names) and (has_verb or bool(content)))

    def _subject(self) -> tuple[int, int] | None:
        """Span of the question's subject: the first noun phrase outside the asked phrase, up to its verb."""
        outside = self.outside_asked()
        for i, token in enumerate(outside):
            if token.low not in _DETERMINERS or token.start < self.body_start:
                continue
            end = token.end
            for nxt in outside[i + 1 :]:
                if nxt.text in "?!.,;:" or nxt.low in _AUXILIARIES or _INVERTED.search(nxt.low):
                    break
                if self.asked and nxt.start >= self.asked[1] > end:
                    break
                end = nxt.end
            return (token.start, end) if end > token.end else None
        return None

    def place(self) -> str | None:
        """The last place the question names, with the preposition before it (« au Guizhou »)."""
        places = [n for n in self.names if n.kind == "place"]
        return self.text[places[-1].lead : places[-1].end] if places else None

    def topic(self, feminine: bool | None = None, short: bool = False) -> str | None:
        """What a pronoun of a follow-up stands for: the subject's head and the name that specifies it (« le
        pionnier du Zhejiang ») or, `short`, that name alone; else the first person or company named. A subject
        whose article disagrees with the pronoun's gender (`feminine`, None when unknown) gives way to a name:
        « elle » after « le vice-président de Pinduoduo » is Pinduoduo."""
        names = sorted(self.names, key=lambda n: (n.kind not in ("person", "company"), n.start))
        if self.subject is not None:
            start, end = self.subject
            first = self.text[start:end].split(" ", 1)[0].lower()
            agrees = feminine is None or first not in _GENDERED or _GENDERED[first] == feminine
            if agrees or not names:
                head = _head(self)
                inner = [n for n in self.names if start <= n.start < end]
                if inner and short:
                    return self.text[inner[0].start : inner[0].end]
                if head is None or not inner:
                    return head
                return f"{head} {self.text[inner[0].lead : inner[0].end]}"
        if names:
            return self.text[names[0].start : names[0].end]
        return None


def _is_content(token: Token) -> bool:
    low = token.low
    return (
        len(low) > 1
        and any(ch.isalpha() for ch in low)
        and "'" not in low
        and low not in STOP_WORDS
        and fold(low) not in _QUESTION_WORDS
        and low not in _OPENERS | _CELUI | PREPOSITIONS | _AUXILIARIES
        and fold(low) not in KIND_NOUNS
        and not _INVERTED.search(low)
    )


def _is_verb(low: str) -> bool:
    return low in _AUXILIARIES or bool(_INVERTED.search(low))


def understand(question: str, previous: Sequence[str]) -> str | None:
    """The question written out in full when it is a follow-up of `previous` (oldest first, the last
    `MAX_PREVIOUS` read), else None: a complete question is answered as it stands. Small talk and entries
    without a content word or a name (« merci », « d' ») are no context."""
    context = [q for q in previous if _is_context(q)][-MAX_PREVIOUS:]
    if not context or not question or is_smalltalk(question):
        return None
    base = strip_courtesy(context[0])
    for earlier in context[1:]:
        base = _rewrite(strip_courtesy(earlier), base) or strip_courtesy(earlier)
    rewritten = _rewrite(strip_courtesy(question), base)
    if rewritten is None or fold(rewritten) == fold(normalize(question)):
        return None
    return rewritten


def _is_context(text: str) -> bool:
    """Whether a previous question can frame a follow-up: not small talk, and with a content word or a name."""
    if not text or not text.strip() or is_smalltalk(text):
        return False
    reading = _Reading(normalize(strip_courtesy(text)))
    return bool(reading.names) or any(_is_content(t) for t in reading.tokens)


def _rewrite(question: str, previous: str) -> str | None:
    """`question` completed from `previous` when it is a follow-up, else None."""
    now, before = _Reading(normalize(question)), _Reading(normalize(previous))
    if not now.tokens or now.complete():
        return None
    if now.refers_back():
        genders = {p.low.rsplit("-", 1)[-1] for p in now.pronouns()} & {"il", "ils", "elle", "elles"}
        feminine = None if len(genders) != 1 else genders.pop().startswith("elle")
        # A follow-up that says much itself (« Combien de sortes de produits expédie-t-il ? ») only needs the
        # name to know whom it is about; one that says little takes the whole subject.
        own = [t for t in now.tokens if _is_content(t) and not now.in_name(t)]
        topic = before.topic(feminine, short=len(own) >= 2)
        return _resolve(now, topic, before.place())
    text = before.text.rstrip(" ?!.")
    body = now.text[now.body_start :].rstrip(" ?!.")
    celui = next((t for t in now.tokens if t.low in _CELUI), None)
    if celui is not None:
        tail = now.text[celui.end :].rstrip(" ?!.").strip()
        head = _head(before)
        if head is None or not tail:
            return None
        return _finish(_replace(text, before.subject, f"{head} {tail}"))
    if now.asked is None and now.tokens[0].low in _DETERMINERS:
        return _finish(_replace(text, before.subject, body) if before.subject else f"{text} {body}")
    if now.asked is not None:
        # What is asked runs to the first name after it: « combien de parcs industriels » in « Et combien de
        # parcs industriels ? », « combien » alone in « Et combien en Espagne ? ».
        stop = min((n.lead for n in now.names if n.lead >= now.asked[1]), default=len(now.text))
        asked = now.text[now.asked[0] : stop].rstrip(" ?!.").strip()
        text = _replace(text, before.asked, asked) if before.asked is not None else f"{asked} {text}"
    return _finish(_names_into(_Reading(text), now))


def _names_into(target: _Reading, source: _Reading) -> str:
    """`target`'s text with each name of `source` in place of its name of the same kind (or added at the end)."""
    text = target.text.rstrip(" ?!.")
    for name in sorted(source.names, key=lambda n: -n.start):
        if source.asked and source.asked[0] <= name.start < source.asked[1]:
            continue
        phrase = source.text[name.lead : name.end]
        same = [n for n in target.names if n.kind == name.kind]
        if not same and name.kind in ("person", "company"):
            same = [n for n in target.names if n.kind in ("person", "company")]
        if same:
            old = same[-1]
            start = old.start if name.lead == name.start else old.lead
            if text[old.lead : old.start] == "d'" and start == old.start and phrase[:1].lower() not in _VOWELS:
                start, phrase = old.lead, f"de {phrase}"  # « d'AliExpress » -> « de Pinduoduo »
            text = text[:start] + phrase + text[old.end :]
            target = _Reading(text)
        else:
            text = f"{text} {phrase}"
    return text


def _head(reading: _Reading) -> str | None:
    """The head of the previous subject, without its complement: « le directeur général » of « le directeur
    général du site ». None without a subject, or when the head is no noun (« l'une des villes »)."""
    if reading.subject is None:
        return None
    subject = reading.text[reading.subject[0] : reading.subject[1]]
    head = re.split(r"\s+(?:de|du|des)\s+|\s+d'", subject, maxsplit=1)[0]
    nouns = [w for w in TOKEN.findall(head) if w[-1].isalpha() and len(w) > 1 and w.lower() not in STOP_WORDS]
    return head if nouns else None


def _resolve(reading: _Reading, topic: str | None, place: str | None) -> str:
    """The follow-up with its pronouns replaced by `topic`, the previous question's subject: the subject pronoun
    (or, without one, the first of « l' », « en », « y »), the other clitics dropped; « y » is the previous
    question's place when it names one."""
    text, tokens = reading.text, reading.tokens
    edits: list[tuple[int, int, str]] = []
    tail = ""
    pronouns = reading.pronouns()
    subject = next((p for p in pronouns if p.low not in _CLITICS), None)
    for token in pronouns:
        i = tokens.index(token)
        low = token.low
        if topic is None and low not in _CLITICS:
            continue  # nothing to stand for: the pronoun stays
        if _INVERTED.search(low):
            while i and tokens[i - 1].low in _BEFORE_VERB:
                i -= 1
            edits.append((tokens[i].start, tokens[i].start, f"{_lower(topic)} "))
        elif low not in _CLITICS:
            before = tokens[i - 1] if i else None
            if before is not None and before.low == "qu'":
                edits.append((before.start, token.end, f"que {_lower(topic)}"))
            else:
                edits.append((token.start, token.end, _lower(topic)))
        else:
            end = tokens[i + 1].start if i + 1 < len(tokens) else token.end
            edits.append((token.start, end, ""))
            if low == "y" and place:
                tail = _with("dans", place) if not place[:1].isupper() else f"{place}"
            elif subject is None and not tail and topic:
                tail = _with({"l'": "", "en": "de", "y": "dans"}[low], _lower(topic))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    text = text[reading.body_start :].rstrip(" ?!.")
    return _finish(f"{text} {tail}".strip() if tail else text)


def _with(preposition: str, phrase: str) -> str:
    """A preposition before a noun phrase, contracted as French writes it (de le -> du, à les -> aux)."""
    if not preposition:
        return phrase
    head, _, rest = phrase.partition(" ")
    contracted = {("de", "le"): "du", ("de", "les"): "des", ("à", "le"): "au", ("à", "les"): "aux"}
    if (preposition, head.lower()) in contracted and rest:
        return f"{contracted[preposition, head.lower()]} {rest}"
    if preposition == "de" and phrase[:1].lower() in _VOWELS:
        return f"d'{phrase}"
    return f"{preposition} {phrase}"


def _lower(phrase: str) -> str:
    """A noun phrase as it reads inside a sentence: its first letter lowered unless it opens a name."""
    head = phrase.split(" ", 1)[0]
    return phrase[:1].lower() + phrase[1:] if head.lower() in _DETERMINERS or head.lower() == "l" else phrase


def _replace(text: str, span: tuple[int, int] | None, new: str) -> str:
    if span is None:
        return f"{text} {new}"
    start, end = span
    return text[:start] + new + text[end:]


def _finish(text: str) -> str:
    """One question on one line, its first letter capitalised, ending with « ? »."""
    text = " ".join(text.replace(" ,", ",").split()).rstrip(" ?!.,;:")
    return f"{text[:1].upper()}{text[1:]} ?" if text else text

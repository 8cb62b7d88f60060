"""The question as people type it: courtesy around it, small talk, two-part questions, words that mean the same.

Members write "Salut à tous ! Qui dirige Pinduoduo ? Merci d'avance 🙏": only the question is searched.
"bonjour" or "que sais-tu faire ?" is small talk, not a question for the corpus. "…, et …?" asks two
things. "e-commerce", "commerce en ligne" and "commerce électronique" name one thing, as do a demonym
and its country ("chiliens", "Chili"): `EQUIVALENTS` lists such groups, general French, not tuned to
any question.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.search.analysis import fold, normalize, words

# A greeting or an address that opens a message: "Salut à tous !", "Bonjour le bot,", "hello".
_OPENING = re.compile(
    r"^(?:(?:salut|bonjour|bonsoir|coucou|hello|hey|yo|hi|re|ok|okay|d'accord|super|cool|top|parfait|génial)\b"
    r"(?:\s+(?:à\s+tous|a\s+tous|tout\s+le\s+monde|les\s+amis|la\s+compagnie|le\s+bot|à\s+toi|a\s+toi))?"
    r"\s*[!,.:;]*\s*)+",
    re.IGNORECASE,
)
# Politeness that closes a message: "merci d'avance 🙏", "svp", "s'il vous plaît".
_CLOSING = re.compile(
    r"(?:[\s,.;:!]*(?:merci(?:\s+(?:d'avance|d’avance|beaucoup|bcp|à\s+vous|a\s+vous|à\s+toi|a\s+toi))?|svp|stp"
    r"|s'il\s+(?:vous|te)\s+pla[iî]t|s’il\s+(?:vous|te)\s+pla[iî]t|bonne\s+(?:journée|soirée))\b[\s!.]*)+$",
    re.IGNORECASE,
)
# Pictographs and other symbols around a message (emoji, 🙏, ❤️): not words of the question.
_SYMBOLS = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d]+")

# Whole messages that speak to the bot rather than ask the corpus, by what they ask of it (folded, without
# punctuation; a request for help is also read without its closing « stp »). The front doors answer each in kind:
#   thanks    « merci ! », « merci beaucoup »               -> a thanks in return (« Avec plaisir ! »)
#   farewell  « au revoir », « bonne soirée »               -> a goodbye
#   help      « aide », « tu peux m'aider ? », « j'ai une question » -> the bot's introduction and examples
#   greeting  « bonjour », « salut à tous »                 -> the introduction
#   about     « qui es-tu ? », « que sais-tu faire ? »      -> the introduction
SMALLTALK_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "thanks",
        re.compile(r"^(?:merci|thanks|thx|thank you)(?: (?:beaucoup|bien|bcp|encore|infiniment|a toi|a vous))*$"),
    ),
    ("farewell", re.compile(r"^(?:au revoir|a bientot|a plus|bye|bonne (?:journee|soiree|nuit))$")),
    (
        "help",
        re.compile(
            r"^(?:aide|help|a l'aide|de l'aide|besoin d'aide|j'ai besoin d'aide|aide[- ]moi|aidez[- ]moi"
            r"|(?:tu peux|peux[- ]tu|tu pourrais|pourrais[- ]tu|vous pouvez|pouvez[- ]vous|quelqu'un peut) m'aider"
            r"|j'ai une (?:petite |autre )?question|une (?:petite )?question"
            r"|(?:je peux|puis[- ]je|est-ce que je peux) (?:te |vous )?poser une question"
            r"|comment (?:ca|tu) (?:marche|fonctionnes?)|comment t'utiliser)$"
        ),
    ),
    ("greeting", re.compile(r"^(?:salut|bonjour|bonsoir|coucou|hello|hey|yo|hi|ca va)(?: toi)?$")),
    (
        "about",
        re.compile(
            r"^(?:qui es[- ]tu|tu es qui|t'es qui|t es qui|t ki|t'es ki|ki es[- ]tu|qui etes[- ]vous|vous etes qui"
            r"|c'est quoi ce bot|qu'est[- ]ce que tu es"
            r"|que sais[- ]tu faire|tu sais faire quoi|que peux[- ]tu faire|tu peux faire quoi"
            r"|qu'est[- ]ce que tu sais faire|que fais[- ]tu|a quoi sers[- ]tu|tu sers a quoi"
            r"|tu es un (?:robot|bot)|es[- ]tu un (?:robot|bot))(?: toi)?$"
        ),
    ),
)
_THANKS_WORD = re.compile(r"\b(?:merci|thanks|thx)\b")
_FAREWELL_WORDS = re.compile(r"\b(?:au revoir|bonne (?:journee|soiree|nuit)|a bientot)\b")

_QUESTION_WORD = (
    r"(?:qui|que|qu'|quel|quelle|quels|quelles|combien|où|ou|quand|comment|pourquoi|est-ce|lequel|laquelle)"
)
# "…, et qui …?" / "… et combien …?": a second question joined to the first.
_SECOND_PART = re.compile(rf"\s*(?:,\s*|\s+)et\s+(?={_QUESTION_WORD}\b|{_QUESTION_WORD})", re.IGNORECASE)

# Groups of words or phrases that name the same thing. The question's form is replaced by the group's
# form the corpus uses most, so "commerce en ligne" finds an article that only says "commerce électronique".
EQUIVALENTS: tuple[tuple[str, ...], ...] = (
    ("commerce électronique", "e-commerce", "ecommerce", "commerce en ligne", "cybercommerce"),
    ("vente en ligne", "vente sur internet", "vente sur le web"),
    ("directeur général", "pdg", "président-directeur général"),
    ("milliard", "mds", "md"),
    ("pourcentage", "%", "pour cent", "pourcent"),
    ("Chine", "chinois", "chinoise", "chinoises"),
    ("Chili", "chilien", "chilienne", "chiliens", "chiliennes"),
    ("France", "français", "française", "françaises"),
    ("Italie", "italien", "italienne", "italiens", "italiennes"),
    ("Espagne", "espagnol", "espagnole", "espagnols", "espagnoles"),
    ("Russie", "russe", "russes"),
    ("Belgique", "belge", "belges"),
    ("Lettonie", "letton", "lettone", "lettons", "lettones"),
    ("Ouzbékistan", "ouzbek", "ouzbèke", "ouzbeks", "ouzbèkes"),
    ("Kazakhstan", "kazakh", "kazakhe", "kazakhs", "kazakhes"),
    ("Allemagne", "allemand", "allemande", "allemands", "allemandes"),
    ("Royaume-Uni", "britannique", "britanniques"),
    ("États-Unis", "américain", "américaine", "américains", "américaines"),
    ("Japon", "japonais", "japonaise", "japonaises"),
    ("Corée", "coréen", "coréenne", "coréens", "coréennes"),
    ("Inde", "indien", "indienne", "indiens", "indiennes"),
    ("Brésil", "brésilien", "brésilienne", "brésiliens", "brésiliennes"),
    ("Mexique", "mexicain", "mexicaine", "mexicains", "mexicaines"),
    ("Canada", "canadien", "canadienne", "canadiens", "canadiennes"),
    ("Malaisie", "malaisien", "malaisienne", "malaisiens", "malaisiennes"),
    ("Thaïlande", "thaïlandais", "thaïlandaise", "thaïlandaises"),
    ("Vietnam", "vietnamien", "vietnamienne", "vietnamiens", "vietnamiennes"),
    ("Indonésie", "indonésien", "indonésienne", "indonésiens", "indonésiennes"),
    ("Pologne", "polonais", "polonaise", "polonaises"),
    ("Afrique", "africain", "africaine", "africains", "africaines"),
    ("Europe", "européen", "européenne", "européens", "européennes"),
    ("Asie", "asiatique", "asiatiques"),
    ("Maroc", "marocain", "marocaine", "marocains", "marocaines"),
    ("Algérie", "algérien", "algérienne", "algériens", "algériennes"),
    ("Tunisie", "tunisien", "tunisienne", "tunisiens", "tunisiennes"),
    ("Sénégal", "sénégalais", "sénégalaise", "sénégalaises"),
    ("Égypte", "égyptien", "égyptienne", "égyptiens", "égyptiennes"),
    ("Suisse", "suisses"),
    ("Pays-Bas", "néerlandais", "néerlandaise", "néerlandaises"),
    ("Portugal", "portugais", "portugaise", "portugaises"),
    ("Grèce", "grec", "grecque", "grecs", "grecques"),
    ("Turquie", "turc", "turque", "turcs", "turques"),
    ("Australie", "australien", "australienne", "australiens", "australiennes"),
)
EQUIVALENT_GROUPS: tuple[tuple[tuple[str, ...], ...], ...] = tuple(
    tuple(tuple(words(normalize(form))) for form in group) for group in EQUIVALENTS
)
# First word of a form -> (form, its group), longest forms first: a question is scanned word by word.
_FORMS: dict[str, list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]] = {}
for _group in EQUIVALENT_GROUPS:
    for _form in _group:
        if _form:
            _FORMS.setdefault(_form[0], []).append((_form, _group))
for _forms in _FORMS.values():
    _forms.sort(key=lambda entry: -len(entry[0]))


def strip_courtesy(text: str) -> str:
    """The question without the greeting before it, the thanks after it and the emoji around it."""
    plain, stripped = _courtesy_removed(text)
    return stripped.strip(" ,;:-") or plain


def _courtesy_removed(text: str) -> tuple[str, str]:
    """The message without its emoji, and that text without the greeting before it and the thanks after it."""
    plain = _SYMBOLS.sub(" ", normalize(text or "")).strip()
    return plain, _CLOSING.sub("", _OPENING.sub("", plain))


def smalltalk_kind(text: str) -> str | None:
    """What a message that speaks to the bot asks of it (a kind of `SMALLTALK_KINDS`), or None for a question."""
    plain = fold(_SYMBOLS.sub(" ", normalize(text or "")))
    plain = " ".join(re.sub(r"[^\w'-]+", " ", plain.replace("’", "'")).split())
    if not plain:
        return None
    bare = _CLOSING.sub("", plain).strip()
    for candidate in (plain, bare):
        kind = next((name for name, pattern in SMALLTALK_KINDS if pattern.match(candidate)), None)
        if kind is not None:
            return kind
    # "Salut à tous !", "merci beaucoup !" and the like: nothing is left once courtesy is taken away.
    if any(ch.isalnum() for ch in _courtesy_removed(text)[1]):
        return None
    if _THANKS_WORD.search(plain):
        return "thanks"
    return "farewell" if _FAREWELL_WORDS.search(plain) else "greeting"


def is_smalltalk(text: str) -> bool:
    """Whether a message greets, thanks or asks about the bot itself rather than about the corpus."""
    return smalltalk_kind(text) is not None


def split_parts(text: str) -> list[str]:
    """A question in two parts ("Qui dirige X, et combien gagne-t-il ?") as two questions; else the question."""
    pieces = _SECOND_PART.split(text, maxsplit=1)
    if len(pieces) != 2 or min(len(words(piece)) for piece in pieces) < 2:
        return [text]
    first, second = (piece.strip(" ,;") for piece in pieces)
    if not first.endswith("?"):
        first += " ?"
    return [first, second]


def equivalent_words(tokens: list[str], usage: Callable[[tuple[str, ...]], int] | None = None) -> list[str]:
    """Folded question words with each form of an `EQUIVALENTS` group replaced by the form the corpus uses most.

    `usage(form)` tells how often the corpus uses a form (e.g. the smallest document frequency of its words);
    a form is only replaced by a more used one.
    """
    if usage is None:
        return tokens
    out: list[str] = []
    i = 0
    while i < len(tokens):
        match = next(
            (entry for entry in _FORMS.get(tokens[i], ()) if tuple(tokens[i : i + len(entry[0])]) == entry[0]), None
        )
        if match is None:
            out.append(tokens[i])
            i += 1
            continue
        form, group = match
        out.extend(max(group, key=lambda f: (usage(f), f == form)))
        i += len(form)
    return out

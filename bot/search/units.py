"""What a « combien » question counts or measures, and whether a sentence gives a number of it.

« Combien de chevaux… » wants a number with « ch » or « chevaux », not any number: the sentence that names
the « Corvette Stingray (C8) » holds a figure, the next one holds the answer (« 490 ch »). One table of the
measures general French asks for (money, share, power, distance, mass, area, age, duration, speed), each with
the question words that ask for it and its units and their abbreviations as a sentence writes them after a
number; and a few counted nouns with their usual synonyms (« salariés » or « employés »). Any other noun
counted by « combien de » / « nombre de » is wanted as itself (« combien de jouets » wants « 12 jouets »).
Everything is matched on folded text (lowercase, no accents: `bot.search.analysis.fold`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.search.analysis import fold, normalize, stem
from bot.search.kinds import MONTHS, NUMBER_WORDS


@dataclass(frozen=True, slots=True)
class Measure:
    """A quantity a question may ask for: the (folded) nouns that ask for it after « quel » or beside « combien »,
    the verbs that ask for it beside « combien », and its units as a sentence writes them after a number."""

    name: str
    nouns: str  # alternatives (regular expression over the folded question)
    verbs: str
    units: str  # alternatives (regular expression, folded) of what follows the number
    # What must follow a noun for it to ask for the measure, when the noun has another sense too (empty: anything).
    follows: str = ""


MEASURES: tuple[Measure, ...] = (
    Measure(
        "argent",
        r"prix|couts?|salaires?|chiffre d'affaires|budget|montant|somme|investissements?|valeur|benefices?"
        r"|recettes|dette|subventions?|amende|fortune|remuneration",
        r"coute(?:nt|rait|ra)?|coutait|investi(?:r|ra|t)?|depense(?:r|nt)?|paye(?:r)?|gagne(?:r|nt)?"
        r"|rapporte(?:r|nt)?|vaut|valent|valaient|vendu pour|achete pour|leve",
        r"€|\$|£|¥|euros?|dollars?|yuans?|yens?|livres?|francs?|roubles?|roupies?|dinars?|dirhams?|pesos?|reais"
        r"|wons?|rmb|usd|eur|cfa",
    ),
    Measure("part", r"pourcentage|part de|part du|part des|proportion|taux", r"", r"%|pour ?cent|points?"),
    # « La puissance du moteur », « quelle puissance a la Porsche », not « quelle puissance étrangère » nor
    # « quelle puissance a dominé le Danemark » (a state).
    Measure(
        "puissance",
        r"puissance",
        r"",
        r"ch|chevaux|cv|kw|kilowatts?|mw|megawatts?|gw|watts?|w",
        follows=r"\s*(?:$|[?!.,;:)]|(?:de|du|des|d'|pour|selon)\b"
        r"|(?:a|avait|aura|ont|fait|faisait|fera|developpe|developpait|delivre|offre|affiche|atteint|produit)"
        r"\s+(?:le|la|les|l'|un|une|son|sa|ses|leur|leurs|ce|cet|cette|ces)\b)",
    ),
    Measure(
        "distance",
        r"distance|longueur|hauteur|altitude|profondeur|largeur",
        r"mesure(?:nt)?|culmine",
        r"km|kilometres?|m|metres?|cm|centimetres?|mm|millimetres?|miles?|pieds?",
    ),
    Measure("masse", r"poids|masse", r"pese(?:nt)?", r"kg|kilos?|kilogrammes?|t|tonnes?|g|grammes?"),
    Measure(
        "surface",
        r"superficie|surface",
        r"",
        r"m²|km²|m2|km2|ha|hectares?|metres? carres?|kilometres? carres?|acres?",
    ),
    Measure("age", r"age", r"", r"ans?"),
    Measure(
        "duree",
        r"duree",
        r"dure(?:nt|ra)?",
        r"ans|annees?|mois|semaines?|jours?|heures?|h|minutes?|min|secondes?|siecles?",
    ),
    Measure("vitesse", r"vitesse", r"", r"km/h|kilometres? (?:a l'|par )heure|noeuds?|m/s"),
)
BY_NAME = {measure.name: measure for measure in MEASURES}

# Counted nouns and the nouns a sentence may count them with instead (folded).
COUNTED_SYNONYMS: tuple[frozenset[str], ...] = (
    frozenset({"salaries", "employes", "collaborateurs", "travailleurs", "personnes", "emplois", "postes"}),
    frozenset({"habitants", "residents", "personnes", "ames"}),
    frozenset({"eleves", "etudiants"}),
    frozenset({"visiteurs", "touristes", "personnes"}),
)
# Counted nouns that are units of a measure: « combien de chevaux » wants the power.
UNIT_NOUNS = {
    "chevaux": "puissance",
    "kilometres": "distance",
    "metres": "distance",
    "tonnes": "masse",
    "kilos": "masse",
    "hectares": "surface",
    "euros": "argent",
    "dollars": "argent",
    "yuans": "argent",
    "ans": "duree",
    "annees": "duree",
    "mois": "duree",
    "jours": "duree",
    "heures": "duree",
    "pourcentage": "part",
}
# Counted nouns a sentence seldom writes after their number (« à trois reprises », « deux défaites »).
UNCOUNTED = frozenset({"fois"})
_COUNTED = re.compile(
    r"\bcombien\s+(?:de\s+|d')([a-z]{3,})"
    r"|\bquel(?:le)?\s+(?:(?:est|etait|sera)\s+)?(?:le\s+)?(?:nombre|quantite)\s+(?:de\s+|d')([a-z]{3,})"
)
_NUMBER = (
    rf"(?<![\w,.])(?:\d{{1,3}}(?:[ \u00a0\u202f.]\d{{3}})+(?:,\d+)?|\d+(?:[.,]\d+)?|(?:{NUMBER_WORDS})\b)"
    r"(?:\s*(?:millions?|milliards?|milliers?|mille|k|m|md|mds)\b)?"
)
_FILLER = r"(?:\s+(?:de\s+|d')?|\s*)"  # "1 600 entrepreneurs", "20 %", "500 millions de yuans"


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a question counts or measures: a measure's name, or a counted noun (folded) with its synonyms."""

    measure: str | None = None
    nouns: frozenset[str] = frozenset()

    def pattern(self) -> re.Pattern[str]:
        """A number followed by one of the units or nouns wanted (up to two words between a number and a noun)."""
        if self.measure:
            return _unit_pattern(BY_NAME[self.measure].units)
        stems = "|".join(sorted(re.escape(noun) for noun in self.nouns))
        return re.compile(rf"{_NUMBER}(?:\s+[\w'-]+){{0,2}}?{_FILLER}(?:{stems})\w*")

    def named_by(self, sentence: str) -> bool:
        """Whether the sentence gives a number with its unit, or with the noun counted (or a synonym)."""
        return bool(_compiled(self).search(fold(normalize(sentence))))

    def held_by(self, sentence: str) -> bool:
        """Whether the sentence may give the number asked: `named_by`, or for a counted noun, a number that counts
        something: not a year, a date, a rank, another measure, nor part of a name or code (« sept » may answer
        « combien de membres »; « 29 ans », « le 28e », « la Porsche 911 » or « Covid-19 » do not answer
        « combien de salariés »)."""
        text = fold(normalize(sentence))
        if _compiled(self).search(text):
            return True
        if self.measure:
            return False
        names = {match.group(1) for match in _NAMED_NUMBER.finditer(normalize(sentence))}
        return any(_counts(text, number, names) for number in _NUMBERS.finditer(text))


@lru_cache(maxsize=256)
def _compiled(wanted: Wanted) -> re.Pattern[str]:
    return wanted.pattern()


def _counts(text: str, number: re.Match[str], names: set[str]) -> bool:
    """Whether a number of `text` may count things: not a year, not followed by a unit, a month or an ordinal's
    ending, and not a code (« (992) », « Covid-19 ») nor the number of a name (`names`: « Porsche 911 »)."""
    start, end, digits = number.start(), number.end(), number.group(0)
    if _YEAR.fullmatch(digits) or _OTHER_UNIT.match(text, end) or _ORDINAL_END.match(text, end):
        return False
    in_brackets = text[start - 1 : start] == "(" and text[end : end + 1] == ")"
    hyphenated = text[start - 1 : start] == "-" and text[start - 2 : start - 1].isalpha()
    return not (in_brackets or hyphenated or digits in names)


def _unit_pattern(units: str) -> re.Pattern[str]:
    return re.compile(rf"{_NUMBER}{_FILLER}(?:{units})(?![\w])")


_NUMBERS = re.compile(_NUMBER)
_YEAR = re.compile(r"(?:1[0-9]|20)\d\d")
_RANKS = "premier|premiere|premiers|premieres|derniers|dernieres|fois"
_OTHER_UNIT = re.compile(rf"{_FILLER}(?:{'|'.join(m.units for m in MEASURES)}|{fold(MONTHS)}|{_RANKS})(?![\w])")
_ORDINAL_END = re.compile(r"(?:e|eme|ieme|er|ere|nd|nde)\b")
# A number right after a capitalised word inside a sentence names a model, a league, a mission: « la Porsche 911 »,
# « en Ligue 1 », « Apollo 11 » (the original text: folding loses the capitals).
_NAMED_NUMBER = re.compile(r"(?<=[\w,)»] )[A-Z][\w'-]*[ \u00a0](\d+)(?!\d)")


def wanted(question: str) -> Wanted | None:
    """What the question counts or measures, or None when it asks for no quantity of a particular kind."""
    folded = fold(normalize(question))
    if re.search(r"\bcombien de temps\b|\b(?:depuis|pendant) combien\b", folded):
        return Wanted(measure="duree")
    counted = _COUNTED.search(folded)
    if counted:
        noun = counted.group(1) or counted.group(2)
        if noun in UNCOUNTED:
            return None
        if noun in UNIT_NOUNS:
            return Wanted(measure=UNIT_NOUNS[noun])
        nouns = {noun}.union(*(group for group in COUNTED_SYNONYMS if noun in group))
        return Wanted(nouns=frozenset(stem(n) for n in nouns))
    how_much = re.search(r"\bcombien\b", folded) is not None
    for measure in MEASURES:
        nouns = f"(?:{measure.nouns})\\b" + (f"(?={measure.follows})" if measure.follows else "")
        words = nouns + (f"|(?:{measure.verbs})\\b" if measure.verbs else "")
        if how_much and re.search(rf"\b(?:{words})", folded):
            return Wanted(measure=measure.name)
        if re.search(rf"\b(?:quel(?:le)?s?|quoi){_BETWEEN}{nouns}", folded):
            return Wanted(measure=measure.name)
    return None


# Between « quel » and the noun it asks: « quel est le », « quelle était la », « c'est quoi le ».
_BETWEEN = r"\s+(?:(?:est|sont|etait|etaient|fut|a ete|serait)\s+)?(?:(?:le|la|les|l')\s*)?"

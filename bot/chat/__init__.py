"""The Discord front door (discord.py): the bot, its extensions, embeds, and every French message (messages.py).

May import every other package; nothing imports it but the command line's `run` and `sync`.
"""

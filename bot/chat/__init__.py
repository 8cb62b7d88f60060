"""The Discord front door (discord.py): the bot, its extensions, embeds and every French message string.

May import every other package; nothing imports it but the command line's `run`.
"""

"""The Discord front door (discord.py): the bot, its extensions, embeds, and every French message (messages.py).

`bot.py` is the client (extensions, shards, events, the engine swaps it asks the answerer for); `exts/ask.py`
takes a question from `/question` or a mention to `bot.answering.Answerer` and the answer to `embeds.py`, then
to the log; `exts/admin/` holds the moderators' commands, one module per area; `server_settings.py`,
`ratelimit.py` and `retention.py` are the servers' cached settings, the question limit and the periodic clean-up.

May import every other package; nothing imports it but the command line's `run` and `sync`.
"""

"""Documents from outside: the bot's corpus (its folder's .html and .pdf files too) and what a server's moderators
give (files: .txt, .md, .html, .pdf, .jsonl; web addresses), made into `bot.search.corpus.Document`s with every
refusal in French, and the limits a server's documents must keep to.

Modules: `corpus` (the bot's corpus, `CorpusSource`), `files` (an uploaded file), `web` (a page fetched safely),
`formats` (the parsers all share), `limits` (sizes and counts), `sandbox` (each parse in a process of its own,
with a time and memory budget), `errors` (`IngestError`). Nothing is imported here, so reading the settings
(`bot.config` uses `limits`) does not load the HTML and PDF libraries.
"""

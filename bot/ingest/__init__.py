"""Documents a server's moderators give: files (.txt, .md, .html, .pdf, .jsonl) and web addresses, made into
`bot.search.corpus.Document`s with every refusal in French, and the limits a server's documents must keep to.

Modules: `files` (an uploaded file), `web` (a page fetched safely), `formats` (the parsers both share),
`limits` (sizes and counts), `sandbox` (each parse in a process of its own, with a time and memory budget),
`errors` (`IngestError`). Nothing is imported here, so reading the settings
(`bot.config` uses `limits`) does not load the HTML and PDF libraries.
"""

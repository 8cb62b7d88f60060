"""The sentence vectors of a saved index, kept in a file beside it: one int8 row per sentence of the index.

Row `n` holds the unit vector of what an answer opens on when sentence `n` is its best one (`summary.opening`),
in int8 with a scale, and a 64-bit digest of that text: a row is used only when the text an answer opens on has
the same digest, so a vector never stands for another text (a row not built yet has digest 0). The background
build (`bot.search.vector_build`) fills the rows in sentence order and records after each batch how far it got,
so it resumes where it stopped; the engine reads the rows through a read-only memory map while they are written.

Layout: a header of `HEADER_BYTES` (magic, rows built, row count, dimension, the JSON of what the vectors are
of), then the int8 rows, their float32 scales and their uint64 digests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: no lock, one process per corpus there
    fcntl = None  # type: ignore[assignment]

MAGIC = b"BOTVEC1\n"
HEADER_BYTES = 4096
_FIXED = struct.Struct("<8sQQI")  # magic, rows built, row count, dimension
_BUILT_AT = 8  # offset of "rows built" in the header


class VectorFileError(Exception):
    """A vector file that cannot be used (damaged, of another index or model); the message is French."""


def vector_file(index_path: Path) -> Path:
    """Where the sentence vectors of the index saved at `index_path` live."""
    return index_path.with_name(index_path.name.removesuffix(".index.npz") + ".vectors")


def digest(text: str) -> int:
    """The 64-bit digest a row keeps of the text it was embedded from (never 0, which marks a row not built)."""
    value = int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
    return value or 1


class SentenceVectors:
    """A vector file open for reading: `vector(number, text)` gives the row of sentence `number` when it was built
    from `text`, else None. `built` says how many rows the background build has written so far."""

    def __init__(self, path: Path, about: dict[str, object]):
        """Open the vector file at `path`, which must hold vectors of `about` (the index key, the model…); raises
        VectorFileError when it is not one, or is of something else."""
        self.path, self.about = path, about
        try:
            self._map = np.memmap(path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise VectorFileError(f"fichier de vecteurs illisible ({exc})") from exc
        self.count, self.dim = _check_header(bytes(self._map[:HEADER_BYTES]), about, len(self._map))
        rows, scales, digests = _sections(self.count, self.dim)
        self._rows = self._map[rows].view(np.int8).reshape(self.count, self.dim)
        self._scales = self._map[scales].view(np.float32)
        self._digests = self._map[digests].view(np.uint64)
        self._built = self._map[_BUILT_AT : _BUILT_AT + 8].view(np.uint64)

    @property
    def built(self) -> int:
        """Rows written so far by the background build (read from the file, so it moves while the build runs)."""
        return min(int(self._built[0]), self.count)

    def vector(self, number: int, text: str) -> np.ndarray | None:
        """The unit vector of `text` when it is the text row `number` was built from, else None."""
        if not 0 <= number < self.count or int(self._digests[number]) != digest(text):
            return None
        return self._rows[number].astype(np.float32) * self._scales[number]


class VectorsBusy(Exception):
    """Another process of the bot is writing this vector file (the processes of several shards share it)."""


class VectorWriter:
    """Writes the rows of a vector file, creating it (empty, every row to build) when it is missing or is not of
    `about`; a write that fails (full disk) raises OSError and leaves the rows written before it usable. With
    `exclusive`, it holds a lock on the file while open: VectorsBusy when another process holds it."""

    def __init__(self, path: Path, about: dict[str, object], count: int, dim: int, *, exclusive: bool = False):
        self.path, self.count, self.dim = path, count, dim
        try:
            with path.open("rb") as existing:
                _check_header(existing.read(HEADER_BYTES), about, path.stat().st_size)
        except FileNotFoundError:
            _create(path, about, count, dim, replace=False)
        except (OSError, VectorFileError):
            _create(path, about, count, dim, replace=True)
        self._fd = os.open(path, os.O_RDWR)
        if exclusive and fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(self._fd)
                raise VectorsBusy(str(path)) from None
        self.built = struct.unpack_from("<Q", os.pread(self._fd, 8, _BUILT_AT))[0]

    def write(self, first: int, vectors: np.ndarray, digests: list[int]) -> None:
        """Write unit `vectors` as rows `first`, `first + 1`… (a zero row for a sentence that has none), with the
        digests of their texts, then record that the rows up to the last of them are built."""
        self._put(first, vectors, digests)
        os.fsync(self._fd)  # the rows are on disk before the header says they are built
        self.built = first + len(digests)
        os.pwrite(self._fd, struct.pack("<Q", self.built), _BUILT_AT)

    def fill(self, number: int, vector: np.ndarray, text: str) -> None:
        """Write one row out of order, the unit vector of `text` embedded elsewhere (when answering, or by a
        benchmark), leaving the build's progress as it is."""
        self._put(number, vector[None, :], [digest(text)])

    def _put(self, first: int, vectors: np.ndarray, digests: list[int]) -> None:
        if not 0 <= first <= first + len(digests) <= self.count:
            raise ValueError(f"rows {first}..{first + len(digests)} outside 0..{self.count}")
        rows, scales, digest_at = _sections(self.count, self.dim)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(digests), self.dim)
        peak = np.abs(vectors).max(axis=1)
        scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
        quantized = np.clip(np.rint(vectors / scale[:, None]), -127, 127).astype(np.int8)
        os.pwrite(self._fd, quantized.tobytes(), rows.start + first * self.dim)
        os.pwrite(self._fd, scale.tobytes(), scales.start + first * 4)
        os.pwrite(self._fd, np.array(digests, dtype=np.uint64).tobytes(), digest_at.start + first * 8)

    def close(self) -> None:
        os.close(self._fd)


def _sections(count: int, dim: int) -> tuple[slice, slice, slice]:
    """Where the rows, the scales and the digests lie in the file."""
    rows = slice(HEADER_BYTES, HEADER_BYTES + count * dim)
    scales = slice(rows.stop, rows.stop + count * 4)
    return rows, scales, slice(scales.stop, scales.stop + count * 8)


def _create(path: Path, about: dict[str, object], count: int, dim: int, *, replace: bool) -> None:
    """A new file with every row to build: the header, then zeros (a sparse file: the disk fills as rows come). It
    takes the place of a file of something else when `replace`; otherwise a file another process has just created
    (the shards of one machine share it) is left as it is."""
    described = json.dumps(about, sort_keys=True).encode()
    header = _FIXED.pack(MAGIC, 0, count, dim) + struct.pack("<I", len(described)) + described
    if len(header) > HEADER_BYTES:
        raise VectorFileError("description des vecteurs trop longue")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as out:
            out.write(header.ljust(HEADER_BYTES, b"\0"))
            out.truncate(_sections(count, dim)[2].stop)
        if not replace:
            try:
                os.link(temporary, path)  # atomic: only if there is still no file
                return
            except FileExistsError:
                return
            except OSError:  # a file system without links: rename, as when replacing
                pass
        temporary.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _check_header(header: bytes, about: dict[str, object], size: int) -> tuple[int, int]:
    """(row count, dimension) of a vector file whose header is `header` and size `size`; VectorFileError when it is
    no vector file, is cut short, or holds vectors of something other than `about`."""
    if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
        raise VectorFileError("ce n'est pas un fichier de vecteurs")
    _, _, count, dim = _FIXED.unpack_from(header)
    (length,) = struct.unpack_from("<I", header, _FIXED.size)
    try:
        described = json.loads(header[_FIXED.size + 4 : _FIXED.size + 4 + length])
    except ValueError:
        raise VectorFileError("en-tête du fichier de vecteurs endommagé") from None
    if described != json.loads(json.dumps(about, sort_keys=True)):
        raise VectorFileError("vecteurs d'un autre index ou d'un autre modèle")
    if not 0 < dim <= 4096 or size < _sections(count, dim)[2].stop:
        raise VectorFileError("fichier de vecteurs tronqué")
    return count, dim

